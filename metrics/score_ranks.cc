// metrics/score_ranks.cc
#include "metrics/score_ranks.h"

#include "core/memory.h"

namespace sluice::metrics {

uint64_t ScoreRanks::MemoryBytes(uint64_t entries) {
  // At most one node per entry plus the null node; a doubling vector may hold twice that, and
  // the free list one index per node.
  const uint64_t nodes = core::SaturatingAdd(entries, 1);
  return core::SaturatingAdd(core::SaturatingMul(2 * sizeof(Node), nodes),
                             core::SaturatingMul(2 * sizeof(uint32_t), nodes));
}

uint32_t ScoreRanks::NewNode(double score, int label) {
  // xorshift64*: cheap, deterministic priorities.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  const auto priority = static_cast<uint32_t>((rng_state_ * 2685821657736338717ULL) >> 32);
  Node node{score, {0, 0}, priority, {0, 0}, {0, 0}};
  node.own[label] = 1;
  if (!free_.empty()) {
    const uint32_t t = free_.back();
    free_.pop_back();
    nodes_[t] = node;
    return t;
  }
  nodes_.push_back(node);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

uint32_t ScoreRanks::Rotate(uint32_t t, int side) {
  const uint32_t c = nodes_[t].child[side];
  Node& n = nodes_[t];
  Node& up = nodes_[c];
  for (int l = 0; l < 2; ++l) {
    if (side == 0) {
      // c's right subtree becomes t's left: it held t.left - c.left - c.own entries.
      n.left[l] -= up.left[l] + up.own[l];
    } else {
      // t and its left subtree join c's left.
      up.left[l] += n.left[l] + n.own[l];
    }
  }
  n.child[side] = up.child[1 - side];
  up.child[1 - side] = t;
  return c;
}

ScoreRanks::Counts ScoreRanks::Query(double score) const {
  score += 0.0;
  Counts counts;
  uint32_t t = root_;
  while (t != 0) {
    const Node& n = nodes_[t];
    if (score == n.score) {
      for (int l = 0; l < 2; ++l) {
        counts.below[l] += n.left[l];
        counts.equal[l] = n.own[l];
      }
      break;
    }
    const int right = score > n.score ? 1 : 0;
    for (int l = 0; l < 2; ++l) counts.below[l] += right * (n.left[l] + n.own[l]);
    t = n.child[right];
  }
  return counts;
}

ScoreRanks::Counts ScoreRanks::Insert(double score, int label) {
  score += 0.0;  // -0.0 joins 0.0's key.
  ++total_[label];
  Counts counts;
  // Descend, counting what lies below and adding the new entry to the left counts of the nodes
  // it passes on their left.
  uint32_t path[kMaxDepth];
  int side[kMaxDepth];
  int depth = 0;
  uint32_t t = root_;
  while (t != 0) {
    Node& n = nodes_[t];
    if (score == n.score) {
      for (int l = 0; l < 2; ++l) {
        counts.below[l] += n.left[l];
        counts.equal[l] = n.own[l];
      }
      ++n.own[label];
      return counts;
    }
    const int right = score > n.score ? 1 : 0;
    if (right != 0) {
      for (int l = 0; l < 2; ++l) counts.below[l] += n.left[l] + n.own[l];
    } else {
      ++n.left[label];
    }
    path[depth] = t;
    side[depth++] = right;
    t = n.child[right];
  }
  // A new key: attach a leaf, then rotate it up while its priority beats its parent's.
  t = NewNode(score, label);
  while (depth > 0 && nodes_[t].priority > nodes_[path[depth - 1]].priority) {
    --depth;
    nodes_[path[depth]].child[side[depth]] = t;
    t = Rotate(path[depth], side[depth]);
  }
  if (depth == 0) {
    root_ = t;
  } else {
    nodes_[path[depth - 1]].child[side[depth - 1]] = t;
  }
  return counts;
}

ScoreRanks::Counts ScoreRanks::Erase(double score, int label) {
  score += 0.0;
  --total_[label];
  Counts counts;
  uint32_t* link = &root_;  // Where the current subtree hangs.
  uint32_t t = root_;
  while (t != 0) {
    Node& n = nodes_[t];
    if (score == n.score) break;
    const int right = score > n.score ? 1 : 0;
    if (right != 0) {
      for (int l = 0; l < 2; ++l) counts.below[l] += n.left[l] + n.own[l];
    } else {
      --n.left[label];
    }
    link = &n.child[right];
    t = n.child[right];
  }
  if (t == 0) return counts;  // Not present: callers guarantee it is.
  Node& n = nodes_[t];
  --n.own[label];
  for (int l = 0; l < 2; ++l) {
    counts.below[l] += n.left[l];
    counts.equal[l] = n.own[l];
  }
  if (n.own[0] != 0 || n.own[1] != 0) return counts;
  // The key is gone: rotate the node down (its higher-priority child up) until it is a leaf.
  while (nodes_[t].child[0] != 0 || nodes_[t].child[1] != 0) {
    const Node& d = nodes_[t];
    const int up = d.child[0] == 0 ||
                   (d.child[1] != 0 && nodes_[d.child[1]].priority > nodes_[d.child[0]].priority);
    const uint32_t c = Rotate(t, up);
    *link = c;
    link = &nodes_[c].child[1 - up];
  }
  *link = 0;
  free_.push_back(t);
  return counts;
}

}  // namespace sluice::metrics
