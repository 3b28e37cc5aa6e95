// tools/registry_command.cc. `sluice registry ...`: look at and manage model versions.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/clock.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "core/status_macros.h"
#include "cxxopts.hpp"
#include "engine/global_model.h"
#include "registry/registry.h"
#include "tools/commands.h"

namespace sluice::tools {
namespace {

constexpr const char* kUsage =
    "usage: sluice registry --registry FILE [--model-name NAME] [--json] <command>\n"
    "  list                 every version of the model\n"
    "  list --partition P   the versions of partition P (model NAME.pP) of the model, or\n"
    "                       without --model-name of every partitioned model\n"
    "  show V               one version: metadata, lineage, metrics\n"
    "  diff V1 V2           what changed in config, lineage, metrics and state\n"
    "  export V FILE        write a one-version registry file\n"
    "  import FILE          add the versions of another registry file\n"
    "  alias NAME V         point alias NAME (champion, challenger, ...) at V; on a\n"
    "                       partitioned model (versions only in NAME.p0, NAME.p1, ...) in every\n"
    "                       partition at once, V resolved in each\n"
    "  history NAME         every change of alias NAME\n"
    "  gc --keep N          delete all but the newest N versions (aliased ones stay)\n"
    "  merge REF... --as M  register a version of model M whose anomaly model merges those of\n"
    "                       REF... (no fraud model); REF is MODEL:V, or MODEL.p*:V for V of\n"
    "                       every partition of MODEL\n"
    "V is a number, an alias or \"latest\".\n";

// A command and the arguments it takes, as the usage names them.
struct CommandSpec {
  absl::string_view name;
  std::vector<absl::string_view> args;
  bool variadic = false;  // The last argument repeats (at least once).
};

const std::vector<CommandSpec>& Commands() {
  static const auto* const commands = new std::vector<CommandSpec>{{"list", {}},
                                                                   {"show", {"V"}},
                                                                   {"diff", {"V1", "V2"}},
                                                                   {"export", {"V", "FILE"}},
                                                                   {"import", {"FILE"}},
                                                                   {"alias", {"NAME", "V"}},
                                                                   {"history", {"NAME"}},
                                                                   {"gc", {}},
                                                                   {"merge", {"REF..."}, true}};
  return *commands;
}

// The flags only some commands take.
struct CommandFlags {
  std::optional<int64_t> keep;       // gc
  std::optional<int32_t> partition;  // list
  std::string merged_name;           // merge: --as
  bool model_given = false;          // --model-name was on the command line.
};

// What is wrong with the command line, or nullopt: wrong arguments exit 2 before the registry
// is opened, so that they neither touch nor create a file.
std::optional<std::string> UsageError(const std::vector<std::string>& args,
                                      const std::string& model, const CommandFlags& flags) {
  const std::optional<int64_t>& keep = flags.keep;
  if (args.empty()) return "no command given";
  if (model.empty()) return "--model-name must not be empty";
  const std::string& command = args[0];
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& candidate : Commands()) {
    if (candidate.name == command) spec = &candidate;
  }
  if (spec == nullptr) return absl::StrCat("unknown registry command \"", command, "\"");
  const size_t given = args.size() - 1;
  if (spec->variadic && given == 0) {
    return absl::StrCat("\"", command, "\" takes one or more arguments (",
                        absl::StrJoin(spec->args, " "), ")");
  }
  if (!spec->variadic && given != spec->args.size()) {
    const size_t n = spec->args.size();
    return absl::StrCat("\"", command, "\" takes ", n == 0 ? "no" : absl::StrCat(n),
                        n == 1 ? " argument" : " arguments",
                        n == 0 ? "" : absl::StrCat(" (", absl::StrJoin(spec->args, " "), ")"),
                        ", not ", given,
                        given > n ? absl::StrCat(": extra \"", args[n + 1], "\"") : "");
  }
  if (command == "gc") {
    if (!keep.has_value()) return "gc needs --keep N (N >= 1)";
    if (*keep < 1) return absl::StrCat("gc --keep must be at least 1, not ", *keep);
  } else if (keep.has_value()) {
    return absl::StrCat("--keep applies to gc only, not to \"", command, "\"");
  }
  if (command == "merge" && flags.merged_name.empty()) return "merge needs --as NAME";
  if (command != "merge" && !flags.merged_name.empty()) {
    return absl::StrCat("--as applies to merge only, not to \"", command, "\"");
  }
  if (flags.partition.has_value() && command != "list") {
    return absl::StrCat("--partition applies to list only, not to \"", command, "\"");
  }
  if (flags.partition.has_value() && *flags.partition < 0) {
    return absl::StrCat("--partition must be at least 0, not ", *flags.partition);
  }
  int64_t number = 0;
  if (command == "alias" &&
      (args[1].empty() || args[1] == "latest" || absl::SimpleAtoi(args[1], &number))) {
    return absl::StrCat("alias name \"", args[1], "\" is reserved or a number; choose a name");
  }
  return std::nullopt;
}

std::string Time(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

std::string Optional(const std::optional<int64_t>& v) {
  return v.has_value() ? absl::StrCat(*v) : std::string("null");
}

// `aliases`: the names pointing at `v`, or nullopt to leave the key out.
std::string VersionJson(const registry::Version& v,
                        const std::optional<std::vector<std::string>>& aliases = std::nullopt) {
  std::string aliases_json;
  if (aliases.has_value()) {
    std::vector<std::string> quoted;
    for (const std::string& alias : *aliases) quoted.push_back(core::JsonQuote(alias));
    aliases_json = absl::StrCat(", \"aliases\": [", absl::StrJoin(quoted, ", "), "]");
  }
  return absl::StrCat(
      "{\"model\": ", core::JsonQuote(v.model), ", \"version\": ", v.version,
      ", \"parent\": ", Optional(v.parent), ", \"created_wall_ms\": ", v.created_wall_ms,
      ", \"created_event_time\": ",
      v.created_event_time.has_value() ? core::FormatDouble(*v.created_event_time) : "null",
      ", \"trigger\": ", core::JsonQuote(v.trigger),
      ", \"code_version\": ", core::JsonQuote(v.code_version), ", \"config\": ", v.config_json,
      ", \"lineage\": ", v.lineage_json, ", \"metrics\": ", v.metrics_json,
      ", \"state_sha256\": ", core::JsonQuote(v.state_sha256),
      ", \"state_format\": ", v.state_format, ", \"state_bytes\": ", v.state_bytes, aliases_json,
      "}");
}

// The names in `aliases` (sorted by name) that point at `version`.
std::vector<std::string> AliasesOf(const std::vector<std::pair<std::string, int64_t>>& aliases,
                                   int64_t version) {
  std::vector<std::string> names;
  for (const auto& [alias, target] : aliases) {
    if (target == version) names.push_back(alias);
  }
  return names;
}

// The keys whose values differ between two JSON texts: flat objects compare key by key; the
// nested lineage and metrics compare their top-level text.
void DiffSection(const char* name, const std::string& a, const std::string& b,
                 std::vector<std::string>* out) {
  const auto flat_a = core::ParseFlatJson(a);
  const auto flat_b = core::ParseFlatJson(b);
  if (flat_a.has_value() && flat_b.has_value()) {
    for (const std::string& d : core::DiffFlatJson(*flat_a, *flat_b)) {
      out->push_back(absl::StrCat(name, ".", d));
    }
  } else if (a != b) {
    out->push_back(absl::StrCat(name, ":\n    - ", a, "\n    + ", b));
  }
}

// Prints the versions of `models` (one table each, or one JSON array).
absl::Status ListVersions(const registry::Registry& reg, const std::vector<std::string>& models,
                          bool json) {
  std::string out = "[";
  for (const std::string& model : models) {
    SLUICE_ASSIGN_OR_RETURN(const auto versions, reg.List(model));
    SLUICE_ASSIGN_OR_RETURN(const auto aliases, reg.Aliases(model));
    if (json) {
      for (const auto& v : versions) {
        absl::StrAppend(&out, out.size() > 1 ? ",\n " : "",
                        VersionJson(v, AliasesOf(aliases, v.version)));
      }
      continue;
    }
    // Columns as wide as their longest value: a trigger or a code version is never cut.
    int trigger_width = 7, code_width = 4;
    for (const auto& v : versions) {
      trigger_width = std::max(trigger_width, static_cast<int>(v.trigger.size()));
      code_width = std::max(code_width, static_cast<int>(v.code_version.size()));
    }
    std::printf("%-8s %-7s %-20s %-*s %-*s %10s  %s\n", "version", "parent", "created (UTC)",
                trigger_width, "trigger", code_width, "code", "bytes", "aliases");
    for (const auto& v : versions) {
      std::printf("%-8lld %-7s %-20s %-*s %-*s %10lld  %s\n", static_cast<long long>(v.version),
                  v.parent.has_value() ? absl::StrCat(*v.parent).c_str() : "-",
                  Time(v.created_wall_ms).c_str(), trigger_width, v.trigger.c_str(), code_width,
                  v.code_version.c_str(), static_cast<long long>(v.state_bytes),
                  absl::StrJoin(AliasesOf(aliases, v.version), ",").c_str());
    }
    std::printf("%s of \"%s\" in %s\n",
                core::Count(static_cast<int64_t>(versions.size()), "version", "versions").c_str(),
                model.c_str(), reg.path().c_str());
  }
  if (json) std::printf("%s]\n", out.c_str());
  return absl::OkStatus();
}

// The models `list --partition P` shows: `model`.pP if --model-name was given, else partition P
// of every partitioned model.
absl::StatusOr<std::vector<std::string>> PartitionModels(const registry::Registry& reg,
                                                         const std::string& model, bool model_given,
                                                         int32_t partition) {
  if (model_given) return std::vector<std::string>{registry::PartitionModel(model, partition)};
  SLUICE_ASSIGN_OR_RETURN(const auto versions, reg.List(""));
  const std::string suffix = absl::StrCat(".p", partition);
  std::vector<std::string> models;
  for (const registry::Version& v : versions) {
    if (absl::EndsWith(v.model, suffix) && v.model.size() > suffix.size() &&
        (models.empty() || models.back() != v.model)) {
      models.push_back(v.model);  // List() sorts by model: duplicates are adjacent.
    }
  }
  if (models.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no model has a partition ", partition, " in ", reg.path()));
  }
  return models;
}

// The versions a merge REF names: "MODEL:V" (V a number, an alias or "latest"), "V" (of
// --model-name), or "MODEL.p*:V" (V in every partition of MODEL, by partition).
absl::StatusOr<std::vector<registry::Version>> MergeInputs(const registry::Registry& reg,
                                                           const std::string& default_model,
                                                           absl::string_view ref) {
  const size_t colon = ref.rfind(':');
  std::string model =
      colon == absl::string_view::npos ? default_model : std::string(ref.substr(0, colon));
  const absl::string_view version = colon == absl::string_view::npos ? ref : ref.substr(colon + 1);
  std::vector<std::string> models = {model};
  if (absl::EndsWith(model, ".p*")) {
    model.resize(model.size() - 3);
    SLUICE_ASSIGN_OR_RETURN(const auto partitions, reg.Partitions(model));
    if (partitions.empty()) {
      return absl::NotFoundError(absl::StrCat("model \"", model, "\" has no partitions (", model,
                                              ".p0, ...) in ", reg.path()));
    }
    models.clear();
    for (const auto& [partition, name] : partitions) models.push_back(name);
  }
  std::vector<registry::Version> out;
  for (const std::string& name : models) {
    SLUICE_ASSIGN_OR_RETURN(const int64_t number, reg.Resolve(name, version));
    SLUICE_ASSIGN_OR_RETURN(registry::Version v, reg.Get(name, number));
    out.push_back(std::move(v));
  }
  return out;
}

absl::StatusOr<int> Merge(registry::Registry& reg, const std::string& model, bool json,
                          const std::vector<std::string>& refs, const std::string& name) {
  std::vector<registry::Version> versions;
  for (const std::string& ref : refs) {
    SLUICE_ASSIGN_OR_RETURN(auto named, MergeInputs(reg, model, ref));
    for (registry::Version& v : named) versions.push_back(std::move(v));
  }
  SLUICE_ASSIGN_OR_RETURN(const registry::NewVersion merged, engine::MergeVersions(versions, name));
  SLUICE_ASSIGN_OR_RETURN(const int64_t number, reg.Put(merged));
  if (json) {
    SLUICE_ASSIGN_OR_RETURN(const registry::Version v, reg.Get(name, number));
    std::printf("%s\n", VersionJson(v).c_str());
    return 0;
  }
  std::vector<std::string> inputs;
  for (const registry::Version& v : versions)
    inputs.push_back(absl::StrCat(v.model, ":", v.version));
  std::printf("merged %s into version %lld of \"%s\"\n", absl::StrJoin(inputs, " ").c_str(),
              static_cast<long long>(number), name.c_str());
  return 0;
}

// `alias NAME V` on a model with no versions of its own but partitions: every partition's
// alias moves at once.
absl::StatusOr<int> AliasPartitions(registry::Registry& reg, const std::string& model,
                                    const std::string& alias, const std::string& ref) {
  SLUICE_ASSIGN_OR_RETURN(const auto partitions, reg.Partitions(model));
  if (partitions.empty()) {
    return absl::NotFoundError(
        absl::StrCat("model \"", model, "\" has no versions and no partitions in ", reg.path()));
  }
  std::vector<std::string> models;
  for (const auto& [partition, name] : partitions) models.push_back(name);
  SLUICE_ASSIGN_OR_RETURN(const std::vector<int64_t> versions, reg.SetAliases(models, alias, ref));
  for (size_t i = 0; i < models.size(); ++i) {
    std::printf("%s -> version %lld of \"%s\"\n", alias.c_str(),
                static_cast<long long>(versions[i]), models[i].c_str());
  }
  return 0;
}

absl::StatusOr<int> Run(registry::Registry& reg, const std::string& model, bool json,
                        const std::vector<std::string>& args, const CommandFlags& flags) {
  const std::string& command = args[0];  // UsageError() checked the arguments.
  if (command == "list") {
    std::vector<std::string> models = {model};
    if (flags.partition.has_value()) {
      SLUICE_ASSIGN_OR_RETURN(models,
                              PartitionModels(reg, model, flags.model_given, *flags.partition));
    }
    SLUICE_RETURN_IF_ERROR(ListVersions(reg, models, json));
    if (!json && !flags.partition.has_value() &&
        absl::IsNotFound(reg.Resolve(model, "latest").status())) {
      // A live run's model has no versions of its own: point at its partitions.
      SLUICE_ASSIGN_OR_RETURN(const auto partitions, reg.Partitions(model));
      if (!partitions.empty()) {
        std::printf("\"%s\" is partitioned into %s: see list --partition P\n", model.c_str(),
                    core::Count(static_cast<int64_t>(partitions.size()), "partition", "partitions")
                        .c_str());
      }
    }
    return 0;
  }
  if (command == "merge") {
    return Merge(reg, model, json, std::vector<std::string>(args.begin() + 1, args.end()),
                 flags.merged_name);
  }
  if (command == "show") {
    SLUICE_ASSIGN_OR_RETURN(const int64_t number, reg.Resolve(model, args[1]));
    SLUICE_ASSIGN_OR_RETURN(const registry::Version v, reg.Get(model, number));
    if (json) {
      std::printf("%s\n", VersionJson(v).c_str());
      return 0;
    }
    std::printf(
        "model        %s\nversion      %lld\nparent       %s\ncreated      %s UTC\n"
        "event time   %s\ntrigger      %s\ncode         %s\nstate        %s, format %d, "
        "sha256 %s (verified)\nconfig       %s\nlineage      %s\nmetrics      %s\n",
        v.model.c_str(), static_cast<long long>(v.version),
        v.parent.has_value() ? absl::StrCat(*v.parent).c_str() : "none",
        Time(v.created_wall_ms).c_str(),
        v.created_event_time.has_value() ? core::FormatDouble(*v.created_event_time).c_str()
                                         : "none",
        v.trigger.c_str(), v.code_version.c_str(),
        core::Count(v.state_bytes, "byte", "bytes").c_str(), v.state_format, v.state_sha256.c_str(),
        v.config_json.c_str(), v.lineage_json.c_str(), v.metrics_json.c_str());
    return 0;
  }
  if (command == "diff") {
    SLUICE_ASSIGN_OR_RETURN(const int64_t n1, reg.Resolve(model, args[1]));
    SLUICE_ASSIGN_OR_RETURN(const int64_t n2, reg.Resolve(model, args[2]));
    SLUICE_ASSIGN_OR_RETURN(const registry::Version a, reg.Get(model, n1));
    SLUICE_ASSIGN_OR_RETURN(const registry::Version b, reg.Get(model, n2));
    std::vector<std::string> changes;
    DiffSection("config", a.config_json, b.config_json, &changes);
    DiffSection("lineage", a.lineage_json, b.lineage_json, &changes);
    DiffSection("metrics", a.metrics_json, b.metrics_json, &changes);
    if (a.trigger != b.trigger)
      changes.push_back(absl::StrCat("trigger: ", a.trigger, " -> ", b.trigger));
    if (a.code_version != b.code_version) {
      changes.push_back(absl::StrCat("code_version: ", a.code_version, " -> ", b.code_version));
    }
    if (a.state_sha256 != b.state_sha256) {
      changes.push_back(absl::StrCat(
          "parameters (state): ", core::Count(a.state_bytes, "byte", "bytes"), " sha256 ",
          a.state_sha256.substr(0, 12), " -> ", core::Count(b.state_bytes, "byte", "bytes"),
          " sha256 ", b.state_sha256.substr(0, 12)));
    }
    if (json) {
      std::string out = "[";
      for (const auto& c : changes)
        absl::StrAppend(&out, out.size() > 1 ? ", " : "", core::JsonQuote(c));
      std::printf("%s]\n", out.c_str());
      return 0;
    }
    std::printf(
        "version %lld -> %lld: %s\n", static_cast<long long>(n1), static_cast<long long>(n2),
        core::Count(static_cast<int64_t>(changes.size()), "difference", "differences").c_str());
    for (const auto& c : changes) std::printf("  %s\n", c.c_str());
    return 0;
  }
  if (command == "export") {
    SLUICE_ASSIGN_OR_RETURN(const int64_t number, reg.Resolve(model, args[1]));
    SLUICE_RETURN_IF_ERROR(reg.Export(model, number, args[2]));
    std::printf("exported version %lld of \"%s\" to %s\n", static_cast<long long>(number),
                model.c_str(), args[2].c_str());
    return 0;
  }
  if (command == "import") {
    SLUICE_ASSIGN_OR_RETURN(const auto mapping, reg.Import(args[1]));
    for (const auto& [name, from, to] : mapping) {
      std::printf("imported \"%s\" version %lld as version %lld\n", name.c_str(),
                  static_cast<long long>(from), static_cast<long long>(to));
    }
    return 0;
  }
  if (command == "alias") {
    if (absl::IsNotFound(reg.Resolve(model, "latest").status())) {
      return AliasPartitions(reg, model, args[1], args[2]);
    }
    SLUICE_ASSIGN_OR_RETURN(const int64_t number, reg.Resolve(model, args[2]));
    SLUICE_RETURN_IF_ERROR(reg.SetAlias(model, args[1], number));
    std::printf("%s -> version %lld\n", args[1].c_str(), static_cast<long long>(number));
    return 0;
  }
  if (command == "history") {
    SLUICE_ASSIGN_OR_RETURN(const auto changes, reg.AliasHistory(model, args[1]));
    if (json) {
      std::string out = "[";
      for (const auto& c : changes) {
        absl::StrAppend(&out, out.size() > 1 ? ", " : "", "{\"version\": ", Optional(c.version),
                        ", \"previous\": ", Optional(c.previous),
                        ", \"changed_wall_ms\": ", c.changed_wall_ms,
                        ", \"reason\": ", core::JsonQuote(c.reason), "}");
      }
      std::printf("%s]\n", out.c_str());
      return 0;
    }
    for (const auto& c : changes) {
      std::printf("%s UTC  %s -> %s (was %s)%s%s\n", Time(c.changed_wall_ms).c_str(),
                  args[1].c_str(), Optional(c.version).c_str(), Optional(c.previous).c_str(),
                  c.reason.empty() ? "" : ": ", c.reason.c_str());
    }
    return 0;
  }
  if (command == "gc") {
    SLUICE_ASSIGN_OR_RETURN(const int64_t deleted, reg.Gc(model, flags.keep.value_or(0)));
    std::printf("deleted %s of \"%s\" in %s\n", core::Count(deleted, "version", "versions").c_str(),
                model.c_str(), reg.path().c_str());
    return 0;
  }
  return absl::InternalError(absl::StrCat("registry command \"", command, "\" is not handled"));
}

}  // namespace

int RegistryCommand(int argc, char** argv) {
  cxxopts::Options spec("sluice registry", kUsage);
  spec.add_options()("registry", "Registry file", cxxopts::value<std::string>())(
      "model-name", "Model name", cxxopts::value<std::string>()->default_value("default"))(
      "json", "Machine-readable output")("keep", "With gc: versions to keep",
                                         cxxopts::value<std::string>())(
      "partition", "With list: the partition", cxxopts::value<std::string>())(
      "as", "With merge: the merged model's name", cxxopts::value<std::string>())("h,help",
                                                                                  "Show this help");
  std::string path, model;
  bool json = false;
  CommandFlags command_flags;
  std::vector<std::string> args;
  try {
    const cxxopts::ParseResult flags = spec.parse(argc, argv);
    if (flags.count("help") != 0) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (flags.count("registry") == 0 || flags["registry"].as<std::string>().empty()) {
      throw cxxopts::exceptions::exception("--registry FILE is required");
    }
    path = flags["registry"].as<std::string>();
    model = flags["model-name"].as<std::string>();
    json = flags.count("json") != 0;
    command_flags.model_given = flags.count("model-name") != 0;
    const auto whole_number = [&](const char* name) {
      const std::string text = flags[name].as<std::string>();
      int64_t n = 0;
      if (!absl::SimpleAtoi(text, &n)) {
        throw cxxopts::exceptions::exception(
            absl::StrCat("--", name, " takes a whole number, not \"", text, "\""));
      }
      return n;
    };
    if (flags.count("keep") != 0) command_flags.keep = whole_number("keep");
    if (flags.count("partition") != 0) {
      const int64_t partition = whole_number("partition");
      if (partition != static_cast<int32_t>(partition)) {
        throw cxxopts::exceptions::exception(
            absl::StrCat("--partition ", partition, " is not a Kafka partition number"));
      }
      command_flags.partition = static_cast<int32_t>(partition);
    }
    if (flags.count("as") != 0) {
      command_flags.merged_name = flags["as"].as<std::string>();
      if (command_flags.merged_name.empty()) {
        throw cxxopts::exceptions::exception("--as must not be empty");
      }
    }
    args = flags.unmatched();
    if (const std::optional<std::string> error = UsageError(args, model, command_flags)) {
      throw cxxopts::exceptions::exception(*error);
    }
  } catch (const cxxopts::exceptions::exception& e) {
    std::fprintf(stderr, "sluice registry: %s\n%s", e.what(), kUsage);
    return 2;
  }
  const std::string& command = args[0];
  registry::Registry::Options options;
  options.read_only =
      command != "import" && command != "alias" && command != "gc" && command != "merge";
  // Only import may start a new registry file; the others need one that exists.
  options.create_if_missing = command == "import";
  struct stat st;
  const bool existed = stat(path.c_str(), &st) == 0;
  absl::StatusOr<std::unique_ptr<registry::Registry>> reg =
      registry::Registry::Open(path, core::Clock::Real(), options);
  absl::StatusOr<int> code = reg.ok() ? Run(**reg, model, json, args, command_flags) : reg.status();
  if (!code.ok() && !existed && reg.ok()) {
    // The failed import created the file: leave nothing behind, if it is still empty (side
    // files that are already gone are no error).
    const absl::StatusOr<std::vector<registry::Version>> versions = (*reg)->List("");
    reg->reset();
    if (versions.ok() && versions->empty()) {
      for (const char* suffix : {"", "-wal", "-shm"}) {
        unlink(absl::StrCat(path, suffix).c_str());
      }
    }
  }
  if (!code.ok()) {
    // Every message names the registry file; most already do.
    const std::string message(code.status().message());
    std::fprintf(stderr, "sluice registry: %s%s\n",
                 absl::StrContains(message, path) ? "" : absl::StrCat(path, ": ").c_str(),
                 message.c_str());
    return 1;
  }
  return *code;
}

}  // namespace sluice::tools
