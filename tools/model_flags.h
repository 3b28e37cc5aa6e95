// tools/model_flags.h. The flags commands share: the models, their metrics and serving, and how
// labels join (replay, live); librdkafka settings (live, produce).
#pragma once

#include "engine/kafka/client.h"
#include "engine/label_joiner.h"
#include "engine/pipeline.h"
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
// The librdkafka settings of the repeatable `-X key=value` flag, in order.
engine::kafka::Settings ParseKafkaSettings(const FlagReader& f);

}  // namespace sluice::tools
