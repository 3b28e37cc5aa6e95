// tools/model_flags.h. The flags commands share: the models, their metrics and serving, and how
// labels join (replay, live); the CSV's columns (replay, produce); librdkafka settings (live,
// produce).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/challenger.h"
#include "engine/csv_reader.h"
#include "engine/kafka/client.h"
#include "engine/label_joiner.h"
#include "engine/pipeline.h"
#include "engine/snapshotter.h"
#include "engine/stream_runner.h"
#include "metrics/adwin.h"
#include "tools/flags.h"

namespace cxxopts {
class Options;
}  // namespace cxxopts

namespace sluice::tools {

// --model, --hst-*, --seed, --lr-*, --metric-window, --serving (default `serving`),
// --label-ttl, --expired-labels, --max-pending.
void AddModelFlags(cxxopts::Options& spec, const char* serving);
void ParseModelFlags(const FlagReader& f, engine::Pipeline::Options* o);
void ParseJoinFlags(const FlagReader& f, engine::LabelJoiner::Options* join);
// --explain K (added by AddModelFlags): the anomaly scores' top features to explain, 0 for none.
// FlagError if K > 0 and the anomaly model is off in `o`.
int ParseExplainFlag(const FlagReader& f, const engine::Pipeline::Options& o);
// --drift, --drift-delta, --snapshot-on-drift (added by AddModelFlags): RunOptions::drift and
// RunOptions::snapshot_on_drift. FlagError for --snapshot-on-drift without a registry
// (`registry` empty) or with --drift off.
struct DriftFlags {
  std::optional<metrics::Adwin::Options> adwin;
  bool snapshot = false;
};
DriftFlags ParseDriftFlags(const FlagReader& f, const std::string& registry);
// --challenger SPEC..., --auto-promote DELTA, --promote-min-labels N (added by AddModelFlags).
// FlagError naming a malformed spec, or for --auto-promote without challengers or a registry
// (`registry` empty).
struct ChallengerFlags {
  std::vector<engine::ChallengerSpec> specs;
  // RunOptions::promote without its config_json, which the command fills in.
  std::optional<engine::RunOptions::Promotion> promote;
};
ChallengerFlags ParseChallengerFlags(const FlagReader& f, const std::string& registry);
// Where versions go and when: --registry, --model-name, --snapshot-every-{events,seconds,wall}.
struct RegistryFlags {
  std::string path;  // --registry; empty: none.
  std::string model_name = "default";
  engine::SnapshotSchedule schedule;
};
void AddRegistryFlags(cxxopts::Options& spec);
// FlagError if a schedule or frozen serving (`serving`) is asked for without a registry.
RegistryFlags ParseRegistryFlags(const FlagReader& f, engine::Pipeline::Serving serving);

// The input CSV's columns: --label-column, --time-column (required once given), --id-column,
// --exclude.
void AddCsvFlags(cxxopts::Options& spec);
void ParseCsvFlags(const FlagReader& f, engine::CsvReader::Options* csv);

// The librdkafka settings of the repeatable `-X key=value` flag, in order.
engine::kafka::Settings ParseKafkaSettings(const FlagReader& f);

}  // namespace sluice::tools
