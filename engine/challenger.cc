// engine/challenger.cc
#include "engine/challenger.h"

#include <cmath>
#include <type_traits>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/status_macros.h"

namespace sluice::engine {
namespace {

absl::Status BadSpec(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("challenger \"", text, "\": ", why));
}

// Sets the option `key` of a challenger of kind `hst` (else logreg) to `value`.
absl::Status SetOption(bool hst, absl::string_view key, absl::string_view value,
                       Pipeline::Options* o) {
  const auto number = [&](double* out) {
    return absl::SimpleAtod(value, out)
               ? absl::OkStatus()
               : absl::InvalidArgumentError(absl::StrCat(key, "=", value, ": not a number"));
  };
  const auto integer = [&](auto* out) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(value, &v) || v < 0) {
      return absl::InvalidArgumentError(absl::StrCat(key, "=", value, ": not a count"));
    }
    *out = static_cast<std::remove_pointer_t<decltype(out)>>(v);
    return absl::OkStatus();
  };
  if (hst) {
    if (key == "trees") return integer(&o->hst.num_trees);
    if (key == "height") return integer(&o->hst.height);
    if (key == "window") return integer(&o->hst.window_size);
    if (key == "seed") return integer(&o->hst.seed);
  } else {
    if (key == "lr") return number(&o->lr.learning_rate);
    if (key == "intercept_lr") return number(&o->lr.intercept_lr);
    if (key == "l2") return number(&o->lr.l2);
    if (key == "clip") return number(&o->lr.clip_gradient);
    if (key == "pos_weight") return number(&o->lr.positive_weight);
    if (key == "neg_weight") return number(&o->lr.negative_weight);
    if (key == "scaler" && (value == "standard" || value == "minmax")) {
      o->fraud_scaler =
          value == "minmax" ? Pipeline::FraudScaler::kMinMax : Pipeline::FraudScaler::kStandard;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown option \"", key, "=", value, "\" (",
      hst ? "hst: trees, height, window, seed"
          : "logreg: lr, intercept_lr, l2, clip, pos_weight, neg_weight, scaler=standard|minmax",
      ")"));
}

}  // namespace

absl::StatusOr<ChallengerSpec> ParseChallengerSpec(absl::string_view text) {
  ChallengerSpec spec{std::string(text), {}};
  const std::pair<absl::string_view, absl::string_view> kind = absl::StrSplit(text, ':');
  if (kind.first != "hst" && kind.first != "logreg") {
    return BadSpec(text, "the kind must be hst or logreg, e.g. hst:trees=25,height=15");
  }
  const bool hst = kind.first == "hst";
  spec.options.anomaly = hst;
  spec.options.fraud = !hst;
  for (absl::string_view part : absl::StrSplit(kind.second, ',', absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, '=');
    if (absl::Status s = SetOption(hst, kv.first, kv.second, &spec.options); !s.ok()) {
      return BadSpec(text, s.message());
    }
  }
  return spec;
}

absl::StatusOr<std::unique_ptr<Challengers>> Challengers::Create(
    const std::vector<ChallengerSpec>& specs, const std::vector<std::string>& features,
    int metric_window) {
  std::unique_ptr<Challengers> c(new Challengers());
  for (const ChallengerSpec& spec : specs) {
    Pipeline::Options options = spec.options;
    options.metric_window = metric_window;
    options.serving = Pipeline::Serving::kContinuous;
    absl::StatusOr<std::unique_ptr<Pipeline>> p = Pipeline::Create(options, features);
    if (!p.ok()) return BadSpec(spec.text, p.status().message());
    c->specs_.push_back(spec);
    c->pipelines_.push_back(*std::move(p));
    c->nan_.emplace_back();
  }
  return c;
}

void Challengers::Score(const core::Event& event, std::vector<double>* scores) {
  scores->resize(pipelines_.size());
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    const double score = anomaly(i) ? pipelines_[i]->ScoreAndLearnAnomaly(event.features)
                                    : pipelines_[i]->ScoreFraud(event.features);
    (*scores)[i] = score;
    if (std::isnan(score) && nan_[i].count++ == 0) {
      nan_[i].first_event_id = event.id;
      nan_[i].first_row = event.row;
    }
  }
}

void Challengers::ApplyLabel(core::Features x, bool label, const std::vector<double>& scores) {
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    const Pipeline::Scores s{anomaly(i) ? scores[i] : 0.0, anomaly(i) ? 0.0 : scores[i]};
    pipelines_[i]->ApplyLabel(x, label, s);
  }
}

void Challengers::SaveMetrics(core::StateWriter* w, bool whole) {
  w->Put<uint64_t>(specs_.size());
  for (size_t i = 0; i < specs_.size(); ++i) {
    w->PutString(specs_[i].text);
    pipelines_[i]->SaveMetrics(w, whole);
  }
}

absl::Status Challengers::LoadMetrics(core::StateReader* r) {
  uint64_t n = 0;
  if (!r->Get(&n)) return absl::DataLossError("challengers: malformed");
  std::vector<std::string> saved(n);
  for (uint64_t i = 0; i < n; ++i) {
    if (!r->GetString(&saved[i])) return absl::DataLossError("challengers: malformed");
    if (i < specs_.size() && saved[i] == specs_[i].text && !pipelines_[i]->LoadMetrics(r)) {
      return absl::DataLossError(absl::StrCat("challenger \"", saved[i], "\": malformed metrics"));
    }
    if (i >= specs_.size() || saved[i] != specs_[i].text) break;
  }
  std::vector<std::string> given;
  for (const ChallengerSpec& spec : specs_) given.push_back(spec.text);
  if (saved != given) {
    return absl::FailedPreconditionError(absl::StrCat(
        "it was made with challengers [", absl::StrJoin(saved, " "), "], this run has [",
        absl::StrJoin(given, " "), "]: give the same --challenger flags, in the same order"));
  }
  return absl::OkStatus();
}

void Challengers::SaveModels(core::StateWriter* w) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    w->PutString(SaveModel(i));
    w->Put(nan_[i].count);
    w->PutString(nan_[i].first_event_id);
    w->Put(nan_[i].first_row);
  }
}

absl::Status Challengers::LoadModels(core::StateReader* r) {
  for (size_t i = 0; i < specs_.size(); ++i) {
    std::string state;
    if (!r->GetString(&state) || !r->Get(&nan_[i].count) ||
        !r->GetString(&nan_[i].first_event_id) || !r->Get(&nan_[i].first_row)) {
      return absl::DataLossError(absl::StrCat("challenger \"", specs_[i].text, "\": malformed"));
    }
    SLUICE_RETURN_IF_ERROR(anomaly(i) ? pipelines_[i]->RestoreAnomaly(state)
                                      : pipelines_[i]->RestoreFraud(state));
  }
  return absl::OkStatus();
}

std::string Challengers::SaveModel(size_t i) const {
  return anomaly(i) ? pipelines_[i]->SaveAnomaly() : pipelines_[i]->SaveFraud();
}

const ModelMetrics& Challengers::metrics(size_t i) const {
  return anomaly(i) ? pipelines_[i]->anomaly_metrics() : pipelines_[i]->fraud_metrics();
}

}  // namespace sluice::engine
