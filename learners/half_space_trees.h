// learners/half_space_trees.h. River's anomaly.HalfSpaceTrees, bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/random.h"
#include "learners/learner.h"

namespace sluice::learners {

// Half-Space Trees (Tan, Ting & Liu, "Fast anomaly detection for streaming data", IJCAI 2011),
// as River implements it: trees built lazily at the first LearnOne over the sorted feature names
// with CPython's random.Random(seed); score 0 during the first window; a path's mass walk stops
// after the first node whose reference mass is below 0.1 * window_size.
// Expects features in [0, 1]: put a MinMaxScaler first.
//
// Deviations from River, none observable in scores: trees are flat arrays in heap order, and a
// window pivot is O(1): each node records the window (epoch) its masses belong to, and stale
// masses are read as "shifted" instead of being rewritten at every pivot.
class HalfSpaceTrees final : public Learner {
 public:
  struct Options {
    int num_trees = 10;     // River's default. More trees: smoother scores, linear cost.
    int height = 8;         // River's default. Depth of every tree; a path has height + 1 nodes.
    int window_size = 250;  // Examples per reference window (1..65535).
    uint64_t seed = 42;     // Same seed + same stream => same trees and scores.
  };
  // One node as node() shows it.
  struct NodeView {
    int feature;  // Dense schema index.
    double threshold;
    uint32_t l_mass;  // Current window.
    uint32_t r_mass;  // Reference (last completed) window.
  };
  // `feature_names` are the schema's names in dense order; trees split on them in sorted order.
  // InvalidArgument if an option is out of range, there are no features or more than 65535;
  // ResourceExhausted if the trees (MemoryBytes) would not fit in core::AvailableMemoryBytes(),
  // e.g. "half-space trees: a model with 100 trees of height 24 needs 53.7 GB but at most 25 GB
  // of memory is available". Nothing large is allocated here (the trees are built at the first
  // LearnOne).
  static absl::StatusOr<std::unique_ptr<HalfSpaceTrees>> Create(
      const Options& options, std::vector<std::string> feature_names);
  // Bytes of the trees of a model with these options: num_trees * 2^(height + 1) nodes of 16
  // bytes, saturating instead of overflowing. Save() needs about twice as much again while it
  // runs (the state blob). Requires nothing of `options`: callers may check before Create.
  static uint64_t MemoryBytes(const Options& options);
  HalfSpaceTrees(const HalfSpaceTrees&) = delete;
  HalfSpaceTrees& operator=(const HalfSpaceTrees&) = delete;

  // In [0, 1), higher is more anomalous; exactly 0 during the first window.
  double ScoreOne(Features x) const override;
  // Adds x to the current window; builds the trees first if this is the first call.
  void LearnOne(Features x, std::optional<bool> label) override;
  double ScoreThenLearn(Features scored, Features learned, std::optional<bool> label) override;

  // Why ScoreOne(x) is what it is: an additive attribution over the features. On return,
  // (*contributions)[f] (resized to dimension()) is feature f's share of the score, and the
  // result is the share of no feature; the shares are >= 0 and sum to ScoreOne(x) but for
  // rounding (1e-15 in practice; each share is one exact integer sum divided by max_score). All
  // are 0 during the first window.
  //
  // Where it comes from. With W = window_size and h = height, max_score is the sum over trees
  // and depths d = 0..h of W * 2^d, so the score 1 - S / max_score is the sum of the terms
  // (W * 2^d - s(d)) / max_score, where s(d) = r_mass(n_d) * 2^d for the path's node n_d at depth
  // d while the walk goes on and 0 once it has stopped (at depth k: a leaf, or the first node
  // below the size limit). The mass a path keeps only falls where it goes down a split: the step
  // from n_j to n_{j+1}, a split on feature f, loses r_mass(n_j) - r_mass(n_{j+1}) of it, and that
  // mass is missing from every deeper term, 2^(j+1) + ... + 2^h = 2^(h+1) - 2^(j+1) times. So
  //   share(f)   = sum over the trees' steps on f of
  //                (r_mass(n_j) - r_mass(n_{j+1})) * (2^(h+1) - 2^(j+1)) / max_score,
  //   no feature = sum over the trees of r_mass(n_k) * (2^(h+1) - 2^(k+1)) / max_score
  //                (what the walk still held when it stopped, and so did not count deeper),
  //                plus the steps on features x lacks (routed by the model's masses, not by x).
  // Summing the steps of a tree gives back its terms exactly, since r_mass(n_0) = W.
  // Worked example: README, "Explanations".
  double ExplainOne(Features x, std::vector<double>* contributions) const;
  std::optional<double> Explain(Features x, std::vector<double>* contributions) const override {
    return ExplainOne(x, contributions);
  }
  int dimension() const override { return static_cast<int>(feature_names_.size()); }
  std::string Save() const override;
  absl::Status Load(absl::string_view state) override;

