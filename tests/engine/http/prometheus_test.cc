#include "engine/http/prometheus.h"

#include <sys/wait.h>
#include <unistd.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice::engine::http {
namespace {

using ::testing::HasSubstr;

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(MetricsRegistry, RendersCounterWithoutLabels) {
  MetricsRegistry registry;
  Counter& events = registry.GetCounter("sluice_events_total", "Events scored.");
  events.Increment();
  events.Increment(2.5);
  EXPECT_EQ(events.value(), 3.5);
  EXPECT_EQ(registry.Render(),
            "# HELP sluice_events_total Events scored.\n"
            "# TYPE sluice_events_total counter\n"
            "sluice_events_total 3.5\n");
}

TEST(MetricsRegistry, RendersCounterWithLabelsInGivenOrder) {
  MetricsRegistry registry;
  registry.GetCounter("requests_total", "Requests.", {{"path", "/score"}, {"code", "200"}})
      .Increment(7);
  EXPECT_EQ(registry.Render(),
            "# HELP requests_total Requests.\n"
            "# TYPE requests_total counter\n"
            "requests_total{path=\"/score\",code=\"200\"} 7\n");
}

TEST(MetricsRegistry, SameNameAndLabelsGiveSameObject) {
  MetricsRegistry registry;
  Counter& a = registry.GetCounter("x_total", "X.", {{"k", "1"}});
  EXPECT_EQ(&registry.GetCounter("x_total", "X.", {{"k", "1"}}), &a);
  EXPECT_NE(&registry.GetCounter("x_total", "X.", {{"k", "2"}}), &a);
  EXPECT_NE(&registry.GetCounter("x_total", "X."), &a);
  Histogram& h = registry.GetHistogram("h_seconds", "H.", {1, 2});
  EXPECT_EQ(&registry.GetHistogram("h_seconds", "H.", {1, 2}), &h);
}

TEST(MetricsRegistry, GaugeSetAndAdd) {
  MetricsRegistry registry;
  Gauge& lag = registry.GetGauge("sluice_lag_events", "Events behind.");
  lag.Set(5);
  lag.Add(-7.25);
  EXPECT_EQ(lag.value(), -2.25);
  lag.Add(0.5);
  EXPECT_EQ(registry.Render(),
            "# HELP sluice_lag_events Events behind.\n"
            "# TYPE sluice_lag_events gauge\n"
            "sluice_lag_events -1.75\n");
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndInclusive) {
  MetricsRegistry registry;
  Histogram& latency =
      registry.GetHistogram("score_seconds", "Scoring latency.", {0.5, 1, 2.5}, {{"model", "m"}});
  latency.Observe(0.25);
  latency.Observe(1);    // On a bound: le is inclusive, so it counts in le="1".
  latency.Observe(2.5);  // Likewise in le="2.5".
  latency.Observe(100);  // Above every bound: +Inf only.
  EXPECT_EQ(latency.CumulativeCounts(), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(registry.Render(),
            "# HELP score_seconds Scoring latency.\n"
            "# TYPE score_seconds histogram\n"
            "score_seconds_bucket{model=\"m\",le=\"0.5\"} 1\n"
            "score_seconds_bucket{model=\"m\",le=\"1\"} 2\n"
            "score_seconds_bucket{model=\"m\",le=\"2.5\"} 3\n"
            "score_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "score_seconds_sum{model=\"m\"} 103.75\n"
            "score_seconds_count{model=\"m\"} 4\n");
}

TEST(MetricsRegistry, EmptyHistogramWithoutLabels) {
  MetricsRegistry registry;
  // A trailing +Inf bound is the implicit bucket, not a second one.
  registry.GetHistogram("h_seconds", "H.", {0.001, kInf});
  EXPECT_EQ(registry.Render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.001\"} 0\n"
            "h_seconds_bucket{le=\"+Inf\"} 0\n"
            "h_seconds_sum 0\n"
            "h_seconds_count 0\n");
}

TEST(Histogram, NanObservationCountsInInfBucketOnly) {
  Histogram histogram({1});
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.CumulativeCounts(), (std::vector<uint64_t>{0, 1}));
  EXPECT_TRUE(std::isnan(histogram.sum()));
}

TEST(Histogram, LatencyBucketsRenderWithoutRoundingNoise) {
  MetricsRegistry registry;
  registry.GetHistogram("latency_seconds", "L.", LatencyBuckets()).Observe(0.003);
  const std::string text = registry.Render();
  for (const char* le : {"5e-06", "1e-05",  "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005",
                         "0.001", "0.0025", "0.005",   "0.01",  "0.025",  "0.05",    "0.1",
                         "0.25",  "0.5",    "1",       "2.5",   "5",      "10"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("latency_seconds_bucket{le=\"", le, "\"}")));
  }
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.0025\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.005\"} 1\n"));
}

