// core/state_codec.cc
#include "core/state_codec.h"

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace sluice::core {
namespace {

constexpr absl::string_view kMagic = "SLCS";
constexpr size_t kFixedBytes = 4 + 2 + 2 + 8 + 8;

template <typename T>
T ReadLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

uint64_t StateChecksum(absl::string_view bytes) {
  constexpr uint64_t kPrime = 1099511628211ULL;
  uint64_t h = 14695981039346656037ULL;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * kPrime;
  }
  for (; i < bytes.size(); ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * kPrime;
  return h;
}

std::string SealState(absl::string_view kind, uint16_t format_version, absl::string_view payload) {
  StateWriter w;
  w.payload().append(kMagic.data(), kMagic.size());
  w.Put<uint16_t>(format_version);
  w.Put<uint16_t>(static_cast<uint16_t>(kind.size()));
  w.payload().append(kind.data(), kind.size());
  w.Put<uint64_t>(payload.size());
  w.payload().append(payload.data(), payload.size());
  w.Put<uint64_t>(StateChecksum(w.payload()));
  return std::move(w.payload());
}

absl::StatusOr<absl::string_view> OpenState(absl::string_view blob, absl::string_view kind,
                                            uint16_t max_format_version, uint16_t* format_version) {
  const std::string what = absl::StrCat(kind, " state");
  if (blob.size() < kFixedBytes || blob.substr(0, 4) != kMagic) {
    return absl::DataLossError(
        absl::StrCat(what, ": not a sluice state blob (", blob.size(), " bytes, bad header)"));
  }
  const uint16_t version = ReadLe<uint16_t>(blob.data() + 4);
  const uint16_t kind_size = ReadLe<uint16_t>(blob.data() + 6);
  if (blob.size() < kFixedBytes + kind_size) {
    return absl::DataLossError(absl::StrCat(what, ": truncated (", blob.size(), " bytes)"));
  }
  const absl::string_view stored_kind = blob.substr(8, kind_size);
  const uint64_t payload_size = ReadLe<uint64_t>(blob.data() + 8 + kind_size);
  if (blob.size() - kFixedBytes - kind_size != payload_size) {
    return absl::DataLossError(absl::StrCat(what, ": truncated or padded (", blob.size(),
                                            " bytes, payload says ", payload_size, ")"));
  }
  const size_t sum_at = blob.size() - 8;
  if (StateChecksum(blob.substr(0, sum_at)) != ReadLe<uint64_t>(blob.data() + sum_at)) {
    return absl::DataLossError(absl::StrCat(what, ": checksum mismatch (corrupted blob)"));
  }
  if (stored_kind != kind) {
    return absl::DataLossError(
        absl::StrCat(what, ": blob holds a \"", absl::CHexEscape(stored_kind), "\" state"));
  }
  if (version > max_format_version) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": format version ", version,
                                                      " is newer than this build reads (",
                                                      max_format_version, ")"));
  }
  if (format_version != nullptr) *format_version = version;
  return blob.substr(8 + kind_size + 8, payload_size);
}

}  // namespace sluice::core
