// metrics/adwin.h. River's drift.ADWIN (river 0.26.1), bit for bit: the same inputs give the
// same detection indices and the same width, total and variance after every update.
#pragma once

#include <cstdint>
#include <vector>

#include "core/state_codec.h"

namespace sluice::metrics {

// ADWIN2, the adaptive-window change detector of Bifet & Gavaldà, "Learning from time-changing
// data with adaptive windowing" (SDM 2007), as River implements it (its Rust AdaptiveWindowing
// helper wrapped by the Python drift.ADWIN). The window is an exponential histogram: row i holds
// at most `max_buckets` buckets of 2^i points each, so memory is O(max_buckets log width).
// Every `clock` updates, once the window holds more than `grace_period` points, every split of
// the window into an older and a newer part is tested; while some split's means differ by more
// than the Hoeffding-style bound, the oldest bucket is dropped and the test repeats.
//
// River's quirks, kept on purpose (they are observable):
//  - Forgetting: the update that FOLLOWS a detection first discards the whole window (River's
//    ADWIN.update starts with `if self.drift_detected: self._reset()`), not just the part before
//    the cut. So width() is back to 1 right after the update after a detection.
//  - variance() is the sum of squared deviations from the window's mean (n times the population
//    variance), not the sample variance River's docstring promises.
//  - n_detections() counts the detections of the current window only, and the window is
//    discarded on the update after each detection: it is 1 exactly when drift_detected() is
//    true, else 0. Count the true results of Update() for a running total.
// Deviations, only where River panics: clock 0 and max_buckets 0 act as 1; with max_buckets == 1
// River can delete from a row that merging left empty, and here the empty oldest rows are skipped
// instead. Every run River completes is matched, NaN bits included (min_window_length <= 0 can
// empty the window: width 0, variance NaN).
//
// Not thread-safe. Values are in the caller's units; width() counts points.
class Adwin {
 public:
  struct Options {
    double delta = 0.002;       // Significance level of a cut, in (0, 1). Lower: fewer alarms.
    int clock = 32;             // Test for a change every |clock| updates (as River); 0 acts as 1.
    int max_buckets = 5;        // Buckets kept per row before two merge (>= 1; smaller acts as 1).
    int min_window_length = 5;  // Each side of a tested split holds at least this many points.
    int grace_period = 10;      // No test until the window holds more than this many points.
  };

  // River's defaults. (Not `Options options = {}`: GCC rejects a nested struct's default
  // member initialisers in a default argument of the enclosing class, GCC bug 88165.)
  Adwin();
  // Requires: 0 < options.delta < 1.
  explicit Adwin(const Options& options);

  // Adds `x` (after discarding the window if the previous update detected a drift) and returns
  // whether this update detected a drift, i.e. cut the window at least once. O(log width)
  // amortised; a test update is O(max_buckets log width) per cut.
  bool Update(double x);

  // The result of the last Update(); false before the first.
  bool drift_detected() const { return drift_detected_; }
  // Points in the window (a whole number, a double as in River).
  double width() const { return width_; }
  // Sum of the points in the window.
  double total() const { return total_; }
  // Sum of squared deviations from the window's mean (River's `variance`; see above).
  double variance() const { return variance_; }
  // Mean of the window: total() / width(), or 0.0 while the window is empty.
  double estimation() const { return width_ == 0.0 ? 0.0 : total_ / width_; }
  // River's n_detections: 1 if drift_detected(), else 0 (see above).
  int n_detections() const { return drift_detected_ ? 1 : 0; }
  // The options in effect: a clock of 0 or -1 and a max_buckets below 1 are stored as 1.
  const Options& options() const { return options_; }

  // The whole state, options included, so a resumed stream detects at the same indices. Load
  // replaces the state; false (and the state unchanged) if malformed or saved with other
  // options.
  void Save(core::StateWriter* w) const;
  bool Load(core::StateReader* r);

 private:
  struct Bucket {
    double total;     // Sum of the bucket's 2^row points.
    double variance;  // Their sum of squared deviations from their own mean.
  };

  void ResetWindow();
  void Insert(double x);
  void MergeFullRows();
  bool DetectChange();
  bool CutOnce();
  bool IsCut(double n0, double n1, double delta_mean, double delta_prime, double variance) const;
  void DeleteOldestBucket();

  Options options_;
  bool drift_detected_ = false;
  // River's AdaptiveWindowing helper; ResetWindow() replaces it with a new one.
  double width_ = 0.0;
  double total_ = 0.0;
  double variance_ = 0.0;
  int32_t tick_ = 0;  // Updates since the reset; wraps like River's i32 (its build does not trap).
  // rows_[i] holds buckets of 2^i points, oldest first; row 0 takes new points and the last row
  // holds the oldest. There is always a row 0.
  std::vector<std::vector<Bucket>> rows_;
};

}  // namespace sluice::metrics
