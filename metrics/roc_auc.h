// metrics/roc_auc.h. Exact ROC-AUC (Mann-Whitney U with 0.5 credit for ties), cumulative or
// over a sliding window of the last W labelled predictions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

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
  // is absent.
  double Auc() const;
  uint64_t positives() const { return positives_; }
  uint64_t negatives() const { return entries_.size() - positives_; }

  // Checkpoints are incremental, as the state grows with the stream: SaveDelta() writes the
  // pairs added since the previous SaveDelta() (all of them the first time) and LoadDelta()
  // adds such a delta back. Loading every delta, in any order, restores the metric.
  void SaveDelta(core::StateWriter* w);
  bool LoadDelta(core::StateReader* r);

 private:
  friend class RollingRocAuc;
  // Twice the Mann-Whitney U credit of one entry against the set described by `counts`: 2 per
  // correctly ordered pair, 1 per tie. Integer, so exact.
  static uint64_t PairCredit(const ScoreRanks::Counts& counts, const ScoreRanks& ranks, int label);

  struct Entry {
    double score;
    bool label;
  };
  mutable std::vector<Entry> entries_;  // entries_[0, sorted_) is sorted by score.
  mutable size_t sorted_ = 0;
  uint64_t positives_ = 0;
  bool track_deltas_ = false;
  std::vector<Entry> delta_;  // Added since the last SaveDelta().
};

// Exact AUC over the last `window_size` updates: an update evicts the oldest entry first. Both
// are O(log W). Copyable value type; not thread-safe.
class RollingRocAuc {
 public:
  // Requires: window_size >= 1.
  explicit RollingRocAuc(int window_size);
  void Update(bool label, double score);
  double Auc() const;
  int window_size() const { return static_cast<int>(window_.size()); }
  uint64_t size() const { return ranks_.size(); }
  // The window, oldest first. Load replaces the state; false if malformed or of another W.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);

 private:
  struct Entry {
    double score;
    bool label;
  };
  std::vector<Entry> window_;  // Ring buffer; next_ is the oldest slot once full.
  size_t next_ = 0;
  ScoreRanks ranks_;
  uint64_t twice_u_ = 0;
};

}  // namespace sluice::metrics
