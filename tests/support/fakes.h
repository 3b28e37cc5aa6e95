// tests/support/fakes.h. In-memory stand-ins for the engine's seams: a Source over a vector of
// events and a PredictionSink that keeps what it is given (STYLE.md section 6).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/event.h"
#include "engine/source.h"
#include "engine/stream_runner.h"

namespace sluice::testing {

// Yields `events` in order (their `row` is set to their index), then the end.
class VectorSource final : public engine::Source {
 public:
  VectorSource(std::vector<std::string> features, std::vector<core::Event> events)
      : features_(std::move(features)), events_(std::move(events)) {
    for (size_t i = 0; i < events_.size(); ++i) events_[i].row = static_cast<int64_t>(i);
  }
  absl::StatusOr<engine::ReadResult> Read(absl::Duration, core::Event* event) override {
    if (next_ == events_.size()) return engine::ReadResult::kEndOfStream;
    *event = events_[next_++];
    return engine::ReadResult::kEvent;
  }
  const std::string& bad_record_message() const override { return none_; }
  engine::SourcePosition Position() override { return {static_cast<int64_t>(next_), ""}; }
  absl::Status Seek(const engine::SourcePosition& position) override {
    if (position.records > static_cast<int64_t>(events_.size())) {
      return absl::FailedPreconditionError(absl::StrCat("only ", events_.size(), " events"));
    }
    next_ = static_cast<size_t>(position.records);
    return absl::OkStatus();
  }
  const std::string& description() const override { return description_; }
  const std::vector<std::string>& feature_names() const override { return features_; }
  bool has_time() const override { return true; }
  int64_t records_read() const override { return static_cast<int64_t>(next_); }

 private:
  std::vector<std::string> features_;
  std::vector<core::Event> events_;
  size_t next_ = 0;
  const std::string none_;
  const std::string description_ = "vector";
};

// Keeps every prediction: (event id, scores, served).
class CollectingSink final : public engine::PredictionSink {
 public:
  struct Written {
    std::string id;
    engine::Pipeline::Scores scores;
    engine::Served served;
  };
  void Write(const core::Event& event, const engine::Pipeline::Scores& scores,
             const engine::Served& served) override {
    written.push_back({event.id, scores, served});
  }
  absl::StatusOr<Position> Flush() override {
    return Position{0, static_cast<int64_t>(written.size()), "", ""};
  }
  std::vector<Written> written;
};

}  // namespace sluice::testing
