// The global model against the embedded broker: a merge round reads the latest published
// version of every partition, publishes exactly MergeVersions of them as the next global
// version (1, then 2), registers it, and a follower serves it; a round waits while a partition
// has published nothing.
#include "engine/kafka/global_model_publisher.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/random.h"
#include "engine/global_model.h"
#include "engine/kafka/checkpoint_topic.h"
#include "engine/kafka/embedded_broker.h"
#include "engine/pipeline.h"
#include "engine/run_config.h"
#include "engine/snapshotter.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::engine::kafka {
namespace {

const std::vector<std::string> kFeatures = {"a", "b", "c"};

// Version `number` of partition `partition`'s model as `sluice live` publishes it: a pipeline
// (both models) that learned `events` events of a seeded stream.
registry::NewVersion PartitionVersion(int32_t partition, int64_t number, int events) {
  RunConfig config;
  config.features = kFeatures;
  config.pipeline.hst.window_size = 20;
  config.pipeline.hst.num_trees = 5;
  config.pipeline.hst.height = 6;
  auto pipeline = Pipeline::Create(config.pipeline, kFeatures).value();
  core::PyRandom rng(static_cast<uint64_t>(100 * partition + number));
  for (int i = 0; i < events; ++i) {
    const std::vector<double> x = {rng.Gauss(0, 1), rng.Gauss(2, 3), rng.Random()};
    const Pipeline::Scores scores = pipeline->ScoreAndLearn(x);
    pipeline->ApplyLabel(x, i % 3 == 0, scores);
  }
  registry::NewVersion v;
  v.model = absl::StrCat("m.p", partition);
  v.version = number;
  v.created_event_time = static_cast<double>(events);
  v.trigger = "every 100 events";
  v.config_json = core::WriteFlatJson(ConfigJson(config));
  v.lineage_json = "{}";
  v.metrics_json = "{}";
  v.state = PackModels(pipeline->SaveAnomaly(), pipeline->SaveFraud());
  v.checkpoint = "checkpoint";
  return v;
}

std::string MergedState(const std::vector<registry::NewVersion>& published) {
  std::vector<registry::Version> versions;
  for (const registry::NewVersion& v : published) versions.push_back(ToVersion(v));
  absl::StatusOr<registry::NewVersion> merged = MergeVersions(versions, "m.global");
  EXPECT_TRUE(merged.ok()) << merged.status();
  return merged.ok() ? merged->state : "";
}

// Model "m" over `partitions` partitions, its checkpoints on topic "cp" of `broker`.
GlobalModelOptions Options(const EmbeddedBroker& broker, int32_t partitions) {
  GlobalModelOptions options;
  options.brokers = broker.bootstrap();
  options.group = "g";
  options.checkpoints_topic = "cp";
  options.model_name = "m";
  options.partitions = partitions;
  options.read_timeout = absl::Seconds(30);
  return options;
}

TEST(GlobalModelPublisher, PublishesTheMergeOfEveryPartitionsLatestVersionNumberedOnTheTopic) {
  sluice::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(1));
  ASSERT_OK(broker->CreateTopic("cp", 3));
  ASSERT_OK_AND_ASSIGN(auto producer, Producer::Create(broker->bootstrap(), {}));
  GlobalModelOptions options = Options(*broker, 3);
  options.registry = dir.File("r.db");
  ASSERT_OK_AND_ASSIGN(auto publisher, GlobalModelPublisher::Create(options));
  ServingSlot slot;
  ASSERT_OK_AND_ASSIGN(auto follower, GlobalModelFollower::Create(options, kFeatures, slot));

  // Partition 2 has published nothing yet: no global version.
  std::vector<registry::NewVersion> first = {PartitionVersion(0, 1, 50),
                                             PartitionVersion(1, 3, 80)};
  for (int32_t p = 0; p < 2; ++p) ASSERT_OK(PublishCheckpoint(*producer, "cp", p, first[p]));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(GlobalModelPublisher::Round round, publisher->PublishOnce());
  EXPECT_EQ(round.version, 0);
  EXPECT_EQ(round.missing_partition, 2);
  ASSERT_OK_AND_ASSIGN(int64_t served, follower->Refresh());
  EXPECT_EQ(served, 0);
  EXPECT_EQ(slot.Get(), nullptr);

