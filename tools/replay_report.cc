// tools/replay_report.cc
#include "tools/replay_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/flat_json.h"
#include "core/format.h"
#include "engine/prediction_sink.h"

namespace sluice::tools {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Model 0 is the anomaly model, 1 the fraud model, everywhere in the report.
constexpr const char* kKeys[2] = {"anomaly", "fraud"};
constexpr const char* kNames[2] = {"anomaly (HalfSpaceTrees)", "fraud (LogisticRegression)"};
constexpr const char* kScoreNames[2] = {"anomaly score", "fraud probability"};
constexpr const char* kColors[2] = {"#e8590c", "#1c7ed6"};
// Legitimate and fraud events in the score distributions.
constexpr const char* kClassColors[2] = {"#868e96", "#c2255c"};
constexpr size_t kMaxCurvePoints = 2000;
constexpr int kBins = 50;
// The shares of events alerting that the threshold tables show.
constexpr double kAlertShares[] = {0.001, 0.005, 0.01, 0.02, 0.05};

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

// 17 significant digits: reads back as the same double.
std::string Exact(double v) { return absl::StrFormat("%.17g", v); }

// "1,234,567".
std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// A share as a percentage, with more decimals when it is small: "12.3 %", "0.172 %".
std::string Percent(double share) {
  if (!std::isfinite(share)) return "n/a";
  return absl::StrCat(core::FormatFixed(100 * share, share != 0 && share < 0.01 ? 3 : 1), " %");
}

// A score as the threshold tables and tooltips show it.
std::string Score(double v) {
  if (std::isnan(v) || v == -kInf) return "NaN";
  return absl::StrFormat("%.6g", v);
}

struct MetricValues {
  int64_t labels;
  double auc, rolling_auc, river_rocauc, river_rolling_rocauc;
};

MetricValues Values(const engine::ModelMetrics& m) {
  return {m.labels, m.auc.Auc(), m.rolling.Auc(), m.river.Get(), m.river_rolling.Get()};
}

std::string LabelJoinJson(const engine::RunResult& result) {
  const engine::LabelCounts& c = result.label_counts;
  return absl::StrCat("{\"joined\": ", c.joined, ", \"expired\": ", c.expired,
                      ", \"duplicate\": ", c.duplicate, ", \"late\": ", c.late,
                      ", \"unknown\": ", c.unknown, ", \"evicted\": ", c.evicted,
                      ", \"pending\": ", result.labels_pending, "}");
}

// The exact ROC and precision-recall curves of one model over its labelled scores: sorted
// highest first, each run of equal scores (a tie group) is one step, one threshold. A NaN
// score counts as the lowest of all (-inf), in a group of its own.
struct Curves {
  int64_t positives = 0;
  int64_t negatives = 0;
  int64_t nan = 0;
  std::vector<double> threshold;  // Per group, descending: its score.
  std::vector<int64_t> tp;        // Per group: the positives scoring >= its threshold...
  std::vector<int64_t> fp;        // ...and the negatives.
  double auc = kNaN;              // NaN unless both classes occur.
  double ap = kNaN;               // NaN without positives.

  int64_t events() const { return positives + negatives; }
  size_t groups() const { return threshold.size(); }
};

Curves ComputeCurves(const std::vector<double>& scores, const std::vector<uint8_t>& labels) {
  Curves c;
  std::vector<std::pair<double, bool>> sorted(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool nan = std::isnan(scores[i]);
    c.nan += nan ? 1 : 0;
    sorted[i] = {nan ? -kInf : scores[i], labels[i] != 0};
    ++(labels[i] != 0 ? c.positives : c.negatives);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  // The ROC area is the sum of one trapezoid per group (a diagonal across a tie group):
  // fp_g (2 tp_before + tp_g) / (2 P N), the Mann-Whitney U with ties counting 1/2. Summed in
  // integers, it is rounded once, in the final division.
  int64_t twice_u = 0;
  // sklearn's AP: sum over groups of (R_k - R_{k-1}) P_k = sum of tp_g / P * P_k.
  double ap_sum = 0;
  int64_t tp = 0;
  int64_t fp = 0;
  for (size_t i = 0; i < sorted.size();) {
    const double score = sorted[i].first;
    int64_t group_tp = 0;
    int64_t group_fp = 0;
    for (; i < sorted.size() && sorted[i].first == score; ++i) {
      ++(sorted[i].second ? group_tp : group_fp);
    }
    twice_u += group_fp * (2 * tp + group_tp);
    tp += group_tp;
    fp += group_fp;
    ap_sum +=
        static_cast<double>(group_tp) * (static_cast<double>(tp) / static_cast<double>(tp + fp));
    c.threshold.push_back(score);
    c.tp.push_back(tp);
    c.fp.push_back(fp);
  }
  if (c.positives > 0 && c.negatives > 0) {
    c.auc = static_cast<double>(twice_u) /
            (2.0 * static_cast<double>(c.positives) * static_cast<double>(c.negatives));
  }
  if (c.positives > 0) c.ap = ap_sum / static_cast<double>(c.positives);
  return c;
}

// What alerting at one threshold gives.
struct ThresholdRow {
  bool alert_rule = false;  // The run's alert threshold, not a share of events.
  double share = 0;         // The share of events asked to alert (not alert_rule).
  double threshold = 0;     // Events scoring >= it alert.
  int64_t alerts = 0;
  int64_t tp = 0;
  int64_t fp = 0;
};

// The counts of the events scoring >= threshold.
ThresholdRow AtThreshold(const Curves& c, double threshold) {
  ThresholdRow row;
  row.threshold = threshold;
  // Thresholds are descending: the groups at or above `threshold` come first.
  const size_t above =
      static_cast<size_t>(std::partition_point(c.threshold.begin(), c.threshold.end(),
                                               [threshold](double t) { return t >= threshold; }) -
                          c.threshold.begin());
  if (above > 0) {
    row.tp = c.tp[above - 1];
    row.fp = c.fp[above - 1];
    row.alerts = row.tp + row.fp;
  }
  return row;
}

// The threshold at which `share` of the events would alert: the score of the ceil(share n)-th
// highest. More alert when it is tied.
ThresholdRow AtShare(const Curves& c, double share) {
  const int64_t k = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(share * static_cast<double>(c.events()))));
  size_t group = 0;
  while (group + 1 < c.groups() && c.tp[group] + c.fp[group] < k) ++group;
  ThresholdRow row = AtThreshold(c, c.threshold[group]);
  row.share = share;
  return row;
}

