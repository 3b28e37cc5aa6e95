// metrics/roc_auc.cc
#include "metrics/roc_auc.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/memory.h"
#include "metrics/river_roc_auc.h"

namespace sluice::metrics {

namespace {

// A key whose unsigned order is the order of the (non-NaN) double: flip the sign bit of a
// positive, every bit of a negative. -0.0 never occurs (Update adds 0.0).
uint64_t SortKey(double score) {
  const auto bits = std::bit_cast<uint64_t>(score);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

struct ScanCounts {
  uint64_t below = 0;  // Scores < x.
  uint64_t equal = 0;  // Scores == x (-0.0 == 0.0, as IEEE compares).
};

// Branch-free and two lanes a step: a true lane of a comparison is all ones, -1, so
// subtracting the mask counts it.
ScanCounts CountAround(const double* a, size_t n, double x) {
  ScanCounts counts;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128d vx = _mm_set1_pd(x);
  __m128i below = _mm_setzero_si128();
  __m128i equal = _mm_setzero_si128();
  for (; i + 2 <= n; i += 2) {
    const __m128d v = _mm_loadu_pd(a + i);
    below = _mm_sub_epi64(below, _mm_castpd_si128(_mm_cmplt_pd(v, vx)));
    equal = _mm_sub_epi64(equal, _mm_castpd_si128(_mm_cmpeq_pd(v, vx)));
  }
  uint64_t lanes[4];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes), below);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(lanes + 2), equal);
  counts.below = lanes[0] + lanes[1];
  counts.equal = lanes[2] + lanes[3];
#endif
  for (; i < n; ++i) {
    counts.below += a[i] < x ? 1 : 0;
    counts.equal += a[i] == x ? 1 : 0;
  }
  return counts;
}

}  // namespace

// Least-significant-digit radix sort on SortKey, 16 bits a pass: the summary's cumulative AUC
// sorts every score of the run once, and a comparison sort of a million took ~70 ms of a replay.
// Only the scores' order matters to Auc(), not the order within ties.
void RocAuc::SortByScore(std::vector<Entry>::iterator first, std::vector<Entry>::iterator last) {
  const auto n = static_cast<size_t>(last - first);
  if (n < 4096) {
    std::sort(first, last, [](const Entry& a, const Entry& b) { return a.score < b.score; });
    return;
  }
  std::vector<Entry> buffer(n);
  Entry* from = &*first;
  Entry* to = buffer.data();
  std::vector<size_t> count(1 << 16);
  for (int shift = 0; shift < 64; shift += 16) {
    std::fill(count.begin(), count.end(), 0);
    for (size_t i = 0; i < n; ++i) ++count[(SortKey(from[i].score) >> shift) & 0xFFFF];
    if (count[(SortKey(from[0].score) >> shift) & 0xFFFF] == n) continue;  // One digit: skip.
    size_t offset = 0;
    for (size_t& c : count) offset += std::exchange(c, offset);
    for (size_t i = 0; i < n; ++i)
      to[count[(SortKey(from[i].score) >> shift) & 0xFFFF]++] = from[i];
    std::swap(from, to);
  }
  if (from != &*first) std::copy(from, from + n, first);
}

void RocAuc::Update(bool label, double score) {
  // NaN scores stay out of entries_: they have no place in the sort (and would break it).
  if (std::isnan(score)) {
    nan_entries_.push_back(Entry{score, label});
  } else {
    entries_.push_back(Entry{score + 0.0, label});  // + 0.0: -0.0 ties with 0.0.
  }
  positives_ += label ? 1 : 0;
  if (track_deltas_) delta_.push_back(std::isnan(score) ? nan_entries_.back() : entries_.back());
}

void RocAuc::SaveDelta(core::StateWriter* w) {
  if (!track_deltas_) {
    delta_ = entries_;
    delta_.insert(delta_.end(), nan_entries_.begin(), nan_entries_.end());
    track_deltas_ = true;
  }
  // Scores and labels apart: 9 bytes a pair instead of a padded 16.
  std::vector<double> scores(delta_.size());
  std::vector<uint8_t> labels(delta_.size());
  for (size_t i = 0; i < delta_.size(); ++i) {
    scores[i] = delta_[i].score;
    labels[i] = delta_[i].label ? 1 : 0;
  }
  w->PutVector(scores);
  w->PutVector(labels);
  delta_.clear();
}

