#include "engine/stream_runner.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/format.h"
#include "core/random.h"
#include "learners/logistic_regression.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "tests/support/fakes.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::sluice::testing::StatusIs;

struct Row {
  double time;
  std::vector<double> x;
  bool label;
};

std::vector<Row> MakeRows(int n) {
  core::PyRandom rng(4);
  std::vector<Row> rows;
  double time = 0;
  for (int i = 0; i < n; ++i) {
    time += static_cast<double>(rng.RandBelow(3));  // Non-decreasing, with duplicates.
    const bool label = rng.Random() < 0.2;
    rows.push_back({time, {rng.Gauss(label ? 1 : 0, 1), rng.Gauss(0, 2)}, label});
  }
  return rows;
}

std::string ToCsv(const std::vector<Row>& rows) {
  std::string csv = "Time,a,b,Class\n";
  for (const Row& r : rows) {
    csv += std::to_string(r.time) + "," + core::FormatDouble(r.x[0]) + "," +
           core::FormatDouble(r.x[1]) + (r.label ? ",1\n" : ",0\n");
  }
  return csv;
}

class Collector final : public RunObserver {
 public:
  void OnPrediction(const core::Event&, const Pipeline::Scores& scores, const Served&) override {
    fraud.push_back(scores.fraud);
  }
  void OnLabel(bool, const Pipeline::Scores&) override { ++labels; }
  std::vector<double> fraud;
  int labels = 0;
};

// simulate_qa by hand: before scoring event i, learn every label that is due, oldest first,
// stopping at the first that is not.
std::vector<double> Expected(const std::vector<Row>& rows, bool seconds, double delay) {
  auto model = learners::ScaledLearner::Create(learners::StandardScaler::Create(3).value(),
                                               learners::LogisticRegression::Create({}, 3).value())
                   .value();
  std::vector<double> out;
  size_t next_label = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    while (next_label < i) {
      const bool due = seconds ? rows[next_label].time + delay <= rows[i].time
                               : static_cast<double>(next_label) + delay <= static_cast<double>(i);
      if (!due) break;
      const Row& r = rows[next_label++];
      model->LearnOne(std::vector<double>{r.time, r.x[0], r.x[1]}, r.label);
    }
    out.push_back(model->ScoreOne(std::vector<double>{rows[i].time, rows[i].x[0], rows[i].x[1]}));
  }
  return out;
}

std::vector<double> Replay(const std::vector<Row>& rows, const RunOptions& options, int* labels) {
  auto reader = CsvReader::Create("rows.csv", NewStringStream(ToCsv(rows)), {}).value();
  Pipeline::Options pipeline_options;
  pipeline_options.anomaly = false;
  auto pipeline = Pipeline::Create(pipeline_options, reader->feature_names()).value();
  Collector collector;
  const auto result = RunStream(*NewCsvSource(std::move(reader)), *pipeline, nullptr, collector,
                                options, core::Clock::Real());
  EXPECT_TRUE(result.ok()) << result.status();
  *labels = collector.labels;
  return collector.fraud;
}

TEST(Replay, LabelDelayInEventsFollowsSimulateQa) {
  const auto rows = MakeRows(400);
  for (const int delay : {0, 1, 7, 399, 1000}) {
    RunOptions options;
    options.label_delay = delay;
    int labels = 0;
    EXPECT_EQ(Replay(rows, options, &labels), Expected(rows, false, delay)) << "delay " << delay;
    EXPECT_EQ(labels, 400);  // Every label arrives, the last ones after the final event.
  }
}

TEST(Replay, LabelDelayInSecondsFollowsSimulateQa) {
  const auto rows = MakeRows(400);
  for (const double delay : {0.0, 2.0, 10.5}) {
    RunOptions options;
    options.label_delay_seconds = delay;
    int labels = 0;
    EXPECT_EQ(Replay(rows, options, &labels), Expected(rows, true, delay)) << "delay " << delay;
    EXPECT_EQ(labels, 400);
  }
}

TEST(Replay, BadRowFailsWithItsMessageOrIsSkippedAndCounted) {
  const std::string csv = "Time,a,Class\n0,1,0\n1,oops,0\n2,3,1\n";
  Pipeline::Options pipeline_options;
  RunObserver quiet;
  {
    auto reader = CsvReader::Create("b.csv", NewStringStream(csv), {}).value();
    auto pipeline = Pipeline::Create(pipeline_options, reader->feature_names()).value();
    EXPECT_THAT(
        RunStream(*NewCsvSource(std::move(reader)), *pipeline, nullptr, quiet, {},
                  core::Clock::Real()),
        StatusIs(absl::StatusCode::kInvalidArgument, "b.csv:3: column a: not a number: \"oops\""));
  }
  auto reader = CsvReader::Create("b.csv", NewStringStream(csv), {}).value();
  auto pipeline = Pipeline::Create(pipeline_options, reader->feature_names()).value();
  RunOptions skip;
  skip.skip_bad_records = true;
  ASSERT_OK_AND_ASSIGN(const RunResult result,
                       RunStream(*NewCsvSource(std::move(reader)), *pipeline, nullptr, quiet, skip,
                                 core::Clock::Real()));
  EXPECT_EQ(result.events, 2);
  EXPECT_EQ(result.bad_records, 1);
  EXPECT_EQ(result.labels, 2);
  ASSERT_EQ(result.bad_record_examples.size(), 1u);
  EXPECT_EQ(result.bad_record_examples[0], "b.csv:3: column a: not a number: \"oops\"");
}

