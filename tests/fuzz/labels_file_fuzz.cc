// tests/fuzz/labels_file_fuzz.cc. A labels file (id,label,time) of arbitrary bytes: it is read
// into labels sorted by time with finite times, or refused with a message.
#include <cmath>
#include <string>

#include "engine/byte_stream.h"
#include "engine/labels_file.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;  // NOLINT: a fuzz target's body.
  const auto labels = engine::ReadLabels(
      "labels.csv", engine::NewStringStream(std::string(fuzz::Bytes(data, size))));
  if (!labels.ok()) {
    SLUICE_FUZZ_CHECK(!labels.status().message().empty());
    return 0;
  }
  for (size_t i = 0; i < labels->size(); ++i) {
    SLUICE_FUZZ_CHECK(std::isfinite((*labels)[i].time));
    if (i > 0) SLUICE_FUZZ_CHECK((*labels)[i - 1].time <= (*labels)[i].time);
  }
  return 0;
}
