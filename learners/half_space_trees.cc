// learners/half_space_trees.cc
#include "learners/half_space_trees.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "core/memory.h"
#include "core/random.h"
#include "core/state_codec.h"
#include "core/status_macros.h"

namespace sluice::learners {
namespace {

constexpr absl::string_view kKind = "HalfSpaceTrees";
constexpr uint16_t kFormatVersion = 1;
constexpr double kPadding = 0.15;  // River's fixed split padding.
// A sweep rewrites every node's masses into the current window every kSweepEvery windows, so a
// node's stored epoch is never more than kSweepEvery behind and its 16 bits are unambiguous.
constexpr uint64_t kSweepEvery = 16384;

}  // namespace

absl::StatusOr<std::unique_ptr<HalfSpaceTrees>> HalfSpaceTrees::Create(
    const Options& options, std::vector<std::string> feature_names) {
  if (options.num_trees < 1 || options.num_trees > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("half-space trees: num_trees must be in [1, 10000], got ", options.num_trees));
  }
  if (options.height < 1 || options.height > 24) {
    return absl::InvalidArgumentError(
        absl::StrCat("half-space trees: height must be in [1, 24], got ", options.height));
  }
  if (options.window_size < 1 || options.window_size > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "half-space trees: window_size must be in [1, 65535], got ", options.window_size));
  }
  if (feature_names.empty() || feature_names.size() > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("half-space trees: need 1 to 65535 features, got ", feature_names.size()));
  }
  SLUICE_RETURN_IF_ERROR(core::CheckMemory(
      absl::StrCat("half-space trees: a model with ", options.num_trees, " tree",
                   options.num_trees == 1 ? "" : "s", " of height ", options.height),
      MemoryBytes(options)));
  return std::unique_ptr<HalfSpaceTrees>(new HalfSpaceTrees(options, std::move(feature_names)));
}

uint64_t HalfSpaceTrees::MemoryBytes(const Options& options) {
  const auto trees = static_cast<uint64_t>(std::max(options.num_trees, 0));
  const int height = std::clamp(options.height, 0, 62);
  return core::SaturatingMul(core::SaturatingMul(trees, uint64_t{2} << height), sizeof(Node));
}

HalfSpaceTrees::HalfSpaceTrees(const Options& options, std::vector<std::string> feature_names)
    : options_(options),
      feature_names_(std::move(feature_names)),
      min_mass_(static_cast<uint32_t>(std::ceil(0.1 * options.window_size))),
      max_score_(static_cast<double>(static_cast<uint64_t>(options.num_trees) *
                                     static_cast<uint64_t>(options.window_size) *
                                     ((uint64_t{2} << options.height) - 1))),
      nodes_per_tree_(uint32_t{2} << options.height),
      first_leaf_(uint32_t{1} << options.height) {}

[[gnu::always_inline]] inline uint32_t HalfSpaceTrees::LMass(const Node& node) const {
  return node.epoch == static_cast<uint16_t>(epoch_) ? node.l_mass : 0;
}

[[gnu::always_inline]] inline uint32_t HalfSpaceTrees::RMass(const Node& node) const {
  const auto e = static_cast<uint16_t>(epoch_);
  if (node.epoch == e) return node.r_mass;
  // Written in the previous window: its current-window mass has become the reference mass.
  return node.epoch == static_cast<uint16_t>(e - 1) ? node.l_mass : 0;
}

[[gnu::always_inline]] inline uint32_t HalfSpaceTrees::Child(const Node* tree, uint32_t node_idx,
                                                             Features x) const {
  const Node& node = tree[node_idx];
  const double v = x[node.feature];
  const uint32_t left = 2 * node_idx;
  if (__builtin_expect(core::IsMissing(v), 0)) {
    // Missing feature: follow the child with the larger current-window mass, ties left.
    return LMass(tree[left]) >= LMass(tree[left + 1]) ? left : left + 1;
  }
  // Left iff v < threshold (equality goes right, as in River).
  if (v < node.threshold) return left;
  return left + 1;
}

