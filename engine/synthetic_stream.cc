// engine/synthetic_stream.cc. Follows gen_synth.py draw for draw (all draws from one
// random.Random(seed), in the order the script makes them), formatting numbers as Python does.
#include "engine/synthetic_stream.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
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

// Python's round(v, digits): the correctly rounded decimal, read back as a double.
double PythonRound(double v, int digits) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, digits);
  double rounded = 0;
  std::from_chars(buf, end, rounded);
  return rounded;
}

void AppendFixed(double v, int digits, std::string* out) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, digits);
  out->append(buf, end);
}

class SyntheticStream final : public ByteStream {
 public:
  SyntheticStream(uint64_t seed, int64_t rows) : rng_(seed), rows_(rows) {
    const int64_t blocks = (rows + kBlock - 1) / kBlock;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t i = b * kBlock + static_cast<int64_t>(rng_.RandBelow(kBlock));
      if (i < rows) frauds_.insert(i);
    }
    pending_ = "Time";
    for (int j = 1; j <= 28; ++j) pending_ += ",V" + std::to_string(j);
    pending_ += ",Amount,Class\n";
  }

  absl::StatusOr<size_t> Read(char* buffer, size_t size) override {
    size_t written = 0;
    while (written < size) {
      if (offset_ == pending_.size()) {
        if (next_row_ == rows_) break;
        pending_.clear();
        offset_ = 0;
        AppendRow();
      }
      const size_t n = std::min(size - written, pending_.size() - offset_);
      std::memcpy(buffer + written, pending_.data() + offset_, n);
      offset_ += n;
      written += n;
    }
    return written;
  }

 private:
  void AppendRow() {
    const int64_t i = next_row_++;
    if (i > 0) time_ += static_cast<int64_t>(std::floor(rng_.ExpoVariate(1.0 / kTimeGapMean)));
    const bool fraud = frauds_.contains(i);
    AppendFixed(static_cast<double>(time_), 1, &pending_);
    for (int j = 1; j <= 28; ++j) {
      const bool outlier = rng_.Random() < kOutlierP;
      double mu = 0.0;
      double sd = kSd[j - 1];
      if (fraud) {
        mu = FraudShift(j) * kFraudShiftScale;
        sd = kSd[j - 1] * kFraudSdMult;
      }
      if (outlier) sd *= kOutlierMult;
      pending_ += ',';
      pending_ += core::FormatPythonRepr(PythonRound(rng_.Gauss(mu, sd), 6));
    }
    const double amount = fraud ? rng_.LogNormVariate(kFraudAmountMu, kFraudAmountSigma)
                                : rng_.LogNormVariate(kAmountMu, kAmountSigma);
    pending_ += ',';
    AppendFixed(PythonRound(amount, 2), 2, &pending_);
    pending_ += fraud ? ",1\n" : ",0\n";
  }

  core::PyRandom rng_;
  int64_t rows_;
  int64_t next_row_ = 0;
  int64_t time_ = 0;
  absl::flat_hash_set<int64_t> frauds_;
  std::string pending_;  // Bytes generated but not yet read: pending_[offset_, size()).
  size_t offset_ = 0;
};

}  // namespace

std::unique_ptr<ByteStream> NewSyntheticCsvStream(uint64_t seed, int64_t rows) {
  return std::make_unique<SyntheticStream>(seed, std::max<int64_t>(rows, 0));
}

}  // namespace sluice::engine