TEST(MetricsRegistry, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry
      .GetGauge("g", "Help with \\ backslash,\nnewline and \"quotes\".",
                {{"path", "C:\\dir\n\"x\""}})
      .Set(1);
  // HELP escapes backslash and newline only; label values also double quotes.
  EXPECT_EQ(registry.Render(),
            "# HELP g Help with \\\\ backslash,\\nnewline and \"quotes\".\n"
            "# TYPE g gauge\n"
            "g{path=\"C:\\\\dir\\n\\\"x\\\"\"} 1\n");
}

TEST(MetricsRegistry, OrderIsByFamilyNameThenLabelValues) {
  MetricsRegistry registry;
  registry.GetGauge("zeta", "Z.", {{"p", "b"}}).Set(1);
  registry.GetGauge("zeta", "Z.", {{"p", "a"}}).Set(2);
  registry.GetGauge("zeta", "Z.", {{"p", "10"}}).Set(3);
  registry.GetGauge("zeta", "Z.", {{"p", "9"}}).Set(4);
  registry.GetCounter("alpha_total", "A.").Increment();
  registry.AddCollector("mid", "M.", MetricType::kGauge, [](std::vector<Sample>* samples) {
    samples->push_back({{}, 5});
  });
  const std::string expected =
      "# HELP alpha_total A.\n# TYPE alpha_total counter\nalpha_total 1\n"
      "# HELP mid M.\n# TYPE mid gauge\nmid 5\n"
      "# HELP zeta Z.\n# TYPE zeta gauge\n"
      "zeta{p=\"10\"} 3\nzeta{p=\"9\"} 4\nzeta{p=\"a\"} 2\nzeta{p=\"b\"} 1\n";
  EXPECT_EQ(registry.Render(), expected);
  EXPECT_EQ(registry.Render(), expected);
}

TEST(MetricsRegistry, CollectorSamplesAreRenderedSorted) {
  MetricsRegistry registry;
  int calls = 0;
  registry.AddCollector("sluice_auc", "Rolling ROC AUC.", MetricType::kGauge,
                        [&calls](std::vector<Sample>* samples) {
                          ++calls;
                          samples->push_back({{{"model", "m"}, {"version", "2"}}, 0.75});
                          samples->push_back({{{"model", "m"}, {"version", "1"}}, 0.5});
                          samples->push_back({{{"model", "a"}, {"version", "1"}}, std::nan("")});
                        });
  const std::string expected =
      "# HELP sluice_auc Rolling ROC AUC.\n"
      "# TYPE sluice_auc gauge\n"
      "sluice_auc{model=\"a\",version=\"1\"} NaN\n"
      "sluice_auc{model=\"m\",version=\"1\"} 0.5\n"
      "sluice_auc{model=\"m\",version=\"2\"} 0.75\n";
  EXPECT_EQ(registry.Render(), expected);
  EXPECT_EQ(calls, 1);
}

TEST(MetricsRegistry, CollectorRunsWithoutRegistryLock) {
  MetricsRegistry registry;
  // absl::Mutex is not reentrant: this would deadlock if Render() held the lock.
  registry.AddCollector("pending_joins", "Predictions awaiting a label.", MetricType::kGauge,
                        [&registry](std::vector<Sample>* samples) {
                          registry.GetCounter("collector_calls_total", "Calls.").Increment();
                          samples->push_back({{}, 3});
                        });
  EXPECT_EQ(registry.Render(),
            "# HELP pending_joins Predictions awaiting a label.\n"
            "# TYPE pending_joins gauge\n"
            "pending_joins 3\n");
  EXPECT_EQ(registry.GetCounter("collector_calls_total", "Calls.").value(), 1);
}