uint64_t HalfSpaceTrees::ScoreFrom(const Node* tree, uint32_t node_idx, int depth,
                                   Features x) const {
  uint64_t score = 0;  // Integer mass sums, exact as River's Python ints.
  for (;; ++depth) {
    const uint32_t r_mass = RMass(tree[node_idx]);
    score += static_cast<uint64_t>(r_mass) << depth;
    // The node that falls below the size limit is counted, then the walk stops.
    if (r_mass < min_mass_ || node_idx >= first_leaf_) break;
    node_idx = Child(tree, node_idx, x);
  }
  return score;
}

double HalfSpaceTrees::ScoreOne(Features x) const {
  if (epoch_ == 0) return 0.0;  // River returns 0 during the first window.
  uint64_t score = 0;
  for (int tree_idx = 0; tree_idx < options_.num_trees; ++tree_idx) {
    score += ScoreFrom(nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_, 1, 0, x);
  }
  return 1.0 - static_cast<double>(score) / max_score_;
}

namespace {

// ExplainOne's per-feature sums: a buffer per thread, as many threads may explain one model.
std::vector<uint64_t>& ExplainScratch() {
  thread_local std::vector<uint64_t> lost;
  return lost;
}

}  // namespace

double HalfSpaceTrees::ExplainOne(Features x, std::vector<double>* contributions) const {
  contributions->assign(feature_names_.size(), 0.0);
  if (epoch_ == 0) return 0.0;
  // Integer sums, as ScoreOne's: each share is then one division, and the shares add up to the
  // score but for the rounding of those divisions.
  std::vector<uint64_t>& lost = ExplainScratch();
  lost.assign(feature_names_.size(), 0);
  const uint64_t top = uint64_t{1} << (options_.height + 1);
  uint64_t rest = 0;
  for (int tree_idx = 0; tree_idx < options_.num_trees; ++tree_idx) {
    const Node* tree = nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_;
    uint32_t node_idx = 1;
    uint64_t mass = RMass(tree[1]);
    // The root holds a whole window; a merged model's root the sum of the windows, as its
    // window_size says. Kept for safety: 0 whenever the masses add up.
    rest += (static_cast<uint64_t>(options_.window_size) - mass) * (top - 1);
    for (int depth = 0;; ++depth) {
      const uint64_t weight = top - (uint64_t{2} << depth);  // 2^(depth+1) + ... + 2^height
      if (mass < min_mass_ || node_idx >= first_leaf_) {
        rest += mass * weight;  // The walk stops: what it kept is not counted deeper.
        break;
      }
      const uint32_t next = Child(tree, node_idx, x);
      const uint64_t kept = RMass(tree[next]);
      const int f = tree[node_idx].feature;
      (core::IsMissing(x[f]) ? rest : lost[f]) += (mass - kept) * weight;
      mass = kept;
      node_idx = next;
    }
  }
  for (size_t f = 0; f < lost.size(); ++f) {
    (*contributions)[f] = static_cast<double>(lost[f]) / max_score_;
  }
  return static_cast<double>(rest) / max_score_;
}

namespace {

// Brings a node into window `e` and counts one example in it, without branches: a stale node's
// masses shift (it was written in the previous window) or reset (older).
template <typename Node>
[[gnu::always_inline]] inline void Touch(Node& node, uint16_t e, uint16_t previous) {
  const bool stale = node.epoch != e;
  const uint16_t shifted = node.epoch == previous ? node.l_mass : 0;
  node.r_mass = stale ? shifted : node.r_mass;
  node.l_mass = static_cast<uint16_t>((stale ? 0 : node.l_mass) + 1);
  node.epoch = e;
}

}  // namespace

