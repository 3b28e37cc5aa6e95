// engine/prediction_sink.cc
#include "engine/prediction_sink.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/format.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "engine/byte_stream.h"
#include "engine/text_file.h"

namespace sluice::engine {
namespace {

// A CSV field, quoted when it holds a comma, quote or line break.
void AppendCsvField(absl::string_view s, std::string* out) {
  if (s.find_first_of(",\"\r\n") == absl::string_view::npos) {
    out->append(s.data(), s.size());
    return;
  }
  out->push_back('"');
  for (const char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// A score: empty for a model that is off, `nan` for one that diverged.
// ExplanationText onto *out. (A feature named with ';' or '=' makes the text ambiguous to split;
// the credit-card schema's names are letters and digits.)
void AppendExplanation(const Pipeline::Explanation* why, const std::vector<std::string>& features,
                       std::string* out) {
  if (why == nullptr) return;
  bool first = true;
  for (const auto& [feature, share] : why->top) {
    if (!(share > 0)) continue;
    if (!first) out->push_back(';');
    first = false;
    absl::StrAppend(out, features[static_cast<size_t>(feature)], "=");
    core::AppendDouble(share, out);
  }
}

void AppendScore(double v, bool on, std::string* out) {
  if (on) core::AppendDouble(v, out);
}

// The event time: empty when the source has none.
void AppendTime(double v, std::string* out) {
  if (!std::isnan(v)) core::AppendDouble(v, out);
}

// The first `bytes` bytes of `path`: their line breaks, last byte and SHA-256 (in *sha).
struct Prefix {
  int64_t lines = 0;
  char last = '\n';
};
absl::StatusOr<Prefix> ReadPrefix(const std::string& path, int64_t bytes, core::Sha256* sha) {
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<ByteStream> stream, OpenFileStream(path));
  std::string chunk(1 << 20, '\0');
  Prefix prefix;
  for (int64_t left = bytes; left > 0;) {
    const auto want = static_cast<size_t>(std::min<int64_t>(left, 1 << 20));
    SLUICE_ASSIGN_OR_RETURN(const size_t n, stream->Read(chunk.data(), want));
    if (n == 0) break;
    prefix.lines += std::count(chunk.data(), chunk.data() + n, '\n');
    prefix.last = chunk[n - 1];
    sha->Update(absl::string_view(chunk.data(), n));
    left -= static_cast<int64_t>(n);
  }
  return prefix;
}

// Hashes what it hands to the OS, so that a resume can tell an edited file from its own.
class CsvSink final : public CsvPredictionSink {
 public:
  CsvSink(std::unique_ptr<BufferedFile> file, const PredictionFormat& format, int64_t lines,
          core::Sha256 sha)
      : file_(std::move(file)), format_(format), lines_(lines), sha_(sha) {}

  void Write(const core::Event& event, const Pipeline::Scores& scores,
             const Served& served) override {
    ++lines_;
    std::string& out = file_->buffer();
    absl::StrAppend(&out, event.row, ",");
    AppendCsvField(event.id, &out);
    out.push_back(',');
    AppendTime(event.event_time, &out);
    out.push_back(',');
    if (event.label.has_value()) out.push_back(*event.label ? '1' : '0');
    out.push_back(',');
    AppendScore(scores.anomaly, format_.anomaly, &out);
    out.push_back(',');
    AppendScore(scores.fraud, format_.fraud, &out);
    if (format_.versions != VersionColumns::kNone) absl::StrAppend(&out, ",", served.version);
    if (format_.versions == VersionColumns::kContinuous) {
      absl::StrAppend(&out, ",", served.events_since_snapshot);
    }
    if (!format_.explain_features.empty()) {
      out.push_back(',');
      why_.clear();
      AppendExplanation(scores.why, format_.explain_features, &why_);
      AppendCsvField(why_, &out);  // Quoted if a feature's name needs it.
    }
    out.push_back('\n');
    if (out.size() >= kFlushBytes) Hand();
  }

  absl::StatusOr<Position> Flush() override {
    const int64_t bytes = Hand();
    core::Sha256 copy = sha_;
    return Position{bytes, lines_, copy.HexDigest(), ""};
  }

  absl::Status Close() override { return file_->Close(); }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  int64_t Hand() {
    sha_.Update(file_->buffer());
    return file_->Flush();
  }

  std::unique_ptr<BufferedFile> file_;
  const PredictionFormat format_;
  int64_t lines_;     // Predictions written, header excluded.
  core::Sha256 sha_;  // Of the bytes handed to the OS.
  std::string why_;   // Write's explanation text: reused.
};

}  // namespace

std::string PredictionsHeader(VersionColumns columns, bool explain) {
  return absl::StrCat("row,id,event_time,label,anomaly_score,fraud_probability",
                      columns == VersionColumns::kNone ? "" : ",model_version",
                      columns == VersionColumns::kContinuous ? ",events_since_snapshot" : "",
                      explain ? ",explanation" : "");
}

std::string ExplanationText(const Pipeline::Explanation* why,
                            const std::vector<std::string>& features) {
  std::string text;
  AppendExplanation(why, features, &text);
  return text;
}

std::vector<std::string> PredictionFields(const core::Event& event, const Pipeline::Scores& scores,
                                          const Served& served, const PredictionFormat& format) {
  std::vector<std::string> fields = {absl::StrCat(event.row),
                                     event.id,
                                     "",
                                     event.label.has_value() ? (*event.label ? "1" : "0") : "",
                                     "",
                                     ""};
  AppendTime(event.event_time, &fields[2]);
  AppendScore(scores.anomaly, format.anomaly, &fields[4]);
  AppendScore(scores.fraud, format.fraud, &fields[5]);
  if (format.versions != VersionColumns::kNone) fields.push_back(absl::StrCat(served.version));
  if (format.versions == VersionColumns::kContinuous) {
    fields.push_back(absl::StrCat(served.events_since_snapshot));
  }
  if (!format.explain_features.empty()) {
    fields.push_back(ExplanationText(scores.why, format.explain_features));
  }
  return fields;
}

void AppendPredictionJson(const core::Event& event, const Pipeline::Scores& scores,
                          const Served& served, const PredictionFormat& format,
                          core::FlatJsonWriter& json) {
  const auto score = [&](absl::string_view key, bool on, double v) {
    if (on) {
      json.Number(key, v);
    } else {
      json.Raw(key, "null");
    }
  };
  json.Int("row", event.row).String("id", event.id).Number("event_time", event.event_time);
  if (event.label.has_value()) json.Raw("label", *event.label ? "1" : "0");
  score("anomaly_score", format.anomaly, scores.anomaly);
  score("fraud_probability", format.fraud, scores.fraud);
  if (format.versions != VersionColumns::kNone) json.Int("model_version", served.version);
  if (format.versions == VersionColumns::kContinuous) {
    json.Int("events_since_snapshot", served.events_since_snapshot);
  }
  if (!format.explain_features.empty()) {
    json.String("explanation", ExplanationText(scores.why, format.explain_features));
  }
}

void AppendDriftJson(const Drift& drift, core::FlatJsonWriter& json) {
  json.String("type", "drift")
      .String("signal", SignalName(drift.signal))
      .Int("index", drift.index)
      .Int("events", drift.events)
      .Int("labels", drift.labels)
      .String("id", drift.id)
      .Number("event_time", drift.event_time)
      .Number("mean", drift.mean)
      .Number("window", drift.window);
}

std::string DriftsJson(const RunResult& result) {
  std::string out = absl::StrCat("{\"count\": ", result.drift_count, ", \"found\": [");
  for (size_t i = 0; i < result.drifts.size(); ++i) {
    if (i > 0) out += ", ";
    core::FlatJsonWriter json(&out);
    AppendDriftJson(result.drifts[i], json);
    json.Close();
  }
  return out + "]}";
}

std::string ModelJson(const std::string& model, const ModelMetrics& m, const NanScores& nan) {
  return absl::StrCat("{\"model\": ", core::JsonQuote(model), ", \"labels\": ", m.labels,
                      ", \"auc\": ", core::JsonNumber(m.auc.Auc()),
                      ", \"rolling_auc\": ", core::JsonNumber(m.rolling.Auc()),
                      ", \"river_rocauc\": ", core::JsonNumber(m.river.Get()),
                      ", \"river_rolling_rocauc\": ", core::JsonNumber(m.river_rolling.Get()),
                      ", \"nan_predictions\": ", nan.count, ", \"first_nan_event\": ",
                      nan.count > 0 ? core::JsonQuote(nan.first_event_id) : "null", "}");
}

std::string ChallengersJson(const Challengers* challengers) {
  std::vector<std::string> items;
  for (size_t i = 0; challengers != nullptr && i < challengers->size(); ++i) {
    std::string item =
        ModelJson(challengers->spec(i).text, challengers->metrics(i), challengers->nan(i));
    item.insert(
        1, absl::StrCat("\"shadows\": \"", challengers->anomaly(i) ? "anomaly" : "fraud", "\", "));
    items.push_back(std::move(item));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string PromotionsJson(const RunResult& result) {
  std::vector<std::string> items;
  for (const PromotionRecord& p : result.promotions) {
    items.push_back(absl::StrCat(
        "{\"challenger\": ", core::JsonQuote(p.challenger), ", \"version\": ", p.version,
        ", \"rolling_auc\": ", core::JsonNumber(p.rolling_auc),
        ", \"champion_rolling_auc\": ", core::JsonNumber(p.champion_rolling_auc),
        ", \"labels\": ", p.labels, ", \"events\": ", p.events, "}"));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

absl::StatusOr<std::unique_ptr<CsvPredictionSink>> NewCsvPredictionSink(
    const std::string& path, const PredictionFormat& format,
    std::optional<PredictionSink::Position> resume, BufferedFile::Mode mode) {
  if (!resume.has_value()) {
    SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<BufferedFile> file, BufferedFile::Create(path, mode));
    file->Append(
        absl::StrCat(PredictionsHeader(format.versions, !format.explain_features.empty()), "\n"));
    return std::make_unique<CsvSink>(std::move(file), format, 0, core::Sha256());
  }
  core::Sha256 sha;
  SLUICE_ASSIGN_OR_RETURN(const Prefix prefix, ReadPrefix(path, resume->bytes, &sha));
  core::Sha256 copy = sha;
  const std::string digest = copy.HexDigest();
  if (prefix.lines != resume->lines + 1 || prefix.last != '\n' ||
      (!resume->sha256.empty() && digest != resume->sha256)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": the snapshot recorded the header and ", resume->lines,
                     " predictions in its first ", resume->bytes, " bytes (SHA-256 ",
                     resume->sha256, "); they now hold ", prefix.lines, " line breaks",
                     prefix.last != '\n' ? ", end inside a line" : "", " and have SHA-256 ", digest,
                     ": the file was edited or replaced since; refusing to continue it"));
  }
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<BufferedFile> file,
                          BufferedFile::Resume(path, resume->bytes));
  return std::make_unique<CsvSink>(std::move(file), format, resume->lines, sha);
}

}  // namespace sluice::engine
