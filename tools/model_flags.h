// tools/model_flags.h. The flags replay and live share: the models, their metrics and serving,
// and how labels join.
#pragma once

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

}  // namespace sluice::tools
