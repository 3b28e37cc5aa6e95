// engine/kafka/client.cc
#include "engine/kafka/client.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace sluice::engine::kafka {
namespace {

int TimeoutMs(absl::Duration timeout) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(timeout), 0, 1 << 30));
}

// A configuration with sluice's defaults and then the user's settings. InvalidArgument naming
// the setting librdkafka refuses.
absl::StatusOr<rd_kafka_conf_t*> MakeConf(const std::string& brokers, const Settings& defaults,
                                          const Settings& settings) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  const auto set = [&](const std::string& key, const std::string& value) -> absl::Status {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka setting ", key, "=", value, ": ", error));
    }
    return absl::OkStatus();
  };
  absl::Status status = set("bootstrap.servers", brokers);
  for (const Settings* list : {&defaults, &settings}) {
    for (const auto& [key, value] : *list) {
      if (status.ok()) status = set(key, value);
    }
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  return conf;
}

absl::StatusOr<rd_kafka_t*> MakeHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes it only on success.
    return absl::InvalidArgumentError(absl::StrCat("kafka client: ", error));
  }
  return rk;
}

// The number of partitions of `topic`, asked of the cluster through `rk` (which then knows
// their leaders). NotFound if it does not exist.
absl::StatusOr<int32_t> TopicPartitions(rd_kafka_t* rk, const std::string& topic,
                                        absl::Duration timeout) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &metadata, TimeoutMs(timeout));
  absl::StatusOr<int32_t> count;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = absl::UnavailableError(
        absl::StrCat("kafka metadata of ", topic, ": ", rd_kafka_err2str(err)));
  } else if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = absl::NotFoundError(absl::StrCat(
        "kafka topic ", topic, ": ",
        metadata->topic_cnt == 1 ? rd_kafka_err2str(metadata->topics[0].err) : "no metadata"));
  } else {
    count = metadata->topics[0].partition_cnt;
  }
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(rkt);
  return count;
}

std::string Where(const rd_kafka_message_t* m) {
  const char* topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "?";
  return absl::StrCat(topic, "/", m->partition, " offset ", m->offset);
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> ParseSetting(absl::string_view text) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka setting \"", text, "\": expected key=value"));
  }
  return std::make_pair(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

absl::StatusOr<std::unique_ptr<Producer>> Producer::Create(const std::string& brokers,
                                                           const Settings& settings) {
  // Idempotent (no duplicates or reordering on retries), Java's key partitioner, batches of up
  // to 10,000 messages after at most 1 ms (more gather while a request is in flight); quiet
  // unless something is wrong.
  const Settings defaults = {{"enable.idempotence", "true"},
                             {"partitioner", "murmur2_random"},
                             {"linger.ms", "1"},
                             {"batch.num.messages", "10000"},
                             {"log_level", "3"}};
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(brokers, defaults, settings));
  std::unique_ptr<Producer> producer(new Producer());
  rd_kafka_conf_set_opaque(conf, producer.get());
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::OnDelivery);
  char value[64];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(conf, "queue.buffering.max.messages", value, &size) == RD_KAFKA_CONF_OK) {
    producer->capacity_ = std::max<int64_t>(std::strtoll(value, nullptr, 10), 1);
  }
  SLUICE_ASSIGN_OR_RETURN(producer->rk_, MakeHandle(RD_KAFKA_PRODUCER, conf));
  return producer;
}

Producer::~Producer() {
  if (rk_ == nullptr) return;
  rd_kafka_flush(rk_, 10000);  // What is still queued gets its chance; Flush() reports errors.
  {
    absl::MutexLock lock(&topics_mu_);
    for (const auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
  }
  rd_kafka_destroy(rk_);
}

rd_kafka_topic_t* Producer::Topic(absl::string_view topic) {
  absl::MutexLock lock(&topics_mu_);
  if (const auto it = topics_.find(topic); it != topics_.end()) return it->second;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, std::string(topic).c_str(), nullptr);
  if (rkt != nullptr) topics_.emplace(topic, rkt);
  return rkt;
}

void Producer::OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++self->delivered_;
  } else {
    absl::MutexLock lock(&self->mu_);
    if (self->first_failure_.ok()) {
      self->first_failure_ = absl::UnavailableError(absl::StrCat(
          "kafka delivery to ", Where(message), " failed: ", rd_kafka_err2str(message->err)));
    }
  }
}

