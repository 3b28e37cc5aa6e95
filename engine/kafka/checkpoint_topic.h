// engine/kafka/checkpoint_topic.h. Checkpoints that reach any machine: each registry version of
// a partition's model (its models, run checkpoint, config, lineage and metrics) published to a
// compacted topic, so that the member of a consumer group that is given the partition next
// restores it with nothing shared but the Kafka cluster, as Kafka Streams does with changelog
// topics.
//
// A version is one record (registry::NewVersion, version number set), split into chunks under
// the broker's message size limit. Chunk i of version V of model M goes to partition P of the
// topic (P: the input partition; the topic has as many) with key "M/<V mod 2>/<i>": compaction
// keeps the chunks of the last two versions of each model, so a corrupt latest version still
// has one to fall back to. Each chunk carries the version, its index, the chunk count and the
// SHA-256 of the whole record, which is verified on restore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/kafka/client.h"
#include "registry/registry.h"

namespace sluice::engine::kafka {

inline constexpr char kCheckpointsTopic[] = "sluice.checkpoints";
// Under the 1 MB message limit of Kafka's defaults (message.max.bytes), with room for the
// chunk's header and the batch's.
inline constexpr size_t kCheckpointChunkBytes = 900 * 1024;

// Sends version `v` (v.version set) of `v.model` to partition `partition` of `topic` through
// `producer` (inside its open transaction, if it has one: then the version becomes visible
// with the outputs it checkpoints). Delivery errors come back from the producer's Flush().
absl::Status PublishCheckpoint(Producer& producer, const std::string& topic, int32_t partition,
                               const registry::NewVersion& v,
                               size_t chunk_bytes = kCheckpointChunkBytes);

struct RestoredCheckpoint {
  std::optional<registry::NewVersion> version;  // nullopt: none to restore.
  // Newer versions that were refused, one message each ("version 9 of default.p3 on
  // sluice.checkpoints/3: chunk 2 of 4 at offset 130: SHA-256 mismatch ..."), newest first.
  std::vector<std::string> refused;
};

// Reads partition `partition` of `topic` from its beginning to its end (committed data only)
// and returns the newest version of `model` whose chunks are all there and whose SHA-256
// matches; newer ones that fail are named in `refused`. No version if none is there or every
// one was refused.
absl::StatusOr<RestoredCheckpoint> ReadLatestCheckpoint(
    const std::string& brokers, const Settings& settings, const std::string& group,
    const std::string& topic, int32_t partition, const std::string& model, absl::Duration timeout);

// The messages (key, value) PublishCheckpoint sends for `v`, in order. For tests and the fuzzer.
std::vector<std::pair<std::string, std::string>> CheckpointChunks(
    const registry::NewVersion& v, size_t chunk_bytes = kCheckpointChunkBytes);

// Makes `v` (a version read from the topic, or about to be published there) its model's latest
// version in `registry`: the topic is the truth, so local versions past it, or another version
// under its number, were made by a run whose outputs the group did not keep and are dropped.
struct Imported {
  int64_t dropped = 0;  // Local versions dropped.
  bool stored = false;  // false: the registry held `v` already.
};
absl::StatusOr<Imported> ImportCheckpoint(registry::Registry& registry,
                                          const registry::NewVersion& v);

// What ReadLatestCheckpoint does with the messages it read (one partition of the topic, in
// offset order: key, value and offset used): the newest version of `model` whose chunks are all
// there and whose SHA-256 matches. `where` names the partition in refusals
// ("sluice.checkpoints/3"). Messages that are not chunks, or chunks of other models, are skipped.
// For tests and the fuzzer.
RestoredCheckpoint LatestCheckpoint(const std::vector<Message>& messages, const std::string& model,
                                    const std::string& where);

// The record of a version and back, exposed for tests and the fuzzer. DataLoss if `record` is
// not one.
std::string EncodeCheckpointRecord(const registry::NewVersion& v);
absl::StatusOr<registry::NewVersion> DecodeCheckpointRecord(absl::string_view record);

}  // namespace sluice::engine::kafka
