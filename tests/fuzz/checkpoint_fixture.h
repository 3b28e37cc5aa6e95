// tests/fuzz/checkpoint_fixture.h. The run whose checkpoints the checkpoint fuzz target restores
// and make_corpus.cc seeds: a small CSV, both models, and labels either from the input with a
// delay (mode 0) or joined by id from a list with a TTL (mode 1).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/byte_stream.h"
#include "engine/csv_reader.h"
#include "engine/pipeline.h"
#include "engine/source.h"
#include "engine/stream_runner.h"

namespace sluice::fuzz {

inline std::string CheckpointCsv() {
  std::string csv = "id,Time,a,b,Class\n";
  for (int i = 0; i < 60; ++i) {
    absl::StrAppend(&csv, "t", i, ",", i / 2, ",", (i * 37) % 11 - 5, ".25,", (i * 13) % 7, ",",
                    i % 9 == 0 ? 1 : 0, "\n");
  }
  return csv;
}

inline std::unique_ptr<engine::Source> CheckpointSource() {
  engine::CsvReader::Options options;
  options.id_column = "id";
  return engine::NewCsvSource(
      engine::CsvReader::Create("fuzz.csv", engine::NewStringStream(CheckpointCsv()), options)
          .value());
}

inline std::unique_ptr<engine::Pipeline> CheckpointPipeline() {
  engine::Pipeline::Options options;
  options.hst.window_size = 8;
  options.metric_window = 16;
  return engine::Pipeline::Create(options, {"Time", "a", "b"}).value();
}

// Labels of mode 1: every third event's, 4 time units late, plus an unknown id and a duplicate.
inline std::vector<engine::LabelRecord> CheckpointLabels() {
  std::vector<engine::LabelRecord> labels;
  for (int i = 0; i < 60; i += 3) labels.push_back({absl::StrCat("t", i), i % 9 == 0, i / 2 + 4.0});
  labels.push_back({"nobody", true, 10});
  labels.push_back({"t3", true, 11});
  return labels;
}

inline engine::RunOptions CheckpointRunOptions(int mode, engine::LabelSource* labels) {
  engine::RunOptions options;
  if (mode == 0) {
    options.label_delay = 5;
  } else {
    options.labels = labels;
    options.join.ttl_seconds = 6;
    options.join.expired = engine::LabelJoiner::Expired::kNegative;
  }
  return options;
}

}  // namespace sluice::fuzz