// One of a model's two curves, read off its Curves without copying: the ROC curve (the origin,
// above every score, then one point per group) or the precision-recall curve (one per group).
struct CurveView {
  const Curves& c;
  bool roc;

  size_t size() const { return c.groups() + (roc ? 1 : 0); }
  size_t group(size_t i) const { return roc ? i - 1 : i; }
  std::pair<double, double> xy(size_t i) const {
    if (roc && i == 0) return {0, 0};
    const double tp = static_cast<double>(c.tp[group(i)]);
    const double fp = static_cast<double>(c.fp[group(i)]);
    if (roc) return {fp / static_cast<double>(c.negatives), tp / static_cast<double>(c.positives)};
    return {tp / static_cast<double>(c.positives), tp / (tp + fp)};
  }
  double threshold(size_t i) const { return roc && i == 0 ? kInf : c.threshold[group(i)]; }
  double per_mille(size_t i) const {
    if (roc && i == 0) return 0;
    return 1000 * static_cast<double>(c.tp[group(i)] + c.fp[group(i)]) /
           static_cast<double>(c.events());
  }
};

// Indices of the points to draw: all if there are at most `max_points`; else the first, the
// last, and between them a point each time the path since the last kept one is at least
// 1/(max_points - 2) of the whole path's length (L1, coordinates as fractions of the axes),
// which keeps at most max_points and puts them where the curve moves.
std::vector<size_t> Thin(const CurveView& curve, size_t max_points) {
  std::vector<size_t> kept;
  const size_t n = curve.size();
  if (n <= max_points) {
    for (size_t i = 0; i < n; ++i) kept.push_back(i);
    return kept;
  }
  const auto step = [&](size_t i) {
    const auto [x0, y0] = curve.xy(i - 1);
    const auto [x1, y1] = curve.xy(i);
    return std::abs(x1 - x0) + std::abs(y1 - y0);
  };
  double length = 0;
  for (size_t i = 1; i < n; ++i) length += step(i);
  const double spacing = length / static_cast<double>(max_points - 2);
  kept.push_back(0);
  double since = 0;
  for (size_t i = 1; i + 1 < n; ++i) {
    since += step(i);
    // (The size check only guards against rounding in the sums.)
    if (spacing > 0 && since >= spacing && kept.size() + 1 < max_points) {
      kept.push_back(i);
      since = 0;
    }
  }
  kept.push_back(n - 1);
  return kept;
}

// A chart's drawing area inside its SVG viewBox.
struct Frame {
  double width, height;             // Of the viewBox.
  double left, top, right, bottom;  // Margins around the plot.
  double plot_width() const { return width - left - right; }
  double plot_height() const { return height - top - bottom; }
  // Where a fraction of each axis (0 at the origin, 1 at the far end) is drawn.
  double X(double fx) const { return left + fx * plot_width(); }
  double Y(double fy) const { return top + (1 - fy) * plot_height(); }
};

struct Tick {
  double at;  // Fraction of the axis.
  std::string label;
};

std::string SvgOpen(const Frame& f, absl::string_view label, absl::string_view extra = "") {
  return absl::StrFormat(
      "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\" "
      "aria-label=\"%s\"%s>\n",
      f.width, f.height, f.width, f.height, HtmlEscape(label), extra);
}

// Grid lines, tick labels, the plot's box and the axis titles.
std::string Axes(const Frame& f, const std::vector<Tick>& x_ticks, const std::vector<Tick>& y_ticks,
                 absl::string_view x_title, absl::string_view y_title) {
  std::string out;
  for (const Tick& t : y_ticks) {
    const double y = f.Y(t.at);
    absl::StrAppend(&out, absl::StrFormat("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                                          "x2=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
                                          "text-anchor=\"end\">%s</text>\n",
                                          f.X(0), y, f.X(1), y, f.X(0) - 6, y + 4, t.label));
  }
  for (const Tick& t : x_ticks) {
    const double x = f.X(t.at);
    absl::StrAppend(&out, absl::StrFormat("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                                          "x2=\"%.1f\" y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
                                          "text-anchor=\"middle\">%s</text>\n",
                                          x, f.Y(0), x, f.Y(1), x, f.Y(0) + 16, t.label));
  }
  absl::StrAppend(
      &out,
      absl::StrFormat("<rect class=\"box\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n"
                      "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s"
                      "</text>\n<text class=\"title\" transform=\"translate(%.1f %.1f) "
                      "rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                      f.X(0), f.Y(1), f.plot_width(), f.plot_height(), f.X(0.5), f.height - 6,
                      HtmlEscape(x_title), 14.0, f.Y(0.5), HtmlEscape(y_title)));
  return out;
}

// Ticks at 0, step, 2 step, ... <= hi on an axis from lo to hi, labelled with `digits` decimals.
std::vector<Tick> LinearTicks(double lo, double hi, double step, int digits) {
  std::vector<Tick> ticks;
  for (int i = 0;; ++i) {
    const double v = lo + i * step;
    if (v > hi + step * 1e-9) break;
    ticks.push_back({(v - lo) / (hi - lo), core::FormatFixed(v, digits)});
  }
  return ticks;
}

