// engine/kafka/client.h. librdkafka behind absl::Status: a producer and a consumer of assigned
// partitions. The only headers of sluice that stand for librdkafka; its own header stays in the
// .cc files of this folder.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct rd_kafka_s;          // librdkafka's rd_kafka_t.
struct rd_kafka_message_s;  // rd_kafka_message_t.
struct rd_kafka_topic_s;    // rd_kafka_topic_t.
struct rd_kafka_queue_s;    // rd_kafka_queue_t.

namespace sluice::engine::kafka {

// librdkafka properties applied in order, a later one winning: sluice's defaults, then the
// user's `-X key=value` (TLS, SASL, timeouts...), as kcat does.
using Settings = std::vector<std::pair<std::string, std::string>>;

// "key=value" -> {key, value}; InvalidArgument naming `text` if there is no '=' or no key.
absl::StatusOr<std::pair<std::string, std::string>> ParseSetting(absl::string_view text);

// Sends messages; thread-safe. Delivery is asynchronous: errors of messages already handed to
// librdkafka come back from Flush().
class Producer {
 public:
  // `brokers`: a bootstrap list "host:port,...". InvalidArgument naming the setting librdkafka
  // refuses.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const std::string& brokers,
                                                          const Settings& settings);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues one message for `topic`: to `partition`, or (-1) to the partition of `key` under
  // the Java clients' murmur2 partitioner, so every client puts a key in the same partition.
  // While librdkafka's queue is full it waits, serving deliveries: back-pressure, never a drop.
  // An error here (unknown topic, oversized message) is immediate.
  absl::Status Send(absl::string_view topic, int32_t partition, absl::string_view key,
                    absl::string_view value);
  // Waits until every message sent is delivered or failed: the first failure (topic, partition
  // and librdkafka's reason), DeadlineExceeded if `timeout` passed first.
  absl::Status Flush(absl::Duration timeout);
  // Connects and learns where `topic`'s partitions are, so that the first Send() does not wait
  // for it (a paced producer would otherwise start with a burst). NotFound if it does not exist.
  absl::Status Prepare(const std::string& topic, absl::Duration timeout);
  // The offset the partition's next message will get, asked of its leader: after Flush(),
  // every message sent to it lies before.
  absl::StatusOr<int64_t> EndOffset(const std::string& topic, int32_t partition,
                                    absl::Duration timeout);
  // Kafka transactions, for a producer created with a `transactional.id` setting. Init fences
  // off an older producer with the same id and aborts what it left open; Begin starts a
  // transaction; Commit adds the consumer offsets `offsets` of `group` (the next offset to read
  // per topic partition) to it and commits everything sent since Begin with them. Errors name
  // the step; FailedPrecondition if another producer took over the id (fenced).
  struct Offset {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;
  };
  absl::Status InitTransactions(absl::Duration timeout);
  absl::Status BeginTransaction();
  absl::Status CommitTransaction(const std::vector<Offset>& offsets, const std::string& group,
                                 absl::Duration timeout);
  // Serves delivery reports for at most `timeout` (Send does too): a caller that waits for
  // queued() to fall without sending must call it, or the reports never come.
  void ServeDeliveries(absl::Duration timeout);
  // Messages handed to librdkafka and not yet delivered.
  int64_t queued() const;
  // How many it may hold (queue.buffering.max.messages); Send waits beyond.
  int64_t capacity() const { return capacity_; }
  int64_t delivered() const { return delivered_.load(); }

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);
  // The handle of `topic`, made once: naming the topic on every send costs a lookup under
  // librdkafka's lock.
  rd_kafka_topic_s* Topic(absl::string_view topic);
  rd_kafka_s* rk_ = nullptr;
  int64_t capacity_ = 100000;
  std::atomic<int64_t> delivered_{0};
  std::atomic<uint64_t> sent_{0};
  absl::Mutex topics_mu_;
  absl::flat_hash_map<std::string, rd_kafka_topic_s*> topics_ ABSL_GUARDED_BY(topics_mu_);
  absl::Mutex mu_;
  absl::Status first_failure_ ABSL_GUARDED_BY(mu_);
};

