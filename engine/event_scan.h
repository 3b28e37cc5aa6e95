// engine/event_scan.h. The fast path of EventJsonParser: one pass over the bytes for events in
// the plain form producers write (`sluice produce`, most JSON encoders), without simdjson's
// structural index (BM_ParseBatch1000: 22-28 % less time per batch of 1,000), and the number
// reader both paths share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "core/event.h"

namespace sluice::engine {

// Where the JSON number (RFC 8259's grammar) at [p, end) ends; nullptr if none starts there.
const char* JsonNumberEnd(const char* p, const char* end);
// The same, and *out its value correctly rounded, as strtod's (core::ParseDecimalPrefix's
// m / 10^k when both are exact doubles, else core::ParseDouble: ±infinity past the double
// range). simdjson 3.0.1's on-demand get_double is not used: it reads "0.95000000000000000000"
// as 0.0277 (simdjson issue 2093).
const char* ReadJsonNumber(const char* p, const char* end, double* out);
// Whether `text` is one JSON number, nothing around it; its value into *out.
bool ParseJsonNumber(absl::string_view text, double* out);

// The schema as ScanEvents reads it, built once per parser: the features in their order, each
// name's slot, and each name as a key in the plain form (`"V1"`, quotes included) to compare in
// one 8-byte load where it fits.
struct ScanSchema {
  explicit ScanSchema(std::vector<std::string> feature_names);

  struct Key {
    uint64_t bytes = 0;  // The quoted name, little-endian; unused when size is 0.
    uint64_t mask = 0;   // Its bytes' bits.
    size_t size = 0;     // Its length: 0 for a name of more than 6 characters.
  };
  std::vector<std::string> features;
  absl::flat_hash_map<std::string, size_t> index;
  std::vector<Key> keys;
};

// Reads `json`, one event object or an array of them, into *events (features in the schema's
// order) and sets *is_array, if it is in the plain form: strings of printable ASCII without
// escapes, each key once per object, "id" a string or a canonical integer, "label" 0, 1, true,
// false or null, and numbers that are finite doubles. Returns false for anything else, valid or
// not, leaving *events in any state: the simdjson path then reads it, or refuses it with a
// message. What it accepts, that path reads to the same events bit for bit (fuzzed against it);
// both read numbers with ReadJsonNumber.
bool ScanEvents(absl::string_view json, const ScanSchema& schema, std::vector<core::Event>* events,
                bool* is_array);

// Reads a batch, a JSON array of events in the plain form, while its bytes arrive (a large body
// over HTTP comes in several reads): each call is given all the bytes so far (the same ones, then
// more) and reads on from where the last stopped. The events it gives are those ScanEvents
// gives for the whole body, in order, when the whole body is plain (and no event is longer than
// kMaxEventBytes).
class BatchScanner {
 public:
  // `schema` must outlive the scanner.
  explicit BatchScanner(const ScanSchema& schema) : schema_(schema) {}

  enum class Step {
    kEvent,     // The next event is in *event.
    kMore,      // No complete event in the bytes so far; on the whole body: not plain.
    kEnd,       // The array has closed, with only white space after it so far.
    kNotPlain,  // Not a plain array of events, whatever follows (and from now on); or an
                // event of more than kMaxEventBytes is not complete yet.
  };
  Step Next(absl::string_view json, core::Event* event);

  // An event still incomplete past this many bytes is not waited for (each call reads an
  // unfinished event again from its start): the body is left to be read whole.
  static constexpr size_t kMaxEventBytes = 64 << 10;

 private:
  enum class Expect { kOpen, kFirst, kEvent, kSeparator, kClosed, kNotPlain };
  const ScanSchema& schema_;
  size_t offset_ = 0;  // Where the next token starts: what was read before it is done.
  Expect expect_ = Expect::kOpen;
};

}  // namespace sluice::engine
