// engine/kafka/embedded_broker.cc
#include "engine/kafka/embedded_broker.h"

// clang-format off
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>  // Must follow rdkafka.h.
// clang-format on

#include <cstdint>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sluice::engine::kafka {

absl::StatusOr<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(int brokers) {
  if (brokers < 1 || brokers > 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("embedded broker: 1 to 16 brokers, got ", brokers));
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster: without this it warns that it has no bootstrap servers.
  rd_kafka_conf_set(conf, "log_level", "3", error, sizeof(error));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(absl::StrCat("embedded broker: ", error));
  }
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->rk_ = rk;
  broker->cluster_ = rd_kafka_mock_cluster_new(rk, brokers);
  if (broker->cluster_ == nullptr) {
    return absl::InternalError("embedded broker: the mock cluster did not start");
  }
  broker->brokers_ = brokers;
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

absl::Status EmbeddedBroker::CreateTopic(const std::string& topic, int partitions) {
  if (partitions < 1 || partitions > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("topic ", topic, ": 1 to 1024 partitions, got ", partitions));
  }
  const rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, std::min(3, brokers_));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(absl::StrCat("topic ", topic, ": ", rd_kafka_err2str(err)));
  }
  return absl::OkStatus();
}

absl::Status EmbeddedBroker::Command(absl::string_view line) {
  const std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipWhitespace());
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("broker command \"", line, "\": ", why));
  };
  const auto number = [](const std::string& word, int64_t* out) {
    return absl::SimpleAtoi(word, out);
  };
  int64_t a = 0, b = 0, n = 1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (words.size() == 2 && (words[0] == "down" || words[0] == "up") && number(words[1], &a)) {
    err = words[0] == "down" ? rd_kafka_mock_broker_set_down(cluster_, static_cast<int32_t>(a))
                             : rd_kafka_mock_broker_set_up(cluster_, static_cast<int32_t>(a));
  } else if (words.size() == 3 && words[0] == "rtt" && number(words[1], &a) &&
             number(words[2], &b) && b >= 0) {
    err = rd_kafka_mock_broker_set_rtt(cluster_, static_cast<int32_t>(a), static_cast<int>(b));
  } else if ((words.size() == 3 || words.size() == 4) && words[0] == "err" &&
             number(words[1], &a) && number(words[2], &b) &&
             (words.size() == 3 || (number(words[3], &n) && n >= 1 && n <= 100000))) {
    const std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(n),
                                                  static_cast<rd_kafka_resp_err_t>(b));
    rd_kafka_mock_push_request_errors_array(cluster_, static_cast<int16_t>(a), errors.size(),
                                            errors.data());
  } else if (words.size() == 2 && words[0] == "clear" && number(words[1], &a)) {
    rd_kafka_mock_clear_request_errors(cluster_, static_cast<int16_t>(a));
  } else if (words.size() == 3 && words[0] == "topic" && number(words[2], &a)) {
    const absl::Status created = CreateTopic(words[1], static_cast<int>(a));
    return created.ok() ? created : bad(created.message());
  } else {
    return bad(
        "expected down B | up B | rtt B MS | err API CODE [N] | clear API | topic NAME PARTITIONS");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return bad(rd_kafka_err2str(err));
  return absl::OkStatus();
}

}  // namespace sluice::engine::kafka