TEST(MetricsRegistry, RendersNumbersExactly) {
  MetricsRegistry registry;
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},
      {-0.0, "0"},
      {1e6, "1000000"},  // Integral: no exponent (Go's client would print "1e+06").
      {-42, "-42"},
      {0.1, "0.1"},
      {1.0 / 3, "0.3333333333333333"},
      {0.0001, "0.0001"},  // %g style, as Go's client; std::to_chars' shortest is "1e-04".
      {2.5e-5, "2.5e-05"},
      {1e-7, "1e-07"},
      {1234567.5, "1.2345675e+06"},  // Not integral: as Go's client.
      {9007199254740991.0, "9007199254740991"},
      {1e20, "1e+20"},                                   // Integral, but past 2^53.
      {1152921504606846976.0, "1.152921504606847e+18"},  // 2^60.
      {kInf, "+Inf"},
      {-kInf, "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
  };
  std::string expected = "# HELP n N.\n# TYPE n gauge\n";
  for (size_t case_idx = 0; case_idx < cases.size(); ++case_idx) {
    // Zero-padded so that label order is case order.
    const std::string label = absl::StrCat(case_idx < 10 ? "0" : "", case_idx);
    registry.GetGauge("n", "N.", {{"case", label}}).Set(cases[case_idx].first);
    absl::StrAppend(&expected, "n{case=\"", label, "\"} ", cases[case_idx].second, "\n");
  }
  EXPECT_EQ(registry.Render(), expected);
}

TEST(MetricsRegistry, RenderedNumbersRoundTrip) {
  MetricsRegistry registry;
  Gauge& gauge = registry.GetGauge("g", "G.");
  std::mt19937_64 bits(7);  // The engine's output is fixed by the standard.
  const std::string prefix = "# HELP g G.\n# TYPE g gauge\ng ";
  for (int sample_idx = 0; sample_idx < 10000; ++sample_idx) {
    const double v = std::bit_cast<double>(bits());
    if (!std::isfinite(v)) {
      continue;
    }
    gauge.Set(v);
    const std::string text = registry.Render();
    ASSERT_EQ(text.substr(0, prefix.size()), prefix);
    const char* begin = text.data() + prefix.size();
    const char* end = text.data() + text.size() - 1;  // Before the newline.
    double parsed = 0;
    const std::from_chars_result result = std::from_chars(begin, end, parsed);
    ASSERT_EQ(result.ptr, end) << text;
    ASSERT_EQ(parsed, v) << text;
  }
}

TEST(MetricsRegistryDeathTest, MisuseIsFatalInDebugAndUnrenderedInRelease) {
  MetricsRegistry registry;
  registry.GetCounter("c_total", "C.").Increment();
  registry.GetHistogram("h_seconds", "H.", {1, 2});
  const std::string before = registry.Render();
  EXPECT_DEBUG_DEATH(registry.GetHistogram("h_seconds", "H.", {1, 3}).Observe(1), "other bounds");
  EXPECT_DEBUG_DEATH(registry.GetCounter("c_total", "Other help."), "other help");
  EXPECT_DEBUG_DEATH(registry.GetGauge("c_total", "C.").Set(5), "another type");
  EXPECT_DEBUG_DEATH(registry.GetCounter("1bad", "B.").Increment(), "invalid metric name");
  EXPECT_DEBUG_DEATH(registry.GetCounter("c_total", "C.", {{"__x", "v"}}).Increment(),
                     "invalid label name");
  EXPECT_DEBUG_DEATH(registry.GetCounter("c_total", "C.", {{"a", "1"}, {"a", "2"}}).Increment(),
                     "duplicate label name");
  EXPECT_DEBUG_DEATH(registry.GetHistogram("h", "H.", {1}, {{"le", "1"}}).Observe(1), "its own le");
  EXPECT_DEBUG_DEATH(registry.GetCounter("c_total", "C.").Increment(-1), "only goes up");
  EXPECT_DEBUG_DEATH(
      registry.AddCollector("c_total", "C.", MetricType::kCounter, [](std::vector<Sample>*) {}),
      "already used");
  // In release builds the statements above ran here and must have left the text as it was.
  EXPECT_EQ(registry.Render(), before);
}

