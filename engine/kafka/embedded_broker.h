// engine/kafka/embedded_broker.h. A Kafka-protocol cluster inside this process: librdkafka's
// mock cluster, for `sluice live` without Kafka, `sluice broker` and tests. It speaks the
// protocol on 127.0.0.1, so any client (kcat, kafkajs) can use it, but it keeps data in memory
// only (about 5 MiB per partition), does not store transactional offsets and shows aborted
// transactional data (../shared/reference/kafka-testing.md).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace sluice::engine::kafka {

// Thread-safe (the cluster runs on its own thread).
class EmbeddedBroker {
 public:
  // `brokers` brokers (ids 1..N) on ephemeral loopback ports. Topics not created explicitly are
  // created on first use with 4 partitions.
  static absl::StatusOr<std::unique_ptr<EmbeddedBroker>> Start(int brokers);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "127.0.0.1:port,...": what clients use as bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  // Creates `topic` with `partitions` partitions (replication min(3, brokers)).
  absl::Status CreateTopic(const std::string& topic, int partitions);

  // One fault command (kafka-testing.md):
  //   down B | up B            broker B drops and refuses connections, or serves again
  //   rtt B MS                 every response of broker B (-1: all) is delayed MS ms
  //   err API CODE [N]         the next N (1) requests of API key API fail with error CODE
  //   clear API                forget the errors queued for API
  //   topic NAME PARTITIONS    create a topic
  // InvalidArgument, quoting the line, for anything else.
  absl::Status Command(absl::string_view line);

 private:
  EmbeddedBroker() = default;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  int brokers_ = 0;
  std::string bootstrap_;
};

}  // namespace sluice::engine::kafka