absl::Status Producer::Send(absl::string_view topic, int32_t partition, absl::string_view key,
                            absl::string_view value) {
  rd_kafka_topic_t* rkt = Topic(topic);
  if (rkt == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka produce to ", topic, ": ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  while (true) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_RKT(rkt),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka produce to ", topic, ": ", rd_kafka_err2str(err)));
    }
    rd_kafka_poll(rk_, 10);  // Full: deliveries make room.
  }
  // Delivery reports are served in bunches: each poll takes librdkafka's queue lock. queued()
  // counts the reports not served yet, so back-pressure still sees them.
  if ((sent_.fetch_add(1, std::memory_order_relaxed) & 31) == 0) rd_kafka_poll(rk_, 0);
  return absl::OkStatus();
}

absl::Status Producer::Prepare(const std::string& topic, absl::Duration timeout) {
  return TopicPartitions(rk_, topic, timeout).status();
}

absl::StatusOr<int64_t> Producer::EndOffset(const std::string& topic, int32_t partition,
                                            absl::Duration timeout) {
  int64_t low = 0, high = 0;
  const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition,
                                                                   &low, &high, TimeoutMs(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        absl::StrCat("kafka: the end of ", topic, "/", partition, ": ", rd_kafka_err2str(err)));
  }
  return high;
}

