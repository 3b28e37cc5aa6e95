// engine/kafka/checkpoint_topic.cc
#include "engine/kafka/checkpoint_topic.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/sha256.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::engine::kafka {
namespace {

constexpr absl::string_view kRecordKind = "CheckpointRecord";
constexpr uint16_t kRecordFormat = 1;
// A chunk is not sealed in a checksummed envelope: the record's SHA-256 is what tells a damaged
// chunk, whichever byte changed.
constexpr absl::string_view kChunkMagic = "sluice checkpoint chunk 1";

void PutOptional(core::StateWriter& w, const std::optional<int64_t>& v) {
  w.Put<uint8_t>(v.has_value() ? 1 : 0);
  w.Put<int64_t>(v.value_or(0));
}

bool GetOptional(core::StateReader& r, std::optional<int64_t>* v) {
  uint8_t has = 0;
  int64_t value = 0;
  if (!r.Get(&has) || !r.Get(&value) || has > 1) return false;
  *v = has == 1 ? std::optional<int64_t>(value) : std::nullopt;
  return true;
}

struct Chunk {
  std::string model;
  int64_t version = 0;
  uint32_t index = 0, count = 0;
  std::string sha256;  // Of the whole record.
  std::string data;
};

std::string EncodeChunk(const Chunk& c) {
  core::StateWriter w;
  w.PutString(kChunkMagic);
  w.PutString(c.model);
  w.Put<int64_t>(c.version);
  w.Put<uint32_t>(c.index);
  w.Put<uint32_t>(c.count);
  w.PutString(c.sha256);
  w.PutString(c.data);
  return std::move(w.payload());
}

// nullopt if `value` is not a chunk.
std::optional<Chunk> DecodeChunk(absl::string_view value) {
  core::StateReader r(value);
  Chunk c;
  std::string magic;
  if (!r.GetString(&magic) || magic != kChunkMagic || !r.GetString(&c.model) ||
      !r.Get(&c.version) || !r.Get(&c.index) || !r.Get(&c.count) || !r.GetString(&c.sha256) ||
      !r.GetString(&c.data) || !r.done() || c.index >= c.count) {
    return std::nullopt;
  }
  return c;
}

// The chunks of one version as read, the last of each index winning (as compaction would).
struct Assembly {
  uint32_t count = 0;
  std::string sha256;
  std::map<uint32_t, std::pair<int64_t, std::string>> chunks;  // index -> (offset, data)
};

}  // namespace

std::string EncodeCheckpointRecord(const registry::NewVersion& v) {
  core::StateWriter w;
  w.PutString(v.model);
  PutOptional(w, v.version);
  PutOptional(w, v.parent);
  w.Put<uint8_t>(v.created_event_time.has_value() ? 1 : 0);
  w.Put<double>(v.created_event_time.value_or(0));
  w.PutString(v.trigger);
  w.PutString(v.config_json);
  w.PutString(v.lineage_json);
  w.PutString(v.metrics_json);
  w.PutString(v.state);
  w.Put<int32_t>(v.state_format);
  w.PutString(v.checkpoint);
  return core::SealState(kRecordKind, kRecordFormat, w.payload());
}

absl::StatusOr<registry::NewVersion> DecodeCheckpointRecord(absl::string_view record) {
  uint16_t format = 0;
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(record, kRecordKind, kRecordFormat, &format));
  core::StateReader r(payload);
  registry::NewVersion v;
  uint8_t has_time = 0;
  double time = 0;
  if (!r.GetString(&v.model) || !GetOptional(r, &v.version) || !GetOptional(r, &v.parent) ||
      !r.Get(&has_time) || !r.Get(&time) || !r.GetString(&v.trigger) ||
      !r.GetString(&v.config_json) || !r.GetString(&v.lineage_json) ||
      !r.GetString(&v.metrics_json) || !r.GetString(&v.state) || !r.Get(&v.state_format) ||
      !r.GetString(&v.checkpoint) || !r.done() || has_time > 1 || !v.version.has_value()) {
    return absl::DataLossError("checkpoint record is malformed");
  }
  if (has_time == 1) v.created_event_time = time;
  return v;
}

std::vector<std::pair<std::string, std::string>> CheckpointChunks(const registry::NewVersion& v,
                                                                  size_t chunk_bytes) {
  const std::string record = EncodeCheckpointRecord(v);
  Chunk c;
  c.model = v.model;
  c.version = v.version.value_or(0);
  c.count =
      static_cast<uint32_t>(std::max<size_t>(1, (record.size() + chunk_bytes - 1) / chunk_bytes));
  c.sha256 = core::Sha256Hex(record);
  std::vector<std::pair<std::string, std::string>> messages;
  for (c.index = 0; c.index < c.count; ++c.index) {
    c.data = record.substr(c.index * chunk_bytes, chunk_bytes);
    messages.emplace_back(absl::StrCat(v.model, "/", c.version % 2, "/", c.index), EncodeChunk(c));
  }
  return messages;
}