TEST(MetricsRegistryThreads, ConcurrentUpdatesAreExact) {
  MetricsRegistry registry;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int thread_idx = 0; thread_idx < kThreads; ++thread_idx) {
    threads.emplace_back([&registry] {
      Counter& counter = registry.GetCounter("events_total", "Events.");
      Gauge& gauge = registry.GetGauge("balance", "Balance.");
      Histogram& histogram = registry.GetHistogram("latency_seconds", "L.", LatencyBuckets());
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        gauge.Add(i % 2 == 0 ? 2 : -1);
        histogram.Observe(0.001);
        if (i % 10000 == 0) {
          // Rendering concurrently reads every metric (for ThreadSanitizer to check).
          EXPECT_THAT(registry.Render(), HasSubstr("# TYPE events_total counter\n"));
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  // Every sum is of small integers (or 0.001 added to whole thousandths), so exact in doubles up
  // to 2^53: any lost update would show.
  constexpr int kTotal = kThreads * kPerThread;
  EXPECT_EQ(registry.GetCounter("events_total", "Events.").value(), kTotal);
  EXPECT_EQ(registry.GetGauge("balance", "Balance.").value(), kTotal / 2);
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr(absl::StrCat("events_total ", kTotal, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("latency_seconds_count ", kTotal, "\n")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("latency_seconds_bucket{le=\"0.001\"} ", kTotal)));
  EXPECT_THAT(text, HasSubstr("latency_seconds_bucket{le=\"0.0005\"} 0\n"));
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr.
};

// Runs `promtool check metrics` on `text`. The file name carries the pid: ctest may run the tests
// of this binary in parallel processes.
CommandResult PromtoolCheckMetrics(const std::string& text) {
  const std::string path = absl::StrCat(::testing::TempDir(), "prometheus_test_", getpid(), ".txt");
  {
    std::ofstream file(path, std::ios::binary);
    file << text;
  }
  CommandResult result;
  FILE* pipe = popen(absl::StrCat("promtool check metrics < '", path, "' 2>&1").c_str(), "r");
  if (pipe != nullptr) {
    char buffer[4096];
    size_t bytes = 0;
    while ((bytes = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
      result.output.append(buffer, bytes);
    }
    const int status = pclose(pipe);
    if (WIFEXITED(status)) {
      result.exit_code = WEXITSTATUS(status);
    }
  }
  std::remove(path.c_str());
  return result;
}

bool HavePromtool() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

TEST(MetricsRegistry, PromtoolAcceptsEveryType) {
  if (!HavePromtool()) {
    GTEST_SKIP() << "promtool is not on PATH; scripts/install-deps.sh installs it (Debian "
                    "package prometheus)";
  }
  MetricsRegistry registry;
  registry.GetCounter("sluice_events_total", "Events scored.").Increment(12);
  registry.GetCounter("sluice_http_requests_total", "HTTP requests.", {{"code", "200"}})
      .Increment(3);
  registry.GetCounter("sluice_http_requests_total", "HTTP requests.", {{"code", "404"}})
      .Increment();
  registry.GetGauge("sluice_pending_joins", "Predictions awaiting a label.").Set(-1.5);
  Histogram& latency = registry.GetHistogram("sluice_score_duration_seconds", "Scoring latency.",
                                             LatencyBuckets(), {{"model", "fraud \"v2\"\\\n"}});
  for (const double v : {2e-6, 1e-3, 0.25, 1.0, 30.0}) {
    latency.Observe(v);
  }
  registry.AddCollector("sluice_auc_ratio", "Rolling ROC AUC.\nPer model\\version.",
                        MetricType::kGauge, [](std::vector<Sample>* samples) {
                          samples->push_back({{{"model", "m"}, {"version", "1"}}, 0.8125});
                          samples->push_back({{{"model", "m"}, {"version", "2"}}, std::nan("")});
                        });
  registry.AddCollector("sluice_labels_joined_total", "Labels joined.", MetricType::kCounter,
                        [](std::vector<Sample>* samples) {
                          samples->push_back({{}, 1e20});
                        });
  const std::string text = registry.Render();
  const CommandResult result = PromtoolCheckMetrics(text);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << text;
  EXPECT_EQ(result.output, "") << text;
}

TEST(MetricsRegistry, PromtoolRejectsCounterWithoutTotalSuffix) {
  if (!HavePromtool()) {
    GTEST_SKIP() << "promtool is not on PATH; scripts/install-deps.sh installs it (Debian "
                    "package prometheus)";
  }
  MetricsRegistry registry;
  registry.GetCounter("sluice_events", "Events scored.").Increment();
  const CommandResult result = PromtoolCheckMetrics(registry.Render());
  EXPECT_NE(result.exit_code, 0);
  EXPECT_THAT(result.output, HasSubstr("_total"));
}

}  // namespace
}  // namespace sluice::engine::http
