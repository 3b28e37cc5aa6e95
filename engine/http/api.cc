// engine/http/api.cc
#include "engine/http/api.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/clock.h"
#include "core/status_macros.h"
#include "engine/event_json.h"
#include "engine/event_scan.h"
#include "engine/http/dashboard_page.h"
#include "engine/prediction_sink.h"
#include "registry/registry.h"

namespace sluice::engine::http {
namespace {

Response JsonResponse(int status, std::string body) {
  return {status, "application/json", std::move(body), {}};
}

Response ErrorResponse(int status, absl::string_view message) {
  std::string body;
  core::FlatJsonWriter(&body).String("error", message).Close();
  return JsonResponse(status, std::move(body));
}

Response MethodNotAllowed(absl::string_view allow) {
  Response r = ErrorResponse(405, absl::StrCat("method not allowed; allowed: ", allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

// The HTTP status for a Status from the registry or a restore.
int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

Response FromStatus(const absl::Status& s) { return ErrorResponse(HttpStatus(s), s.message()); }

std::string Iso8601(int64_t unix_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

// A parser per thread, remade when a request's version has other features: requests of one
// model version reuse its buffers.
EventJsonParser& ParserFor(const std::vector<std::string>& features) {
  thread_local std::unique_ptr<EventJsonParser> parser;
  if (parser == nullptr || parser->features() != features) {
    parser = std::make_unique<EventJsonParser>(features);
  }
  return *parser;
}

// The names of the features `event` lacks, or empty.
std::string MissingFeatures(const core::Event& event, const std::vector<std::string>& names) {
  std::vector<absl::string_view> missing;
  for (size_t i = 0; i < names.size(); ++i) {
    if (core::IsMissing(event.features[i])) missing.push_back(names[i]);
  }
  return absl::StrJoin(missing, ", ");
}

class ApiImpl final : public Api {
 public:
  ApiImpl(Options options, StreamView* stream, MetricsRegistry& metrics,
          std::unique_ptr<registry::Registry> registry)
      : options_(std::move(options)),
        stream_(stream),
        metrics_(metrics),
        registry_(std::move(registry)),
        started_(absl::Now()) {
    metrics_
        .GetGauge("sluice_build_info", "The build of sluice serving, as its labels.",
                  {{"version", SLUICE_GIT_DESCRIBE}})
        .Set(1);
  }

  // Loads what is served at start. NotFound if there is nothing (standalone).
  absl::Status Init() {
    SLUICE_RETURN_IF_ERROR(RefreshServed());
    if (Served() == nullptr && stream_ == nullptr) {
      return absl::NotFoundError(absl::StrCat("model \"", options_.model,
                                              "\" has no version to serve in ", options_.registry));
    }
    return absl::OkStatus();
  }

  Response Handle(const Request& r) override {
    const auto only = [&](absl::string_view method, auto&& answer) -> Response {
      if (r.method != method) return MethodNotAllowed(method);
      return answer();
    };
    if (r.path == "/") {
      return only("GET", [] {
        return Response{200, "text/html; charset=utf-8", std::string(DashboardHtml()), {}};
      });
    }
    if (r.path == "/healthz") {
      return only("GET", [] { return JsonResponse(200, "{\"status\": \"ok\"}"); });
    }
    if (r.path == "/readyz") return only("GET", [&] { return Ready(); });
    if (r.path == "/metrics") {
      return only("GET", [&] {
        return Response{200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Render(), {}};
      });
    }
    if (r.path == "/v1/score") return only("POST", [&] { return Score(r); });
    if (r.path == "/v1/labels") return only("POST", [&] { return Label(r); });
    if (r.path == "/v1/state") return only("GET", [&] { return State(); });
    if (r.path == "/v1/models") return only("GET", [&] { return Models(); });
    // /v1/models/{model}/versions/{v}, /v1/models/{model}/aliases/{alias}[/history]
    const std::vector<absl::string_view> p = absl::StrSplit(r.path, '/', absl::SkipEmpty());
    const bool model = p.size() >= 5 && p[0] == "v1" && p[1] == "models";
    if (model && p.size() == 5 && p[3] == "versions") {
      return only("GET", [&] { return VersionInfo(p[2], p[4]); });
    }
    if (model && p.size() == 5 && p[3] == "aliases") {
      if (r.method == "GET") return AliasGet(p[2], p[4]);
      if (r.method == "PUT") return AliasPut(p[2], p[4], r.body);
      return MethodNotAllowed("GET, PUT");
    }
    if (model && p.size() == 6 && p[3] == "aliases" && p[5] == "history") {
      return only("GET", [&] { return AliasHistory(p[2], p[4]); });
    }
    return ErrorResponse(404, absl::StrCat("no such resource: ", r.path));
  }

  RequestObserver Observer() override {
    return [this](const Request& r, int status, absl::Duration took) {
      std::string key = absl::StrCat(status, " ", r.method, " ", Route(r.path));
      Histogram* histogram = nullptr;
      {
        absl::ReaderMutexLock lock(&handles_mu_);
        auto it = durations_.find(key);
        if (it != durations_.end()) histogram = it->second;
      }
      if (histogram == nullptr) {
        histogram = &metrics_.GetHistogram(
            "sluice_http_request_duration_seconds",
            "Time to answer an HTTP request, from its last byte read.", LatencyBuckets(),
            {{"route", std::string(Route(r.path))},
             {"method", r.method.empty() ? "none" : r.method},
             {"code", absl::StrCat(status)}});
        absl::MutexLock lock(&handles_mu_);
        durations_.emplace(std::move(key), histogram);
      }
      histogram->Observe(absl::ToDoubleSeconds(took));
    };
  }

  BodyStreamStarter BodyStreams() override {
    return [this](const Request& head,
                  std::optional<uint64_t> length) -> std::unique_ptr<BodyStream> {
      // A body under 64 KiB comes in one read or two: nothing to gain.
      if (head.method != "POST" || head.path != "/v1/score" || length.value_or(0) < (64 << 10)) {
        return nullptr;
      }
      absl::StatusOr<ScoreQuery> query = ScoreQueryFor(head);
      if (!query.ok()) return nullptr;  // Score answers it.
      return std::make_unique<ScoreStream>(*this, *std::move(query));
    };
  }

  int64_t served_version() const override {
    MaybeRefresh();
    const auto m = Served();
    return m == nullptr ? 0 : m->version();
  }

 private:
  // A route's name for metrics: the path with names and numbers replaced, so that the labels
  // stay few.
  static absl::string_view Route(absl::string_view path) {
    static const char* const kFixed[] = {"/",         "/healthz",   "/readyz",   "/metrics",
                                         "/v1/score", "/v1/labels", "/v1/state", "/v1/models"};
    for (const char* fixed : kFixed) {
      if (path == fixed) return fixed;
    }
    const std::vector<absl::string_view> p = absl::StrSplit(path, '/', absl::SkipEmpty());
    if (p.size() >= 5 && p[0] == "v1" && p[1] == "models") {
      if (p.size() == 5 && p[3] == "versions") return "/v1/models/{}/versions/{}";
      if (p.size() == 5 && p[3] == "aliases") return "/v1/models/{}/aliases/{}";
      if (p.size() == 6 && p[3] == "aliases" && p[5] == "history") {
        return "/v1/models/{}/aliases/{}/history";
      }
    }
    return "other";
  }

  // The model served by default now.
  std::shared_ptr<const ServingModel> Served() const {
    absl::MutexLock lock(&served_mu_);
    return served_;
  }

  // Re-reads what is served (another process may have moved the alias, a stream may have made a
  // new version) and swaps it in. A new version is restored before the swap, without a lock that
  // scoring takes; a switch made by a PUT meanwhile wins.
  absl::Status RefreshServed() const {
    const int64_t generation = generation_.load();
    std::string ref = options_.version;
    if (ref.empty()) {
      absl::StatusOr<int64_t> aliased = Resolve(options_.model, options_.alias);
      if (!aliased.ok() && !absl::IsNotFound(aliased.status())) return aliased.status();
      ref = aliased.ok() ? absl::StrCat(*aliased) : "latest";
    }
    absl::StatusOr<int64_t> number = Resolve(options_.model, ref);
    // A stream that has made no version yet: nothing is served until it does.
    if (absl::IsNotFound(number.status()) && stream_ != nullptr) return absl::OkStatus();
    SLUICE_RETURN_IF_ERROR(number.status());
    const std::shared_ptr<const ServingModel> current = Served();
    if (current != nullptr && current->version() == *number) return absl::OkStatus();
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const ServingModel> model,
                            Load(options_.model, *number));
    absl::MutexLock lock(&served_mu_);
    if (generation_.load() == generation) served_ = std::move(model);
    return absl::OkStatus();
  }

  // At most once a second, from the scoring path; never waits for a refresh in progress.
  void MaybeRefresh() const {
    const int64_t now = absl::ToUnixMillis(absl::Now());
    int64_t last = last_refresh_ms_.load(std::memory_order_relaxed);
    if (now - last < 1000 || !last_refresh_ms_.compare_exchange_strong(last, now)) return;
    RefreshServed().IgnoreError();  // Keep serving what was served meanwhile.
  }

  absl::StatusOr<int64_t> Resolve(absl::string_view model, absl::string_view ref) const {
    absl::MutexLock lock(&registry_mu_);
    return registry_->Resolve(model, ref);
  }

  // Version `number` of `model`, restored once and kept (the last 16 used).
  absl::StatusOr<std::shared_ptr<const ServingModel>> Load(absl::string_view model,
                                                           int64_t number) const {
    const std::pair<std::string, int64_t> key(std::string(model), number);
    {
      absl::MutexLock lock(&cache_mu_);
      for (const auto& [k, m] : cache_) {
        if (k == key) return m;
      }
    }
    absl::StatusOr<registry::Version> version;
    {
      absl::MutexLock lock(&registry_mu_);
      version = registry_->Get(model, number);
    }
    SLUICE_RETURN_IF_ERROR(version.status());
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const ServingModel> loaded,
                            ServingModel::Create(*version));
    absl::MutexLock lock(&cache_mu_);
    cache_.emplace_back(key, loaded);
    if (cache_.size() > 16) cache_.pop_front();
    return loaded;
  }

  // The model a scoring request names, or the served one.
  absl::StatusOr<std::shared_ptr<const ServingModel>> ModelFor(const Request& r) const {
    const std::optional<std::string> version = QueryParameter(r.query, "version");
    const std::optional<std::string> alias = QueryParameter(r.query, "alias");
    const std::string model = QueryParameter(r.query, "model").value_or(options_.model);
    if (version.has_value() || alias.has_value()) {
      const std::string ref = version.has_value() ? *version : *alias;
      absl::StatusOr<int64_t> number = Resolve(model, ref);
      if (!number.ok()) {
        return absl::NotFoundError(absl::StrCat(version.has_value() ? "version" : "alias", " \"",
                                                ref, "\" of model \"", model,
                                                "\": ", number.status().message()));
      }
      return Load(model, *number);
    }
    MaybeRefresh();
    std::shared_ptr<const ServingModel> served = Served();
    if (served == nullptr) return absl::UnavailableError("no model version is served yet");
    return served;
  }

  // What a scoring request asks for, from its query: the model, and how to write predictions.
  struct ScoreQuery {
    std::shared_ptr<const ServingModel> model;
    int explain = 0;
    PredictionFormat format;
  };

  absl::StatusOr<ScoreQuery> ScoreQueryFor(const Request& r) const {
    SLUICE_ASSIGN_OR_RETURN(std::shared_ptr<const ServingModel> model, ModelFor(r));
    const Pipeline::Options& pipeline = model->config().pipeline;
    ScoreQuery q{model, 0, {VersionColumns::kFrozen, pipeline.anomaly, pipeline.fraud, {}}};
    if (std::optional<std::string> k = QueryParameter(r.query, "explain"); k.has_value()) {
      if (!absl::SimpleAtoi(*k, &q.explain) || q.explain < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("explain must be a count of features, not \"", *k, "\""));
      }
      if (q.explain > 0 && !pipeline.anomaly) {
        return absl::InvalidArgumentError(
            absl::StrCat("version ", model->version(), " has no anomaly model to explain"));
      }
    }
    if (q.explain > 0) q.format.explain_features = model->features();
    return q;
  }

  // Scores `events`, rows first_row on, and appends their predictions to *body, each after a
  // comma but row 0's.
  void AppendPredictions(const ScoreQuery& q, std::span<core::Event> events, size_t first_row,
                         std::string* body) const {
    const ServingModel& m = *q.model;
    Pipeline::Explanation why;
    for (size_t i = 0; i < events.size(); ++i) {
      core::Event& event = events[i];
      event.row = static_cast<int64_t>(first_row + i);
      Pipeline::Scores scores = m.Score(event.features);
      if (q.explain > 0 && m.Explain(event.features, q.explain, &why)) scores.why = &why;
      if (event.row > 0) body->push_back(',');
      core::FlatJsonWriter json(body);
      AppendPredictionJson(event, scores, {m.version(), 0}, q.format, json);
      json.Raw("alert", IsAlert(scores, q.format, options_.alert_threshold) ? "true" : "false");
      json.Close();
    }
  }

  // A batch scored while its body arrives (BodyStream): the events of each part are parsed and
  // scored as they come, as long as the body is a plain array (event_scan.h) of events with
  // all their features, within the batch limit. Anything else is left to Score's reading of the
  // whole body, which says what is wrong; what it accepts it scores to the same bytes.
  class ScoreStream final : public BodyStream {
   public:
    ScoreStream(ApiImpl& api, ScoreQuery query)
        : api_(api), query_(std::move(query)), schema_(query_.model->features()), scan_(schema_) {
      body_.push_back('[');
    }

    void Received(absl::string_view json) override {
      if (failed_) return;
      // What is complete is read first, then scored, so that the scoring time is measured once.
      size_t n = 0;
      BatchScanner::Step step;
      for (;;) {
        if (events_.size() <= n) events_.resize(n + 1);
        step = scan_.Next(json, &events_[n]);
        if (step != BatchScanner::Step::kEvent) break;
        const std::vector<double>& x = events_[n].features;
        failed_ = rows_ + n >= api_.options_.max_batch_events ||
                  std::any_of(x.begin(), x.end(), [](double v) { return core::IsMissing(v); });
        if (failed_) return;
        ++n;
      }
      failed_ = step == BatchScanner::Step::kNotPlain;
      ended_ = step == BatchScanner::Step::kEnd;
      const absl::Time start = absl::Now();
      api_.AppendPredictions(query_, std::span(events_.data(), n), rows_, &body_);
      scoring_ += absl::Now() - start;
      rows_ += n;
    }

    // The answer to the whole body, if it was all scored here.
    std::optional<Response> Finish(absl::string_view json) {
      Received(json);  // Nothing new: the server gave the last part already.
      if (failed_ || !ended_) return std::nullopt;
      body_.push_back(']');
      api_.RecordUse(*query_.model, rows_, scoring_);
      return JsonResponse(200, std::move(body_));
    }

   private:
    ApiImpl& api_;
    const ScoreQuery query_;
    const ScanSchema schema_;  // Its own: a thread's parser may change between parts.
    BatchScanner scan_;
    std::vector<core::Event> events_;  // A part's, reused.
    std::string body_;
    size_t rows_ = 0;
    absl::Duration scoring_;
    bool failed_ = false;
    bool ended_ = false;
  };

  Response Score(const Request& r) {
    if (auto* stream = dynamic_cast<ScoreStream*>(r.stream.get()); stream != nullptr) {
      if (std::optional<Response> answer = stream->Finish(r.body)) return *std::move(answer);
    }
    absl::StatusOr<ScoreQuery> query = ScoreQueryFor(r);
    if (!query.ok()) return FromStatus(query.status());
    const ServingModel& m = *query->model;
    std::vector<core::Event>& events = ScratchEvents();
    bool is_array = false;
    if (absl::Status s = ParserFor(m.features()).ParseBatch(r.body, &events, &is_array); !s.ok()) {
      if (std::optional<JsonSyntaxError> e = FindJsonSyntaxError(r.body)) {
        return ErrorResponse(400,
                             absl::StrCat("malformed JSON at byte ", e->offset, ": ", e->message));
      }
      return ErrorResponse(422, absl::StripPrefix(s.message(), "event JSON: "));
    }
    if (events.size() > options_.max_batch_events) {
      return ErrorResponse(413,
                           absl::StrCat("batch of ", events.size(), " events over the limit of ",
                                        options_.max_batch_events));
    }
    for (size_t i = 0; i < events.size(); ++i) {
      const std::string missing = MissingFeatures(events[i], m.features());
      if (!missing.empty()) {
        return ErrorResponse(422, absl::StrCat(is_array ? absl::StrCat("event ", i, ": ") : "",
                                               "missing features: ", missing));
      }
    }
    const absl::Time start = absl::Now();
    std::string body;
    body.reserve(events.size() * 160 + 2);
    if (is_array) body.push_back('[');
    AppendPredictions(*query, std::span(events), 0, &body);
    if (is_array) body.push_back(']');
    RecordUse(m, events.size(), absl::Now() - start);
    return JsonResponse(200, std::move(body));
  }

  static std::vector<core::Event>& ScratchEvents() {
    thread_local std::vector<core::Event> events;
    return events;
  }

  void RecordUse(const ServingModel& m, size_t events, absl::Duration took) {
    std::pair<Counter*, Counter*> counters{nullptr, nullptr};
    {
      absl::ReaderMutexLock lock(&handles_mu_);
      auto it = uses_.find(std::pair<std::string, int64_t>(m.model_name(), m.version()));
      if (it != uses_.end()) counters = it->second;
    }
    if (counters.first == nullptr) {
      const Labels labels = {{"model", m.model_name()}, {"version", absl::StrCat(m.version())}};
      counters = {
          &metrics_.GetCounter("sluice_model_version_scored_events_total",
                               "Events scored over HTTP, by model version.", labels),
          &metrics_.GetCounter("sluice_model_version_scoring_seconds_total",
                               "Time spent scoring events over HTTP, by model version.", labels)};
      absl::MutexLock lock(&handles_mu_);
      uses_.emplace(std::pair<std::string, int64_t>(m.model_name(), m.version()), counters);
    }
    counters.first->Increment(static_cast<double>(events));
    counters.second->Increment(absl::ToDoubleSeconds(took));
  }

  Response Label(const Request& r) {
    if (stream_ == nullptr) {
      return ErrorResponse(404,
                           "labels are joined by a stream: run sluice replay or sluice live "
                           "with --http-port to submit them");
    }
    LabelRecord label;
    if (absl::Status s = ParseLabelJson(r.body, &label); !s.ok()) {
      if (std::optional<JsonSyntaxError> e = FindJsonSyntaxError(r.body)) {
        return ErrorResponse(400,
                             absl::StrCat("malformed JSON at byte ", e->offset, ": ", e->message));
      }
      return ErrorResponse(422, s.message());
    }
    if (absl::Status s = stream_->SubmitLabel(label); !s.ok()) {
      return ErrorResponse(absl::IsFailedPrecondition(s) ? 409 : 503, s.message());
    }
    return JsonResponse(202, "{\"accepted\": true}");
  }

  Response Ready() const {
    MaybeRefresh();
    if (stream_ != nullptr && !stream_->ready()) {
      return ErrorResponse(503, "the stream is not ready (no partitions assigned yet)");
    }
    if (Served() == nullptr) return ErrorResponse(503, "no model version is served yet");
    return JsonResponse(200, "{\"status\": \"ready\"}");
  }

  Response State() const {
    MaybeRefresh();
    std::string body;
    core::FlatJsonWriter json(&body);
    json.String("mode", stream_ != nullptr ? stream_->mode() : "serve")
        .String("model", options_.model);
    if (options_.version.empty()) {
      json.String("alias", options_.alias);
    } else {
      json.Raw("alias", "null");
    }
    const std::shared_ptr<const ServingModel> served = Served();
    if (served != nullptr) {
      json.Int("served_version", served->version());
    } else {
      json.Raw("served_version", "null");
    }
    json.Number("uptime_seconds", absl::ToDoubleSeconds(absl::Now() - started_));
    absl::StatusOr<std::vector<registry::Version>> versions = ListVersions(options_.model);
    std::vector<std::string> numbers;
    if (versions.ok()) {
      for (const registry::Version& v : *versions) numbers.push_back(absl::StrCat(v.version));
    }
    json.Raw("versions", absl::StrCat("[", absl::StrJoin(numbers, ","), "]"));
    if (stream_ != nullptr) stream_->AppendState(json);
    json.Close();
    return JsonResponse(200, std::move(body));
  }

  absl::StatusOr<std::vector<registry::Version>> ListVersions(absl::string_view model) const {
    absl::MutexLock lock(&registry_mu_);
    return registry_->List(model);
  }

  Response Models() const {
    absl::StatusOr<std::vector<registry::Version>> all = ListVersions("");
    if (!all.ok()) return FromStatus(all.status());
    std::map<std::string, std::vector<int64_t>> by_model;
    for (const registry::Version& v : *all) by_model[v.model].push_back(v.version);
    std::vector<std::string> items;
    for (const auto& [name, numbers] : by_model) {
      std::string item;
      core::FlatJsonWriter json(&item);
      json.String("name", name).Int("versions", static_cast<int64_t>(numbers.size()));
      json.Int("latest", numbers.back());
      json.Raw("aliases", AliasesJson(name));
      json.Close();
      items.push_back(std::move(item));
    }
    return JsonResponse(200, absl::StrCat("{\"models\": [", absl::StrJoin(items, ", "), "]}"));
  }

  std::string AliasesJson(absl::string_view model) const {
    absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> aliases;
    {
      absl::MutexLock lock(&registry_mu_);
      aliases = registry_->Aliases(model);
    }
    std::string out;
    core::FlatJsonWriter json(&out);
    if (aliases.ok()) {
      for (const auto& [alias, version] : *aliases) json.Int(alias, version);
    }
    json.Close();
    return out;
  }

  Response VersionInfo(absl::string_view model, absl::string_view ref) const {
    absl::StatusOr<int64_t> number = Resolve(model, ref);
    if (!number.ok()) return FromStatus(number.status());
    absl::StatusOr<std::vector<registry::Version>> versions = ListVersions(model);
    if (!versions.ok()) return FromStatus(versions.status());
    for (const registry::Version& v : *versions) {
      if (v.version != *number) continue;
      std::string body;
      core::FlatJsonWriter json(&body);
      json.String("model", v.model).Int("version", v.version);
      if (v.parent.has_value()) {
        json.Int("parent", *v.parent);
      } else {
        json.Raw("parent", "null");
      }
      json.String("created_at", Iso8601(v.created_wall_ms)).String("trigger", v.trigger);
      json.String("code_version", v.code_version).String("state_sha256", v.state_sha256);
      json.Int("state_bytes", v.state_bytes);
      json.Raw("config", v.config_json.empty() ? "null" : v.config_json);
      json.Raw("lineage", v.lineage_json.empty() ? "null" : v.lineage_json);
      json.Raw("metrics", v.metrics_json.empty() ? "null" : v.metrics_json);
      json.Close();
      return JsonResponse(200, std::move(body));
    }
    return ErrorResponse(404, absl::StrCat("version ", *number, " of \"", model, "\" not found"));
  }

  Response AliasGet(absl::string_view model, absl::string_view alias) const {
    absl::StatusOr<int64_t> number = Resolve(model, alias);
    if (!number.ok()) return FromStatus(number.status());
    std::string body;
    core::FlatJsonWriter(&body)
        .String("model", model)
        .String("alias", alias)
        .Int("version", *number)
        .Close();
    return JsonResponse(200, std::move(body));
  }

  // Body {"version": V}: V a number, or a string ("17", "latest", another alias).
  Response AliasPut(absl::string_view model, absl::string_view alias, const std::string& body) {
    const std::optional<core::FlatJson> fields = core::ParseFlatJson(body);
    if (!fields.has_value()) {
      if (std::optional<JsonSyntaxError> e = FindJsonSyntaxError(body)) {
        return ErrorResponse(400,
                             absl::StrCat("malformed JSON at byte ", e->offset, ": ", e->message));
      }
      return ErrorResponse(422, "expected {\"version\": V}");
    }
    const auto it = std::find_if(fields->begin(), fields->end(),
                                 [](const auto& field) { return field.first == "version"; });
    if (it == fields->end()) return ErrorResponse(422, "expected {\"version\": V}");
    const std::string ref =
        std::string(absl::StripPrefix(absl::StripSuffix(it->second, "\""), "\""));
    absl::StatusOr<int64_t> number = Resolve(model, ref);
    if (!number.ok()) return FromStatus(number.status());
    std::optional<int64_t> previous;
    if (absl::StatusOr<int64_t> before = Resolve(model, alias); before.ok()) previous = *before;
    // Restore first: when the alias moves, the version it names is ready to serve.
    const bool served =
        model == options_.model && alias == options_.alias && options_.version.empty();
    absl::StatusOr<std::shared_ptr<const ServingModel>> loaded;
    if (served && !(loaded = Load(model, *number)).ok()) return FromStatus(loaded.status());
    {
      absl::MutexLock lock(&registry_mu_);
      if (absl::Status s = registry_->SetAlias(model, alias, *number); !s.ok())
        return FromStatus(s);
    }
    if (served) {
      absl::MutexLock lock(&served_mu_);
      generation_.fetch_add(1);
      served_ = *loaded;
    }
    std::string out;
    core::FlatJsonWriter json(&out);
    json.String("model", model).String("alias", alias).Int("version", *number);
    if (previous.has_value()) {
      json.Int("previous", *previous);
    } else {
      json.Raw("previous", "null");
    }
    json.Close();
    return JsonResponse(200, std::move(out));
  }

  Response AliasHistory(absl::string_view model, absl::string_view alias) const {
    absl::StatusOr<std::vector<registry::AliasChange>> changes;
    {
      absl::MutexLock lock(&registry_mu_);
      changes = registry_->AliasHistory(model, alias);
    }
    if (!changes.ok()) return FromStatus(changes.status());
    std::vector<std::string> items;
    for (const registry::AliasChange& c : *changes) {
      std::string item;
      core::FlatJsonWriter json(&item);
      json.String("alias", c.alias);
      json.Raw("version", c.version.has_value() ? absl::StrCat(*c.version) : "null");
      json.Raw("previous", c.previous.has_value() ? absl::StrCat(*c.previous) : "null");
      json.String("changed_at", Iso8601(c.changed_wall_ms)).String("reason", c.reason);
      json.Close();
      items.push_back(std::move(item));
    }
    return JsonResponse(200, absl::StrCat("[", absl::StrJoin(items, ", "), "]"));
  }

  const Options options_;
  StreamView* const stream_;
  MetricsRegistry& metrics_;
  mutable absl::Mutex registry_mu_;
  const std::unique_ptr<registry::Registry> registry_ ABSL_PT_GUARDED_BY(registry_mu_);
  mutable absl::Mutex served_mu_;
  // What is served by default; null until a stream's first version.
  mutable std::shared_ptr<const ServingModel> served_ ABSL_GUARDED_BY(served_mu_);
  mutable std::atomic<int64_t> last_refresh_ms_{0};
  std::atomic<int64_t> generation_{0};  // Served switches made by PUT.
  mutable absl::Mutex cache_mu_;
  mutable std::deque<
      std::pair<std::pair<std::string, int64_t>, std::shared_ptr<const ServingModel>>>
      cache_ ABSL_GUARDED_BY(cache_mu_);
  const absl::Time started_;
  // The metrics each request updates, found once: a request pays a shared lock, not a lookup
  // by labels in the registry. Keys: "<status> <method> <route>"; (model, version).
  mutable absl::Mutex handles_mu_;
  absl::flat_hash_map<std::string, Histogram*> durations_ ABSL_GUARDED_BY(handles_mu_);
  absl::flat_hash_map<std::pair<std::string, int64_t>, std::pair<Counter*, Counter*>> uses_
      ABSL_GUARDED_BY(handles_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Api>> Api::Create(const Options& options, StreamView* stream,
                                                 MetricsRegistry& metrics) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<registry::Registry> registry,
                          registry::Registry::Open(options.registry, core::Clock::Real(),
                                                   {.create_if_missing = false}));
  auto api = std::make_unique<ApiImpl>(options, stream, metrics, std::move(registry));
  SLUICE_RETURN_IF_ERROR(api->Init());
  return std::unique_ptr<Api>(std::move(api));
}

}  // namespace sluice::engine::http