  first.push_back(PartitionVersion(2, 2, 65));
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 2, first[2]));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(round, publisher->PublishOnce());
  EXPECT_EQ(round.version, 1);
  EXPECT_EQ(round.merged, (std::vector<int64_t>{1, 3, 2}));
  ASSERT_OK_AND_ASSIGN(
      RestoredCheckpoint global,
      ReadLatestCheckpoint(broker->bootstrap(), {}, "g", "cp", 0, "m.global", absl::Seconds(30)));
  ASSERT_TRUE(global.version.has_value());
  EXPECT_EQ(global.version->version, 1);
  EXPECT_EQ(global.version->parent, std::nullopt);
  EXPECT_TRUE(global.version->state == MergedState(first));
  // Nothing new: no version.
  ASSERT_OK_AND_ASSIGN(round, publisher->PublishOnce());
  EXPECT_EQ(round.version, 0);
  EXPECT_TRUE(round.unchanged);

  // Newer versions of two partitions: version 2 merges them with partition 1's version 3.
  std::vector<registry::NewVersion> second = {PartitionVersion(0, 2, 120), first[1],
                                              PartitionVersion(2, 3, 140)};
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 0, second[0]));
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 2, second[2]));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(round, publisher->PublishOnce());
  EXPECT_EQ(round.version, 2);
  EXPECT_EQ(round.merged, (std::vector<int64_t>{2, 3, 3}));
  ASSERT_OK_AND_ASSIGN(global, ReadLatestCheckpoint(broker->bootstrap(), {}, "g", "cp", 0,
                                                    "m.global", absl::Seconds(30)));
  ASSERT_TRUE(global.version.has_value());
  EXPECT_EQ(global.version->version, 2);
  EXPECT_EQ(global.version->parent, 1);
  const std::string want = MergedState(second);
  EXPECT_TRUE(global.version->state == want);
  EXPECT_FALSE(global.version->state == MergedState(first));

  // Registered locally with its number.
  ASSERT_OK_AND_ASSIGN(auto registry,
                       registry::Registry::Open(options.registry, core::Clock::Real()));
  ASSERT_OK_AND_ASSIGN(const registry::Version registered, registry->Get("m.global", 2));
  EXPECT_TRUE(registered.state == want);
  EXPECT_EQ(registered.trigger, "merge");

  // The follower serves version 2: the merged model's scores.
  ASSERT_OK_AND_ASSIGN(served, follower->Refresh());
  EXPECT_EQ(served, 2);
  const std::shared_ptr<const ServingModel> model = slot.Get();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->version(), 2);
  ASSERT_OK_AND_ASSIGN(auto expected, ServingModel::Create(registered));
  const std::vector<double> x = {0.5, 9.0, 0.25};
  EXPECT_EQ(model->Score(x).anomaly, expected->Score(x).anomaly);
  EXPECT_FALSE(std::isnan(model->Score(x).anomaly));
}

// A follower refuses a global version of other features than its partitions' and keeps the
// slot as it was.
TEST(GlobalModelFollower, RefusesAGlobalVersionOfOtherFeatures) {
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(1));
  ASSERT_OK(broker->CreateTopic("cp", 1));
  ASSERT_OK_AND_ASSIGN(auto producer, Producer::Create(broker->bootstrap(), {}));
  ASSERT_OK_AND_ASSIGN(
      registry::NewVersion global,
      MergeVersions(std::vector{ToVersion(PartitionVersion(0, 1, 30))}, "m.global"));
  global.version = 1;
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 0, global));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  const GlobalModelOptions options = Options(*broker, 1);
  ServingSlot slot;
  ASSERT_OK_AND_ASSIGN(auto follower, GlobalModelFollower::Create(options, {"a", "b", "d"}, slot));
  EXPECT_THAT(follower->Refresh(), sluice::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                             ::testing::HasSubstr("features")));
  EXPECT_EQ(slot.Get(), nullptr);
}

}  // namespace
}  // namespace sluice::engine::kafka
