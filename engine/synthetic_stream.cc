// engine/synthetic_stream.cc. Follows gen_synth.py draw for draw (all draws from one
// random.Random(seed), in the order the script makes them), formatting numbers as Python does.
#include "engine/synthetic_stream.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/format.h"
#include "core/random.h"

namespace sluice::engine {
namespace {

constexpr int64_t kBlock = 500;
constexpr double kTimeGapMean = 0.6;
constexpr double kSd[28] = {1.96,  1.65,  1.52,  1.42,  1.38,  1.33,  1.24,  1.19,  1.10,  1.09,
                            1.02,  1.00,  0.995, 0.96,  0.915, 0.876, 0.849, 0.838, 0.814, 0.771,
                            0.735, 0.726, 0.624, 0.606, 0.521, 0.482, 0.404, 0.330};
constexpr double kOutlierP = 0.01;
constexpr double kOutlierMult = 4.0;
constexpr double kFraudShiftScale = 0.15;
constexpr double kFraudSdMult = 1.5;
constexpr double kAmountMu = 3.0, kAmountSigma = 1.4;
constexpr double kFraudAmountMu = 3.5, kFraudAmountSigma = 1.8;

double FraudShift(int j) {
  switch (j) {
    case 1:
      return -4.0;
    case 2:
      return 3.0;
    case 3:
      return -6.0;
    case 4:
      return 4.0;
    case 7:
      return -5.0;
    case 9:
      return -2.5;
    case 10:
      return -5.0;
    case 11:
      return 3.5;
    case 12:
      return -6.0;
    case 14:
      return -7.0;
    case 16:
      return -4.0;
    case 17:
      return -6.0;
    case 18:
      return -2.0;
    default:
      return 0.0;
  }
}

// Bytes one row can take at most: Time, 28 values, Amount and Class with their separators. Far
// more than the ~350 a real row takes; it only lets rows be written without bounds checks.
constexpr size_t kMaxRowBytes = core::kMaxPythonFixedChars + 28 * (1 + core::kMaxPythonReprChars) +
                                1 + core::kMaxPythonFixedChars + 3;

class SyntheticStream final : public ByteStream {
 public:
  SyntheticStream(uint64_t seed, int64_t rows, std::optional<Injection> injection)
      : rng_(seed), rows_(rows), injection_(injection) {
    const int64_t blocks = (rows + kBlock - 1) / kBlock;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i = b * kBlock + static_cast<int64_t>(rng_.RandBelow(kBlock));
      if (i < rows) frauds_.push_back(i);  // Ascending: block b's fraud lies in block b.
    }
    std::string header = "Time";
    for (int j = 1; j <= 28; ++j) header += ",V" + std::to_string(j);
    header += ",Amount,Class\n";
    row_size_ = header.size();
    std::memcpy(row_.data(), header.data(), header.size());
  }

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    size_t written = 0;
    while (written < size) {
      if (offset_ == row_size_) {
        if (next_row_ == rows_) break;
        if (size - written >= kMaxRowBytes) {  // Room for a whole row: write it in place.
          written += static_cast<size_t>(WriteRow(buffer + written) - (buffer + written));
          continue;
        }
        row_size_ = static_cast<size_t>(WriteRow(row_.data()) - row_.data());
        offset_ = 0;
      }
      const size_t n = std::min(size - written, row_size_ - offset_);
      std::memcpy(buffer + written, row_.data() + offset_, n);
      offset_ += n;
      written += n;
    }
    return written;
  }

 private:
  // Writes the next row at `out` and returns its end. Requires: kMaxRowBytes of room.
  char* WriteRow(char* out) {
    const int64_t i = next_row_++;
    if (i > 0) time_ += static_cast<int64_t>(std::floor(rng_.ExpoVariate(1.0 / kTimeGapMean)));
    const bool fraud = next_fraud_ < frauds_.size() && frauds_[next_fraud_] == i;
    if (fraud) ++next_fraud_;
    const int injected =
        injection_.has_value() && (i + 1) % injection_->every == 0 ? injection_->feature : 0;
    // f"{float(t):.1f}": rounding an integral double to one decimal leaves it unchanged.
    out = core::WritePythonRoundFixed(static_cast<double>(time_), 1, out);
    for (int j = 1; j <= 28; ++j) {
      const bool outlier = rng_.Random() < kOutlierP;
      double mu = 0.0;
      double sd = kSd[j - 1];
      if (fraud) {
        mu = FraudShift(j) * kFraudShiftScale;
        sd = kSd[j - 1] * kFraudSdMult;
      }
      if (outlier) sd *= kOutlierMult;
      double v = rng_.Gauss(mu, sd);
      if (j == injected) v += injection_->shift_sd * kSd[j - 1];
      *out++ = ',';
      out = core::WritePythonRoundRepr(v, 6, out);
    }
    const double amount = fraud ? rng_.LogNormVariate(kFraudAmountMu, kFraudAmountSigma)
                                : rng_.LogNormVariate(kAmountMu, kAmountSigma);
    *out++ = ',';
    out = core::WritePythonRoundFixed(amount, 2, out);
    std::memcpy(out, fraud ? ",1\n" : ",0\n", 3);
    return out + 3;
  }

  core::PyRandom rng_;
  int64_t rows_;
  std::optional<Injection> injection_;
  int64_t next_row_ = 0;
  int64_t time_ = 0;
  std::vector<int64_t> frauds_;  // Row indices of the frauds, ascending.
  size_t next_fraud_ = 0;        // frauds_[next_fraud_] is the first not yet written.
  // A row (or the header) written but not yet read in full: row_[offset_, row_size_).
  std::array<char, kMaxRowBytes> row_;
  size_t row_size_ = 0;
  size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<ByteStream> NewSyntheticCsvStream(uint64_t seed, int64_t rows) {
  return std::make_unique<SyntheticStream>(seed, std::max<int64_t>(rows, 0), std::nullopt);
}

std::unique_ptr<ByteStream> NewSyntheticCsvStream(uint64_t seed, int64_t rows,
                                                  const Injection& injection) {
  return std::make_unique<SyntheticStream>(seed, std::max<int64_t>(rows, 0), injection);
}

}  // namespace sluice::engine
