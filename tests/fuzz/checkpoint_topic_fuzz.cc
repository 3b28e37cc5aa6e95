// tests/fuzz/checkpoint_topic_fuzz.cc. What a process reads back from the checkpoints topic:
// engine::kafka::LatestCheckpoint over arbitrary messages, and DecodeCheckpointRecord.
//
// Input: messages, each a 4-byte little-endian length and that many bytes of value (a last one
// cut short takes what is left). They are read as one partition of the topic, offsets 0, 1, ...
// Garbage must be skipped or refused, never crash; a version that is restored must be of the
// model asked for, and its record must encode back to bytes that decode to the same version.
#include <cstring>
#include <string>
#include <vector>

#include "engine/kafka/checkpoint_topic.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice::fuzz {
namespace {

std::vector<engine::kafka::Message> Split(absl::string_view in) {
  std::vector<engine::kafka::Message> messages;
  while (in.size() >= 4) {
    uint32_t size = 0;
    std::memcpy(&size, in.data(), 4);
    in.remove_prefix(4);
    const size_t n = std::min<size_t>(size, in.size());
    engine::kafka::Message m;
    m.offset = static_cast<int64_t>(messages.size());
    m.value = std::string(in.substr(0, n));
    in.remove_prefix(n);
    messages.push_back(std::move(m));
  }
  return messages;
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  const absl::string_view bytes = fuzz::Bytes(data, size);
  (void)engine::kafka::DecodeCheckpointRecord(bytes);
  const engine::kafka::RestoredCheckpoint restored =
      engine::kafka::LatestCheckpoint(fuzz::Split(bytes), "default.p0", "fuzz/0");
  if (restored.version.has_value()) {
    const registry::NewVersion& v = *restored.version;
    SLUICE_FUZZ_CHECK(v.model == "default.p0");
    SLUICE_FUZZ_CHECK(v.version.has_value());
    const absl::StatusOr<registry::NewVersion> again =
        engine::kafka::DecodeCheckpointRecord(engine::kafka::EncodeCheckpointRecord(v));
    SLUICE_FUZZ_CHECK(again.ok() && again->version == v.version && again->state == v.state &&
                      again->checkpoint == v.checkpoint);
  }
  return 0;
}