void HalfSpaceTrees::LearnOne(Features x, std::optional<bool> /*label*/) {
  if (!built_) {
    BuildTrees(x);
    if (!built_) return;  // No feature present: River would fail; we learn nothing.
  }
  const auto e = static_cast<uint16_t>(epoch_);
  const auto previous = static_cast<uint16_t>(e - 1);
  if (options_.height <= 10) {
    // Small trees stay in cache: walk one tree after the other.
    for (int tree_idx = 0; tree_idx < options_.num_trees; ++tree_idx) {
      Node* tree = nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_;
      uint32_t node_idx = 1;
      while (true) {
        Touch(tree[node_idx], e, previous);
        if (node_idx >= first_leaf_) break;
        node_idx = Child(tree, node_idx, x);
      }
    }
  } else {
    // Deep trees miss the caches: walk all trees level by level, so that the misses of
    // different trees overlap instead of waiting on each other.
    constexpr int kBatch = 32;
    for (int first = 0; first < options_.num_trees; first += kBatch) {
      const int count = std::min(kBatch, options_.num_trees - first);
      Node* trees[kBatch];
      uint32_t node_idx[kBatch];
      for (int k = 0; k < count; ++k) {
        trees[k] = nodes_.data() + static_cast<size_t>(first + k) * nodes_per_tree_;
        node_idx[k] = 1;
      }
      for (int depth = 0; depth <= options_.height; ++depth) {
        for (int k = 0; k < count; ++k) {
          Touch(trees[k][node_idx[k]], e, previous);
          if (depth < options_.height) node_idx[k] = Child(trees[k], node_idx[k], x);
        }
      }
    }
  }
  if (++counter_ == static_cast<uint32_t>(options_.window_size)) Pivot();
}

double HalfSpaceTrees::ScoreThenLearn(Features scored, Features learned,
                                      std::optional<bool> label) {
  // The first example builds the trees; deep trees take LearnOne's batched walk.
  if (!built_ || options_.height > 10) return Learner::ScoreThenLearn(scored, learned, label);
  // One walk per tree does both while the two inputs take the same branches. The score reads a
  // node's reference mass before the learn counts the example in it; a branch reads the node's
  // split, or for a missing feature its children's masses, which neither walk has touched yet.
  // Where the inputs part, the score finishes in a subtree the learn walk never enters.
  const bool scoring = epoch_ != 0;  // River returns 0 during the first window.
  const bool same = scored.data() == learned.data();
  const auto e = static_cast<uint16_t>(epoch_);
  const auto previous = static_cast<uint16_t>(e - 1);
  uint64_t score = 0;
  for (int tree_idx = 0; tree_idx < options_.num_trees; ++tree_idx) {
    Node* tree = nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_;
    uint32_t node_idx = 1;
    bool counting = scoring;  // Until a node falls below the size limit (it is counted).
    for (int depth = 0;; ++depth) {
      const uint32_t r_mass = RMass(tree[node_idx]);
      score += counting ? static_cast<uint64_t>(r_mass) << depth : 0;
      counting = counting && r_mass >= min_mass_;
      Touch(tree[node_idx], e, previous);
      if (node_idx >= first_leaf_) break;
      const uint32_t next = Child(tree, node_idx, learned);
      if (counting && !same) {
        const uint32_t scored_next = Child(tree, node_idx, scored);
        if (scored_next != next) {
          score += ScoreFrom(tree, scored_next, depth + 1, scored);
          counting = false;
        }
      }
      node_idx = next;
    }
  }
  if (++counter_ == static_cast<uint32_t>(options_.window_size)) Pivot();
  return scoring ? 1.0 - static_cast<double>(score) / max_score_ : 0.0;
}

void HalfSpaceTrees::Pivot() {
  counter_ = 0;
  ++epoch_;
  if (epoch_ % kSweepEvery != 0) return;
  const auto e = static_cast<uint16_t>(epoch_);
  for (Node& node : nodes_) {
    const uint16_t l_mass = static_cast<uint16_t>(LMass(node));
    node.r_mass = static_cast<uint16_t>(RMass(node));
    node.l_mass = l_mass;
    node.epoch = e;
  }
}

