// engine/label_joiner.cc
#include "engine/label_joiner.h"

namespace sluice::engine {

LabelJoiner::Entry* LabelJoiner::Find(int64_t seq) {
  if (seq < base_ || seq - base_ >= static_cast<int64_t>(entries_.size())) return nullptr;
  return &entries_[static_cast<size_t>(seq - base_)];
}

void LabelJoiner::AddScored(int64_t seq, const core::Event& event, const Pipeline::Scores& scores,
                            int64_t version, const std::vector<double>& extra) {
  if (entries_.empty()) base_ = seq;
  Entry& e = entries_.emplace_back();
  e.state = State::kPending;
  e.time = event.event_time;
  e.version = version;
  e.scores = {scores.anomaly, scores.fraud};  // Not `why`: it lives for the call only.
  if (!free_.empty()) {
    e.x = std::move(free_.back());
    free_.pop_back();
  }
  e.x.assign(event.features.begin(), event.features.end());
  e.extra.assign(extra.begin(), extra.end());  // Empty without challengers: no allocation.
  ++pending_;
  if (options_.ttl_seconds.has_value() && event.event_time == event.event_time) {
    expiries_.emplace(event.event_time + *options_.ttl_seconds, seq);
  }
  if (options_.by_id) {
    e.id = event.id;
    seq_of_id_[e.id] = seq;
    if (const auto early = early_.find(e.id); early != early_.end()) {
      const bool label = early->second;
      early_.erase(early);
      std::erase(early_order_, e.id);  // Rare: a label that came before its event.
      Resolve(seq, e, label, /*expired=*/false);
    }
  }
  // Bound memory: the oldest waiting event goes first. Ready events are drained before the next
  // event is scored, so the front holds waiting or done entries only.
  if (pending_ > options_.max_pending) {
    for (Entry& oldest : entries_) {
      if (oldest.state != State::kPending) continue;
      ++counts_.evicted;
      --pending_;
      oldest.expired = true;  // For the counts: a later label for it is late.
      if (options_.by_id) Remember(oldest.id, false);
      Forget(oldest);
      break;
    }
    PopDone();
  }
}

void LabelJoiner::SkipScored() {
  if (entries_.empty()) return;  // The next AddScored() sets base_.
  entries_.emplace_back().state = State::kDone;
}

void LabelJoiner::AddLabel(absl::string_view id, bool label) {
  if (const auto it = seq_of_id_.find(id); it != seq_of_id_.end()) {
    Entry& e = *Find(it->second);
    if (e.state == State::kPending) {
      Resolve(it->second, e, label, /*expired=*/false);
    } else {
      ++counts_.duplicate;
    }
    return;
  }
  if (const auto it = resolved_.find(id); it != resolved_.end()) {
    ++(it->second ? counts_.duplicate : counts_.late);
    return;
  }
  const auto [it, inserted] = early_.emplace(std::string(id), label);
  if (!inserted) {
    ++counts_.duplicate;
    return;
  }
  early_order_.push_back(it->first);
  if (static_cast<int64_t>(early_order_.size()) > options_.max_early) {
    early_.erase(early_order_.front());
    early_order_.pop_front();
    ++counts_.unknown;
  }
}

void LabelJoiner::AddLabelForSeq(int64_t seq, bool label) {
  Entry* e = Find(seq);
  if (e == nullptr) {
    ++(seq < base_ ? counts_.late : counts_.unknown);
  } else if (e->state == State::kPending) {
    Resolve(seq, *e, label, /*expired=*/false);
  } else {
    ++(e->state == State::kReady || !e->expired ? counts_.duplicate : counts_.late);
  }
}

void LabelJoiner::ExpireUntil(double time) {
  while (!expiries_.empty() && expiries_.top().first <= time) {
    const int64_t seq = expiries_.top().second;
    expiries_.pop();
    Entry* e = Find(seq);
    if (e == nullptr || e->state != State::kPending) continue;  // Labelled or evicted since.
    ++counts_.expired;
    if (options_.expired == Expired::kNegative) {
      Resolve(seq, *e, /*label=*/false, /*expired=*/true);
    } else {
      --pending_;
      e->expired = true;
      if (options_.by_id) Remember(e->id, false);
      Forget(*e);
    }
  }
  PopDone();
}

void LabelJoiner::Finish() {
  if (options_.expired == Expired::kNegative) {
    for (int64_t i = 0; i < static_cast<int64_t>(entries_.size()); ++i) {
      Entry& e = entries_[static_cast<size_t>(i)];
      if (e.state != State::kPending) continue;
      ++counts_.expired;
      Resolve(base_ + i, e, /*label=*/false, /*expired=*/true);
    }
  }
  counts_.unknown += static_cast<int64_t>(early_order_.size());
  early_.clear();
  early_order_.clear();
}

void LabelJoiner::Resolve(int64_t seq, Entry& e, bool label, bool expired) {
  e.state = State::kReady;
  e.label = label;
  e.expired = expired;
  --pending_;
  ready_.push(seq);
}

void LabelJoiner::Forget(Entry& e) {
  e.state = State::kDone;
  if (options_.by_id) {
    // A later event with the same id owns the index entry now; leave it.
    if (const auto it = seq_of_id_.find(e.id); it != seq_of_id_.end() && Find(it->second) == &e) {
      seq_of_id_.erase(it);
    }
    e.id.clear();
  }
  e.x.clear();
  free_.push_back(std::move(e.x));
  e.x = {};
}

void LabelJoiner::PopDone() {
  while (!entries_.empty() && entries_.front().state == State::kDone) {
    entries_.pop_front();
    ++base_;
  }
  if (free_.size() > 1024) free_.resize(1024);
}

void LabelJoiner::Remember(const std::string& id, bool labelled) {
  if (!resolved_.insert_or_assign(id, labelled).second) return;
  resolved_order_.push_back(id);
  if (static_cast<int64_t>(resolved_order_.size()) > options_.max_early) {
    resolved_.erase(resolved_order_.front());
    resolved_order_.pop_front();
  }
}

void LabelJoiner::Save(core::StateWriter* w) const {
  w->Put(counts_.joined);
  w->Put(counts_.expired);
  w->Put(counts_.duplicate);
  w->Put(counts_.late);
  w->Put(counts_.unknown);
  w->Put(counts_.evicted);
  w->Put(base_);
  w->Put<uint64_t>(entries_.size());
  for (const Entry& e : entries_) {
    w->Put(static_cast<uint8_t>(e.state));
    w->Put<uint8_t>(e.label ? 1 : 0);
    w->Put<uint8_t>(e.expired ? 1 : 0);
    w->Put(e.time);
    w->Put(e.version);
    w->Put(e.scores.anomaly);
    w->Put(e.scores.fraud);
    w->PutString(e.id);
    w->PutVector(e.x);
  }
  w->Put<uint64_t>(early_order_.size());
  for (const std::string& id : early_order_) {
    w->PutString(id);
    w->Put<uint8_t>(early_.at(id) ? 1 : 0);
  }
  w->Put<uint64_t>(resolved_order_.size());
  for (const std::string& id : resolved_order_) {
    w->PutString(id);
    w->Put<uint8_t>(resolved_.at(id) ? 1 : 0);
  }
}

bool LabelJoiner::Load(core::StateReader* r, size_t dimension) {
  uint64_t n = 0;
  if (!r->Get(&counts_.joined) || !r->Get(&counts_.expired) || !r->Get(&counts_.duplicate) ||
      !r->Get(&counts_.late) || !r->Get(&counts_.unknown) || !r->Get(&counts_.evicted) ||
      !r->Get(&base_) || !r->Get(&n)) {
    return false;
  }
  for (uint64_t i = 0; i < n; ++i) {
    Entry& e = entries_.emplace_back();
    uint8_t state = 0, label = 0, expired = 0;
    if (!r->Get(&state) || state > 2 || !r->Get(&label) || !r->Get(&expired) || !r->Get(&e.time) ||
        !r->Get(&e.version) || !r->Get(&e.scores.anomaly) || !r->Get(&e.scores.fraud) ||
        !r->GetString(&e.id) || !r->GetVector(&e.x) ||
        (static_cast<State>(state) != State::kDone && e.x.size() != dimension)) {
      return false;
    }
    e.state = static_cast<State>(state);
    e.label = label != 0;
    e.expired = expired != 0;
  }
  for (auto* order : {&early_order_, &resolved_order_}) {
    auto& map = order == &early_order_ ? early_ : resolved_;
    if (!r->Get(&n)) return false;
    for (uint64_t i = 0; i < n; ++i) {
      std::string id;
      uint8_t flag = 0;
      if (!r->GetString(&id) || !r->Get(&flag) || !map.emplace(id, flag != 0).second) return false;
      order->push_back(std::move(id));
    }
  }
  Rebuild();
  return true;
}

void LabelJoiner::SaveExtra(core::StateWriter* w) const {
  w->Put<uint64_t>(entries_.size());
  for (const Entry& e : entries_) w->PutVector(e.extra);
}

bool LabelJoiner::LoadExtra(core::StateReader* r) {
  uint64_t n = 0;
  if (!r->Get(&n) || n != entries_.size()) return false;
  for (Entry& e : entries_) {
    if (!r->GetVector(&e.extra)) return false;
  }
  return true;
}

void LabelJoiner::Rebuild() {
  for (int64_t i = 0; i < static_cast<int64_t>(entries_.size()); ++i) {
    const Entry& e = entries_[static_cast<size_t>(i)];
    const int64_t seq = base_ + i;
    if (e.state == State::kDone) continue;
    if (options_.by_id) seq_of_id_[e.id] = seq;
    if (e.state == State::kReady) {
      ready_.push(seq);
    } else {
      ++pending_;
      if (options_.ttl_seconds.has_value() && e.time == e.time) {
        expiries_.emplace(e.time + *options_.ttl_seconds, seq);
      }
    }
  }
}

}  // namespace sluice::engine
