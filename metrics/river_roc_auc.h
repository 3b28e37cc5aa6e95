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
// Get sorts the window, O(W log W): River's own Get is O(W).
class RiverRollingRocAuc {
 public:
  // Requires: window_size >= 1.
  explicit RiverRollingRocAuc(int window_size = 1000);
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
  std::vector<Entry> window_;  // Ring buffer; next_ is the oldest slot once full.
  size_t next_ = 0;
  size_t size_ = 0;
};

}  // namespace sluice::metrics
