// metrics/score_ranks.h. An order-statistic multiset of (score, label) pairs: the engine of the
// exact rolling AUC.
#pragma once

#include <cstdint>
#include <vector>

namespace sluice::metrics {

// A treap keyed by distinct score (== semantics: -0.0 and 0.0 are one key), each node holding
// per-label counts and the counts of its left subtree. Insert, Erase and Query are O(log n)
// expected, iterative, with branch-free child selection. Priorities come from a fixed-seed
// generator, so the shape, and hence the cost, is deterministic. Requires: scores are not NaN;
// fewer than 2^32 entries. Copyable value type; not thread-safe.
class ScoreRanks {
 public:
  struct Counts {
    uint64_t below[2] = {0, 0};  // Entries with a smaller score, by label (0, 1).
    uint64_t equal[2] = {0, 0};  // Entries with the same score, by label.
  };

  // An upper bound of the bytes held with `entries` entries, vector growth slack included.
  static uint64_t MemoryBytes(uint64_t entries);

  // Adds one (score, label) and returns the counts of the entries already present.
  Counts Insert(double score, int label);
  // Removes one (score, label), which must be present, and returns the counts of the entries
  // that remain.
  Counts Erase(double score, int label);
  Counts Query(double score) const;
  uint64_t count(int label) const { return total_[label]; }
  uint64_t size() const { return count(0) + count(1); }

 private:
  static constexpr int kMaxDepth = 128;  // Far beyond any treap of < 2^32 nodes in practice.
  struct Node {
    double score;
    uint32_t child[2];  // Left (smaller scores), right (larger).
    uint32_t priority;
    uint32_t own[2];   // Entries with exactly this score.
    uint32_t left[2];  // Entries in the left subtree: a descent needs no other node's data.
  };

  uint32_t NewNode(double score, int label);
  // Rotates child `side` of node `t` above it; returns the new subtree root.
  uint32_t Rotate(uint32_t t, int side);

  std::vector<Node> nodes_ = std::vector<Node>(1, Node{});  // nodes_[0] is the null node.
  std::vector<uint32_t> free_;
  uint32_t root_ = 0;
  uint64_t total_[2] = {0, 0};
  uint64_t rng_state_ = 0x9E3779B97F4A7C15ULL;
};

}  // namespace sluice::metrics
