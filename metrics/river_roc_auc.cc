// metrics/river_roc_auc.cc. Follows reference/river-algorithms.md sections 7 and 8.
#include "metrics/river_roc_auc.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/memory.h"

namespace sluice::metrics {
namespace {

// NumPy's pairwise summation (add.reduce over a contiguous array).
double PairwiseSum(const double* a, size_t n) {
  if (n < 8) {
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return PairwiseSum(a, half) + PairwiseSum(a + half, n - half);
}

int64_t TotalOrderKey(double v) {
  const auto bits = std::bit_cast<int64_t>(v);
  return bits ^ static_cast<int64_t>(static_cast<uint64_t>(bits >> 63) >> 1);
}

}  // namespace

RiverRocAuc::RiverRocAuc(int n_thresholds)
    : thresholds_(static_cast<size_t>(std::max(n_thresholds, 2))),
      counts_(thresholds_.size(), {0, 0, 0, 0}) {
  const size_t n = thresholds_.size();
  for (size_t i = 0; i < n; ++i) {
    thresholds_[i] = static_cast<double>(i) / static_cast<double>(n - 1);
  }
  thresholds_[0] -= 1e-7;
  thresholds_[n - 1] += 1e-7;
}

void RiverRocAuc::Update(bool label, double score) {
  for (size_t i = 0; i < thresholds_.size(); ++i) {
    const bool predicted = score > thresholds_[i];
    ++counts_[i][label ? (predicted ? 0 : 1) : (predicted ? 2 : 3)];
  }
}

void RiverRocAuc::Save(core::StateWriter* w) const { w->PutVector(counts_); }

bool RiverRocAuc::Load(core::StateReader* r) {
  std::vector<std::array<int64_t, 4>> counts;
  if (!r->GetVector(&counts) || counts.size() != counts_.size()) return false;
  // A count is at most the number of updates: negative or >= 2^62 is corrupt (and could
  // overflow tp + fn in Get()).
  for (const auto& row : counts) {
    for (const int64_t count : row) {
      if (count < 0 || count >= (int64_t{1} << 62)) return false;
    }
  }
  counts_ = std::move(counts);
  return true;
}

double RiverRocAuc::Get() const {
  const size_t n = thresholds_.size();
  std::vector<double> tpr(n), fpr(n), terms(n - 1);
  for (size_t i = 0; i < n; ++i) {
    const auto [tp, fn, fp, tn] = counts_[i];
    tpr[i] = tp + fn != 0 ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 0.0;
    fpr[i] = fp + tn != 0 ? static_cast<double>(fp) / static_cast<double>(fp + tn) : 0.0;
  }
  for (size_t i = 0; i + 1 < n; ++i) {
    terms[i] = ((fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i])) / 2.0;
  }
  return -PairwiseSum(terms.data(), terms.size());
}

RiverRollingRocAuc::RiverRollingRocAuc(int window_size)
    : window_size_(static_cast<size_t>(std::max(window_size, 1))) {}

uint64_t RiverRollingRocAuc::MemoryBytes(int window_size) {
  // The window, and Get's sorted copy of it (24 bytes an entry).
  const auto w = static_cast<uint64_t>(std::max(window_size, 1));
  return core::SaturatingMul(w, sizeof(Entry) + 24);
}

void RiverRollingRocAuc::Update(bool label, double score) {
  const Entry entry{score, label ? 1 : 0};
  if (window_.size() < window_size_) {
    // Grow by doubling but never past the window, so memory follows what is held.
    if (window_.size() == window_.capacity()) {
      window_.reserve(std::min(window_size_, std::max<size_t>(16, 2 * window_.size())));
    }
    window_.push_back(entry);
    return;
  }
  window_[next_] = entry;  // Overwrites (evicts) the oldest.
  next_ = next_ + 1 == window_size_ ? 0 : next_ + 1;
}

void RiverRollingRocAuc::Save(core::StateWriter* w) const {
  // Value-initialised, so the padding after `label` is zero and equal states give equal bytes.
  const size_t n = window_.size();
  std::vector<Entry> oldest_first(n);
  for (size_t k = 0; k < n; ++k) {
    oldest_first[k].score = window_[(next_ + k) % n].score;
    oldest_first[k].label = window_[(next_ + k) % n].label;
  }
  w->Put<uint64_t>(window_size_);
  w->PutVector(oldest_first);
}

bool RiverRollingRocAuc::Load(core::StateReader* r) {
  uint64_t window = 0;
  std::vector<Entry> entries;
  if (!r->Get(&window) || !r->GetVector(&entries) || window != window_size_ ||
      entries.size() > window) {
    return false;
  }
  window_.clear();
  next_ = 0;
  for (const Entry& e : entries) Update(e.label == 1, e.score);
  return true;
}

double RiverRollingRocAuc::Get() const {
  struct Keyed {
    int64_t key;  // IEEE total order: -0.0 sorts before 0.0, as in River's ordered set.
    double score;
    int label;
  };
  std::vector<Keyed> sorted;
  sorted.reserve(window_.size());
  int64_t p = 0;
  for (const Entry& e : window_) {
    sorted.push_back(Keyed{TotalOrderKey(e.score), e.score, e.label});
    p += e.label;
  }
  const auto n = static_cast<int64_t>(window_.size()) - p;
  if (p == 0 || n == 0) return 0.0;
  std::sort(sorted.begin(), sorted.end(), [](const Keyed& a, const Keyed& b) {
    return a.key != b.key ? a.key < b.key : a.label < b.label;
  });
  // Descending walk: among equal scores the positives come first.
  int64_t auc = 0;
  int64_t c = 0;
  int64_t prev_c = 0;
  double last_positive = std::nan("");
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) {
    if (it->label == 1) {
      if (it->score != last_positive) {
        prev_c = c;
        last_positive = it->score;
      }
      ++c;
    } else if (it->score == last_positive) {
      auc += (c + prev_c) / 2;  // River truncates the tie credit to an integer.
    } else {
      auc += c;
    }
  }
  return static_cast<double>(auc) / static_cast<double>(p * n);
}

}  // namespace sluice::metrics