void HalfSpaceTrees::BuildTrees(Features first) {
  // River sorts the keys of the first example (Python's sorted: byte order for ASCII names).
  std::vector<int> features;
  for (int i = 0; i < dimension(); ++i) {
    if (!core::IsMissing(first[i])) features.push_back(i);
  }
  if (features.empty()) return;
  std::stable_sort(features.begin(), features.end(),
                   [&](int a, int b) { return feature_names_[a] < feature_names_[b]; });
  nodes_.assign(static_cast<size_t>(options_.num_trees) * nodes_per_tree_, Node{});
  core::PyRandom rng(options_.seed);
  const size_t n = features.size();
  std::vector<double> lo(n, 0.0), hi(n, 1.0), weights(n, 1.0);
  for (int tree_idx = 0; tree_idx < options_.num_trees; ++tree_idx) {
    BuildSubtree(nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_, 1,
                 options_.height, lo, hi, weights, features, rng);
  }
  built_ = true;
}

void HalfSpaceTrees::BuildSubtree(Node* tree, uint32_t node_idx, int depth_left,
                                  std::vector<double>& lo, std::vector<double>& hi,
                                  std::vector<double>& weights, const std::vector<int>& features,
                                  core::PyRandom& rng) {
  if (depth_left == 0) return;
  // Pre-order draws: the feature (weighted by its current interval width), then the threshold.
  const int on = rng.WeightedChoice(weights);
  const double a = lo[on];
  const double b = hi[on];
  const double low = a + kPadding * (b - a);
  const double high = b - kPadding * (b - a);
  const double threshold = rng.Uniform(low, high);
  tree[node_idx].feature = static_cast<uint16_t>(features[on]);
  tree[node_idx].threshold = threshold;
  hi[on] = threshold;
  weights[on] = threshold - a;
  BuildSubtree(tree, 2 * node_idx, depth_left - 1, lo, hi, weights, features, rng);
  hi[on] = b;
  lo[on] = threshold;
  weights[on] = b - threshold;
  BuildSubtree(tree, 2 * node_idx + 1, depth_left - 1, lo, hi, weights, features, rng);
  lo[on] = a;
  weights[on] = b - a;
}

HalfSpaceTrees::NodeView HalfSpaceTrees::node(int tree_idx, uint32_t node_idx) const {
  const Node& n = nodes_[static_cast<size_t>(tree_idx) * nodes_per_tree_ + node_idx];
  return {n.feature, n.threshold, LMass(n), RMass(n)};
}

namespace {

// The models a merge sums (see Merge in the header): the most advanced stage present, where a
// model that completed a window beats one with built trees, which beats an unbuilt one.
int MergeStage(const HalfSpaceTrees& model) {
  if (model.completed_windows() > 0) return 2;
  return model.trees_built() ? 1 : 0;
}

}  // namespace

absl::Status HalfSpaceTrees::CheckMergeable(const HalfSpaceTrees& other) const {
  const Options& x = options_;
  const Options& y = other.options_;
  std::string why;
  if (x.num_trees != y.num_trees) {
    why = absl::StrCat("trees ", x.num_trees, " vs ", y.num_trees);
  } else if (x.height != y.height) {
    why = absl::StrCat("height ", x.height, " vs ", y.height);
  } else if (x.seed != y.seed) {
    why = absl::StrCat("seed ", x.seed, " vs ", y.seed);
  } else if (feature_names_ != other.feature_names_) {
    why = "feature names differ";
  }
  for (size_t node_idx = 0; why.empty() && built_ && other.built_ && node_idx < nodes_.size();
       ++node_idx) {
    const Node& a = nodes_[node_idx];
    const Node& b = other.nodes_[node_idx];
    if (a.feature != b.feature || a.threshold != b.threshold) {
      why = absl::StrCat("the trees differ (tree ", node_idx / nodes_per_tree_, " node ",
                         node_idx % nodes_per_tree_,
                         "): did their first examples lack different features?");
    }
  }
  if (why.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("half-space trees cannot be merged: ", why));
}

