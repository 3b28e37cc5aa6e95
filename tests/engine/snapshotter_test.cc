#include "engine/snapshotter.h"

#include <string>

#include "core/status_macros.h"
#include "engine/csv_reader.h"
#include "engine/source.h"
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

TEST(Snapshotter, WhileIdleOnlyTheWallClockRuleFires) {
  TempDir dir;
  FakeClock clock;
  Snapshotter::Options options = OptionsFor(dir.File("r.db"));
  options.schedule.every_events = 3;
  ASSERT_OK_AND_ASSIGN(auto by_events, Snapshotter::Start(options, clock));
  clock.Advance(absl::Seconds(60));
  EXPECT_EQ(by_events->DueWhileIdle(), std::nullopt);
  by_events->Finish();
  options.schedule.every_wall_seconds = 5;
  ASSERT_OK_AND_ASSIGN(auto by_wall, Snapshotter::Start(options, clock));
  clock.Advance(absl::Seconds(4));
  EXPECT_EQ(by_wall->DueWhileIdle(), std::nullopt);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(by_wall->DueWhileIdle(), "every 5 s of wall time");
  EXPECT_EQ(by_wall->DueWhileIdle(), std::nullopt);  // Measured from then on.
}

// Events, then the source stands still once while the wall clock moves on, then it ends.
class StandStillSource final : public Source {
 public:
  StandStillSource(std::unique_ptr<Source> inner, FakeClock* clock)
      : inner_(std::move(inner)), clock_(clock) {}
  absl::StatusOr<ReadResult> Read(absl::Duration timeout, core::Event* event) override {
    SLUICE_ASSIGN_OR_RETURN(const ReadResult result, inner_->Read(timeout, event));
    if (result != ReadResult::kEndOfStream || stood_still_) return result;
    stood_still_ = true;
    clock_->Advance(absl::Seconds(10));
    return ReadResult::kIdle;
  }
  const std::string& bad_record_message() const override { return inner_->bad_record_message(); }
  SourcePosition Position() override { return inner_->Position(); }
  absl::Status Seek(const SourcePosition& p) override { return inner_->Seek(p); }
  const std::string& description() const override { return inner_->description(); }
  const std::vector<std::string>& feature_names() const override { return inner_->feature_names(); }
  bool has_time() const override { return inner_->has_time(); }
  int64_t records_read() const override { return inner_->records_read(); }

 private:
  std::unique_ptr<Source> inner_;
  FakeClock* clock_;
  bool stood_still_ = false;
};

// A stream that stands still gets its wall-clock snapshot without waiting for another event
// (outputs waiting for a checkpoint, as in a Kafka transaction, are then committed), and only
// if events came since the last one.
TEST(Snapshotter, AStreamThatStandsStillIsSnapshottedOnTheWallClock) {
  TempDir dir;
  FakeClock clock;
  Snapshotter::Options options = OptionsFor(dir.File("r.db"));
  options.schedule.every_wall_seconds = 5;
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(options, clock));
  auto reader = CsvReader::Create("synthetic", NewSyntheticCsvStream(2, 100), {}).value();
  auto pipeline = Pipeline::Create({}, reader->feature_names()).value();
  StandStillSource source(NewCsvSource(std::move(reader)), &clock);
  RunObserver quiet;
  RunOptions run;
  run.snapshotter = snapshotter.get();
  ASSERT_OK_AND_ASSIGN(const RunResult result,
                       RunStream(source, *pipeline, nullptr, quiet, run, core::Clock::Real()));
  EXPECT_EQ(result.events, 100);
  ASSERT_EQ(result.snapshots, 3);  // Start, while standing still, end.
  auto registry = registry::Registry::Open(dir.File("r.db"), core::Clock::Real()).value();
  ASSERT_OK_AND_ASSIGN(const registry::Version idle, registry->Get("default", 2));
  EXPECT_EQ(idle.trigger, "every 5 s of wall time");
  EXPECT_THAT(idle.lineage_json, HasSubstr("\"events_learned\": 100"));
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

// A promotion and the checkpoint after it are one write: if the checkpoint cannot be
// written, neither is, nor does the alias move, so a crash or a failure never leaves the
// promotion newest (a resumed run could not number on after it).
TEST(Snapshotter, APromotionIsWrittenWithItsCheckpointOrNotAtAll) {
  TempDir dir;
  FakeClock clock;
  const std::string path = dir.File("r.db");
  ASSERT_OK_AND_ASSIGN(auto snapshotter, Snapshotter::Start(OptionsFor(path), clock));
  const auto group = [&](int64_t checkpoint_version) {
    std::vector<Snapshot> both(2);
    both[0].version = snapshotter->TakeVersion();
    both[0].trigger = "promotion";
    both[0].config_json = "{\"promoted\": true}";
    both[0].alias = "champion";
    both[0].alias_reason = "it won";
    both[1].version = checkpoint_version > 0 ? checkpoint_version : snapshotter->TakeVersion();
    both[1].trigger = "every 10 events";
    both[1].checkpoint = "run state";
    return both;
  };
  snapshotter->Submit(group(0));
  ASSERT_OK(snapshotter->WaitWritten(2));
  snapshotter->Submit(group(2));  // Version 2 is taken: the group fails as a whole.
  EXPECT_THAT(snapshotter->Finish(),
              ::testing::ElementsAre(HasSubstr(
                  "snapshot versions 3 (promotion) and 2 (every 10 events) were not written: ")));
  auto registry = registry::Registry::Open(path, clock).value();
  ASSERT_OK_AND_ASSIGN(const auto versions, registry->List("default"));
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].config_json, "{\"promoted\": true}");
  EXPECT_EQ(versions[1].config_json, "{}");
  EXPECT_EQ(registry->Resolve("default", "champion").value_or(-1), 1);
  ASSERT_OK_AND_ASSIGN(const auto history, registry->AliasHistory("default", "champion"));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].reason, "it won");
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