  // Merges models trained on disjoint parts of one stream (e.g. the partitions of a Kafka
  // topic) into one model that scores as if one model had seen all those parts' windows at once.
  // The inputs must have equal num_trees, height, seed and feature names, and equal trees (every
  // node's split feature and threshold) where built; window sizes may differ. A tree's shape
  // depends on the options, the names and which features the first learned example had (missing
  // ones are never split on), so two models over one schema may still differ: this is checked.
  //
  // Which inputs count: if any input has completed a window, those that have; otherwise, if any
  // has built its trees, those that have; otherwise all (all unbuilt). An input that counts less
  // is dropped whole: a model still in its first window has no reference masses, and its few
  // (< window_size) current-window examples would only blur a model that has some.
  // The merged model, from the inputs that count (sums are exact integer sums):
  //   window_size = the sum of their window sizes, so the size limit 0.1 * window_size and the
  //                 max score num_trees * window_size * (2^(height+1) - 1) scale with it;
  //   per node      r_mass (what scores read) = the sum of their reference masses, l_mass = the
  //                 sum of their current-window masses; the examples learned in the current
  //                 window = the sum of theirs;
  //   windows       completed = the largest of theirs (only "first window or not" matters for
  //                 scores: the merged model is in its first window exactly when they all are).
  // ScoreOne of the merged model is River's formula (section 4.4 of river-algorithms.md) over
  // the summed masses. The result is a HalfSpaceTrees like any other: it may learn on, and its
  // next pivot comes after window_size - (current-window examples) more. Merging one model
  // gives an equal model (equal Save()); merge is commutative and associative, bit for bit.
  // InvalidArgument, naming the input (0-based) and what differs, if the inputs are not mergeable
  // (CheckMergeable); if `models` is empty; or if the summed window_size exceeds 65535 (masses
  // are 16-bit; each mass is at most its model's window size, so no summed mass can overflow).
  static absl::StatusOr<std::unique_ptr<HalfSpaceTrees>> Merge(
      std::span<const HalfSpaceTrees* const> models);
  // OK if Merge accepts this model with `other`: equal num_trees, height, seed and feature
  // names, and equal trees if both are built. Otherwise InvalidArgument naming what differs.
  absl::Status CheckMergeable(const HalfSpaceTrees& other) const;

  const Options& options() const { return options_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  bool trees_built() const { return built_; }
  // Completed windows; 0 during River's first window.
  uint64_t completed_windows() const { return epoch_; }
  // Examples learned in the current window.
  uint32_t current_window_count() const { return counter_; }
  // Node `node_idx` of tree `tree_idx` in heap order (the root is 1, node i's children are 2i
  // and 2i+1, leaves are [2^height, 2^(height+1))), with its masses as River holds them now.
  // `feature` and `threshold` are unused in leaves. Requires: trees_built().
  NodeView node(int tree_idx, uint32_t node_idx) const;
  // The internal nodes of tree `tree_idx` in pre-order as (feature name, threshold).
  // Requires: trees_built().
  std::vector<std::pair<std::string, double>> Branches(int tree_idx) const;

 private:
  // 16 bytes; tree t's node i (1-based heap order: children 2i and 2i+1 share a cache line)
  // lives at nodes_[t * nodes_per_tree_ + i].
  struct Node {
    double threshold = 0.0;
    uint16_t feature = 0;  // Dense schema index; unused in leaves.
    uint16_t epoch = 0;    // Low 16 bits of the window in which l_mass/r_mass were last written.
    uint16_t l_mass = 0;   // Mass in that window.
    uint16_t r_mass = 0;   // Mass in the window before it.
  };

  HalfSpaceTrees(const Options& options, std::vector<std::string> feature_names);
  void BuildTrees(Features first);
  void BuildSubtree(Node* tree, uint32_t node_idx, int depth_left, std::vector<double>& lo,
                    std::vector<double>& hi, std::vector<double>& weights,
                    const std::vector<int>& features, core::PyRandom& rng);
  uint32_t LMass(const Node& node) const;
  uint32_t RMass(const Node& node) const;
  uint32_t Child(const Node* tree, uint32_t node_idx, Features x) const;
  // The masses x collects from node_idx (at `depth`) down, as ScoreOne sums them.
  uint64_t ScoreFrom(const Node* tree, uint32_t node_idx, int depth, Features x) const;
  void Pivot();
  void WriteMasses(std::vector<uint16_t>* l_mass, std::vector<uint16_t>* r_mass) const;

  Options options_;
  std::vector<std::string> feature_names_;
  // River's size limit, 0.1 * window_size, rounded up: for an integer mass m, m < the limit
  // exactly when m < min_mass_, which saves a conversion and a double compare per node.
  uint32_t min_mass_;
  double max_score_;         // num_trees * window_size * (2^(height+1) - 1), exact.
  uint32_t nodes_per_tree_;  // 2^(height+1): index 0 unused.
  uint32_t first_leaf_;      // 2^height.
  bool built_ = false;
  std::vector<Node> nodes_;
  uint64_t epoch_ = 0;    // Completed windows; 0 means River's first_window.
  uint32_t counter_ = 0;  // Learns in the current window.
};

}  // namespace sluice::learners
