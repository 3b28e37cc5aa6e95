#include "engine/run_config.h"

#include <string>
#include <vector>

#include "core/flat_json.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

TEST(RunConfig, RoundTripsEveryField) {
  RunConfig c;
  c.csv.label_column = "is \"fraud\"";
  c.csv.time_column = "t\\ime";
  c.csv.id_column = "tx,id";
  c.pipeline.anomaly = false;
  c.pipeline.hst = {.num_trees = 3, .height = 5, .window_size = 77, .seed = 18446744073709551615u};
  c.pipeline.lr.learning_rate = 0.1 + 0.2;  // Not a short decimal: exact round trip needed.
  c.pipeline.lr.intercept_lr = 1e-300;
  c.pipeline.lr.l2 = 0.5;
  c.pipeline.lr.clip_gradient = 7;
  c.pipeline.lr.positive_weight = 3;
  c.pipeline.lr.negative_weight = 0.25;
  c.pipeline.fraud_scaler = Pipeline::FraudScaler::kMinMax;
  c.pipeline.metric_window = 123;
  c.pipeline.serving = Pipeline::Serving::kFrozen;
  c.label_delay = 0;
  c.label_delay_seconds = 86400.5;
  c.skip_bad_rows = true;
  c.labels_file = "labels \u00e9.csv";
  c.join.ttl_seconds = 30;
  c.join.expired = LabelJoiner::Expired::kNegative;
  c.join.max_pending = 99;
  c.features = {"V1", "a,b", "quote\"d", "tab\there", "\xff raw byte"};
  const std::string json = core::WriteFlatJson(ConfigJson(c));
  ASSERT_OK_AND_ASSIGN(const RunConfig d, ParseConfigJson(json));
  EXPECT_EQ(core::WriteFlatJson(ConfigJson(d)), json);
  EXPECT_EQ(d.features, c.features);
  EXPECT_EQ(d.csv.label_column, c.csv.label_column);
  EXPECT_EQ(d.csv.time_column, c.csv.time_column);
  EXPECT_EQ(d.csv.id_column, c.csv.id_column);
  EXPECT_EQ(d.pipeline.hst.seed, c.pipeline.hst.seed);
  EXPECT_EQ(d.pipeline.lr.learning_rate, c.pipeline.lr.learning_rate);
  EXPECT_EQ(d.pipeline.lr.intercept_lr, c.pipeline.lr.intercept_lr);
  EXPECT_EQ(d.label_delay_seconds, c.label_delay_seconds);
  EXPECT_EQ(d.labels_file, c.labels_file);
  EXPECT_EQ(d.join.ttl_seconds, c.join.ttl_seconds);
  EXPECT_EQ(d.join.expired, c.join.expired);
  EXPECT_EQ(d.join.max_pending, 99);
  EXPECT_TRUE(d.skip_bad_rows);
  EXPECT_EQ(d.pipeline.serving, Pipeline::Serving::kFrozen);
  EXPECT_EQ(d.pipeline.fraud_scaler, Pipeline::FraudScaler::kMinMax);
  EXPECT_FALSE(d.pipeline.anomaly);
}

TEST(RunConfig, RefusesConfigsItCannotRead) {
  EXPECT_THAT(ParseConfigJson("not json"), testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseConfigJson("{\"features\": \"a\"}"),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                ::testing::HasSubstr("config format 1")));
  core::FlatJson json = ConfigJson(RunConfig());
  std::erase_if(json, [](const auto& kv) { return kv.first == "hst_trees"; });
  EXPECT_THAT(
      ParseConfigJson(core::WriteFlatJson(json)),
      testing::StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("hst_trees")));
}

}  // namespace
}  // namespace sluice::engine
