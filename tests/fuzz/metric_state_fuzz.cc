// tests/fuzz/metric_state_fuzz.cc. The metrics' Load()/LoadDelta() over arbitrary payloads.
//
// Input: one selector byte, then a core::StateReader payload (metric states have no envelope of
// their own: they travel inside a checkpoint's). Selector % 4: 0 RocAuc deltas (LoadDelta until
// the payload is used up), 1 RollingRocAuc (window 8), 2 RiverRocAuc (10 thresholds),
// 3 RiverRollingRocAuc (window 8). What a loaded metric saves must load back to the same state,
// and it must compute and update.
#include <cmath>
#include <string>

#include "core/state_codec.h"
#include "metrics/river_roc_auc.h"
#include "metrics/roc_auc.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice::fuzz {
namespace {

constexpr int kWindow = 8;

bool InUnitInterval(double v) { return v >= 0.0 && v <= 1.0; }

void FuzzRocAuc(absl::string_view payload) {
  metrics::RocAuc auc;
  core::StateReader r(payload);
  while (!r.done()) {
    if (!auc.LoadDelta(&r)) return;
  }
  const double value = auc.Auc();
  SLUICE_FUZZ_CHECK(std::isnan(value) || InUnitInterval(value));
  auc.Update(true, 0.5);
  auc.Update(false, 0.25);
  // NaN only while a loaded NaN score is counted (RocAuc's documented result for NaN scores).
  SLUICE_FUZZ_CHECK(InUnitInterval(auc.Auc()) || std::isnan(value));
  core::StateWriter w;
  auc.SaveDelta(&w);  // Only the two updates: the loaded pairs were saved already.
  metrics::RocAuc reloaded;
  core::StateReader back(w.payload());
  SLUICE_FUZZ_CHECK(reloaded.LoadDelta(&back) && back.done());
  SLUICE_FUZZ_CHECK(reloaded.positives() == 1 && reloaded.negatives() == 1);
}

// Same value, NaN included.
bool Same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

template <typename Metric>
double Value(const Metric& metric) {
  if constexpr (requires { metric.Auc(); }) {
    return metric.Auc();
  } else {
    return metric.Get();
  }
}

template <typename Metric>
void FuzzWindowed(absl::string_view payload, Metric metric, bool unit_or_nan) {
  core::StateReader r(payload);
  if (!metric.Load(&r)) return;
  core::StateWriter w;
  metric.Save(&w);
  Metric reloaded = metric;
  core::StateReader back(w.payload());
  SLUICE_FUZZ_CHECK(reloaded.Load(&back) && back.done());
  core::StateWriter again;
  reloaded.Save(&again);
  SLUICE_FUZZ_CHECK(again.payload() == w.payload());
  SLUICE_FUZZ_CHECK(Same(Value(reloaded), Value(metric)));
  for (Metric* m : {&metric, &reloaded}) {
    m->Update(true, 0.5);
    m->Update(false, 0.25);
  }
  const double value = Value(metric);
  SLUICE_FUZZ_CHECK(!unit_or_nan || std::isnan(value) || InUnitInterval(value));
  SLUICE_FUZZ_CHECK(Same(Value(reloaded), value));
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::fuzz;     // NOLINT(google-build-using-namespace): a fuzz entry point.
  using namespace sluice::metrics;  // NOLINT(google-build-using-namespace)
  if (size < 1) return 0;
  const absl::string_view payload = Bytes(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      FuzzRocAuc(payload);
      break;
    case 1:
      FuzzWindowed(payload, RollingRocAuc(kWindow), /*unit_or_nan=*/true);
      break;
    case 2:
      FuzzWindowed(payload, RiverRocAuc(10), /*unit_or_nan=*/false);
      break;
    default:
      FuzzWindowed(payload, RiverRollingRocAuc(kWindow), /*unit_or_nan=*/false);
      break;
  }
  return 0;
}
