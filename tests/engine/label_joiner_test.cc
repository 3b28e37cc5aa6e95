#include "engine/label_joiner.h"

#include <string>
#include <vector>

#include "core/event.h"
#include "core/state_codec.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

core::Event MakeEvent(const std::string& id, double time) {
  core::Event e;
  e.id = id;
  e.event_time = time;
  e.features = {time, -time};
  return e;
}

// What Drain() handed over: "seq:label" ("seq:label!" for an expiry), in order.
std::vector<std::string> Drain(LabelJoiner& joiner) {
  std::vector<std::string> out;
  joiner.Drain([&](const LabelJoiner::Resolved& r) {
    EXPECT_EQ(r.x, (std::vector<double>{r.scores.anomaly, -r.scores.anomaly}));
    out.push_back(std::to_string(r.seq) + ":" + (r.label ? "1" : "0") + (r.expired ? "!" : ""));
  });
  return out;
}

// Scores events "e0".."e{n-1}" at times 0, 1, ...; each event's anomaly score is its time.
void Score(LabelJoiner& joiner, int first, int n) {
  for (int i = first; i < first + n; ++i) {
    const core::Event e = MakeEvent("e" + std::to_string(i), i);
    joiner.AddScored(i, e, {static_cast<double>(i), 0.5}, /*version=*/7);
  }
}

TEST(LabelJoiner, AppliesLabelsInTheOrderEventsWereScored) {
  LabelJoiner joiner({});
  Score(joiner, 0, 5);
  joiner.AddLabel("e3", true);
  joiner.AddLabel("e1", false);
  joiner.AddLabel("e4", true);
  EXPECT_EQ(joiner.pending(), 2);
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"1:0", "3:1", "4:1"}));
  EXPECT_EQ(joiner.counts().joined, 3);
  EXPECT_EQ(joiner.pending(), 2);
}

TEST(LabelJoiner, BySequenceNumberForTheInputsOwnLabels) {
  LabelJoiner::Options options;
  options.by_id = false;
  LabelJoiner joiner(options);
  Score(joiner, 10, 3);
  joiner.AddLabelForSeq(11, true);
  joiner.AddLabelForSeq(10, false);
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"10:0", "11:1"}));
  joiner.AddLabelForSeq(10, true);  // Applied and forgotten: by number, that is late.
  joiner.AddLabelForSeq(99, true);  // Never scored.
  EXPECT_EQ(joiner.counts().late, 1);
  EXPECT_EQ(joiner.counts().unknown, 1);
}

TEST(LabelJoiner, SkippedEventsKeepNothingButTheirPlace) {
  LabelJoiner::Options options;
  options.by_id = false;
  LabelJoiner joiner(options);
  joiner.SkipScored();  // Before anything: no place needed.
  Score(joiner, 1, 1);
  joiner.SkipScored();  // seq 2.
  Score(joiner, 3, 1);
  EXPECT_EQ(joiner.pending(), 2);
  joiner.AddLabelForSeq(3, true);
  joiner.AddLabelForSeq(1, false);
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"1:0", "3:1"}));
}

TEST(LabelJoiner, AnEarlyLabelWaitsForItsEvent) {
  LabelJoiner joiner({});
  joiner.AddLabel("e1", true);
  EXPECT_EQ(joiner.early(), 1);
  Score(joiner, 0, 1);
  EXPECT_TRUE(Drain(joiner).empty());
  Score(joiner, 1, 1);
  EXPECT_EQ(joiner.early(), 0);
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"1:1"}));
  EXPECT_EQ(joiner.counts().joined, 1);
}

TEST(LabelJoiner, CountsDuplicatesUnknownIdsAndLateLabelsWithoutFailing) {
  LabelJoiner joiner({.ttl_seconds = 2.0, .max_early = 2});
  Score(joiner, 0, 2);
  joiner.AddLabel("e0", true);
  joiner.AddLabel("e0", false);  // Duplicate while waiting to be applied.
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"0:1"}));
  joiner.AddLabel("e0", true);  // Duplicate after it was applied.
  joiner.ExpireUntil(3.0);      // e1 (time 1) expires at 3.
  joiner.AddLabel("e1", true);  // Late: its event expired.
  joiner.AddLabel("x", true);   // Early, and then...
  joiner.AddLabel("y", true);
  joiner.AddLabel("z", true);   // ...the oldest early label is evicted: unknown.
  joiner.AddLabel("y", false);  // Duplicate of an early label.
  joiner.Finish();              // y and z never came: unknown.
  const LabelCounts& c = joiner.counts();
  EXPECT_EQ(c.joined, 1);
  EXPECT_EQ(c.duplicate, 3);
  EXPECT_EQ(c.expired, 1);
  EXPECT_EQ(c.late, 1);
  EXPECT_EQ(c.unknown, 3);
  EXPECT_EQ(joiner.pending(), 0);
}