// One message read from a partition.
struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  int64_t timestamp_ms = -1;  // CreateTime, -1 if none.
};

// What Consumer::Poll saw.
struct PollResult {
  enum Kind { kMessage, kTimeout, kEndOfPartition } kind = kTimeout;
  Message message;  // kMessage: the message; kEndOfPartition: topic, partition and offset.
};

// Reads the partitions it is assigned (no group rebalancing: the caller owns the assignment).
// Not thread-safe.
class Consumer {
 public:
  struct Assignment {
    std::string topic;
    int32_t partition = 0;
    int64_t offset = 0;  // The first offset to read; kBeginning for the oldest retained.
  };
  static constexpr int64_t kBeginning = -2;

  // `group`: the group id its offsets are committed under.
  static absl::StatusOr<std::unique_ptr<Consumer>> Create(const std::string& brokers,
                                                          const std::string& group,
                                                          const Settings& settings);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  absl::Status Assign(const std::vector<Assignment>& partitions);
  // Waits at most `timeout` for the next message or the end of a partition (reported once each
  // time a partition's end is reached). librdkafka retries through broker outages and leader
  // moves: such errors count as a timeout; only a fatal one is returned (Internal, naming
  // topic and partition).
  // The message's fields are assigned into *result's strings, so a caller that passes the same
  // PollResult every time reuses their buffers.
  absl::Status Poll(absl::Duration timeout, PollResult* result);
  // The offsets the consumer's group committed for `partitions` (their offset fields are
  // ignored); kNone for a partition without one.
  static constexpr int64_t kNone = -1001;
  absl::StatusOr<std::vector<Assignment>> Committed(std::vector<Assignment> partitions,
                                                    absl::Duration timeout);

 private:
  Consumer() = default;
  rd_kafka_s* rk_ = nullptr;
};

// Membership of a consumer group, for the assignment alone: which partitions of one topic
// this process runs. The partitions it is given are paused at once (their data is read through
// a Fetcher, from the positions of their checkpoints), so it fetches nothing itself. Its
// callbacks run inside Poll() and Leave(), on the caller's thread: a revoked partition is handed
// over only when Revoked() returns (after its checkpoint), an assigned one is started by
// Assigned(). Not thread-safe.
class GroupMember {
 public:
  enum class Protocol {
    kCooperative,  // cooperative-sticky: a rebalance moves only the partitions that must move.
    kEager,        // range,roundrobin: every member gives up all its partitions first.
  };
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void Assigned(const std::vector<int32_t>& partitions) = 0;
    virtual void Revoked(const std::vector<int32_t>& partitions) = 0;
  };
  // Joins `group` (the same group id as the offsets) on `topic`. The defaults before
  // `settings`: a session of 10 s (a killed member's partitions move after that long) and a
  // heartbeat every 0.5 s (how soon a member hears of a rebalance).
  static absl::StatusOr<std::unique_ptr<GroupMember>> Create(const std::string& brokers,
                                                             const std::string& group,
                                                             const Settings& settings,
                                                             const std::string& topic,
                                                             Protocol protocol);
  // Closes without callbacks if Leave() was not called.
  ~GroupMember();
  GroupMember(const GroupMember&) = delete;
  GroupMember& operator=(const GroupMember&) = delete;

  // Serves the group for at most `timeout`: heartbeats, and any rebalance through `listener`.
  // Must be called more often than max.poll.interval.ms. Internal if the client failed fatally.
  absl::Status Poll(absl::Duration timeout, Listener& listener);
  // Leaves the group: the partitions held are revoked through `listener` first.
  void Leave(Listener& listener);

 private:
  friend struct GroupCallbacks;  // librdkafka's rebalance callback, in client.cc.
  GroupMember() = default;
  rd_kafka_s* rk_ = nullptr;
  std::string topic_;
  Listener* listener_ = nullptr;  // Set during Poll() and Leave().
  absl::Status failure_;
};