// A round step (1, 2 or 5 times a power of ten) that cuts [0, max] into at most `parts` parts.
double NiceStep(double max, int parts) {
  const double raw = max / parts;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string CountLabel(double v) {
  if (v >= 1e6) return absl::StrCat(static_cast<int64_t>(v / 1e6), "M");
  if (v >= 1e3) return absl::StrCat(static_cast<int64_t>(v / 1e3), "k");
  return absl::StrCat(static_cast<int64_t>(v));
}

// A path through points given as axis fractions; a NaN point breaks it.
std::string PathData(const Frame& f, const std::vector<std::pair<double, double>>& points) {
  std::string d;
  bool pen_down = false;
  for (const auto& [fx, fy] : points) {
    if (std::isnan(fx) || std::isnan(fy)) {
      pen_down = false;
      continue;
    }
    absl::StrAppend(&d, d.empty() ? "" : " ", pen_down ? "L" : "M",
                    absl::StrFormat("%.1f %.1f", f.X(fx), f.Y(fy)));
    pen_down = true;
  }
  return d;
}

// The kept points of a curve for the page's script: [x, y, threshold, alerts per 1,000 events].
std::string PointsJson(const CurveView& curve, const std::vector<size_t>& kept) {
  std::string out = "[";
  for (size_t k = 0; k < kept.size(); ++k) {
    const size_t i = kept[k];
    const auto [x, y] = curve.xy(i);
    const double threshold = curve.threshold(i);
    absl::StrAppend(&out, k == 0 ? "" : ",", absl::StrFormat("[%.5g,%.5g,", x, y),
                    threshold == -kInf ? std::string("\"NaN (so every event)\"")
                                       : absl::StrCat("\"", Score(threshold), "\""),
                    absl::StrFormat(",%.4g]", curve.per_mille(i)));
  }
  return out + "]";
}

constexpr const char* kStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
  max-width:1200px;margin:0 auto;padding:20px 24px 60px;color:#212529;line-height:1.45}
h1{font-size:26px;margin:8px 0 4px}
h2{font-size:20px;margin:36px 0 6px;padding-bottom:4px;border-bottom:1px solid #dee2e6}
h3{font-size:15px;margin:10px 0 4px}
p.caption{color:#495057;font-size:13.5px;margin:4px 0 10px;max-width:980px}
.meta{color:#495057;font-size:14px;margin:0 0 6px}
.grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:28px}
svg{width:100%;height:auto;display:block;font-size:12px}
svg text{fill:#495057}
svg text.title{font-size:12.5px;fill:#212529}
svg .grid{stroke:#e9ecef}
svg .box{fill:none;stroke:#adb5bd}
table{border-collapse:collapse;font-size:13px;margin:6px 0 10px}
td,th{border:1px solid #dee2e6;padding:4px 9px;text-align:right;vertical-align:top}
th{background:#f1f3f5;font-weight:600}
td.l,th.l{text-align:left}
table.thresholds td,table.thresholds th{white-space:nowrap;min-width:70px}
tr.alert td{background:#fff4e6;font-weight:600}
.legend{list-style:none;padding:0;margin:6px 0 2px;font-size:13px;display:flex;flex-wrap:wrap;
  gap:4px 22px}
.sw{display:inline-block;width:18px;height:4px;border-radius:2px;vertical-align:middle;
  margin-right:6px}
.box-sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin-right:6px;
  border-radius:2px}
.note{background:#fff9db;border-left:3px solid #fab005;padding:6px 10px;font-size:13px;
  margin:8px 0}
.readout{font-size:12.5px;color:#343a40;min-height:1.5em;margin:2px 0 0;
  font-variant-numeric:tabular-nums}
.why{font-size:12.5px;text-align:left;white-space:nowrap}
.why b{font-weight:600}
.why .rest{color:#868e96}
.num{font-variant-numeric:tabular-nums}
.swatch{font-size:16px;line-height:1}
)css";

// Finds the nearest drawn point under the pointer of each chart with data-points, marks it and
// tells its threshold: the way to read a threshold off a curve. No external resources.
constexpr const char* kScript = R"js(
(function () {
  function pct(v) { return (100 * v).toFixed(v > 0 && v < 0.01 ? 3 : 1) + ' %'; }
  document.querySelectorAll('svg[data-points]').forEach(function (svg) {
    var d = JSON.parse(document.getElementById(svg.getAttribute('data-points')).textContent);
    var out = document.getElementById(svg.getAttribute('data-readout'));
    var dot = svg.querySelector('.hover');
    var hint = out.textContent;
    function hide() { dot.setAttribute('visibility', 'hidden'); out.textContent = hint; }
    svg.addEventListener('mouseleave', hide);
    svg.addEventListener('mousemove', function (e) {
      var m = svg.getScreenCTM();
      if (!m) return;
      var fx = ((e.clientX - m.e) / m.a - d.x0) / d.w;
      var fy = (d.y0 - (e.clientY - m.f) / m.d) / d.h;
      var best = null, bestDist = 0.004;
      d.series.forEach(function (s) {
        s.p.forEach(function (p) {
          var dist = (p[0] - fx) * (p[0] - fx) + (p[1] - fy) * (p[1] - fy);
          if (dist < bestDist) { bestDist = dist; best = { s: s, p: p }; }
        });
      });
      if (!best) { hide(); return; }
      dot.setAttribute('cx', d.x0 + best.p[0] * d.w);
      dot.setAttribute('cy', d.y0 - best.p[1] * d.h);
      dot.setAttribute('stroke', best.s.color);
      dot.setAttribute('visibility', 'visible');
      if (best.p[3] === 0) { out.textContent = best.s.name + ': no alerts'; return; }
      out.textContent = best.s.name + ': alerting at score \u2265 ' + best.p[2] + ' gives ' +
          d.x + ' ' +
          pct(best.p[0]) + ', ' + d.y + ' ' + pct(best.p[1]) + ', ' + best.p[3] +
          ' alerts per 1,000 events';
    });
  });
})();
)js";

// Model i's curves, or nullptr for a model that is off.
using ModelCurves = std::array<const Curves*, 2>;

bool HasCurves(const Curves* c) { return c != nullptr && c->positives > 0 && c->negatives > 0; }

// Where NaN scores went and why a model has no curve.
std::string CurveNotes(const ModelCurves& curves) {
  std::string notes;
  for (size_t model = 0; model < 2; ++model) {
    const Curves* c = curves[model];
    if (c == nullptr) continue;
    if (c->nan > 0) {
      absl::StrAppend(&notes, "<p class=\"note\">", Thousands(c->nan), " of ",
                      Thousands(c->events()), " labelled events have a NaN ", kScoreNames[model],
                      " (the model diverged). The curves, AUC, AP and tables below count them as "
                      "its lowest score; the distribution leaves them out; the summary's AUC is "
                      "n/a.</p>\n");
    }
    if (!HasCurves(c)) {
      absl::StrAppend(
          &notes, "<p class=\"note\">", kNames[model], ": ",
          c->events() == 0 ? "no labels were seen" : "the labels seen are all of one class",
          ", so it has no ROC or precision-recall curve.</p>\n");
    }
  }
  return notes;
}

// The ROC and precision-recall charts, both models on each, with the AUC and AP in the legend.
// Opens chart 0 (ROC) or 1 (precision-recall) in charts[chart]: its axes and the dashed line of
// a model that guesses; and starts data[chart], the points for the page's script, as JSON.
void OpenCurveChart(const Frame& f, int chart, double prevalence, std::string charts[2],
                    std::string data[2]) {
  const char* id = chart == 0 ? "roc" : "pr";
  std::string& svg = charts[chart];
  svg = SvgOpen(f, chart == 0 ? "ROC curves" : "precision-recall curves",
                absl::StrFormat(" data-points=\"%s-data\" data-readout=\"%s-readout\"", id, id));
  const std::vector<Tick> ticks = LinearTicks(0, 1, 0.1, 1);
  if (chart == 0) {
    absl::StrAppend(
        &svg,
        Axes(f, ticks, ticks, "false-positive rate (share of legitimate events flagged)",
             "true-positive rate (recall)"),
        absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"#adb5bd\" stroke-dasharray=\"4 4\"/>\n",
                        f.X(0), f.Y(0), f.X(1), f.Y(1)));
  } else {
    absl::StrAppend(&svg, Axes(f, ticks, ticks, "recall (share of frauds caught)",
                               "precision (share of alerts that are fraud)"));
    if (std::isfinite(prevalence)) {
      absl::StrAppend(
          &svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                "stroke=\"#adb5bd\" stroke-dasharray=\"4 4\"/><text x=\"%.1f\" "
                                "y=\"%.1f\" text-anchor=\"end\">fraud rate %s</text>\n",
                                f.X(0), f.Y(prevalence), f.X(1), f.Y(prevalence), f.X(1) - 4,
                                f.Y(prevalence) - 5, Percent(prevalence)));
    }
  }
  data[chart] = absl::StrFormat(
      "{\"x0\":%.1f,\"y0\":%.1f,\"w\":%.1f,\"h\":%.1f,\"x\":\"%s\",\"y\":\"%s\",\"series\":[",
      f.X(0), f.Y(0), f.plot_width(), f.plot_height(), chart == 0 ? "FPR" : "recall",
      chart == 0 ? "TPR" : "precision");
}

// The fraud model's alert threshold, as a ring on both curves, its figures in the ring's title.
void AppendThresholdRings(const Frame& f, const Curves& c, double alert_threshold,
                          std::string charts[2]) {
  const ThresholdRow at = AtThreshold(c, alert_threshold);
  const double tpr = static_cast<double>(at.tp) / static_cast<double>(c.positives);
  const double fpr = static_cast<double>(at.fp) / static_cast<double>(c.negatives);
  const double precision =
      at.alerts > 0 ? static_cast<double>(at.tp) / static_cast<double>(at.alerts) : kNaN;
  const std::string title =
      absl::StrCat("alert threshold: fraud probability \u2265 ", Score(alert_threshold), ": ",
                   Thousands(at.alerts), " alerts, recall ", Percent(tpr), ", precision ",
                   Percent(precision), ", false-positive rate ", Percent(fpr));
  const auto ring = [&](double fx, double fy) {
    return absl::StrFormat(
        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5.5\" fill=\"#fff\" "
        "fill-opacity=\"0.6\" stroke=\"%s\" stroke-width=\"2\"><title>%s"
        "</title></circle>\n",
        f.X(fx), f.Y(fy), kColors[1], HtmlEscape(title));
  };
  absl::StrAppend(&charts[0], ring(fpr, tpr));
  if (at.alerts > 0) absl::StrAppend(&charts[1], ring(tpr, precision));
}

std::string CurveCharts(const ModelCurves& curves, double alert_threshold) {
  const Curves* any = curves[0] != nullptr ? curves[0] : curves[1];
  const double prevalence =
      any->events() > 0 ? static_cast<double>(any->positives) / static_cast<double>(any->events())
                        : kNaN;
  const Frame f{560, 400, 56, 12, 14, 42};
  std::string charts[2];
  std::string data[2];  // The points for the page's script, as JSON.
  for (int chart = 0; chart < 2; ++chart) OpenCurveChart(f, chart, prevalence, charts, data);
  std::string legend = "<ul class=\"legend\">";
  bool first_series = true;
  for (size_t model = 0; model < 2; ++model) {
    if (!HasCurves(curves[model])) continue;
    const Curves& c = *curves[model];
    for (size_t chart = 0; chart < 2; ++chart) {
      const CurveView curve{c, /*roc=*/chart == 0};
      const std::vector<size_t> kept = Thin(curve, kMaxCurvePoints);
      std::vector<std::pair<double, double>> drawn;
      for (const size_t i : kept) drawn.push_back(curve.xy(i));
      absl::StrAppend(&charts[chart], "<path class=\"curve\" data-model=\"", kKeys[model],
                      "\" data-points-drawn=\"", drawn.size(), "\" d=\"", PathData(f, drawn),
                      "\" fill=\"none\" stroke=\"", kColors[model], "\" stroke-width=\"1.8\"/>\n");
      absl::StrAppend(&data[chart], first_series ? "" : ",", "{\"name\":\"", kNames[model],
                      "\",\"color\":\"", kColors[model], "\",\"p\":", PointsJson(curve, kept), "}");
    }
    first_series = false;
    if (model == 1) AppendThresholdRings(f, c, alert_threshold, charts);
    absl::StrAppend(&legend, "<li data-auc-", kKeys[model], "=\"", Exact(c.auc), "\" data-ap-",
                    kKeys[model], "=\"", Exact(c.ap),
                    "\"><span class=\"sw\" style=\"background:", kColors[model], "\"></span><b>",
                    kNames[model], "</b>: AUC ", Fixed(c.auc, 4), ", average precision ",
                    Fixed(c.ap, 4), " (", Thousands(c.positives), " frauds in ",
                    Thousands(c.events()), " labels)</li>");
  }
  std::string out = absl::StrCat(legend, "</ul>\n<div class=\"grid2\">\n");
  const char* ids[2] = {"roc", "pr"};
  const char* titles[2] = {"ROC curve", "Precision-recall curve"};
  const char* hints[2] = {
      "Dashed: a model that guesses. Up and to the left is better.",
      "Dashed: the fraud rate, what random alerts would give. Up and to the right is better."};
  for (int chart = 0; chart < 2; ++chart) {
    absl::StrAppend(&out, "<div><h3>", titles[chart], "</h3>\n", charts[chart],
                    "<circle class=\"hover\" r=\"5\" fill=\"none\" stroke-width=\"2.5\" "
                    "visibility=\"hidden\"/>\n</svg>\n<p class=\"readout\" id=\"",
                    ids[chart], "-readout\">", hints[chart],
                    "</p>\n<script type=\"application/json\" id=\"", ids[chart], "-data\">",
                    data[chart], "]}</script>\n</div>\n");
  }
  return absl::StrCat(out, "</div>\n");
}

// Per model: what alerting on the top 0.1 % ... 5 % of scores, or at the alert threshold,
// would give.
std::string ThresholdTables(const ModelCurves& curves, double alert_threshold) {
  std::string out;
  for (size_t model = 0; model < 2; ++model) {
    if (curves[model] == nullptr) continue;
    const Curves& c = *curves[model];
    absl::StrAppend(&out, "<div><h3><span class=\"swatch\" style=\"color:", kColors[model],
                    "\">&#9632;</span> ", kNames[model], "</h3>\n");
    if (c.events() == 0) {
      absl::StrAppend(&out, "<p class=\"caption\">No labels.</p></div>\n");
      continue;
    }
    std::vector<ThresholdRow> rows;
    for (const double share : kAlertShares) rows.push_back(AtShare(c, share));
    if (model == 1) {
      rows.push_back(AtThreshold(c, alert_threshold));
      rows.back().alert_rule = true;
    }
    std::stable_sort(rows.begin(), rows.end(), [](const ThresholdRow& a, const ThresholdRow& b) {
      return a.threshold > b.threshold;
    });
    absl::StrAppend(&out, "<table class=\"thresholds\">\n<tr><th class=\"l\">alert when</th><th>",
                    kScoreNames[model],
                    " &ge;</th><th>alerts</th><th>per 1,000 events</th><th>precision</th>"
                    "<th>recall</th><th>true pos.</th><th>false pos.</th><th>missed frauds</th>"
                    "</tr>\n");
    for (const ThresholdRow& r : rows) {
      const double precision =
          r.alerts > 0 ? static_cast<double>(r.tp) / static_cast<double>(r.alerts) : kNaN;
      const double recall =
          c.positives > 0 ? static_cast<double>(r.tp) / static_cast<double>(c.positives) : kNaN;
      absl::StrAppend(
          &out, "<tr", r.alert_rule ? " class=\"alert\"" : "", " data-model=\"", kKeys[model],
          "\" data-rule=\"", r.alert_rule ? "alert" : "top",
          r.alert_rule ? std::string() : absl::StrCat("\" data-share=\"", Exact(r.share)),
          "\" data-threshold=\"", Exact(r.threshold), "\" data-alerts=\"", r.alerts,
          "\" data-tp=\"", r.tp, "\" data-fp=\"", r.fp, "\"><td class=\"l\">",
          r.alert_rule ? "alert threshold" : absl::StrFormat("top %g %%", 100 * r.share),
          "</td><td class=\"num\">", Score(r.threshold), "</td><td class=\"num\">",
          Thousands(r.alerts), "</td><td class=\"num\">",
          Fixed(1000 * static_cast<double>(r.alerts) / static_cast<double>(c.events()), 2),
          "</td><td class=\"num\">", Percent(precision), "</td><td class=\"num\">", Percent(recall),
          "</td><td class=\"num\">", Thousands(r.tp), "</td><td class=\"num\">", Thousands(r.fp),
          "</td><td class=\"num\">", Thousands(c.positives - r.tp), "</td></tr>\n");
    }
    absl::StrAppend(&out, "</table></div>\n");
  }
  return out;
}

// One model's score histogram, legitimate and fraud overlaid, on a log count axis. NaN scores
// are left out.
std::string Histogram(size_t model, const std::vector<double>& scores,
                      const std::vector<uint8_t>& labels, double alert_threshold) {
  std::array<std::array<int64_t, kBins>, 2> counts{};
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) continue;
    const int bin = std::clamp(static_cast<int>(scores[i] * kBins), 0, kBins - 1);
    ++counts[labels[i]][static_cast<size_t>(bin)];
  }
  int64_t peak = 1;
  for (const auto& by_bin : counts) {
    peak = std::max(peak, *std::max_element(by_bin.begin(), by_bin.end()));
  }
  // log10 from 0.5 (so that a count of 1 still shows) to the decade at or above the peak.
  const double lo = std::log10(0.5);
  const double hi = std::max(1.0, std::ceil(std::log10(static_cast<double>(peak))));
  const auto fraction = [&](double count) { return (std::log10(count) - lo) / (hi - lo); };
  const Frame f{560, 300, 56, 12, 14, 42};
  std::vector<Tick> y_ticks;
  for (double decade = 0; decade <= hi; ++decade) {
    y_ticks.push_back({fraction(std::pow(10.0, decade)), CountLabel(std::pow(10.0, decade))});
  }
  std::string svg = absl::StrCat(SvgOpen(f, absl::StrCat(kNames[model], " score distribution")),
                                 Axes(f, LinearTicks(0, 1, 0.1, 1), y_ticks, kScoreNames[model],
                                      "labelled events (log scale)"));
  const double bar = f.plot_width() / kBins;
  for (size_t label = 0; label < 2; ++label) {
    for (size_t bin = 0; bin < static_cast<size_t>(kBins); ++bin) {
      const int64_t count = counts[label][bin];
      if (count == 0) continue;
      const double top = f.Y(fraction(static_cast<double>(count)));
      const double from = static_cast<double>(bin) / kBins;
      absl::StrAppend(
          &svg,
          absl::StrFormat(
              "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
              "fill=\"%s\" fill-opacity=\"%s\"%s><title>%s to %s: %s %s"
              "</title></rect>\n",
              f.X(from), top, bar, f.Y(0) - top, kClassColors[label], label == 0 ? "0.45" : "0.6",
              label == 1 ? absl::StrCat(" stroke=\"", kClassColors[1], "\"") : std::string(),
              Fixed(from, 2), Fixed(from + 1.0 / kBins, 2), Thousands(count),
              label == 0 ? "legitimate" : "fraud"));
    }
  }
  if (model == 1 && alert_threshold >= 0 && alert_threshold <= 1) {
    const double x = f.X(alert_threshold);
    absl::StrAppend(
        &svg, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"#212529\" stroke-dasharray=\"5 3\"/><text "
                              "x=\"%.1f\" y=\"%.1f\">alert &#8805; %s</text>\n",
                              x, f.Y(1), x, f.Y(0), x + 4, f.Y(1) + 14, Score(alert_threshold)));
  }
  return absl::StrCat("<div><h3><span class=\"swatch\" style=\"color:", kColors[model],
                      "\">&#9632;</span> ", kNames[model], "</h3>\n", svg, "</svg>\n</div>\n");
}

}  // namespace

ReplayRecorder::ReplayRecorder(const engine::Pipeline& pipeline, bool progress,
                               std::function<double(int64_t rows)> done_fraction,
                               const core::Clock& clock)
    : pipeline_(pipeline),
      enabled_{pipeline.options().anomaly, pipeline.options().fraud},
      progress_(progress),
      tty_(isatty(STDERR_FILENO) != 0),
      done_fraction_(std::move(done_fraction)),
      clock_(clock),
      start_(clock.Now()),
      last_progress_(start_) {
  top_.reserve(kTopAlerts);
}

void ReplayRecorder::OnPrediction(const core::Event& event, const engine::Pipeline::Scores& scores,
                                  const engine::Served& served) {
  const int64_t seq = predictions_++;
  const double key = enabled_[0] ? scores.anomaly : scores.fraud;
  // The common case: not in the top 20 (NaN never is). One comparison, no allocation.
  if (std::isnan(key) || (top_.size() == kTopAlerts && !(key > top_.front().key))) return;
  if (top_.size() < kTopAlerts) {
    top_.emplace_back();
  } else {  // Move the lowest to the back and reuse its buffers.
    std::pop_heap(top_.begin(), top_.end(), RanksAbove);
  }
  Alert& a = top_.back();
  a.key = key;
  a.seq = seq;
  a.row = event.row;
  a.id.assign(event.id);
  a.anomaly = scores.anomaly;
  a.fraud = scores.fraud;
  a.label = event.label;
  a.version = served.version;
  a.explained = scores.why != nullptr;
  a.why_top.clear();
  a.why_rest = 0;
  if (scores.why != nullptr) {
    a.why_top.assign(scores.why->top.begin(), scores.why->top.end());
    a.why_rest = scores.why->rest;
  }
  std::push_heap(top_.begin(), top_.end(), RanksAbove);
}

void ReplayRecorder::OnLabel(bool label, const engine::Pipeline::Scores& scores) {
  labels_seen_.push_back(label ? 1 : 0);
  if (enabled_[0]) scores_[0].push_back(scores.anomaly);
  if (enabled_[1]) scores_[1].push_back(scores.fraud);
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

void ReplayRecorder::AddMarker(int64_t labels_seen, std::string kind, std::string text) {
  markers_.push_back(Marker{labels_seen, std::move(kind), std::move(text)});
}

void ReplayRecorder::OnDrift(const engine::Drift& drift) {
  AddMarker(drift.labels, "drift",
            absl::StrCat(engine::SignalName(drift.signal), " (ADWIN) after event ", drift.id,
                         ": mean now ", core::FormatDouble(drift.mean), " over ",
                         core::FormatDouble(drift.window), " points"));
}

void ReplayRecorder::OnPromotion(const engine::PromotionRecord& p) {
  AddMarker(labels_, "promotion",
            absl::StrCat(p.challenger, " promoted as version ", p.version, ": rolling AUC ",
                         core::FormatDouble(p.rolling_auc), " vs ",
                         core::FormatDouble(p.champion_rolling_auc)));
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
          ? engine::ModelJson(run.anomaly_model, pipeline_.anomaly_metrics(), result.anomaly_nan)
          : "null",
      ",\n  \"fraud\": ",
      pipeline_.options().fraud
          ? engine::ModelJson(run.fraud_model, pipeline_.fraud_metrics(), result.fraud_nan)
          : "null",
      ",\n  \"challengers\": ", engine::ChallengersJson(run.challengers),
      ",\n  \"promotions\": ", engine::PromotionsJson(result),
      ",\n  \"drifts\": ", engine::DriftsJson(result), "\n}\n");
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
  const engine::Challengers* ch = run.challengers;
  for (size_t i = 0; ch != nullptr && i < ch->size(); ++i) {
    row(absl::StrCat("ch", i + 1).c_str(), ch->metrics(i));
  }
  absl::StrAppend(&out, "\n");
  if (pipeline_.options().anomaly) absl::StrAppend(&out, "  anomaly: ", run.anomaly_model, "\n");
  if (pipeline_.options().fraud) absl::StrAppend(&out, "  fraud:   ", run.fraud_model, "\n");
  for (size_t i = 0; ch != nullptr && i < ch->size(); ++i) {
    absl::StrAppend(&out, "  ch", i + 1, ":     challenger ", ch->spec(i).text, " (shadows the ",
                    ch->anomaly(i) ? "anomaly" : "fraud", " model)\n");
  }
  return out;
}

std::string ReplayRecorder::RollingChart() const {
  const Frame f{1150, 330, 62, 12, 40, 42};
  int64_t max_labels = std::max<int64_t>(labels_, 1);
  for (const Marker& m : markers_) max_labels = std::max(max_labels, m.labels_seen);
  // The y axis starts at 0.5 (a coin) or lower if an AUC fell below: dips stay readable.
  double lo = 0.5;
  for (const Point& p : points_) {
    for (const double v : {p.anomaly, p.fraud}) {
      if (std::isfinite(v)) lo = std::min(lo, std::floor(v * 10) / 10);
    }
  }
  const double span = static_cast<double>(max_labels);
  const double x_step = std::max(1.0, NiceStep(span, 10));  // Whole labels.
  std::vector<Tick> x_ticks;
  for (double v = 0; v <= span + x_step * 1e-9; v += x_step) {
    x_ticks.push_back({v / span, Thousands(static_cast<int64_t>(v))});
  }
  std::string svg = SvgOpen(f, "rolling AUC over the stream");
  absl::StrAppend(
      &svg, Axes(f, x_ticks, lo < 0.3 ? LinearTicks(lo, 1, 0.1, 1) : LinearTicks(lo, 1, 0.05, 2),
                 "labels seen", "rolling AUC"));
  for (size_t model = 0; model < 2; ++model) {
    if (!enabled_[model]) continue;
    std::vector<std::pair<double, double>> xy;
    for (const Point& p : points_) {
      const double v = model == 0 ? p.anomaly : p.fraud;
      xy.emplace_back(static_cast<double>(p.labels) / span,
                      std::isnan(v) ? kNaN : (v - lo) / (1 - lo));
    }
    absl::StrAppend(&svg, "<path d=\"", PathData(f, xy), "\" fill=\"none\" stroke=\"",
                    kColors[model], "\" stroke-width=\"1.6\"/>\n");
  }
  for (const Marker& m : markers_) {
    const double x = f.X(static_cast<double>(std::max<int64_t>(m.labels_seen, 0)) / span);
    const bool drift = m.kind == "drift";
    const bool promotion = m.kind == "promotion";
    const char* color = drift ? "#9c36b5" : promotion ? "#2b8a3e" : "#868e96";
    absl::StrAppend(
        &svg, absl::StrFormat(
                  "<g class=\"marker\" data-kind=\"%s\" data-labels-seen=\"%d\"><title>%s after %s "
                  "labels: %s</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                  "stroke=\"%s\" stroke-width=\"1.5\"%s/><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                  "y2=\"%.1f\" stroke=\"transparent\" stroke-width=\"9\"/></g>\n",
                  HtmlEscape(m.kind), m.labels_seen, HtmlEscape(m.kind), Thousands(m.labels_seen),
                  HtmlEscape(m.text), x, f.Y(1), x, f.Y(0), color,
                  drift ? " stroke-dasharray=\"5 3\"" : "", x, f.Y(1), x, f.Y(0)));
  }
  svg += "</svg>\n";

  std::string legend = "<ul class=\"legend\">";
  for (size_t model = 0; model < 2; ++model) {
    if (!enabled_[model]) continue;
    absl::StrAppend(&legend, "<li><span class=\"sw\" style=\"background:", kColors[model],
                    "\"></span>", kNames[model], "</li>");
  }
  std::vector<std::string> kinds;
  for (const Marker& m : markers_) {
    if (std::find(kinds.begin(), kinds.end(), m.kind) == kinds.end()) kinds.push_back(m.kind);
  }
  for (const std::string& kind : kinds) {
    const int64_t n = std::count_if(markers_.begin(), markers_.end(),
                                    [&](const Marker& m) { return m.kind == kind; });
    const char* style = kind == "drift"       ? "border-left:2px dashed #9c36b5"
                        : kind == "promotion" ? "border-left:2px solid #2b8a3e"
                                              : "border-left:2px solid #868e96";
    absl::StrAppend(&legend, "<li><span style=\"display:inline-block;height:14px;", style,
                    ";margin:0 8px -2px 4px\"></span>", HtmlEscape(kind), " (", n, ")</li>");
  }
  return absl::StrCat(svg, legend, "</ul>\n");
}

std::string ReplayRecorder::TopAlertsSection() const {
  std::vector<const Alert*> sorted;
  for (const Alert& a : top_) sorted.push_back(&a);
  std::sort(sorted.begin(), sorted.end(),
            [](const Alert* a, const Alert* b) { return RanksAbove(*a, *b); });
  const bool any_explained =
      std::any_of(sorted.begin(), sorted.end(), [](const Alert* a) { return a->explained; });
  const bool any_version =
      std::any_of(sorted.begin(), sorted.end(), [](const Alert* a) { return a->version > 0; });
  const char* ranked_by = enabled_[0] ? "anomaly score" : "fraud probability";
  std::string out = absl::StrCat(
      "<h2>Top alerts</h2>\n<p class=\"caption\">The ", sorted.size(), " events with the highest ",
      ranked_by,
      " (the earlier of equal scores first), with their scores when they were scored. Label: "
      "the input's label column (1 = fraud), blank if it has none.",
      any_explained ? " Why: the features with the largest shares of the anomaly score, as a "
                      "percentage of it (HalfSpaceTrees' attribution along each tree's path), "
                      "then the share of all other features and the share of no feature."
                    : " Run with explanations on to see which features drove each score.",
      "</p>\n");
  if (sorted.empty()) return absl::StrCat(out, "<p class=\"caption\">No events scored.</p>\n");
  absl::StrAppend(
      &out, "<table class=\"top\">\n<tr><th>#</th><th class=\"l\">id</th><th>row</th>",
      enabled_[0] ? "<th>anomaly score</th>" : "", enabled_[1] ? "<th>fraud probability</th>" : "",
      "<th>label</th>", any_version ? "<th>served by version</th>" : "",
      any_explained ? "<th class=\"l\">why (share of the anomaly score)</th>" : "", "</tr>\n");
  const std::vector<std::string>& names = pipeline_.feature_names();
  for (size_t rank = 0; rank < sorted.size(); ++rank) {
    const Alert& a = *sorted[rank];
    absl::StrAppend(&out, "<tr><td>", rank + 1, "</td><td class=\"l\">", HtmlEscape(a.id),
                    "</td><td class=\"num\">", a.row, "</td>");
    if (enabled_[0]) absl::StrAppend(&out, "<td class=\"num\">", Fixed(a.anomaly, 4), "</td>");
    if (enabled_[1]) absl::StrAppend(&out, "<td class=\"num\">", Fixed(a.fraud, 4), "</td>");
    absl::StrAppend(&out, "<td",
                    a.label.value_or(false) ? " style=\"color:#c2255c;font-weight:600\"" : "", ">",
                    a.label.has_value() ? (*a.label ? "1" : "0") : "", "</td>");
    if (any_version) absl::StrAppend(&out, "<td class=\"num\">", a.version, "</td>");
    if (any_explained) {
      std::string why;
      for (const auto& [feature, share] : a.why_top) {
        const std::string name = feature >= 0 && static_cast<size_t>(feature) < names.size()
                                     ? names[static_cast<size_t>(feature)]
                                     : absl::StrCat("#", feature);
        absl::StrAppend(&why, why.empty() ? "" : " &middot; ", "<b>", HtmlEscape(name), "</b> ",
                        a.anomaly > 0 ? Percent(share / a.anomaly) : Fixed(share, 4));
      }
      if (a.explained) {
        // The shares of every feature and `rest` sum to the score.
        double others = a.anomaly - a.why_rest;
        for (const auto& entry : a.why_top) others -= entry.second;
        const auto part = [&](double share) {
          return a.anomaly > 0 ? Percent(share / a.anomaly) : Fixed(share, 4);
        };
        absl::StrAppend(&why, " <span class=\"rest\">&middot; other features ",
                        part(std::max(others, 0.0)), " &middot; no feature ", part(a.why_rest),
                        "</span>");
      }
      absl::StrAppend(&out, "<td class=\"why\">", why, "</td>");
    }
    absl::StrAppend(&out, "</tr>\n");
  }
  return absl::StrCat(out, "</table>\n");
}

std::string ReplayRecorder::HtmlReport(const RunDescription& run,
                                       const engine::RunResult& result) const {
  std::string table =
      "<table>\n<tr><th class=\"l\">model</th><th>labels</th><th>auc</th><th>rolling_auc</th>"
      "<th>river_rocauc</th><th>river_rolling_rocauc</th><th>NaN scores</th></tr>\n";
  for (size_t model = 0; model < 2; ++model) {
    if (!enabled_[model]) continue;
    const MetricValues v =
        Values(model == 0 ? pipeline_.anomaly_metrics() : pipeline_.fraud_metrics());
    absl::StrAppend(
        &table, "<tr><td class=\"l\"><span class=\"swatch\" style=\"color:", kColors[model],
        "\">&#9632;</span> <b>", kKeys[model],
        "</b>: ", HtmlEscape(model == 0 ? run.anomaly_model : run.fraud_model),
        "</td><td class=\"num\">", Thousands(v.labels), "</td><td class=\"num\">", Fixed(v.auc, 4),
        "</td><td class=\"num\">", Fixed(v.rolling_auc, 4), "</td><td class=\"num\">",
        Fixed(v.river_rocauc, 4), "</td><td class=\"num\">", Fixed(v.river_rolling_rocauc, 4),
        "</td><td class=\"num\">",
        Thousands(model == 0 ? result.anomaly_nan.count : result.fraud_nan.count), "</td></tr>\n");
  }
  const engine::Challengers* ch = run.challengers;
  for (size_t i = 0; ch != nullptr && i < ch->size(); ++i) {
    const MetricValues v = Values(ch->metrics(i));
    absl::StrAppend(
        &table, "<tr class=\"challenger\"><td class=\"l\">challenger <b>",
        HtmlEscape(ch->spec(i).text), "</b> (shadows ", ch->anomaly(i) ? "anomaly" : "fraud",
        ")</td><td class=\"num\">", Thousands(v.labels), "</td><td class=\"num\">", Fixed(v.auc, 4),
        "</td><td class=\"num\">", Fixed(v.rolling_auc, 4), "</td><td class=\"num\">",
        Fixed(v.river_rocauc, 4), "</td><td class=\"num\">", Fixed(v.river_rolling_rocauc, 4),
        "</td><td class=\"num\">", Thousands(ch->nan(i).count), "</td></tr>\n");
  }
  table += "</table>\n";
  std::array<Curves, 2> curves;
  ModelCurves by_model = {nullptr, nullptr};
  std::string histograms;
  for (size_t model = 0; model < 2; ++model) {
    if (!enabled_[model]) continue;
    curves[model] = ComputeCurves(scores_[model], labels_seen_);
    by_model[model] = &curves[model];
    histograms += Histogram(model, scores_[model], labels_seen_, run.alert_threshold);
  }
  const double rate =
      result.seconds > 0 ? static_cast<double>(result.events) / result.seconds : 0.0;
  const engine::LabelCounts& c = result.label_counts;
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>sluice replay report: ",
      HtmlEscape(run.input), "</title>\n<style>", kStyle, "</style></head><body>\n",
      "<h1>sluice replay report</h1>\n<p class=\"meta\"><b>", HtmlEscape(run.input),
      "</b>: ", Thousands(result.events), " events, ", Thousands(result.labels), " labels, ",
      Thousands(result.bad_records), " bad rows skipped; label delay ", HtmlEscape(run.label_delay),
      "; ",
      run.summary_timing ? absl::StrFormat("%.3f s, %s events/s.", result.seconds,
                                           Thousands(static_cast<int64_t>(rate)))
                         : std::string(),
      "</p>\n<p class=\"meta\">Labels: ", Thousands(c.joined), " joined, ", Thousands(c.expired),
      " expired, ", Thousands(c.duplicate), " duplicate, ", Thousands(c.late), " late, ",
      Thousands(c.unknown), " unknown, ", Thousands(c.evicted), " evicted, ",
      Thousands(result.labels_pending), " still pending.</p>\n<h2>Summary</h2>\n",
      "<p class=\"caption\">The four AUCs of each model at the end of the stream: exact over all "
      "labels, exact over the last ",
      run.metric_window,
      " labels, and River's ROCAUC and RollingROCAUC, as in the summary JSON.</p>\n", table,
      "<h2>Rolling AUC over the stream</h2>\n<p class=\"caption\">Exact ROC AUC over the last ",
      Thousands(run.metric_window),
      " labels, as the labels arrived. A gap: the window held one class only. Vertical lines "
      "mark model drift detected and models promoted; point at one for what happened.</p>\n",
      RollingChart(),
      "<h2>How well each model ranks frauds</h2>\n<p class=\"caption\">Exact curves over every "
      "label this run saw, with the score each event had when it was scored. Each point is a "
      "threshold: alert on every event scoring at or above it. Every distinct score is a point; "
      "events with equal scores are one step (a diagonal). AUC is the area under the ROC curve "
      "(the chance that a random fraud scores above a random legitimate event); average "
      "precision (AP) is scikit-learn's, the sum over thresholds of (R<sub>k</sub> &minus; "
      "R<sub>k&minus;1</sub>) &times; P<sub>k</sub>. The ring marks the alert threshold (fraud "
      "probability &ge; ",
      Score(run.alert_threshold), "). Point at a curve to read its threshold.</p>\n",
      CurveNotes(by_model), CurveCharts(by_model, run.alert_threshold),
      "<h2>What alerting at a threshold would give</h2>\n<p class=\"caption\">For each model, "
      "the score at which 0.1 %, 0.5 %, 1 %, 2 % and 5 % of the labelled events would alert "
      "(more when scores tie at the threshold), and for the fraud model the run's alert "
      "threshold (highlighted). Precision: the share of alerts that are fraud. Recall: the share "
      "of frauds alerted on.</p>\n",
      ThresholdTables(by_model, run.alert_threshold),
      "<h2>Score distributions</h2>\n<p class=\"caption\">How many labelled events got each "
      "score, legitimate and fraud overlaid (not stacked), in bins of width ",
      Fixed(1.0 / kBins, 2),
      ". The count axis is logarithmic, so that a handful of frauds shows next to hundreds of "
      "thousands of legitimate events, and so does the fraud model's mass near 0. A good model "
      "puts the frauds to the right of the legitimate events. Point at a bar for its count.</p>\n"
      "<ul class=\"legend\"><li><span class=\"box-sw\" style=\"background:",
      kClassColors[0],
      ";opacity:.55\"></span>legitimate</li><li><span class=\"box-sw\" "
      "style=\"background:",
      kClassColors[1], ";opacity:.6\"></span>fraud</li></ul>\n<div class=\"grid2\">\n", histograms,
      "</div>\n", TopAlertsSection(), "<script>", kScript, "</script>\n</body></html>\n");
}

}  // namespace sluice::tools