absl::Status Producer::Flush(absl::Duration timeout) {
  const rd_kafka_resp_err_t err = rd_kafka_flush(rk_, TimeoutMs(timeout));
  {
    absl::MutexLock lock(&mu_);
    if (!first_failure_.ok()) return first_failure_;
  }
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::DeadlineExceededError(absl::StrCat("kafka: ", rd_kafka_outq_len(rk_),
                                                    " messages still undelivered after ",
                                                    absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

int64_t Producer::queued() const { return rd_kafka_outq_len(rk_); }

void Producer::ServeDeliveries(absl::Duration timeout) { rd_kafka_poll(rk_, TimeoutMs(timeout)); }

namespace {

// OK, or the error of a transactional call: which step, librdkafka's reason, and whether the
// producer was fenced by a newer one with its transactional.id.
absl::Status TransactionStatus(rd_kafka_error_t* error, absl::string_view step) {
  if (error == nullptr) return absl::OkStatus();
  const std::string message =
      absl::StrCat("kafka transaction: ", step, ": ", rd_kafka_error_string(error));
  const bool fenced = rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__FENCED ||
                      rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED;
  rd_kafka_error_destroy(error);
  return fenced ? absl::FailedPreconditionError(
                      absl::StrCat(message, " (another process took over this partition)"))
                : absl::UnavailableError(message);
}

}  // namespace

absl::Status Producer::InitTransactions(absl::Duration timeout) {
  return TransactionStatus(rd_kafka_init_transactions(rk_, TimeoutMs(timeout)), "init");
}

absl::Status Producer::BeginTransaction() {
  return TransactionStatus(rd_kafka_begin_transaction(rk_), "begin");
}

absl::Status Producer::CommitTransaction(const std::vector<Offset>& offsets,
                                         const std::string& group, absl::Duration timeout) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (const Offset& o : offsets) {
    rd_kafka_topic_partition_list_add(list, o.topic.c_str(), o.partition)->offset = o.offset;
  }
  rd_kafka_consumer_group_metadata_t* metadata =
      rd_kafka_consumer_group_metadata_new(group.c_str());
  absl::Status status = TransactionStatus(
      rd_kafka_send_offsets_to_transaction(rk_, list, metadata, TimeoutMs(timeout)),
      "send offsets");
  rd_kafka_consumer_group_metadata_destroy(metadata);
  rd_kafka_topic_partition_list_destroy(list);
  if (status.ok()) {
    status = TransactionStatus(rd_kafka_commit_transaction(rk_, TimeoutMs(timeout)), "commit");
  }
  absl::MutexLock lock(&mu_);
  if (!first_failure_.ok()) return first_failure_;
  return status;
}

namespace {

// Offsets are committed by the caller, never automatically; the end of a partition is reported
// (a run that stops there, a label feed that has caught up); only committed data is read from a
// transactional producer.
Settings ConsumerDefaults(const std::string& group) {
  return {{"group.id", group},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"enable.partition.eof", "true"},
          {"auto.offset.reset", "earliest"},
          {"isolation.level", "read_committed"},
          // A fetch waits at most 5 ms for data: live latency, not batching.
          {"fetch.wait.max.ms", "5"},
          {"log_level", "3"}};
}

// Learns where `topic`'s partitions lead: assigned without it, librdkafka retries its first
// offset query only after half a second.
void LearnLeaders(rd_kafka_t* rk, const std::string& topic) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(rk, 0, rkt, &metadata, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(rkt);
}

// Turns what a poll returned (it may be null: nothing came) into *result and releases it.
absl::Status TakePolled(rd_kafka_t* rk, rd_kafka_message_t* m, PollResult* result) {
  result->kind = PollResult::kTimeout;
  if (m == nullptr) return absl::OkStatus();
  const auto release = [m] { rd_kafka_message_destroy(m); };
  Message& message = result->message;
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    result->kind = PollResult::kEndOfPartition;
  } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // librdkafka recovers from consumer errors by itself (a broker away, a leader moving): they
    // are news, not the end, unless the client says it cannot go on.
    const std::string error =
        absl::StrCat("kafka consumer at ", Where(m), ": ", rd_kafka_message_errstr(m));
    release();
    char fatal[512];
    if (rd_kafka_fatal_error(rk, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::InternalError(absl::StrCat(error, " (fatal: ", fatal, ")"));
    }
    return absl::OkStatus();
  } else {
    // assign() keeps the strings' buffers: a reader that reuses its PollResult allocates nothing.
    result->kind = PollResult::kMessage;
    message.key.assign(m->key != nullptr ? static_cast<const char*>(m->key) : "",
                       m->key != nullptr ? m->key_len : 0);
    message.value.assign(m->payload != nullptr ? static_cast<const char*>(m->payload) : "",
                         m->payload != nullptr ? m->len : 0);
    rd_kafka_timestamp_type_t type;
    message.timestamp_ms = rd_kafka_message_timestamp(m, &type);
  }
  message.topic = m->rkt != nullptr ? rd_kafka_topic_name(m->rkt) : "";
  message.partition = m->partition;
  message.offset = m->offset;
  release();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::Create(const std::string& brokers,
                                                           const std::string& group,
                                                           const Settings& settings) {
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeConf(brokers, ConsumerDefaults(group), settings));
  std::unique_ptr<Consumer> consumer(new Consumer());
  SLUICE_ASSIGN_OR_RETURN(consumer->rk_, MakeHandle(RD_KAFKA_CONSUMER, conf));
  rd_kafka_poll_set_consumer(consumer->rk_);
  return consumer;
}

Consumer::~Consumer() {
  if (rk_ == nullptr) return;
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

absl::Status Consumer::Assign(const std::vector<Assignment>& partitions) {
  for (const Assignment& a : partitions) LearnLeaders(rk_, a.topic);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const Assignment& a : partitions) {
    rd_kafka_topic_partition_list_add(list, a.topic.c_str(), a.partition)->offset = a.offset;
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("kafka assign: ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status Consumer::Poll(absl::Duration timeout, PollResult* result) {
  return TakePolled(rk_, rd_kafka_consumer_poll(rk_, TimeoutMs(timeout)), result);
}

absl::StatusOr<std::vector<Consumer::Assignment>> Consumer::Committed(
    std::vector<Assignment> partitions, absl::Duration timeout) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const Assignment& a : partitions) {
    rd_kafka_topic_partition_list_add(list, a.topic.c_str(), a.partition);
  }
  // A broker that has just started answers "not coordinator" or "loading" for a while.
  const absl::Time deadline = absl::Now() + timeout;
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_committed(rk_, list, TimeoutMs(deadline - absl::Now()))) !=
             RD_KAFKA_RESP_ERR_NO_ERROR &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_partition_list_destroy(list);
    return absl::UnavailableError(
        absl::StrCat("kafka: the group's committed offsets: ", rd_kafka_err2str(err)));
  }
  for (int i = 0; i < list->cnt; ++i) {
    partitions[static_cast<size_t>(i)].offset =
        list->elems[i].offset < 0 ? kNone : list->elems[i].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  return partitions;
}