TEST(LabelJoiner, ExpiredEventsAreDroppedOrAppliedAsNegative) {
  for (const auto expired : {LabelJoiner::Expired::kDrop, LabelJoiner::Expired::kNegative}) {
    LabelJoiner joiner({.ttl_seconds = 10.0, .expired = expired});
    // Times out of order: expiry follows event time, not arrival.
    joiner.AddScored(0, MakeEvent("a", 5), {5, 0.5}, 1);
    joiner.AddScored(1, MakeEvent("b", 0), {0, 0.5}, 1);
    joiner.AddScored(2, MakeEvent("c", 7), {7, 0.5}, 1);
    joiner.ExpireUntil(10.0);  // b (0 + 10 <= 10).
    joiner.AddLabel("c", true);
    joiner.ExpireUntil(17.0);  // a; c has its label.
    const std::vector<std::string> drained = Drain(joiner);
    EXPECT_EQ(joiner.counts().expired, 2);
    if (expired == LabelJoiner::Expired::kDrop) {
      EXPECT_EQ(drained, (std::vector<std::string>{"2:1"}));
    } else {
      EXPECT_EQ(drained, (std::vector<std::string>{"0:0!", "1:0!", "2:1"}));
    }
    EXPECT_EQ(joiner.counts().joined, 1);
  }
}

TEST(LabelJoiner, FinishExpiresEverythingStillWaitingWhenNegative) {
  LabelJoiner joiner({.ttl_seconds = 100.0, .expired = LabelJoiner::Expired::kNegative});
  Score(joiner, 0, 3);
  joiner.AddLabel("e1", true);
  joiner.Finish();
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"0:0!", "1:1", "2:0!"}));
}

TEST(LabelJoiner, MaxPendingEvictsTheOldestWaitingEvent) {
  LabelJoiner::Options options;
  options.max_pending = 2;
  LabelJoiner joiner(options);
  Score(joiner, 0, 3);
  EXPECT_EQ(joiner.counts().evicted, 1);
  EXPECT_EQ(joiner.pending(), 2);
  joiner.AddLabel("e0", true);  // Evicted: late.
  joiner.AddLabel("e2", true);
  EXPECT_EQ(Drain(joiner), (std::vector<std::string>{"2:1"}));
  EXPECT_EQ(joiner.counts().late, 1);
}

TEST(LabelJoiner, SaveLoadRoundTripContinuesIdentically) {
  const LabelJoiner::Options options{.ttl_seconds = 4.0,
                                     .expired = LabelJoiner::Expired::kNegative};
  LabelJoiner a(options);
  Score(a, 0, 6);
  a.AddLabel("e2", true);
  a.AddLabel("late-id", false);  // Early.
  Drain(a);
  a.ExpireUntil(4.5);  // e0 expires.
  Drain(a);
  core::StateWriter w;
  a.Save(&w);
  LabelJoiner b(options);
  core::StateReader r(w.payload());
  ASSERT_TRUE(b.Load(&r, 2));
  EXPECT_TRUE(r.done());
  for (LabelJoiner* j : {&a, &b}) {
    j->AddLabel("e2", false);  // Duplicate (remembered across the round trip).
    j->AddScored(6, MakeEvent("late-id", 6), {6, 0.5}, 8);
    j->AddLabel("e4", true);
    j->ExpireUntil(8.0);
    j->Finish();
  }
  EXPECT_EQ(Drain(a), Drain(b));
  const LabelCounts& ca = a.counts();
  const LabelCounts& cb = b.counts();
  EXPECT_EQ(std::vector<int64_t>({ca.joined, ca.expired, ca.duplicate, ca.late, ca.unknown}),
            std::vector<int64_t>({cb.joined, cb.expired, cb.duplicate, cb.late, cb.unknown}));
  EXPECT_EQ(ca.duplicate, 1);
  EXPECT_EQ(ca.joined, 3);  // e2, late-id (early label), e4.
}

TEST(LabelJoiner, LoadRefusesMalformedState) {
  LabelJoiner a({});
  Score(a, 0, 2);
  core::StateWriter w;
  a.Save(&w);
  const std::string payload(w.payload());
  for (size_t cut = 0; cut < payload.size(); cut += 7) {
    LabelJoiner b({});
    core::StateReader r(absl::string_view(payload).substr(0, cut));
    EXPECT_FALSE(b.Load(&r, 2) && r.done()) << "cut at " << cut;
  }
  LabelJoiner c({});
  core::StateReader r(payload);
  EXPECT_FALSE(c.Load(&r, 3));  // Wrong dimension.
}

}  // namespace
}  // namespace sluice::engine
