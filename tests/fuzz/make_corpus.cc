// tests/fuzz/make_corpus.cc. Writes the seed corpus of every fuzz target: small valid inputs
// from which libFuzzer starts (make fuzz-corpus). Usage: fuzz_corpus_gen <corpus dir>.
// Each file is <corpus dir>/<target>/<seed name>; see each target's header for its format.
// Files named regression_* are inputs that once found a bug; this program leaves them alone.
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/features.h"
#include "core/state_codec.h"
#include "engine/kafka/checkpoint_topic.h"
#include "engine/snapshotter.h"
#include "engine/stream_runner.h"
#include "learners/half_space_trees.h"
#include "learners/logistic_regression.h"
#include "learners/min_max_scaler.h"
#include "learners/scaled_learner.h"
#include "learners/standard_scaler.h"
#include "metrics/river_roc_auc.h"
#include "metrics/roc_auc.h"
#include "registry/registry.h"
#include "tests/fuzz/checkpoint_fixture.h"
#include "tests/support/fake_clock.h"

namespace sluice::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& target, const std::string& name,
           const std::string& bytes) {
  fs::create_directories(dir / target);
  std::ofstream out(dir / target / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A byte followed by text: the selector/option byte every target but two starts with.
std::string With(unsigned char first, const std::string& rest) {
  return std::string(1, static_cast<char>(first)) + rest;
}

void CsvSeeds(const fs::path& dir) {
  // Options byte: 1 label "Class", 2 time required, 4 id column "id", 8 exclude "x", high
  // nibble rows to skip.
  Write(dir, "csv_reader", "plain",
        With(0x01, "Time,V1,V2,Amount,Class\n0,1.5,-2.25,10.00,0\n1,0.1,3,99.5,1\n2,7,8,9,0\n"));
  Write(dir, "csv_reader", "crlf_quotes_id",
        With(0x05, "id,Time,V1,Class\r\na,1,2,0\r\n\"b,c\",2,\"3\",1\r\n\r\nd,3,-0.5,0\r\n"));
  Write(dir, "csv_reader", "bom_escapes_exclude_no_final_newline",
        With(0x0B, "\xEF\xBB\xBF\"x\",Time,\"V \"\"1\"\"\",Class\n1,2,3,1\n\n4,5,6e2,0"));
  Write(dir, "csv_reader", "bad_rows_skip_one",
        With(0x11,
             "Time,V1,Class\n1,abc,0\n2,,1\n3,4,2\n4,5\n5,6,0,7\n6,inf,0\n7,1e400,1\n"
             "8,\"9\"x,0\n9,\"unterminated,1\n10,+3.25,1\n"));
  Write(dir, "csv_reader", "no_label", With(0x00, "a,b\n1,2\n-3.5,1e-300\n"));
}

std::vector<std::vector<double>> Stream(int n) {
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < n; ++i) {
    rows.push_back({(i % 7) / 7.0, (i % 5) / 5.0, i % 11 == 0 ? core::kMissing : (i % 3) / 3.0});
  }
  return rows;
}

std::unique_ptr<learners::HalfSpaceTrees> Trees() {
  // The options learner_state_fuzz.cc loads with.
  return learners::HalfSpaceTrees::Create(
             {.num_trees = 3, .height = 4, .window_size = 16, .seed = 7}, {"a", "b", "c"})
      .value();
}

// Writes the blob raw (selector `which`) and its payload behind selector `which | 8`.
void LearnerSeed(const fs::path& dir, int which, const std::string& name, const char* kind,
                 const std::string& blob) {
  Write(dir, "learner_state", name + "_blob", With(static_cast<unsigned char>(which), blob));
  const auto payload = core::OpenState(blob, kind, 1);
  Write(dir, "learner_state", name + "_payload",
        With(static_cast<unsigned char>(which | 8), std::string(payload.value())));
}

void LearnerSeeds(const fs::path& dir) {
  const auto rows = Stream(40);
  auto min_max = learners::MinMaxScaler::Create(3).value();
  auto standard = learners::StandardScaler::Create(3).value();
  auto trees = Trees();
  auto logistic = learners::LogisticRegression::Create({}, 3).value();
  auto scaled_trees =
      learners::ScaledLearner::Create(learners::MinMaxScaler::Create(3).value(), Trees()).value();
  auto scaled_logistic =
      learners::ScaledLearner::Create(learners::StandardScaler::Create(3).value(),
                                      learners::LogisticRegression::Create({}, 3).value())
          .value();
  LearnerSeed(dir, 2, "hst_untrained", "HalfSpaceTrees", trees->Save());
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool label = i % 4 == 0;
    min_max->LearnOne(rows[i]);
    standard->LearnOne(rows[i]);
    trees->LearnOne(rows[i], label);
    logistic->LearnOne(rows[i], label);
    scaled_trees->LearnOne(rows[i], label);
    scaled_logistic->LearnOne(rows[i], label);
  }
  LearnerSeed(dir, 0, "min_max", "MinMaxScaler", min_max->Save());
  LearnerSeed(dir, 1, "standard", "StandardScaler", standard->Save());
  LearnerSeed(dir, 2, "hst", "HalfSpaceTrees", trees->Save());
  LearnerSeed(dir, 3, "logistic", "LogisticRegression", logistic->Save());
  LearnerSeed(dir, 4, "scaled_hst", "ScaledLearner", scaled_trees->Save());
  LearnerSeed(dir, 5, "scaled_logistic", "ScaledLearner", scaled_logistic->Save());
}

