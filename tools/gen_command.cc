// tools/gen_command.cc. `sluice gen`: writes the built-in synthetic stream as CSV.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/format.h"
#include "cxxopts.hpp"
#include "engine/synthetic_stream.h"
#include "engine/text_file.h"
#include "tools/commands.h"

namespace sluice::tools {
namespace {

engine::Injection ReadInjection(const std::string& name, int64_t every, double shift_sd) {
  int feature = 0;
  if (!absl::StartsWith(name, "V") || !absl::SimpleAtoi(name.substr(1), &feature) || feature < 1 ||
      feature > 28) {
    throw cxxopts::exceptions::exception("--inject-feature must be one of V1..V28, not \"" + name +
                                         "\"");
  }
  if (every < 1) throw cxxopts::exceptions::exception("--inject-every must be >= 1");
  if (!std::isfinite(shift_sd)) throw cxxopts::exceptions::exception("--inject-sd must be finite");
  return {.feature = feature, .shift_sd = shift_sd, .every = every};
}

}  // namespace

int GenCommand(int argc, char** argv) {
  cxxopts::Options spec("sluice gen",
                        "Write the synthetic credit-card-like stream (Time, V1..V28, Amount, "
                        "Class; one fraud per 500 rows), byte-identical to gen_synth.py.");
  // clang-format off
  spec.add_options()
    ("rows", "Data rows", cxxopts::value<int64_t>()->default_value("100000"))
    ("seed", "Seed", cxxopts::value<uint64_t>()->default_value("1"))
    ("out", "Output CSV file", cxxopts::value<std::string>())
    ("inject-feature", "Inject anomalies whose cause is known: move this feature (V1..V28) up on every --inject-every-th row", cxxopts::value<std::string>()->default_value(""))
    ("inject-every", "Rows per injected anomaly (rows N-1, 2N-1, ...)", cxxopts::value<int64_t>()->default_value("100"))
    ("inject-sd", "How far an injected value moves, in the feature's standard deviations", cxxopts::value<double>()->default_value("6"))
    ("h,help", "Show this help");
  // clang-format on
  int64_t rows = 0;
  uint64_t seed = 0;
  std::string out;
  std::optional<engine::Injection> injection;
  try {
    const cxxopts::ParseResult flags = spec.parse(argc, argv);
    if (flags.count("help") != 0) {
      std::fputs(spec.help().c_str(), stdout);
      return 0;
    }
    if (!flags.unmatched().empty()) {
      throw cxxopts::exceptions::exception("unexpected argument \"" + flags.unmatched()[0] + "\"");
    }
    if (flags.count("out") == 0) throw cxxopts::exceptions::exception("--out FILE is required");
    rows = flags["rows"].as<int64_t>();
    seed = flags["seed"].as<uint64_t>();
    out = flags["out"].as<std::string>();
    if (rows < 0) throw cxxopts::exceptions::exception("--rows must be >= 0");
    if (const std::string name = flags["inject-feature"].as<std::string>(); !name.empty()) {
      injection =
          ReadInjection(name, flags["inject-every"].as<int64_t>(), flags["inject-sd"].as<double>());
    }
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "sluice gen: %s\n", e.what());
    return 2;
  }
  auto file = engine::BufferedFile::Create(out);
  if (!file.ok()) {
    std::fprintf(stderr, "sluice gen: %s\n", std::string(file.status().message()).c_str());
    return 1;
  }
  std::unique_ptr<engine::ByteStream> stream =
      injection.has_value() ? engine::NewSyntheticCsvStream(seed, rows, *injection)
                            : engine::NewSyntheticCsvStream(seed, rows);
  char chunk[1 << 16];
  while (true) {
    auto n = stream->Read(chunk, sizeof(chunk));
    if (!n.ok() || *n == 0) break;
    (*file)->Append(absl::string_view(chunk, *n));
  }
  if (absl::Status status = (*file)->Close(); !status.ok()) {
    std::fprintf(stderr, "sluice gen: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "sluice gen: wrote %s (%s, seed %llu)\n", out.c_str(),
               core::Count(rows, "row", "rows").c_str(), static_cast<unsigned long long>(seed));
  return 0;
}

}  // namespace sluice::tools
