// tools/replay_report.cc
#include "tools/replay_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/flat_json.h"
#include "core/format.h"

namespace sluice::tools {
namespace {

std::string HtmlEscape(absl::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Fixed(double v, int digits) {
  return std::isfinite(v) ? core::FormatFixed(v, digits) : std::string("n/a");
}

struct MetricValues {
  int64_t labels;
  double auc, rolling_auc, river_rocauc, river_rolling_rocauc;
};

MetricValues Values(const engine::ModelMetrics& m) {
  return {m.labels, m.auc.Auc(), m.rolling.Auc(), m.river.Get(), m.river_rolling.Get()};
}

std::string ModelJson(const std::string& model, const engine::ModelMetrics& m,
                      const engine::NanScores& nan) {
  const MetricValues v = Values(m);
  return absl::StrCat("{\"model\": ", core::JsonQuote(model), ", \"labels\": ", v.labels,
                      ", \"auc\": ", core::JsonNumber(v.auc),
                      ", \"rolling_auc\": ", core::JsonNumber(v.rolling_auc),
                      ", \"river_rocauc\": ", core::JsonNumber(v.river_rocauc),
                      ", \"river_rolling_rocauc\": ", core::JsonNumber(v.river_rolling_rocauc),
                      ", \"nan_predictions\": ", nan.count, ", \"first_nan_event\": ",
                      nan.count > 0 ? core::JsonQuote(nan.first_event_id) : "null", "}");
}

std::string LabelJoinJson(const engine::RunResult& result) {
  const engine::LabelCounts& c = result.label_counts;
  return absl::StrCat("{\"joined\": ", c.joined, ", \"expired\": ", c.expired,
                      ", \"duplicate\": ", c.duplicate, ", \"late\": ", c.late,
                      ", \"unknown\": ", c.unknown, ", \"evicted\": ", c.evicted,
                      ", \"pending\": ", result.labels_pending, "}");
}

}  // namespace

ReplayRecorder::ReplayRecorder(const engine::Pipeline& pipeline, bool progress,
                               std::function<double(int64_t rows)> done_fraction,
                               const core::Clock& clock)
    : pipeline_(pipeline),
      progress_(progress),
      tty_(isatty(STDERR_FILENO) != 0),
      done_fraction_(std::move(done_fraction)),
      clock_(clock),
      start_(clock.Now()),
      last_progress_(start_) {}

void ReplayRecorder::OnLabel(bool label, const engine::Pipeline::Scores& scores) {
  const double model_scores[2] = {scores.anomaly, scores.fraud};
  for (int model = 0; model < 2; ++model) {
    const double s = model_scores[model];
    if (std::isnan(s)) continue;
    const int bin = std::clamp(static_cast<int>(s * kBins), 0, kBins - 1);
    ++histogram_[static_cast<size_t>(model)][label ? 1 : 0][static_cast<size_t>(bin)];
  }
  if (++labels_ % stride_ != 0) return;
  if (points_.size() == kMaxPoints) {  // Keep every other point and sample half as often.
    for (size_t i = 0; i < kMaxPoints / 2; ++i) points_[i] = points_[2 * i + 1];
    points_.resize(kMaxPoints / 2);
    stride_ *= 2;
    if (labels_ % stride_ != 0) return;
  }
  points_.push_back(Point{labels_, pipeline_.anomaly_metrics().rolling.Auc(),
                          pipeline_.fraud_metrics().rolling.Auc()});
}

void ReplayRecorder::OnBadRecord(const std::string& message) {
  if (!progress_) return;
  if (progress_shown_ && tty_) std::fputs("\n", stderr);
  progress_shown_ = false;
  std::fprintf(stderr, "sluice replay: skipped %s\n", message.c_str());
}

void ReplayRecorder::OnProgress(int64_t rows_read) {
  if (!progress_) return;
  const absl::Time now = clock_.Now();
  const absl::Duration since = now - last_progress_;
  if (since < (tty_ ? absl::Milliseconds(200) : absl::Seconds(5))) return;
  last_progress_ = now;
  const double seconds = std::max(absl::ToDoubleSeconds(now - start_), 1e-9);
  const double rate = static_cast<double>(rows_read) / seconds;
  const std::string aucs =
      absl::StrCat("rolling AUC anomaly ", Fixed(pipeline_.anomaly_metrics().rolling.Auc(), 4),
                   " fraud ", Fixed(pipeline_.fraud_metrics().rolling.Auc(), 4));
  if (tty_) {
    std::string bar;
    if (done_fraction_) {
      const double done = std::clamp(done_fraction_(rows_read), 0.0, 1.0);
      const int filled = static_cast<int>(done * 30);
      bar = absl::StrCat("[", std::string(static_cast<size_t>(filled), '#'),
                         std::string(static_cast<size_t>(30 - filled), '.'), "] ",
                         Fixed(100 * done, 1), "% ");
    }
    std::fprintf(stderr, "\r%s%lld rows  %.0f rows/s  %s\x1b[K", bar.c_str(),
                 static_cast<long long>(rows_read), rate, aucs.c_str());
    progress_shown_ = true;
  } else {
    std::fprintf(stderr, "sluice replay: %lld rows, %.0f rows/s, %s\n",
                 static_cast<long long>(rows_read), rate, aucs.c_str());
  }
}

void ReplayRecorder::Finish() {
  if (progress_shown_ && tty_) std::fputs("\r\x1b[K", stderr);
  progress_shown_ = false;
}

std::string ReplayRecorder::SummaryJson(const RunDescription& run,
                                        const engine::RunResult& result) const {
  std::string examples;
  for (const std::string& message : result.bad_record_examples) {
    absl::StrAppend(&examples, examples.empty() ? "" : ", ", core::JsonQuote(message));
  }
  const double rate =
      result.seconds > 0 ? static_cast<double>(result.events) / result.seconds : 0.0;
  return absl::StrCat(
      "{\n  \"input\": ", core::JsonQuote(run.input), ",\n  \"rows_read\": ", run.rows_read,
      ",\n  \"events\": ", result.events, ",\n  \"labels\": ", result.labels,
      ",\n  \"bad_rows\": ", result.bad_records, ",\n  \"bad_row_examples\": [", examples, "]",
      run.summary_timing
          ? absl::StrCat(
                ",\n  \"seconds\": ", core::JsonNumber(result.seconds),
                ",\n  \"events_per_second\": ", core::JsonNumber(rate),
                result.snapshot_pauses.empty()
                    ? std::string()
                    : absl::StrCat(
                          ",\n  \"snapshot_pause_p50_ms\": ",
                          core::JsonNumber(1e3 * engine::Quantile(result.snapshot_pauses, 0.5)),
                          ",\n  \"snapshot_pause_p99_ms\": ",
                          core::JsonNumber(1e3 * engine::Quantile(result.snapshot_pauses, 0.99))))
          : std::string(),
      ",\n  \"label_join\": ", LabelJoinJson(result),
      ",\n  \"label_delay\": ", core::JsonQuote(run.label_delay),
      ",\n  \"metric_window\": ", run.metric_window, ",\n  \"anomaly\": ",
      pipeline_.options().anomaly
          ? ModelJson(run.anomaly_model, pipeline_.anomaly_metrics(), result.anomaly_nan)
          : "null",
      ",\n  \"fraud\": ",
      pipeline_.options().fraud
          ? ModelJson(run.fraud_model, pipeline_.fraud_metrics(), result.fraud_nan)
          : "null",
      "\n}\n");
}

std::string ReplayRecorder::SummaryTable(const RunDescription& run,
                                         const engine::RunResult& result) const {
  const double rate =
      result.seconds > 0 ? static_cast<double>(result.events) / result.seconds : 0.0;
  std::string out = absl::StrFormat(
      "sluice replay: %s\n  %s, %s, %s skipped, %.3f s, %.0f events/s\n"
      "  label delay %s, rolling window %d\n",
      run.input, core::Count(result.events, "event", "events"),
      core::Count(result.labels, "label", "labels"),
      core::Count(result.bad_records, "bad row", "bad rows"), result.seconds, rate, run.label_delay,
      run.metric_window);
  const engine::LabelCounts& c = result.label_counts;
  absl::StrAppend(&out, absl::StrFormat("  labels: %d joined, %d expired, %d duplicate, %d late, "
                                        "%d unknown, %d evicted, %d still pending\n\n",
                                        c.joined, c.expired, c.duplicate, c.late, c.unknown,
                                        c.evicted, result.labels_pending));
  absl::StrAppend(&out, absl::StrFormat("  %-8s %9s %12s %13s %21s\n", "model", "auc",
                                        "rolling_auc", "river_rocauc", "river_rolling_rocauc"));
  const auto row = [&](const char* name, const engine::ModelMetrics& m) {
    const MetricValues v = Values(m);
    absl::StrAppend(&out, absl::StrFormat("  %-8s %9s %12s %13s %21s\n", name, Fixed(v.auc, 4),
                                          Fixed(v.rolling_auc, 4), Fixed(v.river_rocauc, 4),
                                          Fixed(v.river_rolling_rocauc, 4)));
  };
  if (pipeline_.options().anomaly) row("anomaly", pipeline_.anomaly_metrics());
  if (pipeline_.options().fraud) row("fraud", pipeline_.fraud_metrics());
  absl::StrAppend(&out, "\n");
  if (pipeline_.options().anomaly) absl::StrAppend(&out, "  anomaly: ", run.anomaly_model, "\n");
  if (pipeline_.options().fraud) absl::StrAppend(&out, "  fraud:   ", run.fraud_model, "\n");
  return out;
}

std::string ReplayRecorder::HtmlReport(const RunDescription& run,
                                       const engine::RunResult& result) const {
  constexpr double kW = 760, kH = 260, kLeft = 50, kTop = 15, kPlotW = 690, kPlotH = 210;
  const char* colors[2] = {"#d9480f", "#1c7ed6"};
  const char* names[2] = {"anomaly (HST)", "fraud (LR)"};
  const bool enabled[2] = {pipeline_.options().anomaly, pipeline_.options().fraud};

  // Rolling AUC over the stream.
  std::string chart = absl::StrFormat(
      "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
      "aria-label=\"rolling AUC\">\n",
      kW, kH + 30, kW, kH + 30);
  for (int tick = 0; tick <= 4; ++tick) {
    const double y = kTop + kPlotH * (1 - tick / 4.0);
    absl::StrAppend(&chart,
                    absl::StrFormat("<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
                                    "stroke=\"#ddd\"/><text x=\"%.0f\" y=\"%.1f\" "
                                    "font-size=\"11\" text-anchor=\"end\">%.2f</text>\n",
                                    kLeft, y, kLeft + kPlotW, y, kLeft - 6, y + 4, tick / 4.0));
  }
  const double max_labels = points_.empty() ? 1.0 : static_cast<double>(points_.back().labels);
  for (int model = 0; model < 2; ++model) {
    if (!enabled[model]) continue;
    std::string path;
    for (const Point& p : points_) {
      const double v = model == 0 ? p.anomaly : p.fraud;
      if (std::isnan(v)) continue;
      const double x = kLeft + kPlotW * static_cast<double>(p.labels) / max_labels;
      const double y = kTop + kPlotH * (1 - v);
      absl::StrAppend(&path, path.empty() ? "M" : " L", absl::StrFormat("%.1f %.1f", x, y));
    }
    absl::StrAppend(&chart, "<path d=\"", path, "\" fill=\"none\" stroke=\"", colors[model],
                    "\" stroke-width=\"1.5\"/>\n");
  }
  absl::StrAppend(&chart, absl::StrFormat("<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" "
                                          "text-anchor=\"middle\">labels seen (0 to %.0f); orange: "
                                          "anomaly (HST), blue: fraud (LR)</text>\n</svg>",
                                          kLeft + kPlotW / 2, kH + 20, max_labels));

  // Score distributions: the share of each class's scores in each bin.
  std::string histograms;
  for (int model = 0; model < 2; ++model) {
    if (!enabled[model]) continue;
    const auto& h = histogram_[static_cast<size_t>(model)];
    double totals[2] = {0, 0};
    for (int label = 0; label < 2; ++label) {
      for (const int64_t count : h[static_cast<size_t>(label)]) {
        totals[label] += static_cast<double>(count);
      }
    }
    double peak = 1e-12;
    for (int label = 0; label < 2; ++label) {
      for (const int64_t count : h[static_cast<size_t>(label)]) {
        if (totals[label] > 0) peak = std::max(peak, static_cast<double>(count) / totals[label]);
      }
    }
    std::string svg = absl::StrFormat(
        "<h3>%s score distribution</h3>\n<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
        "height=\"%.0f\" role=\"img\" aria-label=\"%s score histogram\">\n",
        names[model], kW, kH + 30, kW, kH + 30, names[model]);
    const double bar = kPlotW / kBins;
    const char* fills[2] = {"rgba(90,90,90,0.55)", "rgba(224,49,49,0.65)"};
    for (int label = 0; label < 2; ++label) {
      if (totals[label] == 0) continue;
      for (int bin = 0; bin < kBins; ++bin) {
        const double share =
            static_cast<double>(h[static_cast<size_t>(label)][static_cast<size_t>(bin)]) /
            totals[label];
        const double height = kPlotH * share / peak;
        absl::StrAppend(&svg,
                        absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                                        "height=\"%.1f\" fill=\"%s\"/>\n",
                                        kLeft + bin * bar + (label == 1 ? bar / 2 : 0),
                                        kTop + kPlotH - height, bar / 2, height, fills[label]));
      }
    }
    absl::StrAppend(
        &svg, absl::StrFormat("<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" "
                              "stroke=\"#333\"/>\n<text x=\"%.0f\" y=\"%.0f\" font-size=\"11\">0"
                              "</text><text x=\"%.0f\" y=\"%.0f\" font-size=\"11\" "
                              "text-anchor=\"end\">1</text>\n<text x=\"%.0f\" y=\"%.0f\" "
                              "font-size=\"11\" text-anchor=\"middle\">score (grey: legitimate, "
                              "%.0f; red: fraud, %.0f; bar height = share of the class)</text>\n"
                              "</svg>\n",
                              kLeft, kTop + kPlotH, kLeft + kPlotW, kTop + kPlotH, kLeft,
                              kTop + kPlotH + 14, kLeft + kPlotW, kTop + kPlotH + 14,
                              kLeft + kPlotW / 2, kH + 22, totals[0], totals[1]));
    histograms += svg;
  }

