// tests/fuzz/json_messages_fuzz.cc. A Kafka message of arbitrary bytes, read as a JSON event (by
// a reused parser and a one-shot one) and as a JSON label: each is refused with a message or
// read into finite values, the two event parsers agree, and what was read writes back to JSON
// that reads back the same.
#include <bit>
#include <cmath>
#include <string>
#include <vector>

#include "engine/event_json.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

bool SameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

void CheckEvent(absl::string_view text) {
  using namespace sluice;  // NOLINT: a fuzz target's body.
  static const std::vector<std::string> features = {"Time", "V1", "V2", "Amount"};
  static engine::EventJsonParser* parser = new engine::EventJsonParser(features);
  core::Event event, once;
  const absl::Status status = parser->Parse(text, &event);
  const absl::Status status_once = engine::ParseEventJson(text, features, &once);
  SLUICE_FUZZ_CHECK(status == status_once);
  if (!status.ok()) {
    SLUICE_FUZZ_CHECK(!status.message().empty());
    return;
  }
  SLUICE_FUZZ_CHECK(event.features.size() == features.size());
  for (size_t i = 0; i < features.size(); ++i) {
    SLUICE_FUZZ_CHECK(core::IsMissing(event.features[i]) || std::isfinite(event.features[i]));
    SLUICE_FUZZ_CHECK(SameBits(event.features[i], once.features[i]));
  }
  std::string json;
  engine::AppendEventJson(event, features, &json);
  core::Event back;
  SLUICE_FUZZ_CHECK(parser->Parse(json, &back).ok());
  SLUICE_FUZZ_CHECK(back.id == event.id);
  SLUICE_FUZZ_CHECK(SameBits(back.event_time, event.event_time));
  for (size_t i = 0; i < features.size(); ++i) {
    SLUICE_FUZZ_CHECK(SameBits(back.features[i], event.features[i]));
  }
}

void CheckLabel(absl::string_view text) {
  using namespace sluice;  // NOLINT: a fuzz target's body.
  engine::LabelRecord label;
  const absl::Status status = engine::ParseLabelJson(text, &label);
  if (!status.ok()) {
    SLUICE_FUZZ_CHECK(!status.message().empty());
    return;
  }
  SLUICE_FUZZ_CHECK(std::isfinite(label.time));
  std::string json;
  engine::AppendLabelJson(label, &json);
  engine::LabelRecord back;
  SLUICE_FUZZ_CHECK(engine::ParseLabelJson(json, &back).ok());
  SLUICE_FUZZ_CHECK(back.id == label.id && back.label == label.label);
  SLUICE_FUZZ_CHECK(SameBits(back.time, label.time));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text = sluice::fuzz::Bytes(data, size);
  CheckEvent(text);
  CheckLabel(text);
  return 0;
}
