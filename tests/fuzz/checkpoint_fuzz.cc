// tests/fuzz/checkpoint_fuzz.cc. A run resumed from an arbitrary checkpoint (the run state of a
// registered version: source position, metrics, label joiner, pending labels).
//
// Input: one byte of mode (bit 0: labels from the input with a delay, or joined from a list with
// a TTL; see checkpoint_fixture.h), then the checkpoint. Restoring must succeed or fail with a
// message; a run that restores must end normally.
#include <string>

#include "core/clock.h"
#include "engine/snapshotter.h"
#include "engine/stream_runner.h"
#include "tests/fuzz/checkpoint_fixture.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;  // NOLINT: a fuzz target's body.
  if (size < 1) return 0;
  const int mode = data[0] & 1;
  const std::string checkpoint(fuzz::Bytes(data + 1, size - 1));
  const auto info = engine::ReadCheckpointInfo(checkpoint);
  SLUICE_FUZZ_CHECK(info.ok() || !info.status().message().empty());

  auto pipeline = fuzz::CheckpointPipeline();
  const engine::ResumePoint point{
      7, engine::PackModels(pipeline->SaveAnomaly(), pipeline->SaveFraud()), {checkpoint}};
  const std::vector<engine::LabelRecord> labels = fuzz::CheckpointLabels();
  const auto label_source = engine::NewLabelVectorSource(labels);
  engine::RunOptions options = fuzz::CheckpointRunOptions(mode, label_source.get());
  options.resume = &point;
  auto source = fuzz::CheckpointSource();
  engine::RunObserver quiet;
  const auto result =
      engine::RunStream(*source, *pipeline, nullptr, quiet, options, core::Clock::Real());
  if (!result.ok()) {
    SLUICE_FUZZ_CHECK(!result.status().message().empty());
    return 0;
  }
  SLUICE_FUZZ_CHECK(result->events <= 60 + info->events);
  SLUICE_FUZZ_CHECK(result->labels >= 0 && result->labels_pending >= 0);
  return 0;
}
