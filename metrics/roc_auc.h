// metrics/roc_auc.h. Exact ROC-AUC (Mann-Whitney U with 0.5 credit for ties), cumulative or
// over a sliding window of the last W labelled predictions.
//
// NaN scores (a diverged model) have no rank, so an AUC over a set that holds one is undefined:
// Auc() is NaN while any NaN score is counted (for RollingRocAuc, until it leaves the window).
// They are kept, saved and loaded like any other score, so checkpoints stay exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/state_codec.h"
#include "metrics/score_ranks.h"

namespace sluice::metrics {

// Exact AUC over every (label, score) seen. Update is O(1) amortised (the pair is appended);
// Auc() sorts what arrived since the last call, merges it in and walks the whole list, so it is
// O(n) plus the sort of the new pairs: call it for reports, not per event. Not thread-safe.
class RocAuc {
 public:
  void Update(bool label, double score);
  // P(score of a random positive > that of a random negative) + 0.5 P(tie); NaN while one class
  // is absent or any score seen is NaN.
  double Auc() const;
  // Labels seen, NaN scores included.
  uint64_t positives() const { return positives_; }
  uint64_t negatives() const { return entries_.size() + nan_entries_.size() - positives_; }

  // Checkpoints are incremental, as the state grows with the stream: SaveDelta() writes the
  // pairs added since the previous SaveDelta() (all of them the first time) and LoadDelta()
  // adds such a delta back. Loading every delta, in any order, restores the metric.
  void SaveDelta(core::StateWriter* w);
  bool LoadDelta(core::StateReader* r);
  // Every pair, in SaveDelta's format: a delta that alone restores the metric. Deltas are
  // counted from here on.
  void SaveAll(core::StateWriter* w);

 private:
  struct Entry {
    double score;
    bool label;
  };
  static void SortByScore(std::vector<Entry>::iterator first, std::vector<Entry>::iterator last);
  mutable std::vector<Entry> entries_;  // Non-NaN scores; entries_[0, sorted_) is sorted.
  mutable size_t sorted_ = 0;
  std::vector<Entry> nan_entries_;  // NaN scores, as given (their bits are saved unchanged).
  uint64_t positives_ = 0;
  bool track_deltas_ = false;
  std::vector<Entry> delta_;  // Added since the last SaveDelta().
};

// Exact AUC over the last `window_size` updates: an update evicts the oldest entry first.
//
// An update ranks the entry it adds or evicts among the window's entries of the other label.
// While one label is rare, as fraud is, counting them in a flat array of that label's scores is
// the fastest way (a vectorised scan, no pointer chasing, no mispredicted branches): the rare
// label's few scores are scanned at nearly every update, the common label's many scores only
// when a rare one comes or goes. Once the expected scan work per update (4 n0 n1 / W scores)
// exceeds `scan_limit`, a rank tree (ScoreRanks, O(log W)) is built and used instead; it is
// dropped when the work falls below a quarter of that and at least W updates have passed, so a
// rebuild costs at most O(log W) per update amortised. Results do not depend on the mode.
// Memory grows with the entries held, up to MemoryBytes(window_size) once the window is full;
// construction allocates nothing. Copyable value type; not thread-safe.
class RollingRocAuc {
 public:
  static constexpr uint64_t kDefaultScanLimit = 256;
  // Requires: window_size >= 1 (smaller values act as 1). `scan_limit`: see above (tests lower
  // it to exercise both modes on small windows).
  explicit RollingRocAuc(int window_size, uint64_t scan_limit = kDefaultScanLimit);
  // Bytes held once `window_size` entries are in the window (ring buffer, score arrays and
  // rank tree).
  static uint64_t MemoryBytes(int window_size);
  void Update(bool label, double score);
  // NaN while one class is absent from the window or a NaN score is in it.
  double Auc() const;
  int window_size() const { return window_size_; }
  uint64_t size() const { return window_.size(); }
  // Whether the rank tree is in use (for tests and benchmarks).
  bool indexed() const { return index_.has_value(); }
  // The window, oldest first. Load replaces the state; false if malformed or of another W.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);

 private:
  struct Entry {
    double score;
    bool label;
  };
  // One label's non-NaN scores in the window, oldest first, contiguous: a queue in a vector
  // whose consumed front is cut off once it is half of it.
  class ScoreQueue {
   public:
    void Push(double score) { scores_.push_back(score); }
    void Pop();
    const double* data() const { return scores_.data() + head_; }
    size_t size() const { return scores_.size() - head_; }

   private:
    std::vector<double> scores_;
    size_t head_ = 0;
  };
  // Twice the Mann-Whitney U credit of an entry (`label`, `score`) against the other label's
  // entries in the window: 2 per correctly ordered pair, 1 per tie. `inserting`: it is being
  // added (else evicted, already out of the queues). Integer, so exact.
  uint64_t Credit(int label, double score, bool inserting);
  void ChooseMode();

  int window_size_;
  uint64_t scan_limit_;
  std::vector<Entry> window_;  // Grows to window_size_, then a ring: next_ is the oldest slot.
  size_t next_ = 0;
  ScoreQueue scores_[2];             // The non-NaN entries of the window, by label.
  std::optional<ScoreRanks> index_;  // The same entries, while in rank-tree mode.
  uint64_t updates_in_mode_ = 0;     // Updates since the mode last changed.
  uint64_t nan_scores_ = 0;          // NaN entries in the window.
  uint64_t twice_u_ = 0;
};

// Checks a window size before the rolling metrics are built: InvalidArgument if window_size < 1;
// ResourceExhausted if `models` sets of one RollingRocAuc and one RiverRollingRocAuc of that
// window would not fit in core::AvailableMemoryBytes() once full. Messages name `what` (e.g.
// "--metric-window") and the bytes needed.
absl::Status CheckRollingWindow(int window_size, int models, absl::string_view what);

}  // namespace sluice::metrics
