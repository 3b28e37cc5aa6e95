#include "engine/snapshotter.h"

#include <string>

#include "engine/csv_reader.h"
#include "engine/stream_runner.h"
#include "engine/synthetic_stream.h"
#include "registry/registry.h"
#include "tests/support/cli.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::sluice::testing::FakeClock;
using ::sluice::testing::TempDir;
using ::testing::HasSubstr;

Snapshotter::Options OptionsFor(const std::string& path) {
  Snapshotter::Options options;
  options.registry_path = path;
  options.config_json = "{}";
  options.input_description = "synthetic";
  return options;
}

TEST(Snapshotter, EventCountAndEventTimeRulesFire) {
  TempDir dir;
  FakeClock clock;
  Snapshotter::Options options = OptionsFor(dir.File("r.db"));
  options.schedule.every_events = 3;
  options.schedule.every_event_seconds = 10;
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(options, clock));
  EXPECT_EQ(snapshotter->Due(1, 0.0), std::nullopt);
  EXPECT_EQ(snapshotter->Due(2, 4.0), std::nullopt);
  EXPECT_EQ(snapshotter->Due(3, 5.0), "every 3 events");
  EXPECT_EQ(snapshotter->Due(4, 14.0), std::nullopt);  // 9 s since the last snapshot.
  EXPECT_EQ(snapshotter->Due(5, 15.0), "every 10 s of event time");
  EXPECT_EQ(snapshotter->Due(7, 20.0), std::nullopt);
}

TEST(Snapshotter, TriggerOfEveryEventIsSingular) {
  TempDir dir;
  FakeClock clock;
  Snapshotter::Options options = OptionsFor(dir.File("r.db"));
  options.schedule.every_events = 1;
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(options, clock));
  EXPECT_EQ(snapshotter->Due(1, 0.0), "every 1 event");
}

TEST(Snapshotter, WallClockRuleFires) {
  TempDir dir;
  FakeClock clock;
  Snapshotter::Options options = OptionsFor(dir.File("r.db"));
  options.schedule.every_wall_seconds = 5;
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(options, clock));
  EXPECT_EQ(snapshotter->Due(64, 0.0), std::nullopt);
  clock.Advance(absl::Seconds(6));
  EXPECT_EQ(snapshotter->Due(100, 0.0), std::nullopt);  // The clock is read every 64 events.
  EXPECT_EQ(snapshotter->Due(128, 0.0), "every 5 s of wall time");
}

// A full disk (SQLite's max_page_count) fails the snapshots that do not fit, with a clear
// error, while the stream goes on to the end and the registry stays readable.
TEST(Snapshotter, FullDiskFailsSnapshotsButNotTheStream) {
  TempDir dir;
  const std::string path = dir.File("r.db");
  Snapshotter::Options options = OptionsFor(path);
  options.schedule.every_events = 500;
  options.registry_options.max_page_count = 150;  // About 600 KiB: room for a few versions.
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(options, core::Clock::Real()));
  auto reader = CsvReader::Create("synthetic", NewSyntheticCsvStream(2, 5000), {}).value();
  auto pipeline = Pipeline::Create({}, reader->feature_names()).value();
  RunObserver quiet;
  RunOptions replay;
  replay.snapshotter = snapshotter.get();
  ASSERT_OK_AND_ASSIGN(const RunResult result,
                       RunStream(*NewCsvSource(std::move(reader)), *pipeline, nullptr, quiet,
                                 replay, core::Clock::Real()));
  EXPECT_EQ(result.events, 5000);
  EXPECT_EQ(result.snapshots, 12);  // Start, 10 scheduled, end.
  ASSERT_FALSE(result.snapshot_errors.empty());
  EXPECT_THAT(result.snapshot_errors[0], HasSubstr("was not written"));
  EXPECT_THAT(result.snapshot_errors[0], HasSubstr("full"));
  auto registry = registry::Registry::Open(path, core::Clock::Real()).value();
  ASSERT_OK_AND_ASSIGN(const auto versions, registry->List("default"));
  EXPECT_EQ(versions.size() + result.snapshot_errors.size(), 12u);
  ASSERT_FALSE(versions.empty());
  for (const auto& v : versions) EXPECT_OK(registry->Get("default", v.version).status());
}