absl::StatusOr<std::unique_ptr<Fetcher>> Fetcher::Create(const std::string& brokers,
                                                         const std::string& group,
                                                         const Settings& settings) {
  // Without the group id: with one, librdkafka ties each started partition to the group's
  // offset handling and unties it asynchronously at a stop, so a partition the group gives back
  // to this process, started again at once, failed an assertion in librdkafka (abort). The
  // Fetcher commits nothing anyway.
  Settings defaults = ConsumerDefaults(group);
  std::erase_if(defaults, [](const auto& setting) { return setting.first == "group.id"; });
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(brokers, defaults, settings));
  std::unique_ptr<Fetcher> fetcher(new Fetcher());
  SLUICE_ASSIGN_OR_RETURN(fetcher->rk_, MakeHandle(RD_KAFKA_CONSUMER, conf));
  return fetcher;
}

Fetcher::~Fetcher() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

absl::StatusOr<std::unique_ptr<Fetcher::Partition>> Fetcher::Start(const std::string& topic,
                                                                   int32_t partition,
                                                                   int64_t offset) {
  LearnLeaders(rk_, topic);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  if (rkt == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("kafka topic ", topic, ": ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  std::unique_ptr<Partition> p(new Partition(rk_, rkt, topic, partition));
  SLUICE_RETURN_IF_ERROR(p->Start(offset));
  return p;
}

Fetcher::Partition::Partition(rd_kafka_t* rk, rd_kafka_topic_t* rkt, std::string topic,
                              int32_t partition)
    : rk_(rk),
      rkt_(rkt),
      topic_(std::move(topic)),
      partition_(partition),
      queue_(rd_kafka_queue_new(rk)) {}

Fetcher::Partition::~Partition() {
  if (started_) rd_kafka_consume_stop(rkt_, partition_);
  rd_kafka_queue_destroy(queue_);
  rd_kafka_topic_destroy(rkt_);
}

// The legacy consumer's start: the partition's messages go to queue_ and nowhere else, whatever
// else the client reads (the group consumer's assign() would route them to one shared queue).
absl::Status Fetcher::Partition::Start(int64_t offset) {
  if (rd_kafka_consume_start_queue(rkt_, partition_, offset, queue_) != 0) {
    return absl::InternalError(absl::StrCat("kafka: reading ", topic_, "/", partition_,
                                            " from offset ", offset, ": ",
                                            rd_kafka_err2str(rd_kafka_last_error())));
  }
  started_ = true;
  return absl::OkStatus();
}

absl::Status Fetcher::Partition::Poll(absl::Duration timeout, PollResult* result) {
  return TakePolled(rk_, rd_kafka_consume_queue(queue_, TimeoutMs(timeout)), result);
}

absl::Status Fetcher::Partition::Seek(int64_t offset) {
  // Stopping drops what was fetched from the old position; messages of it still on their way
  // carry an older version and are discarded.
  if (started_ && rd_kafka_consume_stop(rkt_, partition_) != 0) {
    return absl::InternalError(absl::StrCat("kafka: stopping ", topic_, "/", partition_, ": ",
                                            rd_kafka_err2str(rd_kafka_last_error())));
  }
  started_ = false;
  return Start(offset);
}

absl::Status Fetcher::Partition::Pause(bool paused) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic_.c_str(), partition_);
  const rd_kafka_resp_err_t err =
      paused ? rd_kafka_pause_partitions(rk_, list) : rd_kafka_resume_partitions(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("kafka ", paused ? "pause" : "resume", " of ", topic_,
                                            "/", partition_, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

int64_t Fetcher::Partition::CachedHighWatermark() const {
  int64_t low = -1, high = -1;
  if (rd_kafka_get_watermark_offsets(rk_, topic_.c_str(), partition_, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return high;
}

// The rebalance callback: librdkafka calls it inside poll() and close() with the partitions
// to take or give up; the member's listener acts first, then the assignment changes.
struct GroupCallbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* list, void* opaque) {
    auto* member = static_cast<GroupMember*>(opaque);
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    std::vector<int32_t> partitions;
    for (int i = 0; i < list->cnt; ++i) partitions.push_back(list->elems[i].partition);
    std::sort(partitions.begin(), partitions.end());
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // Paused before anything is fetched: the data comes through the Fetcher.
      Check(member,
            cooperative ? ErrorCode(rd_kafka_incremental_assign(rk, list))
                        : rd_kafka_assign(rk, list),
            "assign");
      rd_kafka_pause_partitions(rk, list);
      if (member->listener_ != nullptr && !partitions.empty()) {
        member->listener_->Assigned(partitions);
      }
    } else {
      // Checkpointed (and its transaction committed) before another member may take it.
      if (member->listener_ != nullptr && !partitions.empty()) {
        member->listener_->Revoked(partitions);
      }
      Check(member,
            cooperative ? ErrorCode(rd_kafka_incremental_unassign(rk, list))
                        : rd_kafka_assign(rk, nullptr),
            "unassign");
    }
  }

 private:
  // The error of an rd_kafka_error_t, which it frees.
  static rd_kafka_resp_err_t ErrorCode(rd_kafka_error_t* error) {
    if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const rd_kafka_resp_err_t err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return err;
  }
  static void Check(GroupMember* member, rd_kafka_resp_err_t err, absl::string_view step) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && member->failure_.ok()) {
      member->failure_ = absl::InternalError(
          absl::StrCat("kafka group ", step, " of ", member->topic_, ": ", rd_kafka_err2str(err)));
    }
  }
};

