// engine/label_joiner.h. Late ground truth: keeps every scored event until its label arrives,
// its time-to-live runs out or memory bounds evict it, and hands resolved events back in the
// order they were scored, so metrics and the supervised model see one deterministic order.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "core/event.h"
#include "core/state_codec.h"
#include "engine/pipeline.h"

namespace sluice::engine {

// Counters of what happened to labels and scored events; never fatal.
struct LabelCounts {
  int64_t joined = 0;     // Labels applied to their scored event.
  int64_t expired = 0;    // Scored events whose TTL ran out (applied as negative or dropped).
  int64_t duplicate = 0;  // Labels for an event that already had one.
  int64_t late = 0;       // Labels for an event that expired, was evicted, or (by sequence
                          // number) was applied and forgotten.
  int64_t unknown = 0;    // Labels whose event never came (early labels evicted or left at end).
  int64_t evicted = 0;    // Scored events dropped unlabelled because max_pending was reached.
};

// Joins labels to scored events, by event id (labels from outside: a file, a topic, HTTP) or by
// sequence number (the input's own label column). Event time drives expiry; the caller decides
// when a label "arrives" (replay: just before the first event at or after its time). Owns copies
// of the features it keeps. Not thread-safe: the supervised stage owns it.
class LabelJoiner {
 public:
  enum class Expired { kDrop, kNegative };
  struct Options {
    // Event-time seconds a scored event waits for its label; none: no expiry.
    std::optional<double> ttl_seconds;
    // kDrop: an expired event is counted and forgotten. kNegative: it is applied with label 0
    // (fraud practice: no chargeback within the TTL means legitimate).
    Expired expired = Expired::kDrop;
    int64_t max_pending = 1000000;  // Scored events kept; beyond, the oldest is evicted.
    int64_t max_early = 100000;     // Labels kept waiting for an event not yet scored; also how
                                    // many resolved ids are remembered to tell duplicates.
    bool by_id = true;              // Index events by id (false: labels name sequence numbers).
  };
  // A scored event whose outcome is known, handed to Drain()'s callback.
  struct Resolved {
    int64_t seq;                       // Its position among scored events.
    bool label;                        // The label (false for an expired event with kNegative).
    bool expired;                      // Resolved by its TTL rather than a label.
    const std::vector<double>& x;      // Its features (valid during the callback only).
    Pipeline::Scores scores;           // The scores it got when it was scored.
    int64_t version;                   // The model version that scored it.
    const std::vector<double>& extra;  // AddScored's `extra` (valid during the callback only).
  };

  explicit LabelJoiner(const Options& options) : options_(options) {}
  LabelJoiner(const LabelJoiner&) = delete;
  LabelJoiner& operator=(const LabelJoiner&) = delete;

  // Keeps a scored event. Requires: seq is the previous seq + 1 (the first may be any).
  // `extra`: more scores to hand back with it (the challengers'), not saved by Save().
  void AddScored(int64_t seq, const core::Event& event, const Pipeline::Scores& scores,
                 int64_t version, const std::vector<double>& extra = {});
  // The next event was scored but will never get a label (the input has none): nothing is kept
  // but its place in the sequence.
  void SkipScored();
  // A label for event `id` arrived. Requires: options().by_id.
  void AddLabel(absl::string_view id, bool label);
  // A label for the event scored as `seq` arrived.
  void AddLabelForSeq(int64_t seq, bool label);
  // Expires every waiting event with event time + TTL <= `time` (a no-op without a TTL).
  void ExpireUntil(double time);
  // End of the stream: with kNegative every waiting event expires; early labels become unknown.
  void Finish();
  // Calls `apply(const Resolved&)` for every event resolved since the last call, in the order
  // they were scored. (A template: it runs twice per event on the hot path.)
  template <typename Apply>
  void Drain(Apply&& apply) {
    while (!ready_.empty()) {
      const int64_t seq = ready_.top();
      ready_.pop();
      Entry& e = *Find(seq);
      if (!e.expired) ++counts_.joined;
      apply(Resolved{seq, e.label, e.expired, e.x, e.scores, e.version, e.extra});
      if (options_.by_id) Remember(e.id, !e.expired);
      Forget(e);
    }
    PopDone();
  }

  const LabelCounts& counts() const { return counts_; }
  int64_t pending() const { return pending_; }  // Scored events waiting for a label.
  int64_t early() const { return static_cast<int64_t>(early_order_.size()); }
  const Options& options() const { return options_; }

  // The whole state (not the options).
  void Save(core::StateWriter* w) const;
  // false if the state is malformed or its features do not have `dimension` values. Requires: a
  // new joiner (nothing added yet).
  bool Load(core::StateReader* r, size_t dimension);
  // The entries' `extra` scores, which Save() leaves out (a checkpoint's later part). LoadExtra
  // after Load(); false if malformed or not one list per entry.
  void SaveExtra(core::StateWriter* w) const;
  bool LoadExtra(core::StateReader* r);

 private:
  enum class State : uint8_t { kPending, kReady, kDone };
  struct Entry {
    State state = State::kDone;
    bool label = false;
    bool expired = false;
    double time = 0;
    int64_t version = 0;
    Pipeline::Scores scores{};
    std::string id;  // Only with by_id.
    std::vector<double> x;
    std::vector<double> extra;
  };
  using Expiry = std::pair<double, int64_t>;  // (event time + TTL, seq), earliest on top.

  Entry* Find(int64_t seq);
  void Resolve(int64_t seq, Entry& e, bool label, bool expired);
  void Forget(Entry& e);  // Done: frees its features and its id.
  void PopDone();
  // Recently resolved ids (labelled or not), to tell duplicate and late labels from early ones.
  void Remember(const std::string& id, bool labelled);
  void Rebuild();  // Derived indexes from entries_ after Load().

  Options options_;
  int64_t base_ = 0;  // seq of entries_.front().
  std::deque<Entry> entries_;
  int64_t pending_ = 0;
  absl::flat_hash_map<std::string, int64_t> seq_of_id_;  // Pending and ready events by id.
  std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> ready_;
  std::priority_queue<Expiry, std::vector<Expiry>, std::greater<>> expiries_;
  absl::flat_hash_map<std::string, bool> early_;     // Labels whose event has not come yet.
  std::deque<std::string> early_order_;              // Oldest first.
  absl::flat_hash_map<std::string, bool> resolved_;  // Id -> it had a label (bounded).
  std::deque<std::string> resolved_order_;
  std::vector<std::vector<double>> free_;  // Recycled feature buffers.
  LabelCounts counts_;
};

}  // namespace sluice::engine