TEST(Snapshotter, RegistryErrorsSurfaceBeforeTheStream) {
  TempDir dir;
  testing::WriteFile(dir.File("x.db"), "definitely not an SQLite database, just text........");
  EXPECT_THAT(
      Snapshotter::Start(OptionsFor(dir.File("x.db")), core::Clock::Real()),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is not a sluice registry")));
}

// Issue: a second run of the same model took its first number from the same latest version
// as the first run, so one of them failed with "UNIQUE constraint failed" after its
// predictions had named the other's versions. Now the second one is refused at Start().
TEST(Snapshotter, ASecondRunOfTheSameModelIsRefusedAtStart) {
  TempDir dir;
  FakeClock clock;
  const std::string path = dir.File("r.db");
  ASSERT_OK_AND_ASSIGN(auto first, Snapshotter::Start(OptionsFor(path), clock));
  EXPECT_THAT(Snapshotter::Start(OptionsFor(path), clock),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("model \"default\" in " + path +
                                          " is being written by another run (process ")));
  Snapshotter::Options other = OptionsFor(path);
  other.model_name = "other";
  ASSERT_OK_AND_ASSIGN(auto second, Snapshotter::Start(other, clock));
  for (Snapshotter* s : {first.get(), second.get()}) {
    for (int i = 0; i < 3; ++i) {
      Snapshot snapshot;
      snapshot.parent = s->version() > 0 ? std::optional<int64_t>(s->version()) : std::nullopt;
      snapshot.version = s->TakeVersion();
      snapshot.trigger = "test";
      s->Submit(std::move(snapshot));
    }
    EXPECT_THAT(s->Finish(), ::testing::IsEmpty());
  }
  // Finish() released the lease: the next run of "default" numbers on from version 3.
  ASSERT_OK_AND_ASSIGN(auto third, Snapshotter::Start(OptionsFor(path), clock));
  EXPECT_EQ(third->version(), 3);
  third.reset();
  auto registry = registry::Registry::Open(path, clock).value();
  for (const char* model : {"default", "other"}) {
    ASSERT_OK_AND_ASSIGN(const auto versions, registry->List(model));
    ASSERT_EQ(versions.size(), 3u) << model;
    EXPECT_EQ(versions[0].parent, std::nullopt);
    EXPECT_EQ(versions[1].parent, 1);
    EXPECT_EQ(versions[2].parent, 2);
  }
}

// A resumed run must continue from the model's latest version; if another run wrote after
// the resume point, no snapshot of this run is written, and each says why.
TEST(Snapshotter, ResumingFromAVersionThatIsNoLongerTheLatestWritesNothing) {
  TempDir dir;
  FakeClock clock;
  const std::string path = dir.File("r.db");
  {
    auto registry = registry::Registry::Open(path, clock).value();
    registry::NewVersion v;
    v.model = "default";
    for (int i = 0; i < 3; ++i) ASSERT_OK(registry->Put(v).status());
  }
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(OptionsFor(path), clock));
  snapshotter->ContinueAfter(2, 10.0);
  Snapshot snapshot;
  snapshot.version = snapshotter->TakeVersion();
  snapshot.trigger = "every 10 events";
  EXPECT_EQ(snapshot.version, 3);
  snapshotter->Submit(std::move(snapshot));
  EXPECT_THAT(snapshotter->Finish(),
              ::testing::ElementsAre(
                  "snapshot version 3 (every 10 events) was not written: the run resumes from "
                  "version 2 of model \"default\" but " +
                  path +
                  " already has version 3 (another run wrote it since); not numbering on "
                  "from both"));
}

TEST(PackModels, RoundTripsAndRefusesCorruption) {
  const std::string blob = PackModels("anomaly", "");
  std::string a, f;
  ASSERT_OK(UnpackModels(blob, &a, &f));
  EXPECT_EQ(a, "anomaly");
  EXPECT_EQ(f, "");
  std::string corrupt = blob;
  corrupt[corrupt.size() / 2] ^= 1;
  EXPECT_THAT(UnpackModels(corrupt, &a, &f), testing::StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace sluice::engine