void RocAuc::SaveAll(core::StateWriter* w) {
  track_deltas_ = false;  // SaveDelta's first time: everything.
  SaveDelta(w);
}

bool RocAuc::LoadDelta(core::StateReader* r) {
  std::vector<double> scores;
  std::vector<uint8_t> labels;
  if (!r->GetVector(&scores) || !r->GetVector(&labels) || scores.size() != labels.size()) {
    return false;
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (labels[i] > 1) return false;
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    (std::isnan(scores[i]) ? nan_entries_ : entries_).push_back(Entry{scores[i], labels[i] == 1});
    positives_ += labels[i];
  }
  track_deltas_ = true;  // What was loaded is already saved.
  return true;
}

double RocAuc::Auc() const {
  if (!nan_entries_.empty()) return std::numeric_limits<double>::quiet_NaN();
  const uint64_t p = positives_;
  const uint64_t n = entries_.size() - positives_;
  if (p == 0 || n == 0) return std::numeric_limits<double>::quiet_NaN();
  const auto by_score = [](const Entry& a, const Entry& b) { return a.score < b.score; };
  if (sorted_ < entries_.size()) {
    const auto middle = entries_.begin() + static_cast<std::ptrdiff_t>(sorted_);
    SortByScore(middle, entries_.end());
    std::inplace_merge(entries_.begin(), middle, entries_.end(), by_score);
    sorted_ = entries_.size();
  }
  // Walk groups of equal scores upwards: each positive beats the negatives below its group and
  // ties with those inside it.
  uint64_t twice_u = 0;
  uint64_t negatives_below = 0;
  for (size_t i = 0; i < entries_.size();) {
    size_t j = i;
    uint64_t group_positives = 0;
    for (; j < entries_.size() && entries_[j].score == entries_[i].score; ++j) {
      group_positives += entries_[j].label ? 1 : 0;
    }
    const uint64_t group_negatives = (j - i) - group_positives;
    twice_u += group_positives * (2 * negatives_below + group_negatives);
    negatives_below += group_negatives;
    i = j;
  }
  return static_cast<double>(twice_u) / (2.0 * static_cast<double>(p) * static_cast<double>(n));
}

RollingRocAuc::RollingRocAuc(int window_size, uint64_t scan_limit)
    : window_size_(window_size < 1 ? 1 : window_size), scan_limit_(scan_limit) {}

uint64_t RollingRocAuc::MemoryBytes(int window_size) {
  const auto w = static_cast<uint64_t>(window_size < 1 ? 1 : window_size);
  // A score queue's vector holds its live scores, at most as many consumed ones plus 64, and
  // may have reserved twice that.
  const uint64_t queues =
      core::SaturatingMul(core::SaturatingAdd(core::SaturatingMul(w, 4), 256), sizeof(double));
  return core::SaturatingAdd(core::SaturatingAdd(core::SaturatingMul(w, sizeof(Entry)), queues),
                             ScoreRanks::MemoryBytes(w));
}

absl::Status CheckRollingWindow(int window_size, int models, absl::string_view what) {
  if (window_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be >= 1, got ", window_size));
  }
  const uint64_t per_model = core::SaturatingAdd(RollingRocAuc::MemoryBytes(window_size),
                                                 RiverRollingRocAuc::MemoryBytes(window_size));
  return core::CheckMemory(
      absl::StrCat(what, " ", window_size, " (rolling AUCs of ", models, " model",
                   models == 1 ? "" : "s", ")"),
      core::SaturatingMul(per_model, static_cast<uint64_t>(std::max(models, 1))));
}

