// tests/fuzz/http_request_fuzz.cc. A POST /v1/score body of arbitrary bytes, as the API reads it:
// the batch parser either refuses it with a message or reads events of finite values, exactly as
// it does with simdjson alone (its fast path changes nothing); for one
// object it agrees with the single-event parser; the syntax locator, asked where a refused body
// breaks JSON's grammar, names a byte inside it (or the end); and a body the parser accepted is
// well-formed by the locator too. The bytes are also read as a batch arriving in parts, and as one
// number.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/event_json.h"
#include "engine/event_scan.h"
#include "engine/http/server.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

// The same event, bit for bit.
bool SameEvent(const sluice::core::Event& x, const sluice::core::Event& y) {
  const auto bits = [](double v) { return std::bit_cast<uint64_t>(v); };
  if (x.id != y.id || x.label != y.label || bits(x.event_time) != bits(y.event_time) ||
      x.features.size() != y.features.size()) {
    return false;
  }
  for (size_t f = 0; f < x.features.size(); ++f) {
    if (bits(x.features[f]) != bits(y.features[f])) return false;
  }
  return true;
}

// The batch read as it arrives (BatchScanner), in three parts cut where the input's first bytes
// say: the events read whole, and the end only where the whole is a plain array.
void CheckBatchInParts(absl::string_view text, const std::vector<std::string>& features) {
  using sluice::engine::BatchScanner;
  static const sluice::engine::ScanSchema* schema = new sluice::engine::ScanSchema(features);
  std::vector<sluice::core::Event> whole;
  bool is_array = false;
  const bool plain = sluice::engine::ScanEvents(text, *schema, &whole, &is_array) && is_array;
  BatchScanner scan(*schema);
  std::vector<sluice::core::Event> parts;
  sluice::core::Event event;
  BatchScanner::Step step = BatchScanner::Step::kMore;
  const size_t size = text.size();
  const size_t a = size > 0 ? static_cast<uint8_t>(text[0]) % (size + 1) : 0;
  const size_t b = size > 1 ? static_cast<uint8_t>(text[1]) * 64 % (size + 1) : size;
  for (const size_t cut : {std::min(a, b), std::max(a, b), size}) {
    while ((step = scan.Next(text.substr(0, cut), &event)) == BatchScanner::Step::kEvent) {
      parts.push_back(event);
    }
  }
  SLUICE_FUZZ_CHECK((step == BatchScanner::Step::kEnd) == plain);
  if (plain) {
    SLUICE_FUZZ_CHECK(parts.size() == whole.size());
    for (size_t i = 0; i < parts.size(); ++i) SLUICE_FUZZ_CHECK(SameEvent(parts[i], whole[i]));
  }
}

// The number reader on the bytes as a number: it stops where JSON's grammar ends the number (its
// plain path checks the grammar after reading), with the value strtod gives that text.
void CheckNumber(absl::string_view text) {
  double number = 0;
  const char* const end = text.data() + text.size();
  const char* const stop = sluice::engine::ReadJsonNumber(text.data(), end, &number);
  SLUICE_FUZZ_CHECK(stop == sluice::engine::JsonNumberEnd(text.data(), end));
  if (stop != nullptr) {
    const std::string token(text.data(), stop);
    SLUICE_FUZZ_CHECK(std::bit_cast<uint64_t>(number) ==
                      std::bit_cast<uint64_t>(std::strtod(token.c_str(), nullptr)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;  // NOLINT: a fuzz target's body.
  const absl::string_view text = fuzz::Bytes(data, size);
  static const std::vector<std::string> features = {"Time", "V1", "V2", "Amount"};
  static engine::EventJsonParser* parser = new engine::EventJsonParser(features);
  static engine::EventJsonParser* simdjson_only =
      new engine::EventJsonParser(features, /*fast_path=*/false);
  std::vector<core::Event> events;
  bool is_array = false;
  const absl::Status status = parser->ParseBatch(text, &events, &is_array);
  // The fast path (engine/event_scan.h) changes nothing: the same answer, the same events.
  std::vector<core::Event> reference;
  bool reference_is_array = false;
  const absl::Status expected = simdjson_only->ParseBatch(text, &reference, &reference_is_array);
  SLUICE_FUZZ_CHECK(status == expected);
  if (status.ok()) {
    SLUICE_FUZZ_CHECK(is_array == reference_is_array && events.size() == reference.size());
    for (size_t i = 0; i < events.size(); ++i) {
      SLUICE_FUZZ_CHECK(SameEvent(events[i], reference[i]));
    }
  }
  const std::optional<engine::JsonSyntaxError> syntax = engine::FindJsonSyntaxError(text);
  if (syntax.has_value()) {
    SLUICE_FUZZ_CHECK(syntax->offset <= text.size());
    SLUICE_FUZZ_CHECK(!syntax->message.empty());
  }
  if (!status.ok()) {
    SLUICE_FUZZ_CHECK(!status.message().empty());
  } else {
    SLUICE_FUZZ_CHECK(!syntax.has_value());
    for (const core::Event& event : events) {
      SLUICE_FUZZ_CHECK(event.features.size() == features.size());
      for (double v : event.features) SLUICE_FUZZ_CHECK(core::IsMissing(v) || std::isfinite(v));
    }
  }
  if (!is_array) {
    core::Event one;
    const absl::Status single = parser->Parse(text, &one);
    SLUICE_FUZZ_CHECK(single.ok() == status.ok());
    if (single.ok()) {
      for (size_t i = 0; i < features.size(); ++i) {
        SLUICE_FUZZ_CHECK(std::bit_cast<uint64_t>(one.features[i]) ==
                          std::bit_cast<uint64_t>(events[0].features[i]));
      }
    }
  }
  CheckBatchInParts(text, features);
  CheckNumber(text);
  // The query string of a request target, split as the API splits it.
  (void)engine::http::QueryParameter(text, "version");
  return 0;
}