absl::StatusOr<std::unique_ptr<GroupMember>> GroupMember::Create(const std::string& brokers,
                                                                 const std::string& group,
                                                                 const Settings& settings,
                                                                 const std::string& topic,
                                                                 Protocol protocol) {
  Settings defaults = ConsumerDefaults(group);
  defaults.emplace_back("session.timeout.ms", "10000");
  // A member learns of a rebalance at its next heartbeat: with cooperative rebalancing a
  // partition moves in two rounds, so this, not the checkpoint, set how long a move took
  // (measured: ~3.4 s with librdkafka's default of 3 s, ~1.2 s with 0.5 s, see README).
  defaults.emplace_back("heartbeat.interval.ms", "200");
  defaults.emplace_back("enable.partition.eof", "false");
  defaults.emplace_back("partition.assignment.strategy", protocol == Protocol::kCooperative
                                                             ? "cooperative-sticky"
                                                             : "range,roundrobin");
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf, MakeConf(brokers, defaults, settings));
  std::unique_ptr<GroupMember> member(new GroupMember());
  member->topic_ = topic;
  rd_kafka_conf_set_rebalance_cb(conf, GroupCallbacks::Rebalance);
  rd_kafka_conf_set_opaque(conf, member.get());
  SLUICE_ASSIGN_OR_RETURN(member->rk_, MakeHandle(RD_KAFKA_CONSUMER, conf));
  rd_kafka_poll_set_consumer(member->rk_);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(member->rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(
        absl::StrCat("kafka: joining group ", group, " on ", topic, ": ", rd_kafka_err2str(err)));
  }
  return member;
}

GroupMember::~GroupMember() {
  if (rk_ == nullptr) return;
  listener_ = nullptr;
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

absl::Status GroupMember::Poll(absl::Duration timeout, Listener& listener) {
  listener_ = &listener;
  // Nothing is fetched (every partition is paused); a message fetched in the instant before
  // the pause is dropped, as the Fetcher reads it too.
  const absl::Time deadline = absl::Now() + timeout;
  do {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, TimeoutMs(deadline - absl::Now()));
    if (m != nullptr) rd_kafka_message_destroy(m);
  } while (absl::Now() < deadline && failure_.ok());
  listener_ = nullptr;
  char fatal[512];
  if (failure_.ok() &&
      rd_kafka_fatal_error(rk_, fatal, sizeof(fatal)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure_ = absl::InternalError(absl::StrCat("kafka group member: ", fatal));
  }
  return failure_;
}

void GroupMember::Leave(Listener& listener) {
  listener_ = &listener;
  rd_kafka_consumer_close(rk_);  // Revokes what it holds through the callback.
  listener_ = nullptr;
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

absl::StatusOr<int32_t> PartitionCount(const std::string& brokers, const Settings& settings,
                                       const std::string& topic, absl::Duration timeout) {
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeConf(brokers, {{"log_level", "3"}}, settings));
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_t * rk, MakeHandle(RD_KAFKA_PRODUCER, conf));
  absl::StatusOr<int32_t> count = TopicPartitions(rk, topic, timeout);
  rd_kafka_destroy(rk);
  if (absl::IsUnavailable(count.status())) {
    return absl::UnavailableError(absl::StrCat(count.status().message(), " (from ", brokers, ")"));
  }
  return count;
}