void RollingRocAuc::ScoreQueue::Pop() {
  ++head_;
  // Cutting the front when it is half of the vector moves each score at most once.
  if (head_ >= 64 && 2 * head_ >= scores_.size()) {
    scores_.erase(scores_.begin(), scores_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

uint64_t RollingRocAuc::Credit(int label, double score, bool inserting) {
  const ScoreQueue& other = scores_[1 - label];
  uint64_t below = 0;
  uint64_t equal = 0;
  if (index_.has_value()) {
    const ScoreRanks::Counts c =
        inserting ? index_->Insert(score, label) : index_->Erase(score, label);
    below = c.below[1 - label];
    equal = c.equal[1 - label];
  } else {
    const ScanCounts c = CountAround(other.data(), other.size(), score);
    below = c.below;
    equal = c.equal;
  }
  // A positive beats the negatives below it; a negative loses to the positives above it.
  if (label == 1) return 2 * below + equal;
  return 2 * (other.size() - below - equal) + equal;
}

void RollingRocAuc::ChooseMode() {
  ++updates_in_mode_;
  // Each entry of a label is ranked among the other label's when it comes and when it goes:
  // 2 n1 / W scans of the n0 negatives per update, and as many of the n1 positives.
  const uint64_t n0 = scores_[0].size();
  const uint64_t n1 = scores_[1].size();
  const uint64_t scan_work = 4 * n0 * n1 / static_cast<uint64_t>(window_size_);
  if (!index_.has_value() && scan_work > scan_limit_) {
    index_.emplace();
    for (int l = 0; l < 2; ++l) {
      for (size_t i = 0; i < scores_[l].size(); ++i) index_->Insert(scores_[l].data()[i], l);
    }
    updates_in_mode_ = 0;
  } else if (index_.has_value() && scan_work < scan_limit_ / 4 &&
             updates_in_mode_ >= static_cast<uint64_t>(window_size_)) {
    index_.reset();
    updates_in_mode_ = 0;
  }
}

void RollingRocAuc::Update(bool label, double score) {
  const auto capacity = static_cast<size_t>(window_size_);
  if (window_.size() == capacity) {
    const Entry& old = window_[next_];
    if (std::isnan(old.score)) {
      --nan_scores_;
    } else {
      const int l = old.label ? 1 : 0;
      scores_[l].Pop();  // The oldest of its label.
      twice_u_ -= Credit(l, old.score, /*inserting=*/false);
    }
  }
  if (std::isnan(score)) {
    ++nan_scores_;  // No rank: the AUC is undefined until it leaves the window.
  } else {
    const int l = label ? 1 : 0;
    twice_u_ += Credit(l, score, /*inserting=*/true);
    scores_[l].Push(score);
  }
  ChooseMode();
  if (window_.size() < capacity) {
    // Grow by doubling but never past the window, so memory follows what is held.
    if (window_.size() == window_.capacity()) {
      window_.reserve(std::min(capacity, std::max<size_t>(16, 2 * window_.size())));
    }
    window_.push_back(Entry{score, label});
    return;
  }
  window_[next_] = Entry{score, label};
  next_ = next_ + 1 == capacity ? 0 : next_ + 1;
}

void RollingRocAuc::Save(core::StateWriter* w) const {
  // Value-initialised, so the padding after `label` is zero and equal states give equal bytes.
  const size_t n = window_.size();
  std::vector<Entry> oldest_first(n);
  for (size_t k = 0; k < n; ++k) {
    oldest_first[k].score = window_[(next_ + k) % n].score;
    oldest_first[k].label = window_[(next_ + k) % n].label;
  }
  w->Put<uint64_t>(static_cast<uint64_t>(window_size_));
  w->PutVector(oldest_first);
}

bool RollingRocAuc::Load(core::StateReader* r) {
  // Entry as saved, with the label read as a byte: a stored byte other than 0 or 1 is corrupt,
  // and loading it as a bool would be undefined behaviour.
  struct SavedEntry {
    double score;
    uint8_t label;
  };
  static_assert(sizeof(SavedEntry) == sizeof(Entry) &&
                offsetof(SavedEntry, label) == offsetof(Entry, label));
  uint64_t window = 0;
  std::vector<SavedEntry> entries;
  if (!r->Get(&window) || !r->GetVector(&entries) ||
      window != static_cast<uint64_t>(window_size_) || entries.size() > window) {
    return false;
  }
  *this = RollingRocAuc(window_size_, scan_limit_);
  for (const SavedEntry& e : entries) {
    if (e.label > 1) return false;
    Update(e.label == 1, e.score);  // NaN scores too: they save and load exactly.
  }
  return true;
}

double RollingRocAuc::Auc() const {
  const uint64_t p = scores_[1].size();
  const uint64_t n = scores_[0].size();
  if (p == 0 || n == 0 || nan_scores_ != 0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(twice_u_) / (2.0 * static_cast<double>(p) * static_cast<double>(n));
}

}  // namespace sluice::metrics
