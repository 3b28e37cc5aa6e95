// metrics/score_ranks.h. An order-statistic multiset of (score, label) pairs: the engine of the
// exact AUC metrics.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice::metrics {

// A treap keyed by distinct score (== semantics: -0.0 and 0.0 are one key), each node holding
// per-label counts and subtree sums. Insert, Erase and Query are O(log n) expected. Priorities
// come from a fixed-seed generator, so the shape, and hence the cost, is deterministic.
// Requires: scores are not NaN. Copyable value type; not thread-safe.
class ScoreRanks {
 public:
  struct Counts {
    uint64_t below[2] = {0, 0};  // Entries with a smaller score, by label (0, 1).
    uint64_t equal[2] = {0, 0};  // Entries with the same score, by label.
  };

  // Adds one (score, label) and returns the counts of the entries already present.
  Counts Insert(double score, int label);
  // Removes one (score, label), which must be present, and returns the counts of the entries
  // that remain.
  Counts Erase(double score, int label);
  Counts Query(double score) const;
  uint64_t count(int label) const { return root_ == 0 ? 0 : nodes_[root_].sum[label]; }
  uint64_t size() const { return count(0) + count(1); }
  void Clear();

 private:
  struct Node {
    double score;
    uint32_t left;
    uint32_t right;
    uint32_t priority;
    uint64_t own[2];  // Entries with exactly this score.
    uint64_t sum[2];  // Entries in this subtree.
  };

  uint32_t NewNode(double score, int label);
  void Pull(uint32_t t);
  uint32_t InsertAt(uint32_t t, double score, int label);
  uint32_t EraseAt(uint32_t t, double score, int label);
  uint32_t Merge(uint32_t a, uint32_t b);

  std::vector<Node> nodes_ = std::vector<Node>(1, Node{});  // nodes_[0] is the null node.
  std::vector<uint32_t> free_;
  uint32_t root_ = 0;
  uint64_t rng_state_ = 0x9E3779B97F4A7C15ULL;
};

}  // namespace sluice::metrics
