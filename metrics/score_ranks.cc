// metrics/score_ranks.cc
#include "metrics/score_ranks.h"

#include <utility>

namespace sluice::metrics {

void ScoreRanks::Clear() {
  nodes_.assign(1, Node{});
  free_.clear();
  root_ = 0;
  rng_state_ = 0x9E3779B97F4A7C15ULL;
}

uint32_t ScoreRanks::NewNode(double score, int label) {
  // xorshift64*: cheap, deterministic priorities.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  const auto priority = static_cast<uint32_t>((rng_state_ * 2685821657736338717ULL) >> 32);
  Node node{score, 0, 0, priority, {0, 0}, {0, 0}};
  node.own[label] = node.sum[label] = 1;
  if (!free_.empty()) {
    const uint32_t t = free_.back();
    free_.pop_back();
    nodes_[t] = node;
    return t;
  }
  nodes_.push_back(node);
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void ScoreRanks::Pull(uint32_t t) {
  Node& n = nodes_[t];
  for (int label = 0; label < 2; ++label) {
    n.sum[label] = n.own[label] + nodes_[n.left].sum[label] + nodes_[n.right].sum[label];
  }
}

ScoreRanks::Counts ScoreRanks::Query(double score) const {
  Counts counts;
  uint32_t t = root_;
  while (t != 0) {
    const Node& n = nodes_[t];
    if (score < n.score) {
      t = n.left;
    } else {
      const Node& left = nodes_[n.left];
      counts.below[0] += left.sum[0];
      counts.below[1] += left.sum[1];
      if (score == n.score) {
        counts.equal[0] = n.own[0];
        counts.equal[1] = n.own[1];
        break;
      }
      counts.below[0] += n.own[0];
      counts.below[1] += n.own[1];
      t = n.right;
    }
  }
  return counts;
}

ScoreRanks::Counts ScoreRanks::Insert(double score, int label) {
  score += 0.0;  // -0.0 becomes +0.0: one key per ==-class.
  const Counts counts = Query(score);
  root_ = InsertAt(root_, score, label);
  return counts;
}

uint32_t ScoreRanks::InsertAt(uint32_t t, double score, int label) {
  if (t == 0) return NewNode(score, label);
  Node* n = &nodes_[t];
  if (score == n->score) {
    ++n->own[label];
    ++n->sum[label];
    return t;
  }
  if (score < n->score) {
    const uint32_t child = InsertAt(n->left, score, label);
    n = &nodes_[t];  // NewNode may have reallocated.
    n->left = child;
    if (nodes_[child].priority > n->priority) {  // Rotate right.
      n->left = nodes_[child].right;
      nodes_[child].right = t;
      Pull(t);
      Pull(child);
      return child;
    }
  } else {
    const uint32_t child = InsertAt(n->right, score, label);
    n = &nodes_[t];
    n->right = child;
    if (nodes_[child].priority > n->priority) {  // Rotate left.
      n->right = nodes_[child].left;
      nodes_[child].left = t;
      Pull(t);
      Pull(child);
      return child;
    }
  }
  ++n->sum[label];
  return t;
}

ScoreRanks::Counts ScoreRanks::Erase(double score, int label) {
  score += 0.0;
  root_ = EraseAt(root_, score, label);
  return Query(score);
}

uint32_t ScoreRanks::EraseAt(uint32_t t, double score, int label) {
  if (t == 0) return 0;  // Not present: callers guarantee it is, so this is unreachable.
  Node& n = nodes_[t];
  if (score == n.score) {
    --n.own[label];
    --n.sum[label];
    if (n.own[0] == 0 && n.own[1] == 0) {
      free_.push_back(t);
      return Merge(n.left, n.right);
    }
    return t;
  }
  if (score < n.score) {
    n.left = EraseAt(n.left, score, label);
  } else {
    n.right = EraseAt(n.right, score, label);
  }
  --nodes_[t].sum[label];
  return t;
}

uint32_t ScoreRanks::Merge(uint32_t a, uint32_t b) {
  // Every key in a is smaller than every key in b.
  if (a == 0) return b;
  if (b == 0) return a;
  if (nodes_[a].priority > nodes_[b].priority) {
    nodes_[a].right = Merge(nodes_[a].right, b);
    Pull(a);
    return a;
  }
  nodes_[b].left = Merge(a, nodes_[b].left);
  Pull(b);
  return b;
}

}  // namespace sluice::metrics
