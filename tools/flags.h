// tools/flags.h. Typed access to parsed flags with messages that name the flag: every value is
// declared as a string and converted here, so "--rows: 'abc' is not an integer" replaces
// cxxopts' anonymous "failed to parse".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

// Forward-declared: cxxopts stays in the .cc files.
namespace cxxopts {
class ParseResult;
}  // namespace cxxopts

namespace sluice::tools {

// A bad flag: the command prints it and exits with 2.
class FlagError : public std::runtime_error {
 public:
  explicit FlagError(const std::string& message) : std::runtime_error(message) {}
};

class FlagReader {
 public:
  // Throws FlagError if an argument matched no flag. `parsed` must outlive the reader.
  explicit FlagReader(const cxxopts::ParseResult& parsed);

  bool Has(const std::string& name) const;  // Given on the command line.
  // The value, or the flag's default.
  std::string Str(const std::string& name) const;
  // Str(), refusing an empty value given explicitly ("--input ''").
  std::string NonEmpty(const std::string& name) const;
  // Str(), which must be one of `choices`.
  std::string OneOf(const std::string& name, std::initializer_list<const char*> choices) const;
  int64_t Int(const std::string& name, int64_t min = std::numeric_limits<int64_t>::min(),
              int64_t max = std::numeric_limits<int64_t>::max()) const;
  uint64_t Uint(const std::string& name) const;
  // Every value of a repeatable flag (std::vector<std::string>), in order; none if not given.
  std::vector<std::string> All(const std::string& name) const;
  // A finite number >= min.
  double Double(const std::string& name,
                double min = -std::numeric_limits<double>::infinity()) const;

 private:
  const cxxopts::ParseResult& parsed_;
};

}  // namespace sluice::tools
