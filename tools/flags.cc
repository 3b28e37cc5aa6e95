// tools/flags.cc
#include "tools/flags.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/format.h"
#include "cxxopts.hpp"

namespace sluice::tools {

FlagReader::FlagReader(const cxxopts::ParseResult& parsed) : parsed_(parsed) {
  if (!parsed.unmatched().empty()) {
    throw FlagError(absl::StrCat("unexpected argument \"", parsed.unmatched()[0], "\""));
  }
}

bool FlagReader::Has(const std::string& name) const { return parsed_.count(name) != 0; }

std::string FlagReader::Str(const std::string& name) const {
  return parsed_[name].as<std::string>();
}

std::string FlagReader::NonEmpty(const std::string& name) const {
  std::string value = Str(name);
  if (value.empty()) throw FlagError(absl::StrCat("--", name, " must not be empty"));
  return value;
}

std::string FlagReader::OneOf(const std::string& name,
                              std::initializer_list<const char*> choices) const {
  std::string value = Str(name);
  for (const char* choice : choices) {
    if (value == choice) return value;
  }
  throw FlagError(absl::StrCat("--", name, " must be ", absl::StrJoin(choices, " or "), ", got \"",
                               value, "\""));
}

int64_t FlagReader::Int(const std::string& name, int64_t min, int64_t max) const {
  const std::string value = Str(name);
  int64_t v = 0;
  if (!absl::SimpleAtoi(value, &v)) {
    throw FlagError(absl::StrCat("--", name, ": '", value, "' is not an integer"));
  }
  if (v < min || v > max) {
    throw FlagError(absl::StrCat("--", name, " must be in [", min, ", ", max, "], got ", v));
  }
  return v;
}

uint64_t FlagReader::Uint(const std::string& name) const {
  const std::string value = Str(name);
  uint64_t v = 0;
  if (!absl::SimpleAtoi(value, &v)) {
    throw FlagError(absl::StrCat("--", name, ": '", value, "' is not a non-negative integer"));
  }
  return v;
}

double FlagReader::Double(const std::string& name, double min) const {
  const std::string value = Str(name);
  const std::optional<double> v = core::ParseDouble(value);
  if (!v.has_value()) throw FlagError(absl::StrCat("--", name, ": '", value, "' is not a number"));
  if (!std::isfinite(*v) || *v < min) {
    throw FlagError(absl::StrCat("--", name, " must be a finite number",
                                 std::isfinite(min) ? absl::StrCat(" >= ", min) : "", ", got ",
                                 value));
  }
  return *v;
}

std::vector<std::string> FlagReader::All(const std::string& name) const {
  if (parsed_.count(name) == 0) return {};
  return parsed_[name].as<std::vector<std::string>>();
}

}  // namespace sluice::tools