// Labels from outside, joined by id: an early label waits for its event, a duplicate and an
// unknown id are counted, and labels due before the same event apply in scoring order.
TEST(Replay, ExternalLabelsJoinByIdInScoringOrder) {
  std::vector<core::Event> events;
  for (int i = 0; i < 8; ++i) {
    core::Event e;
    e.id = "e" + std::to_string(i);
    e.event_time = i;
    e.features = {static_cast<double>(i % 3), 1.0 - i};
    events.push_back(e);
  }
  testing::VectorSource source({"a", "b"}, events);
  const std::vector<LabelRecord> labels = {
      {"zz", true, 1}, {"e5", true, 2}, {"e1", false, 3}, {"e0", true, 3}, {"e1", true, 4}};
  Pipeline::Options pipeline_options;
  pipeline_options.hst.window_size = 4;
  auto pipeline = Pipeline::Create(pipeline_options, {"a", "b"}).value();
  class Order final : public RunObserver {
   public:
    void OnLabel(bool label, const Pipeline::Scores&) override { applied.push_back(label); }
    std::vector<bool> applied;
  } order;
  testing::CollectingSink sink;
  RunOptions options;
  const auto label_source = NewLabelVectorSource(labels);
  options.labels = label_source.get();
  ASSERT_OK_AND_ASSIGN(const RunResult result,
                       RunStream(source, *pipeline, &sink, order, options, core::Clock::Real()));
  EXPECT_EQ(result.events, 8);
  ASSERT_EQ(sink.written.size(), 8u);
  EXPECT_EQ(sink.written[7].id, "e7");
  // Before e3 (t=3): e1 and e0 arrive, applied as scored (e0 first); e5's early label joins when
  // e5 is scored.
  EXPECT_EQ(order.applied, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(result.label_counts.joined, 3);
  EXPECT_EQ(result.label_counts.duplicate, 1);
  EXPECT_EQ(result.label_counts.unknown, 1);
  EXPECT_EQ(result.labels_pending, 5);
  // The fraud model learned e0 and e1 before scoring e3: its score moved off 0.5 from there on.
  EXPECT_EQ(sink.written[2].scores.fraud, 0.5);
  EXPECT_NE(sink.written[3].scores.fraud, 0.5);
}

// A restarted live run retraces its predecessor: before a retraced row, the labels source goes
// exactly to the recorded position, whatever the labels' times; other rows take labels by time.
TEST(Replay, RetracedRowsTakeLabelsToTheRecordedPosition) {
  std::vector<core::Event> events;
  for (int i = 0; i < 6; ++i) {
    core::Event e;
    e.id = "e" + std::to_string(i);
    e.event_time = i;
    e.features = {static_cast<double>(i % 3), 1.0 - i};
    events.push_back(e);
  }
  const std::vector<LabelRecord> labels = {
      {"e0", true, 3}, {"e1", false, 3}, {"e2", true, 4}, {"e3", false, 5}};
  const auto run = [&](const std::vector<LabelRecord>& given,
                       const std::vector<std::pair<int64_t, int64_t>>* retrace) {
    testing::VectorSource source({"a", "b"}, events);
    auto pipeline = Pipeline::Create({}, {"a", "b"}).value();
    testing::CollectingSink sink;
    RunObserver quiet;
    RunOptions options;
    const auto label_source = NewLabelVectorSource(given);
    options.labels = label_source.get();
    options.retrace = retrace;
    EXPECT_OK(RunStream(source, *pipeline, &sink, quiet, options, core::Clock::Real()).status());
    std::vector<double> fraud;
    for (const auto& w : sink.written) fraud.push_back(w.scores.fraud);
    return fraud;
  };
  const std::vector<double> by_time = run(labels, nullptr);
  // By time, e0 and e1 are learned before e3: e2 still scores 0.5.
  EXPECT_EQ(by_time[2], 0.5);
  EXPECT_NE(by_time[3], 0.5);
  // Retraced: before e2, the first two labels (position 2); e3 onwards by time again. The same
  // as if those two labels had come at time 2.
  const std::vector<std::pair<int64_t, int64_t>> retrace = {{2, 2}};
  const std::vector<double> retraced = run(labels, &retrace);
  EXPECT_NE(retraced[2], 0.5);
  std::vector<LabelRecord> earlier = labels;
  earlier[0].time = earlier[1].time = 2;
  EXPECT_EQ(retraced, run(earlier, nullptr));
  EXPECT_NE(retraced, by_time);
}

TEST(Replay, SecondsDelayNeedsATimeColumn) {
  auto reader = CsvReader::Create("t.csv", NewStringStream("a,Class\n1,0\n"), {}).value();
  auto pipeline = Pipeline::Create({}, reader->feature_names()).value();
  RunOptions options;
  options.label_delay_seconds = 5;
  RunObserver quiet;
  EXPECT_THAT(RunStream(*NewCsvSource(std::move(reader)), *pipeline, nullptr, quiet, options,
                        core::Clock::Real()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace sluice::engine