absl::StatusOr<std::unique_ptr<HalfSpaceTrees>> HalfSpaceTrees::Merge(
    std::span<const HalfSpaceTrees* const> models) {
  if (models.empty()) return absl::InvalidArgumentError("half-space trees merge: no models");
  // Built trees are checked against the first built ones, so every pair is checked.
  const HalfSpaceTrees* reference = models[0];
  int stage = 0;
  for (const HalfSpaceTrees* model : models) {
    if (!reference->built_ && model->built_) reference = model;
    stage = std::max(stage, MergeStage(*model));
  }
  for (size_t i = 0; i < models.size(); ++i) {
    if (absl::Status status = reference->CheckMergeable(*models[i]); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("model ", i, ": ", status.message()));
    }
  }
  std::vector<const HalfSpaceTrees*> counted;
  uint64_t window_size = 0;
  for (const HalfSpaceTrees* model : models) {
    if (MergeStage(*model) != stage) continue;
    counted.push_back(model);
    window_size += static_cast<uint64_t>(model->options_.window_size);
  }
  if (window_size > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("half-space trees merge: the merged window_size would be ", window_size,
                     ", above the limit 65535 (masses are 16-bit)"));
  }
  const HalfSpaceTrees& first = *counted[0];
  Options options = first.options_;
  options.window_size = static_cast<int>(window_size);
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<HalfSpaceTrees> merged,
                          Create(options, first.feature_names_));
  for (const HalfSpaceTrees* model : counted) {
    merged->epoch_ = std::max(merged->epoch_, model->epoch_);
    merged->counter_ += model->counter_;
  }
  if (!first.built_) return merged;
  // Normalised to one epoch: every node is written in the merged model's current window.
  // Integer sums, so the order of the inputs cannot change a bit.
  merged->built_ = true;
  merged->nodes_ = first.nodes_;
  const auto e = static_cast<uint16_t>(merged->epoch_);
  for (size_t node_idx = 0; node_idx < merged->nodes_.size(); ++node_idx) {
    uint32_t l_mass = 0, r_mass = 0;
    for (const HalfSpaceTrees* model : counted) {
      l_mass += model->LMass(model->nodes_[node_idx]);
      r_mass += model->RMass(model->nodes_[node_idx]);
    }
    Node& node = merged->nodes_[node_idx];
    node.epoch = e;
    node.l_mass = static_cast<uint16_t>(l_mass);
    node.r_mass = static_cast<uint16_t>(r_mass);
  }
  return merged;
}

std::vector<std::pair<std::string, double>> HalfSpaceTrees::Branches(int tree_idx) const {
  std::vector<std::pair<std::string, double>> out;
  const Node* tree = nodes_.data() + static_cast<size_t>(tree_idx) * nodes_per_tree_;
  std::vector<uint32_t> stack = {1};
  while (!stack.empty()) {
    const uint32_t node_idx = stack.back();
    stack.pop_back();
    if (node_idx >= first_leaf_) continue;
    out.emplace_back(feature_names_[tree[node_idx].feature], tree[node_idx].threshold);
    stack.push_back(2 * node_idx + 1);
    stack.push_back(2 * node_idx);
  }
  return out;
}

void HalfSpaceTrees::WriteMasses(std::vector<uint16_t>* l_mass,
                                 std::vector<uint16_t>* r_mass) const {
  l_mass->reserve(nodes_.size());
  r_mass->reserve(nodes_.size());
  for (const Node& node : nodes_) {
    l_mass->push_back(static_cast<uint16_t>(LMass(node)));
    r_mass->push_back(static_cast<uint16_t>(RMass(node)));
  }
}

std::string HalfSpaceTrees::Save() const {
  core::StateWriter w;
  w.Put<int32_t>(options_.num_trees);
  w.Put<int32_t>(options_.height);
  w.Put<int32_t>(options_.window_size);
  w.Put<uint64_t>(options_.seed);
  w.Put<uint64_t>(feature_names_.size());
  for (const std::string& name : feature_names_) w.PutString(name);
  w.Put<uint8_t>(built_ ? 1 : 0);
  w.Put<uint64_t>(epoch_);
  w.Put<uint32_t>(counter_);
  if (built_) {
    // Masses are written as seen from the current window, so equal states give equal blobs.
    std::vector<uint16_t> features, l_mass, r_mass;
    std::vector<double> thresholds;
    features.reserve(nodes_.size());
    thresholds.reserve(nodes_.size());
    for (const Node& node : nodes_) {
      features.push_back(node.feature);
      thresholds.push_back(node.threshold);
    }
    WriteMasses(&l_mass, &r_mass);
    w.PutVector(features);
    w.PutVector(thresholds);
    w.PutVector(l_mass);
    w.PutVector(r_mass);
  }
  return core::SealState(kKind, kFormatVersion, w.payload());
}