  std::string table =
      "<table>\n<tr><th>model</th><th>labels</th><th>auc</th><th>rolling_auc</th>"
      "<th>river_rocauc</th><th>river_rolling_rocauc</th></tr>\n";
  for (int model = 0; model < 2; ++model) {
    if (!enabled[model]) continue;
    const MetricValues v =
        Values(model == 0 ? pipeline_.anomaly_metrics() : pipeline_.fraud_metrics());
    absl::StrAppend(&table, "<tr><td><span style=\"color:", colors[model], "\">&#9632;</span> ",
                    HtmlEscape(model == 0 ? run.anomaly_model : run.fraud_model), "</td><td>",
                    v.labels, "</td><td>", Fixed(v.auc, 4), "</td><td>", Fixed(v.rolling_auc, 4),
                    "</td><td>", Fixed(v.river_rocauc, 4), "</td><td>",
                    Fixed(v.river_rolling_rocauc, 4), "</td></tr>\n");
  }
  table += "</table>\n";
  const double rate =
      result.seconds > 0 ? static_cast<double>(result.events) / result.seconds : 0.0;
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<title>sluice replay report</title>\n<style>body{font-family:sans-serif;margin:24px;"
      "color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
      "text-align:right}td:first-child{text-align:left}</style></head><body>\n"
      "<h1>sluice replay report</h1>\n<p>",
      HtmlEscape(run.input), ": ", result.events, " events, ", result.labels, " labels, ",
      result.bad_records, " bad rows skipped; label delay ", HtmlEscape(run.label_delay), "; ",
      absl::StrFormat("%.3f s, %.0f events/s", result.seconds, rate), ".</p>\n<h2>Summary</h2>\n",
      table, "<h2>Rolling AUC (window ", run.metric_window, ") over the stream</h2>\n", chart,
      "\n<h2>Score distributions</h2>\n", histograms, "</body></html>\n");
}

}  // namespace sluice::tools
