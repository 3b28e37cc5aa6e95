// The Kafka client against the embedded broker: what is sent is read back, in order per
// partition, keyed messages land where Java's murmur2 partitioner puts them, and faults of the
// broker surface as errors or delays, never as lost messages.
#include "engine/kafka/client.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/kafka/embedded_broker.h"
#include "tests/support/test_util.h"

namespace sluice::engine::kafka {
namespace {

// Reads `topic`'s partitions [0, partitions) to their ends.
std::vector<Message> ReadAll(const std::string& bootstrap, const std::string& topic,
                             int partitions) {
  auto consumer = Consumer::Create(bootstrap, "test-read-all", {}).value();
  std::vector<Consumer::Assignment> assignment;
  for (int p = 0; p < partitions; ++p) assignment.push_back({topic, p, Consumer::kBeginning});
  EXPECT_OK(consumer->Assign(assignment));
  std::vector<Message> out;
  int ended = 0;
  while (ended < partitions) {
    PollResult polled;
    const absl::Status status = consumer->Poll(absl::Seconds(10), &polled);
    EXPECT_OK(status);
    if (!status.ok() || polled.kind == PollResult::kTimeout) break;
    if (polled.kind == PollResult::kEndOfPartition) {
      ++ended;
    } else {
      out.push_back(polled.message);
    }
  }
  return out;
}

TEST(KafkaClient, WhatIsSentIsReadBackInOrderPerPartitionByKey) {
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(1));
  ASSERT_OK(broker->CreateTopic("t", 3));
  ASSERT_OK_AND_ASSIGN(auto producer, Producer::Create(broker->bootstrap(), {}));
  for (int i = 0; i < 3000; ++i) {
    ASSERT_OK(producer->Send("t", -1, absl::StrCat("k", i % 17), absl::StrCat("v", i)));
  }
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  EXPECT_EQ(producer->delivered(), 3000);
  const std::vector<Message> read = ReadAll(broker->bootstrap(), "t", 3);
  ASSERT_EQ(read.size(), 3000u);
  std::map<std::string, int32_t> partition_of;
  std::map<std::string, int> last_of;  // Per key, values arrive in the order sent.
  for (const Message& m : read) {
    const auto [it, added] = partition_of.emplace(m.key, m.partition);
    EXPECT_EQ(it->second, m.partition) << "key " << m.key << " in two partitions";
    const int v = std::stoi(m.value.substr(1));
    EXPECT_EQ(v % 17, std::stoi(m.key.substr(1)));
    if (last_of.count(m.key) != 0) {
      EXPECT_GT(v, last_of[m.key]);
    }
    last_of[m.key] = v;
  }
  EXPECT_EQ(partition_of.size(), 17u);
  // murmur2 spreads 17 keys over all 3 partitions.
  std::set<int32_t> used;
  for (const auto& [key, p] : partition_of) used.insert(p);
  EXPECT_EQ(used.size(), 3u);
}

TEST(KafkaClient, InjectedProduceErrorsAndABrokerOutageLoseNothing) {
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(1));
  ASSERT_OK(broker->CreateTopic("t", 1));
  ASSERT_OK_AND_ASSIGN(auto producer, Producer::Create(broker->bootstrap(), {}));
  ASSERT_OK(producer->Send("t", 0, "k", "first"));
  ASSERT_OK(producer->Flush(absl::Seconds(10)));
  // NOT_ENOUGH_REPLICAS (19) is retriable: the idempotent producer retries without duplicates.
  ASSERT_OK(broker->Command("err 0 19 5"));
  for (int i = 0; i < 100; ++i) ASSERT_OK(producer->Send("t", 0, "k", absl::StrCat(i)));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  ASSERT_OK(broker->Command("down 1"));
  for (int i = 100; i < 200; ++i) ASSERT_OK(producer->Send("t", 0, "k", absl::StrCat(i)));
  EXPECT_FALSE(producer->Flush(absl::Milliseconds(500)).ok());  // Nowhere to go yet.
  ASSERT_OK(broker->Command("up 1"));
  ASSERT_OK(producer->Flush(absl::Seconds(30)));
  const std::vector<Message> read = ReadAll(broker->bootstrap(), "t", 1);
  ASSERT_EQ(read.size(), 201u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(read[static_cast<size_t>(i) + 1].value, absl::StrCat(i));
}

TEST(EmbeddedBroker, RefusesMalformedCommandsQuotingThem) {
  ASSERT_OK_AND_ASSIGN(auto broker, EmbeddedBroker::Start(2));
  for (const char* line :
       {"", "down", "down x", "err 0", "rtt 1 -5", "shutdown now", "topic t 0"}) {
    const absl::Status status = broker->Command(line);
    EXPECT_FALSE(status.ok()) << line;
    EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr(line));
  }
  EXPECT_OK(broker->Command("rtt 2 10"));
  EXPECT_OK(broker->Command("clear 0"));
  EXPECT_FALSE(ParseSetting("novalue").ok());
  EXPECT_EQ(ParseSetting("a=b=c").value(), (std::pair<std::string, std::string>{"a", "b=c"}));
}

TEST(KafkaClient, ABadSettingIsNamed) {
  const auto producer = Producer::Create("127.0.0.1:1", {{"no.such.setting", "1"}});
  ASSERT_FALSE(producer.ok());
  EXPECT_THAT(std::string(producer.status().message()), ::testing::HasSubstr("no.such.setting"));
}

}  // namespace
}  // namespace sluice::engine::kafka