absl::StatusOr<std::string> ClusterId(const std::string& brokers, const Settings& settings,
                                      absl::Duration timeout) {
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeConf(brokers, {{"log_level", "3"}}, settings));
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_t * rk, MakeHandle(RD_KAFKA_PRODUCER, conf));
  char* id = rd_kafka_clusterid(rk, TimeoutMs(timeout));
  absl::StatusOr<std::string> result =
      id != nullptr ? absl::StatusOr<std::string>(id)
                    : absl::UnavailableError(absl::StrCat("kafka: no answer from ", brokers,
                                                          " within ", absl::FormatDuration(timeout),
                                                          " (is a broker running there?)"));
  if (id != nullptr) rd_kafka_mem_free(rk, id);
  rd_kafka_destroy(rk);
  return result;
}

bool IsMockClusterId(absl::string_view id) { return absl::StartsWith(id, "mockCluster"); }

Settings MockClusterSettings() {
  return {{"max.in.flight.requests.per.connection", "1"}, {"fetch.wait.max.ms", "2"}};
}

absl::StatusOr<Settings> ClusterSettings(const std::string& brokers, const Settings& settings,
                                         std::string* cluster_id) {
  SLUICE_ASSIGN_OR_RETURN(const std::string id, ClusterId(brokers, settings, absl::Seconds(30)));
  Settings all;
  if (IsMockClusterId(id)) all = MockClusterSettings();
  all.insert(all.end(), settings.begin(), settings.end());
  if (cluster_id != nullptr) *cluster_id = id;
  return all;
}

absl::Status CreateTopic(const std::string& brokers, const Settings& settings,
                         const std::string& topic, int32_t partitions, absl::Duration timeout,
                         const Settings& configs) {
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_conf_t * conf,
                          MakeConf(brokers, {{"log_level", "3"}}, settings));
  SLUICE_ASSIGN_OR_RETURN(rd_kafka_t * rk, MakeHandle(RD_KAFKA_PRODUCER, conf));
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, -1, error, sizeof(error));
  absl::Status status;
  if (new_topic == nullptr) {
    status = absl::InvalidArgumentError(absl::StrCat("kafka topic ", topic, ": ", error));
  } else {
    for (const auto& [key, value] : configs) {
      rd_kafka_NewTopic_set_config(new_topic, key.c_str(), value.c_str());
    }
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
    rd_kafka_AdminOptions_set_operation_timeout(options, TimeoutMs(timeout), nullptr, 0);
    rd_kafka_CreateTopics(rk, &new_topic, 1, options, queue);
    rd_kafka_event_t* event = rd_kafka_queue_poll(queue, TimeoutMs(timeout) + 1000);
    status = absl::UnavailableError(absl::StrCat("kafka: creating topic ", topic, ": no answer"));
    if (event != nullptr) {
      rd_kafka_resp_err_t err = rd_kafka_event_error(event);
      std::string reason =
          err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_event_error_string(event) : "";
      size_t count = 0;
      const rd_kafka_CreateTopics_result_t* result = rd_kafka_event_CreateTopics_result(event);
      const rd_kafka_topic_result_t** topics =
          result != nullptr ? rd_kafka_CreateTopics_result_topics(result, &count) : nullptr;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && count == 1) {
        err = rd_kafka_topic_result_error(topics[0]);
        if (const char* message = rd_kafka_topic_result_error_string(topics[0]); message) {
          reason = message;
        }
      }
      status =
          err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
              ? absl::OkStatus()
              : absl::UnavailableError(absl::StrCat("kafka: creating topic ", topic, ": ", reason));
      rd_kafka_event_destroy(event);
    }
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    rd_kafka_NewTopic_destroy(new_topic);
  }
  rd_kafka_destroy(rk);
  return status;
}

}  // namespace sluice::engine::kafka