absl::Status HalfSpaceTrees::Load(absl::string_view state) {
  SLUICE_ASSIGN_OR_RETURN(const absl::string_view payload,
                          core::OpenState(state, kKind, kFormatVersion));
  core::StateReader r(payload);
  Options options;
  uint64_t num_features = 0;
  r.Get(&options.num_trees);
  r.Get(&options.height);
  r.Get(&options.window_size);
  r.Get(&options.seed);
  r.Get(&num_features);
  if (!r.ok() || num_features > 65535) {
    return absl::DataLossError("half-space trees state: malformed header");
  }
  std::vector<std::string> names(num_features);
  for (std::string& name : names) r.GetString(&name);
  uint8_t built = 0;
  uint64_t epoch = 0;
  uint32_t counter = 0;
  r.Get(&built);
  r.Get(&epoch);
  r.Get(&counter);
  if (!r.ok()) return absl::DataLossError("half-space trees state: malformed header");
  if (options.num_trees != options_.num_trees || options.height != options_.height ||
      options.window_size != options_.window_size || options.seed != options_.seed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "half-space trees state was saved with trees=", options.num_trees,
        " height=", options.height, " window=", options.window_size, " seed=", options.seed,
        "; this model has trees=", options_.num_trees, " height=", options_.height,
        " window=", options_.window_size, " seed=", options_.seed));
  }
  if (names != feature_names_) {
    return absl::FailedPreconditionError(
        "half-space trees state was saved for different feature names");
  }
  std::vector<Node> nodes;
  if (built != 0) {
    std::vector<uint16_t> features, l_mass, r_mass;
    std::vector<double> thresholds;
    r.GetVector(&features);
    r.GetVector(&thresholds);
    r.GetVector(&l_mass);
    r.GetVector(&r_mass);
    const size_t expected = static_cast<size_t>(options_.num_trees) * nodes_per_tree_;
    if (!r.ok() || features.size() != expected || thresholds.size() != expected ||
        l_mass.size() != expected || r_mass.size() != expected) {
      return absl::DataLossError("half-space trees state: malformed node arrays");
    }
    nodes.resize(expected);
    for (size_t i = 0; i < expected; ++i) {
      if (features[i] >= num_features || l_mass[i] > options_.window_size ||
          r_mass[i] > options_.window_size) {
        return absl::DataLossError("half-space trees state: node out of range");
      }
      nodes[i] =
          Node{thresholds[i], features[i], static_cast<uint16_t>(epoch), l_mass[i], r_mass[i]};
    }
    // Every example a node counts passed through its parent: an internal node's masses are its
    // children's sums, and a root counts this window's `counter` examples. A blob that breaks
    // this would learn masses above window_size, and its Save() would not load.
    for (size_t tree = 0; tree < expected; tree += nodes_per_tree_) {
      if (l_mass[tree + 1] != counter) {
        return absl::DataLossError("half-space trees state: masses do not add up");
      }
      for (size_t i = tree + 1; i < tree + first_leaf_; ++i) {
        const size_t left = tree + 2 * (i - tree);
        if (l_mass[i] != l_mass[left] + l_mass[left + 1] ||
            r_mass[i] != r_mass[left] + r_mass[left + 1]) {
          return absl::DataLossError("half-space trees state: masses do not add up");
        }
      }
    }
  }
  if (!r.done() || built > 1 || counter >= static_cast<uint32_t>(options_.window_size) ||
      (built == 0 && (epoch != 0 || counter != 0))) {
    return absl::DataLossError("half-space trees state: malformed payload");
  }
  built_ = built != 0;
  nodes_ = std::move(nodes);
  epoch_ = epoch;
  counter_ = counter;
  return absl::OkStatus();
}

}  // namespace sluice::learners
