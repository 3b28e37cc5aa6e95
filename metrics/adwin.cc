// metrics/adwin.cc. River 0.26.1's ADWIN (river/drift/adwin.py around the Rust helper
// rust_src/adwin.rs). Every floating-point expression keeps River's operand order, and the
// build forbids FMA contraction, so each rounding step is River's.
#include "metrics/adwin.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>

namespace sluice::metrics {
namespace {

// Points in one bucket of row `row`: 2^row, exact as a double.
double BucketSize(size_t row) { return static_cast<double>(uint64_t{1} << row); }

// 2^64 points cannot be reached; a loaded state with that many rows is corrupt.
constexpr size_t kMaxRows = 63;

}  // namespace

Adwin::Adwin() : Adwin(Options{}) {}

Adwin::Adwin(const Options& options) : options_(options) {
  // River panics on clock 0 (tick % 0) and on max_buckets 0 (it merges a second bucket that a
  // row of capacity one cannot hold). A negative clock tests as its absolute value does, since
  // tick % clock == 0 either way; -1 becomes 1 so that INT32_MIN % -1 (undefined in C++, a
  // panic in Rust) cannot happen once the tick has wrapped.
  if (options_.clock == 0 || options_.clock == -1) {
    options_.clock = 1;
  }
  options_.max_buckets = std::max(options_.max_buckets, 1);
  ResetWindow();
}

void Adwin::ResetWindow() {
  width_ = 0.0;
  total_ = 0.0;
  variance_ = 0.0;
  tick_ = 0;
  rows_.assign(1, {});
  rows_[0].reserve(static_cast<size_t>(options_.max_buckets) + 1);
}

bool Adwin::Update(double x) {
  // River forgets the whole window one update late: ADWIN.update() builds a new helper when the
  // previous update detected a drift.
  if (drift_detected_) {
    ResetWindow();
  }
  Insert(x);
  drift_detected_ = DetectChange();
  return drift_detected_;
}

void Adwin::Insert(double x) {
  rows_[0].push_back({x, 0.0});
  // The variance of the window grows by (n-1)/n (x - old mean)^2 (Welford's update).
  width_ += 1.0;
  double incremental_variance = 0.0;
  if (width_ > 1.0) {
    const double deviation = x - total_ / (width_ - 1.0);
    incremental_variance = (width_ - 1.0) * deviation * deviation / width_;
  }
  variance_ += incremental_variance;
  total_ += x;
  MergeFullRows();
}

void Adwin::MergeFullRows() {
  const auto full = static_cast<size_t>(options_.max_buckets) + 1;
  for (size_t row = 0; rows_[row].size() == full; ++row) {
    // Merges the row's two oldest buckets into one of the next row. The merged variance adds
    // the between-bucket term n1 n2 / (n1 + n2) (mu1 - mu2)^2 with n1 = n2 = n.
    const double n = BucketSize(row);
    const Bucket& older = rows_[row][0];
    const Bucket& newer = rows_[row][1];
    const double mu_older = older.total / n;
    const double mu_newer = newer.total / n;
    const Bucket merged{
        older.total + newer.total,
        older.variance + newer.variance + n * 0.5 * (mu_older - mu_newer) * (mu_older - mu_newer)};
    rows_[row].erase(rows_[row].begin(), rows_[row].begin() + 2);
    if (row + 1 == rows_.size()) {
      rows_.emplace_back().reserve(full);
    }
    rows_[row + 1].push_back(merged);
  }
}

bool Adwin::DetectChange() {
  // River's tick is an i32 that wraps (its release build does not check overflow), and C++20
  // defines the conversion back as modular.
  tick_ = static_cast<int32_t>(static_cast<uint32_t>(tick_) + 1u);
  if (tick_ % options_.clock != 0 || !(width_ > static_cast<double>(options_.grace_period))) {
    return false;
  }
  bool detected = false;
  while (CutOnce()) {
    detected = true;
  }
  return detected;
}

bool Adwin::CutOnce() {
  // Walks the splits from the oldest bucket on: W0 = the buckets passed (n0 points, sum u0),
  // W1 = the rest. The split that would leave W1 empty is never tested.
  const auto min_length = static_cast<double>(options_.min_window_length);
  // What every split's bound shares, computed once per walk (the window changes only after a
  // cut): the same expressions as River's per split, so the same doubles.
  const double delta_prime = std::log(2.0 * std::log(width_) / options_.delta);
  const double variance = variance_ / width_;
  double n0 = 0.0;
  double n1 = width_;
  double u0 = 0.0;
  double u1 = total_;
  for (size_t row = rows_.size(); row-- > 0;) {
    const double bucket_size = BucketSize(row);
    const std::vector<Bucket>& buckets = rows_[row];
    for (size_t bucket_idx = 0; bucket_idx < buckets.size(); ++bucket_idx) {
      n0 += bucket_size;
      n1 -= bucket_size;
      u0 += buckets[bucket_idx].total;
      u1 -= buckets[bucket_idx].total;
      if (row == 0 && bucket_idx + 1 == buckets.size()) {
        return false;
      }
      const double delta_mean = (u0 / n0) - (u1 / n1);
      if (n1 >= min_length && n0 >= min_length &&
          IsCut(n0, n1, delta_mean, delta_prime, variance)) {
        DeleteOldestBucket();
        return true;
      }
    }
  }
  return false;
}

bool Adwin::IsCut(double n0, double n1, double delta_mean, double delta_prime,
                  double variance) const {
  // epsilon_cut of Bifet & Gavaldà (2007), the variance-based form of section 4, as River writes
  // it: 1/m = 1/n0' + 1/n1' with each side shrunk by min_window_length - 1, and
  // delta' = ln(2 ln(width) / delta); `variance` is variance / width.
  const auto min_length = static_cast<double>(options_.min_window_length);
  const double m_recip = 1.0 / (n0 - min_length + 1.0) + 1.0 / (n1 - min_length + 1.0);
  const double epsilon =
      std::sqrt(2.0 * m_recip * variance * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip;
  return std::abs(delta_mean) > epsilon;
}

void Adwin::DeleteOldestBucket() {
  // With max_buckets == 1 a merge can empty a row; River then deletes from an empty last row and
  // panics. Skipping such rows changes nothing River computes without panicking.
  while (rows_.size() > 1 && rows_.back().empty()) {
    rows_.pop_back();
  }
  const size_t row = rows_.size() - 1;
  const double n = BucketSize(row);
  const Bucket oldest = rows_[row].front();
  const double mu = oldest.total / n;
  width_ -= n;
  total_ -= oldest.total;
  // The inverse of MergeFullRows' variance merge, with the rest of the window as the other part.
  const double mu_window = total_ / width_;
  variance_ -= oldest.variance + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
  rows_[row].erase(rows_[row].begin());
  if (row > 0 && rows_[row].empty()) {
    rows_.pop_back();
  }
}

void Adwin::Save(core::StateWriter* w) const {
  w->Put<double>(options_.delta);
  w->Put<int32_t>(options_.clock);
  w->Put<int32_t>(options_.max_buckets);
  w->Put<int32_t>(options_.min_window_length);
  w->Put<int32_t>(options_.grace_period);
  w->Put<uint8_t>(drift_detected_ ? 1 : 0);
  w->Put<int32_t>(tick_);
  w->Put<double>(width_);
  w->Put<double>(total_);
  w->Put<double>(variance_);
  w->Put<uint64_t>(rows_.size());
  for (const std::vector<Bucket>& buckets : rows_) {
    w->PutVector(buckets);
  }
}

bool Adwin::Load(core::StateReader* r) {
  double delta = 0.0;
  int32_t clock = 0;
  int32_t max_buckets = 0;
  int32_t min_window_length = 0;
  int32_t grace_period = 0;
  uint8_t drift_detected = 0;
  int32_t tick = 0;
  double width = 0.0;
  double total = 0.0;
  double variance = 0.0;
  uint64_t n_rows = 0;
  if (!r->Get(&delta) || !r->Get(&clock) || !r->Get(&max_buckets) || !r->Get(&min_window_length) ||
      !r->Get(&grace_period) || !r->Get(&drift_detected) || !r->Get(&tick) || !r->Get(&width) ||
      !r->Get(&total) || !r->Get(&variance) || !r->Get(&n_rows)) {
    return false;
  }
  // Options compare by bits, so that a NaN delta still matches itself.
  if (std::bit_cast<uint64_t>(delta) != std::bit_cast<uint64_t>(options_.delta) ||
      clock != options_.clock || max_buckets != options_.max_buckets ||
      min_window_length != options_.min_window_length || grace_period != options_.grace_period ||
      drift_detected > 1 || n_rows == 0 || n_rows > kMaxRows) {
    return false;
  }
  std::vector<std::vector<Bucket>> rows(n_rows);
  double points = 0.0;
  for (size_t row = 0; row < rows.size(); ++row) {
    if (!r->GetVector(&rows[row]) || rows[row].size() > static_cast<size_t>(max_buckets)) {
      return false;
    }
    points += BucketSize(row) * static_cast<double>(rows[row].size());
  }
  // The width is the number of points the buckets hold (exact: both are whole numbers < 2^53).
  if (points != width) {
    return false;
  }
  drift_detected_ = drift_detected == 1;
  tick_ = tick;
  width_ = width;
  total_ = total;
  variance_ = variance;
  rows_ = std::move(rows);
  return true;
}

}  // namespace sluice::metrics
