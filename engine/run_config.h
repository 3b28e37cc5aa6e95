// engine/run_config.h. The configuration a registered version records (a flat JSON object), and
// back: audit and resume rebuild exactly the pipeline that made a version.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/flat_json.h"
#include "engine/csv_reader.h"
#include "engine/label_joiner.h"
#include "engine/pipeline.h"
#include "engine/stream_runner.h"

namespace sluice::engine {

struct RunConfig {
  CsvReader::Options csv;
  Pipeline::Options pipeline;
  int64_t label_delay = 0;
  std::optional<double> label_delay_seconds;
  bool skip_bad_rows = false;
  std::string labels_file;            // Labels joined by id (empty: the input's label column).
  LabelJoiner::Options join;          // TTL, expiry and bounds (by_id is not recorded: derived).
  std::vector<std::string> features;  // The schema, in dense order.
};

// Everything that shapes the models' numbers, as recorded with each version.
core::FlatJson ConfigJson(const RunConfig& config);
// InvalidArgument if `json` is not a config this build wrote.
absl::StatusOr<RunConfig> ParseConfigJson(absl::string_view json);
// The run options `config` fixes (labels, joins, bad records); the caller adds the rest.
RunOptions RunOptionsFor(const RunConfig& config);
// CSV options that read `header` into exactly `config.features` (other columns excluded).
// FailedPrecondition, naming the columns, if the header lacks a feature.
absl::StatusOr<CsvReader::Options> CsvOptionsFor(const RunConfig& config,
                                                 const std::vector<std::string>& header);

}  // namespace sluice::engine