void MetricSeeds(const fs::path& dir) {
  // Selector % 4: 0 RocAuc deltas, 1 RollingRocAuc(8), 2 RiverRocAuc(10), 3 RiverRollingRocAuc(8).
  metrics::RocAuc auc;
  metrics::RollingRocAuc rolling(8);
  metrics::RiverRocAuc river(10);
  metrics::RiverRollingRocAuc river_rolling(8);
  core::StateWriter deltas;
  for (int i = 0; i < 12; ++i) {
    const bool label = i % 3 == 0;
    const double score = (i * 7 % 10) / 10.0;
    auc.Update(label, score);
    rolling.Update(label, score);
    river.Update(label, score);
    river_rolling.Update(label, score);
    if (i == 5) auc.SaveDelta(&deltas);
  }
  auc.SaveDelta(&deltas);
  Write(dir, "metric_state", "roc_auc_two_deltas", With(0, deltas.payload()));
  core::StateWriter w1, w2, w3;
  rolling.Save(&w1);
  river.Save(&w2);
  river_rolling.Save(&w3);
  Write(dir, "metric_state", "rolling_roc_auc", With(1, w1.payload()));
  Write(dir, "metric_state", "river_roc_auc", With(2, w2.payload()));
  Write(dir, "metric_state", "river_rolling_roc_auc", With(3, w3.payload()));
}

void RegistrySeeds(const fs::path& dir) {
  const fs::path scratch = fs::temp_directory_path() / "sluice-fuzz-corpus";
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  const testing::FakeClock clock;
  auto registry = registry::Registry::Open((scratch / "r.db").string(), clock).value();
  registry::NewVersion v;
  v.model = "default";
  v.trigger = "every 2 events";
  v.config_json = "{\"model\": \"hst\"}";
  v.lineage_json = "{}";
  v.metrics_json = "{\"events\": 2}";
  v.state = Trees()->Save();
  v.checkpoint = "run state";
  registry->Put(v).value();
  const std::string exported = (scratch / "one_version.db").string();
  if (!registry->Export("default", 1, exported).ok()) std::abort();
  Write(dir, "registry_import", "one_version", ReadAll(exported));
  fs::remove_all(scratch);
}

void StateCodecSeeds(const fs::path& dir) {
  // Payload ops (state_codec_fuzz.cc): op % 6 = 0 u64, 1 string, 2 doubles, 3 u16s,
  // 4 int64[4]s, 5 i32.
  core::StateWriter w;
  w.Put<uint8_t>(0);
  w.Put<uint64_t>(42);
  w.Put<uint8_t>(1);
  w.PutString("HalfSpaceTrees");
  w.Put<uint8_t>(2);
  w.PutVector(std::vector<double>{0.5, -1.0, 3.25});
  w.Put<uint8_t>(3);
  w.PutVector(std::vector<uint16_t>{1, 2, 3});
  w.Put<uint8_t>(4);
  w.PutVector(std::vector<std::array<int64_t, 4>>{{1, 2, 3, 4}});
  w.Put<uint8_t>(5);
  w.Put<int32_t>(-7);
  Write(dir, "state_codec", "sealed_v1", core::SealState("Fuzz", 1, w.payload()));
  Write(dir, "state_codec", "sealed_v3_empty", core::SealState("Fuzz", 3, ""));
  Write(dir, "state_codec", "sealed_other_kind", core::SealState("Other", 1, "x"));
  Write(dir, "state_codec", "payload_only", w.payload());
}

void LabelsFileSeeds(const fs::path& dir) {
  Write(dir, "labels_file", "plain", "id,label,time\n1,0,10\n2,1,5.5\n");
  Write(dir, "labels_file", "extra_columns_quotes",
        "\"time\",note,id,label\r\n1e3,\"a, b\",\"x\"\"y\",1\r\n");
  Write(dir, "labels_file", "bad_label", "id,label,time\n1,2,10\n");
}

