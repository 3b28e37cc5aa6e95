// metrics/river_roc_auc.h. River's metrics.ROCAUC and metrics.RollingROCAUC, bit for bit, so
// River's published numbers can be reproduced. Prefer RocAuc/RollingRocAuc for decisions: these
// are River's approximations and quirks, kept on purpose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/state_codec.h"

namespace sluice::metrics {

// River's ROCAUC: a trapezoid over `n_thresholds` fixed thresholds (10 by default), summed in
// NumPy's pairwise order. An approximation of the AUC; -0.0 until both classes were seen.
// A NaN score is what River makes of it: `score > threshold` is false for every threshold, so it
// counts as predicted negative everywhere, like a score below -1e-7.
class RiverRocAuc {
 public:
  // Requires: n_thresholds >= 2.
  explicit RiverRocAuc(int n_thresholds = 10);
  void Update(bool label, double score);
  double Get() const;
  // Load replaces the state; false if malformed or of another threshold count.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);

 private:
  std::vector<double> thresholds_;
  // Per threshold: [true positives, false negatives, false positives, true negatives].
  std::vector<std::array<int64_t, 4>> counts_;
};

// River's RollingROCAUC (Brzezinski & Stefanowski, 2017): exact AUC over the last
// `window_size` updates, except that a negative tied with positives gets the half credit
// truncated to an integer, and a single-class window gives 0.0. Update is O(1) (a ring buffer);
// Get sorts the window, O(W log W): River's own Get is O(W). Memory grows with the entries held,
// up to MemoryBytes(window_size).
//
// NaN scores behave as in River 0.25+ (Rust: a B-tree ordered by IEEE total order, equality by
// `==`): a NaN without its sign bit sorts above +inf, one with it (x86's default NaN, e.g. from
// inf - inf) below -inf; and as NaN == NaN is false, NaN scores never tie: each NaN positive
// starts a new group and each NaN negative gets the full count of the positives above it.
class RiverRollingRocAuc {
 public:
  // Requires: window_size >= 1 (smaller values act as 1).
  explicit RiverRollingRocAuc(int window_size = 1000);
  // Bytes held once `window_size` entries are in the window, Get's sorted copy included.
  static uint64_t MemoryBytes(int window_size);
  void Update(bool label, double score);
  double Get() const;
  // The window, oldest first. Load replaces the state; false if malformed or of another W.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);

 private:
  struct Entry {
    double score;
    int label;
  };
  size_t window_size_;
  std::vector<Entry> window_;  // Grows to window_size_, then a ring: next_ is the oldest slot.
  size_t next_ = 0;
};

}  // namespace sluice::metrics