absl::Status PublishCheckpoint(Producer& producer, const std::string& topic, int32_t partition,
                               const registry::NewVersion& v, size_t chunk_bytes) {
  if (!v.version.has_value()) return absl::InvalidArgumentError("a checkpoint needs its version");
  for (const auto& [key, value] : CheckpointChunks(v, chunk_bytes)) {
    SLUICE_RETURN_IF_ERROR(producer.Send(topic, partition, key, value));
  }
  return absl::OkStatus();
}

absl::StatusOr<Imported> ImportCheckpoint(registry::Registry& registry,
                                          const registry::NewVersion& v) {
  const int64_t number = v.version.value_or(0);
  const absl::StatusOr<registry::Version> local = registry.Get(v.model, number);
  Imported result;
  result.stored = !(local.ok() && local->state == v.state && local->checkpoint == v.checkpoint);
  SLUICE_ASSIGN_OR_RETURN(
      result.dropped,
      registry.DropNewer(v.model, result.stored ? number - 1 : number,
                         absl::StrCat("the versions after ", number,
                                      " were dropped: the checkpoints topic's version ", number,
                                      " supersedes them")));
  if (result.stored) SLUICE_RETURN_IF_ERROR(registry.Put(v).status());
  return result;
}

RestoredCheckpoint LatestCheckpoint(const std::vector<Message>& messages, const std::string& model,
                                    const std::string& where) {
  std::map<int64_t, Assembly, std::greater<>> versions;  // Newest first.
  for (const Message& m : messages) {
    std::optional<Chunk> chunk = DecodeChunk(m.value);
    if (!chunk.has_value() || chunk->model != model) continue;  // Other models share it.
    Assembly& a = versions[chunk->version];
    if (!a.chunks.empty() && (a.count != chunk->count || a.sha256 != chunk->sha256)) {
      a.chunks.clear();  // The version was published again: its last publication counts.
    }
    a.count = chunk->count;
    a.sha256 = chunk->sha256;
    a.chunks[chunk->index] = {m.offset, std::move(chunk->data)};
  }
  RestoredCheckpoint restored;
  for (auto& [version, a] : versions) {
    const std::string name = absl::StrCat("version ", version, " of ", model, " on ", where);
    if (a.chunks.size() != a.count) {
      restored.refused.push_back(
          absl::StrCat(name, ": ", a.chunks.size(), " of its ", a.count, " chunks found"));
      continue;
    }
    std::string record;
    for (const auto& [index, chunk] : a.chunks) record += chunk.second;
    if (const std::string sha = core::Sha256Hex(record); sha != a.sha256) {
      restored.refused.push_back(absl::StrCat(
          name, " (chunks at offsets ", a.chunks.begin()->second.first, " to ",
          a.chunks.rbegin()->second.first, "): SHA-256 mismatch, ", sha, " instead of ", a.sha256));
      continue;
    }
    absl::StatusOr<registry::NewVersion> v = DecodeCheckpointRecord(record);
    if (!v.ok() || v->model != model || *v->version != version) {
      restored.refused.push_back(absl::StrCat(name, ": malformed record"));
      continue;
    }
    restored.version = *std::move(v);
    return restored;
  }
  return restored;
}

absl::StatusOr<RestoredCheckpoint> ReadLatestCheckpoint(
    const std::string& brokers, const Settings& settings, const std::string& group,
    const std::string& topic, int32_t partition, const std::string& model, absl::Duration timeout) {
  SLUICE_ASSIGN_OR_RETURN(auto consumer, Consumer::Create(brokers, group, settings));
  SLUICE_RETURN_IF_ERROR(consumer->Assign({{topic, partition, Consumer::kBeginning}}));
  const std::string where = absl::StrCat(topic, "/", partition);
  std::vector<Message> messages;
  const absl::Time deadline = absl::Now() + timeout;
  PollResult polled;
  while (true) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("reading the checkpoints of ", model, " on ",
                                                      where, ": no end within ",
                                                      absl::FormatDuration(timeout)));
    }
    SLUICE_RETURN_IF_ERROR(consumer->Poll(absl::Milliseconds(200), &polled));
    if (polled.kind == PollResult::kEndOfPartition) break;
    if (polled.kind == PollResult::kMessage) messages.push_back(std::move(polled.message));
  }
  return LatestCheckpoint(messages, model, where);
}

}  // namespace sluice::engine::kafka