void JsonMessageSeeds(const fs::path& dir) {
  Write(dir, "json_messages", "event",
        R"({"id": "t-1", "time": 12.5, "features": {"V1": -1.35, "Amount": 149.62}, "label": 0})");
  Write(dir, "json_messages", "event_int_id",
        R"({"id": 7, "features": {"Time": 0, "V2": 1e-300}})");
  Write(dir, "json_messages", "event_escapes",
        R"({"id": "a"bé", "features": {"V1": 1}, "label": null})");
  Write(dir, "json_messages", "label", R"({"id": "t-1", "label": 1, "time": 1732240040.5})");
  Write(dir, "json_messages", "label_bool", R"({"id": 12, "label": false, "time": -3})");
  Write(dir, "json_messages", "truncated", R"({"id": "t-1", "features": {"V1": 1)");
}

// Checkpoints-topic partitions: one version in 3 chunks; two versions and another model's; the
// same with the newer version's middle chunk damaged (a byte of its data flipped).
void CheckpointTopicSeeds(const fs::path& dir) {
  const auto version = [](const std::string& model, int64_t number) {
    registry::NewVersion v;
    v.model = model;
    v.version = number;
    v.parent = number - 1;
    v.trigger = "every 100 events";
    v.config_json = "{}";
    v.state = std::string(300, static_cast<char>(number));
    v.checkpoint = "run state";
    return v;
  };
  const auto frame = [](const std::vector<std::pair<std::string, std::string>>& chunks,
                        std::string* out) {
    for (const auto& chunk : chunks) {
      const auto size = static_cast<uint32_t>(chunk.second.size());
      out->append(reinterpret_cast<const char*>(&size), 4);
      out->append(chunk.second);
    }
  };
  std::string one, two;
  frame(engine::kafka::CheckpointChunks(version("default.p0", 1), 128), &one);
  Write(dir, "checkpoint_topic", "one_version", one);
  frame(engine::kafka::CheckpointChunks(version("default.p0", 1), 128), &two);
  frame(engine::kafka::CheckpointChunks(version("other.p0", 4), 128), &two);
  std::vector<std::pair<std::string, std::string>> newer =
      engine::kafka::CheckpointChunks(version("default.p0", 2), 128);
  std::string damaged = two;
  frame(newer, &two);
  Write(dir, "checkpoint_topic", "two_versions_and_another_model", two);
  newer[1].second[newer[1].second.size() - 5] ^= 1;
  frame(newer, &damaged);
  Write(dir, "checkpoint_topic", "newer_version_damaged", damaged);
}

// The checkpoints of a run of checkpoint_fixture.h, snapshotted every 10 events, in both modes.
void CheckpointSeeds(const fs::path& dir) {
  for (const int mode : {0, 1}) {
    const fs::path registry_path = fs::temp_directory_path() / "sluice-fuzz-corpus-registry.db";
    fs::remove(registry_path);
    engine::Snapshotter::Options snapshots;
    snapshots.registry_path = registry_path.string();
    snapshots.schedule.every_events = 10;
    auto snapshotter = engine::Snapshotter::Start(snapshots, core::Clock::Real()).value();
    auto pipeline = CheckpointPipeline();
    const std::vector<engine::LabelRecord> labels = CheckpointLabels();
    const auto label_source = engine::NewLabelVectorSource(labels);
    engine::RunOptions options = CheckpointRunOptions(mode, label_source.get());
    options.snapshotter = snapshotter.get();
    auto source = CheckpointSource();
    engine::RunObserver quiet;
    const auto result =
        engine::RunStream(*source, *pipeline, nullptr, quiet, options, core::Clock::Real());
    if (!result.ok() || !snapshotter->Finish().empty()) std::abort();
    snapshotter.reset();
    auto registry = registry::Registry::Open(registry_path.string(), core::Clock::Real()).value();
    for (const int64_t version : {1, 3, 5, 8}) {
      Write(
          dir, "checkpoint", "mode" + std::to_string(mode) + "_v" + std::to_string(version),
          With(static_cast<unsigned char>(mode), registry->Checkpoint("default", version).value()));
    }
    registry.reset();
    fs::remove(registry_path);
  }
}

}  // namespace
}  // namespace sluice::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  sluice::fuzz::CsvSeeds(dir);
  sluice::fuzz::LearnerSeeds(dir);
  sluice::fuzz::MetricSeeds(dir);
  sluice::fuzz::RegistrySeeds(dir);
  sluice::fuzz::StateCodecSeeds(dir);
  sluice::fuzz::LabelsFileSeeds(dir);
  sluice::fuzz::JsonMessageSeeds(dir);
  sluice::fuzz::CheckpointSeeds(dir);
  sluice::fuzz::CheckpointTopicSeeds(dir);
  return 0;
}