// Reads many partitions through one client, each into a queue of its own that one thread polls:
// one connection and one fetch request per broker for all of them, instead of a client (and its
// threads) per partition. Partitions are given explicitly, as with Consumer; offsets are the
// caller's (never committed from here). Thread-safe; outlives its partitions.
class Fetcher {
 public:
  // `group` is not used: offsets are the caller's, and its client joins no group.
  static absl::StatusOr<std::unique_ptr<Fetcher>> Create(const std::string& brokers,
                                                         const std::string& group,
                                                         const Settings& settings);
  ~Fetcher();
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // One partition being read. Not thread-safe: one reader.
  class Partition {
   public:
    ~Partition();
    Partition(const Partition&) = delete;
    Partition& operator=(const Partition&) = delete;
    // As Consumer::Poll, for this partition.
    absl::Status Poll(absl::Duration timeout, PollResult* result);
    // Reads from `offset` next (Consumer::kBeginning: the oldest retained); what was fetched
    // before is dropped.
    absl::Status Seek(int64_t offset);
    // Stops (true) or resumes (false) fetching; what was fetched already is still delivered.
    absl::Status Pause(bool paused);
    // The high watermark as of the last fetch (no request); -1 if none yet.
    int64_t CachedHighWatermark() const;

   private:
    friend class Fetcher;
    Partition(rd_kafka_s* rk, rd_kafka_topic_s* rkt, std::string topic, int32_t partition);
    absl::Status Start(int64_t offset);
    rd_kafka_s* rk_;
    rd_kafka_topic_s* rkt_;
    std::string topic_;
    int32_t partition_;
    rd_kafka_queue_s* queue_ = nullptr;
    bool started_ = false;
  };
  // Starts reading `topic`/`partition` from `offset` (Consumer::kBeginning: the oldest).
  absl::StatusOr<std::unique_ptr<Partition>> Start(const std::string& topic, int32_t partition,
                                                   int64_t offset);

 private:
  Fetcher() = default;
  rd_kafka_s* rk_ = nullptr;
};

// The number of partitions of `topic`, from the cluster's metadata (NotFound if it does not
// exist).
absl::StatusOr<int32_t> PartitionCount(const std::string& brokers, const Settings& settings,
                                       const std::string& topic, absl::Duration timeout);

// The cluster's id; librdkafka's mock cluster (the embedded broker, `sluice broker`) names
// itself "mockCluster...".
absl::StatusOr<std::string> ClusterId(const std::string& brokers, const Settings& settings,
                                      absl::Duration timeout);
bool IsMockClusterId(absl::string_view id);

// What every client of librdkafka's mock cluster needs, before the user's settings:
// - one produce request in flight at a time. The mock checks no sequence numbers, so after a
//   request fails a later one can be written; librdkafka, trusting the broker to keep order,
//   then counts the failed request's messages as written, and they are lost (measured: 3 of
//   4,002 under injected errors, with 5 in flight);
// - a fetch wait of 2 ms. The mock answers a fetch that found nothing only when the wait is
//   over, even if data came meanwhile (a real broker answers at once): the wait is latency.
Settings MockClusterSettings();
// `settings`, preceded by MockClusterSettings() when the cluster at `brokers` is the mock: what
// its clients are made with. Its id goes to *cluster_id (may be null).
absl::StatusOr<Settings> ClusterSettings(const std::string& brokers, const Settings& settings,
                                         std::string* cluster_id);

// Creates `topic` with `partitions` partitions and the cluster's default replication, unless it
// exists (AlreadyExists is success). Unavailable, with the broker's reason, if it cannot.
// `configs`: the topic's own settings (cleanup.policy=compact...).
absl::Status CreateTopic(const std::string& brokers, const Settings& settings,
                         const std::string& topic, int32_t partitions, absl::Duration timeout,
                         const Settings& configs = {});

}  // namespace sluice::engine::kafka
