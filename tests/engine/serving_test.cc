#include "engine/serving.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "engine/run_config.h"
#include "engine/snapshotter.h"
#include "registry/registry.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

const std::vector<std::string> kFeatures = {"a", "b", "c"};

std::vector<std::vector<double>> Stream(uint64_t seed, int n) {
  core::PyRandom rng(seed);
  std::vector<std::vector<double>> out;
  for (int i = 0; i < n; ++i) out.push_back({rng.Gauss(0, 1), rng.Gauss(2, 3), rng.Random()});
  return out;
}

// A registry version of a pipeline that learned `events` events (labels every 3rd).
registry::Version MakeVersion(int64_t number, int events) {
  RunConfig config;
  config.features = kFeatures;
  config.pipeline.hst.window_size = 20;
  auto pipeline = Pipeline::Create(config.pipeline, kFeatures).value();
  int i = 0;
  for (const auto& x : Stream(9, events)) {
    const Pipeline::Scores scores = pipeline->ScoreAndLearn(x);
    pipeline->ApplyLabel(x, ++i % 3 == 0, scores);
  }
  registry::Version v;
  v.model = "m";
  v.version = number;
  v.config_json = core::WriteFlatJson(ConfigJson(config));
  v.state = PackModels(pipeline->SaveAnomaly(), pipeline->SaveFraud());
  return v;
}

TEST(ServingModel, ScoresExactlyAsThePipelineThatMadeIt) {
  const registry::Version v = MakeVersion(4, 300);
  ASSERT_OK_AND_ASSIGN(auto model, ServingModel::Create(v));
  EXPECT_EQ(model->version(), 4);
  EXPECT_EQ(model->features(), kFeatures);
  auto pipeline = Pipeline::Create(model->config().pipeline, kFeatures).value();
  ASSERT_OK(pipeline->RestoreModels(v.state));
  for (const auto& x : Stream(5, 50)) {
    const Pipeline::Scores s = model->Score(x);
    EXPECT_EQ(s.anomaly, pipeline->ScoreAnomaly(x));
    EXPECT_EQ(s.fraud, pipeline->ScoreFraud(x));
  }
}

TEST(ServingModel, ACorruptVersionIsRefusedNamingIt) {
  registry::Version v = MakeVersion(7, 10);
  v.state[v.state.size() / 2] ^= 1;
  EXPECT_THAT(
      ServingModel::Create(v),
      testing::StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("version 7 of \"m\"")));
  v = MakeVersion(7, 10);
  v.config_json = "{}";
  EXPECT_THAT(ServingModel::Create(v), testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                                         ::testing::HasSubstr("version 7")));
}

TEST(LoadVersion, ResolvesNumbersAliasesAndLatest) {
  ASSERT_OK_AND_ASSIGN(auto reg, registry::Registry::Open(":memory:", core::Clock::Real()));
  for (const int events : {0, 100, 200}) {
    const registry::Version v = MakeVersion(0, events);
    registry::NewVersion nv;
    nv.model = "m";
    nv.config_json = v.config_json;
    nv.state = v.state;
    ASSERT_OK(reg->Put(nv).status());
  }
  ASSERT_OK(reg->SetAlias("m", "champion", 2));
  for (const auto& [ref, number] :
       std::vector<std::pair<std::string, int64_t>>{{"1", 1}, {"champion", 2}, {"latest", 3}}) {
    ASSERT_OK_AND_ASSIGN(auto model, LoadVersion(*reg, "m", ref));
    EXPECT_EQ(model->version(), number) << ref;
  }
  EXPECT_THAT(LoadVersion(*reg, "m", "nope"), testing::StatusIs(absl::StatusCode::kNotFound));
}

// Many threads score while the slot swaps between two versions: every score is exactly the one
// the model the thread got gives, and no call fails or sees a half-swapped model.
TEST(ServingSlot, ConcurrentScoringWhileSwapping) {
  std::shared_ptr<const ServingModel> a = ServingModel::Create(MakeVersion(1, 100)).value();
  std::shared_ptr<const ServingModel> b = ServingModel::Create(MakeVersion(2, 400)).value();
  const std::vector<std::vector<double>> events = Stream(11, 64);
  std::vector<Pipeline::Scores> expected_a, expected_b;
  for (const auto& x : events) {
    expected_a.push_back(a->Score(x));
    expected_b.push_back(b->Score(x));
  }
  ASSERT_NE(expected_a[0].fraud, expected_b[0].fraud);
  ServingSlot slot(a);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> scored{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); !stop.load(); i = (i + 1) % events.size()) {
        const std::shared_ptr<const ServingModel> model = slot.Get();
        const Pipeline::Scores s = model->Score(events[i]);
        const Pipeline::Scores& want = model->version() == 1 ? expected_a[i] : expected_b[i];
        if (s.anomaly != want.anomaly || s.fraud != want.fraud) ++wrong;
        ++scored;
      }
    });
  }
  int swaps = 0;
  for (; swaps < 2000 || scored.load() < 20000; ++swaps) slot.Swap(swaps % 2 == 0 ? b : a);
  stop = true;
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(scored.load(), 20000);
  EXPECT_GE(swaps, 2000);
}

}  // namespace
}  // namespace sluice::engine
