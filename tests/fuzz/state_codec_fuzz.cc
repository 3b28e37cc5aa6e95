// tests/fuzz/state_codec_fuzz.cc. core::OpenState and core::StateReader over arbitrary bytes.
//
// The bytes are opened as a blob of kind "Fuzz" (format versions up to 3): one that opens must
// be exactly SealState() of what it holds. Then they are read as a StateReader payload, with the
// reads chosen by the payload's own bytes: a failed read fails every later one.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/state_codec.h"
#include "tests/fuzz/fuzz_util.h"

namespace sluice::fuzz {
namespace {

void FuzzEnvelope(absl::string_view bytes) {
  uint16_t version = 0;
  const auto payload = core::OpenState(bytes, "Fuzz", 3, &version);
  if (!payload.ok()) {
    SLUICE_FUZZ_CHECK(payload.status().code() == absl::StatusCode::kDataLoss ||
                      payload.status().code() == absl::StatusCode::kFailedPrecondition);
    return;
  }
  SLUICE_FUZZ_CHECK(version <= 3);
  SLUICE_FUZZ_CHECK(payload->data() >= bytes.data() &&
                    payload->data() + payload->size() <= bytes.data() + bytes.size());
  SLUICE_FUZZ_CHECK(core::SealState("Fuzz", version, *payload) == bytes);
}

void FuzzReader(absl::string_view bytes) {
  core::StateReader r(bytes);
  bool failed = false;
  uint8_t op = 0;
  while (r.Get(&op)) {
    bool ok = false;
    switch (op % 6) {
      case 0: {
        uint64_t v;
        ok = r.Get(&v);
        break;
      }
      case 1: {
        std::string s;
        ok = r.GetString(&s);
        break;
      }
      case 2: {
        std::vector<double> v;
        ok = r.GetVector(&v);
        break;
      }
      case 3: {
        std::vector<uint16_t> v;
        ok = r.GetVector(&v);
        break;
      }
      case 4: {
        std::vector<std::array<int64_t, 4>> v;
        ok = r.GetVector(&v);
        break;
      }
      default: {
        int32_t v;
        ok = r.Get(&v);
        break;
      }
    }
    SLUICE_FUZZ_CHECK(ok == r.ok());
    if (!ok) {
      failed = true;
      break;
    }
  }
  SLUICE_FUZZ_CHECK(!r.ok() || !failed);
  SLUICE_FUZZ_CHECK(!r.done() || r.ok());
  uint8_t byte;
  SLUICE_FUZZ_CHECK(!r.Get(&byte) && !r.ok() && !r.done());  // Used up or failed: reads fail.
}

}  // namespace
}  // namespace sluice::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes = sluice::fuzz::Bytes(data, size);
  sluice::fuzz::FuzzEnvelope(bytes);
  sluice::fuzz::FuzzReader(bytes);
  return 0;
}
