// The checkpoints topic against the embedded broker: a version published in chunks is restored
// whole; a version whose chunk was damaged on the topic is refused (SHA-256), named, and the
// one before it is restored instead.
#include "engine/kafka/checkpoint_topic.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "engine/kafka/embedded_broker.h"
#include "tests/support/test_util.h"

namespace sluice::engine::kafka {
namespace {

using ::testing::HasSubstr;

registry::NewVersion Version(int64_t number, size_t state_bytes) {
  registry::NewVersion v;
  v.model = "default.p1";
  v.version = number;
  v.parent = number - 1;
  v.created_event_time = 1.5 * static_cast<double>(number);
  v.trigger = "every 100 events";
  v.config_json = "{\"hst_trees\": 10}";
  v.lineage_json = "{\"source\": \"kafka\"}";
  v.metrics_json = "{}";
  v.state = std::string(state_bytes, '\0');
  for (size_t i = 0; i < state_bytes; ++i) v.state[i] = static_cast<char>((i * 31 + number) % 251);
  v.checkpoint = absl::StrCat("checkpoint of ", number);
  return v;
}

void ExpectSame(const registry::NewVersion& got, const registry::NewVersion& want) {
  EXPECT_EQ(got.model, want.model);
  EXPECT_EQ(got.version, want.version);
  EXPECT_EQ(got.parent, want.parent);
  EXPECT_EQ(got.created_event_time, want.created_event_time);
  EXPECT_EQ(got.trigger, want.trigger);
  EXPECT_EQ(got.config_json, want.config_json);
  EXPECT_EQ(got.lineage_json, want.lineage_json);
  EXPECT_TRUE(got.state == want.state);
  EXPECT_EQ(got.checkpoint, want.checkpoint);
}

TEST(CheckpointTopic, ChunkedVersionsRestoreWholeAndACorruptOneFallsBack) {
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(1));
  ASSERT_OK(broker->CreateTopic("cp", 2));
  ASSERT_OK_AND_ASSIGN(auto producer, Producer::Create(broker->bootstrap(), {}));
  const registry::NewVersion v1 = Version(1, 2500), v2 = Version(2, 2500);
  // 1 KB chunks: each version in 3 chunks (another model shares the partition).
  registry::NewVersion other = Version(9, 100);
  other.model = "other.p1";
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 1, v1, 1024));
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 1, other, 1024));
  ASSERT_OK(PublishCheckpoint(*producer, "cp", 1, v2, 1024));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));

  ASSERT_OK_AND_ASSIGN(
      const RestoredCheckpoint latest,
      ReadLatestCheckpoint(broker->bootstrap(), {}, "g", "cp", 1, "default.p1", absl::Seconds(30)));
  ASSERT_TRUE(latest.version.has_value());
  ExpectSame(*latest.version, v2);
  EXPECT_TRUE(latest.refused.empty());
  ASSERT_OK_AND_ASSIGN(
      const RestoredCheckpoint none,
      ReadLatestCheckpoint(broker->bootstrap(), {}, "g", "cp", 0, "default.p1", absl::Seconds(30)));
  EXPECT_FALSE(none.version.has_value());

  // The topic copied to "cp2" message by message, one byte of version 2's middle chunk flipped
  // on the way (in its data: the chunk still reads as a chunk, only the record's SHA-256 can
  // tell).
  ASSERT_OK(broker->CreateTopic("cp2", 2));
  auto consumer = Consumer::Create(broker->bootstrap(), "copy", {}).value();
  ASSERT_OK(consumer->Assign({{"cp", 1, Consumer::kBeginning}}));
  int copied = 0;
  for (PollResult polled;;) {
    ASSERT_OK(consumer->Poll(absl::Seconds(10), &polled));
    ASSERT_NE(polled.kind, PollResult::kTimeout);
    if (polled.kind == PollResult::kEndOfPartition) break;
    std::string value = polled.message.value;
    if (polled.message.key == "default.p1/0/1") value[value.size() - 10] ^= 1;
    ASSERT_OK(producer->Send("cp2", 1, polled.message.key, value));
    ++copied;
  }
  EXPECT_EQ(copied, 7);  // 3 + 1 + 3 chunks.
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  ASSERT_OK_AND_ASSIGN(const RestoredCheckpoint fallback,
                       ReadLatestCheckpoint(broker->bootstrap(), {}, "g", "cp2", 1, "default.p1",
                                            absl::Seconds(30)));
  ASSERT_TRUE(fallback.version.has_value());
  ExpectSame(*fallback.version, v1);
  ASSERT_EQ(fallback.refused.size(), 1u);
  EXPECT_THAT(fallback.refused[0], HasSubstr("version 2 of default.p1 on cp2/1"));
  EXPECT_THAT(fallback.refused[0], HasSubstr("SHA-256 mismatch"));
}

TEST(CheckpointTopic, RecordsRoundTripAndDamageIsRefused) {
  const registry::NewVersion v = Version(7, 300);
  ASSERT_OK_AND_ASSIGN(const registry::NewVersion back,
                       DecodeCheckpointRecord(EncodeCheckpointRecord(v)));
  ExpectSame(back, v);
  std::string record = EncodeCheckpointRecord(v);
  record[record.size() / 2] ^= 0x40;
  EXPECT_FALSE(DecodeCheckpointRecord(record).ok());
  EXPECT_FALSE(DecodeCheckpointRecord("").ok());
}

}  // namespace
}  // namespace sluice::engine::kafka
