// `sluice` as a user meets it: exit codes, messages, and the files it writes.
#include "tests/support/cli.h"

#include <string>

#include "tests/support/test_util.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  // Writes `contents` to a file and replays it with `flags`.
  CliResult Replay(const std::string& contents, const std::string& flags = "") {
    WriteFile(input_, contents);
    return RunSluice("replay --quiet --input " + input_ + " " + flags);
  }
  TempDir dir_;
  const std::string input_ = dir_.File("in.csv");
};

constexpr const char* kGood = "Time,V1,Amount,Class\n0,1.5,10,0\n1,-0.5,20,1\n2,0.25,5,0\n";

TEST_F(CliTest, BadRowsStopTheRunWithFileLineColumnAndReason) {
  const struct {
    const char* csv;
    const char* message;
  } cases[] = {
      {"Time,V1,Class\n0,1,0\n1,2\n", "in.csv:3: column Class: missing (the row has 2 fields"},
      {"Time,V1,Class\n0,1,0,7\n", "in.csv:2: column #4: unexpected (the row has 4 fields"},
      {"Time,V1,Class\n0,x1,0\n", "in.csv:2: column V1: not a number: \"x1\""},
      {"Time,V1,Class\n0,NaN,0\n", "in.csv:2: column V1: not a finite number: \"NaN\""},
      {"Time,V1,Class\n0,inf,0\n", "in.csv:2: column V1: not a finite number: \"inf\""},
      {"Time,V1,Class\n0,1,yes\n", "in.csv:2: column Class: label must be 0 or 1, got \"yes\""},
  };
  for (const auto& c : cases) {
    const CliResult r = Replay(c.csv);
    EXPECT_EQ(r.exit_code, 1) << c.csv;
    EXPECT_THAT(r.err, HasSubstr(input_.substr(0, input_.size() - 6) + c.message)) << c.csv;
    EXPECT_THAT(r.err, StartsWith("sluice replay: ")) << c.csv;
  }
}

TEST_F(CliTest, SkipModeCountsBadRowsAndGoesOn) {
  const std::string summary = dir_.File("s.json");
  const CliResult r = Replay("Time,V1,Class\n0,1,0\n1,oops,1\n2,3,1\n3,4,0\n",
                             "--on-bad-row skip --summary " + summary);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = ReadFileOrDie(summary);
  EXPECT_THAT(json, HasSubstr("\"events\": 3"));
  EXPECT_THAT(json, HasSubstr("\"bad_rows\": 1"));
  EXPECT_THAT(json, HasSubstr("in.csv:3: column V1: not a number: \\\"oops\\\""));
}

TEST_F(CliTest, FileLevelProblemsFailClearly) {
  CliResult r = Replay("");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("in.csv: empty file"));
  r = Replay("Time,V1,Class\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("in.csv: no data rows"));
  r = Replay("Time,V1,Label\n0,1,0\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("in.csv:1: label column \"Class\" is not in the header"));
  r = Replay(kGood, "--exclude V1,Nope");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("excluded column \"Nope\" is not in the header"));
  r = RunSluice("replay --quiet --input " + dir_.File("missing.csv"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing.csv: cannot open: No such file or directory"));
}

TEST_F(CliTest, CrlfQuotedHeaderAndBomGiveTheSameResultAsPlainCsv) {
  const std::string plain = dir_.File("plain.csv");
  ASSERT_EQ(Replay(kGood, "--predictions " + plain).exit_code, 0);
  const std::string expected = ReadFileOrDie(plain);
  std::string crlf;
  for (const char c : std::string(kGood))
    crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const std::string variants[] = {
      crlf,
      "\"Time\",\"V1\",\"Amount\",\"Class\"\n0,1.5,10,\"0\"\n1,-0.5,20,\"1\"\n2,0.25,5,\"0\"\n",
      std::string("\xEF\xBB\xBF") + kGood,
  };
  const std::string out = dir_.File("p.csv");
  for (const std::string& variant : variants) {
    const CliResult r = Replay(variant, "--predictions " + out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFileOrDie(out), expected);
  }
}

TEST_F(CliTest, BadFlagsExitWithTwo) {
  for (const std::string flags :
       {"--model forest", "--on-bad-row ignore", "--lr-scaler robust", "--rows -1",
        "--label-delay 5 --label-delay-seconds 2", "--metric-window 0", "--bogus"}) {
    const CliResult r = Replay(kGood, flags);
    EXPECT_EQ(r.exit_code, 2) << flags;
    EXPECT_THAT(r.err, HasSubstr("sluice replay: ")) << flags;
  }
  // Issue #6, defects 9 and 10: invalid values exit 2 and name the flag.
  const CliResult r = Replay(kGood, "--hst-trees 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--hst-trees must be in [1, 10000], got 0"));
  const CliResult rows = Replay(kGood, "--rows abc");
  EXPECT_EQ(rows.exit_code, 2);
  EXPECT_THAT(rows.err, HasSubstr("--rows: 'abc' is not an integer"));
  const CliResult rate = Replay(kGood, "--lr-learning-rate x1");
  EXPECT_EQ(rate.exit_code, 2);
  EXPECT_THAT(rate.err, HasSubstr("--lr-learning-rate: 'x1' is not a number"));
  const CliResult empty = RunSluice("replay --input ''");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_THAT(empty.err, HasSubstr("--input must not be empty"));
  EXPECT_EQ(RunSluice("frobnicate").exit_code, 2);
}

TEST_F(CliTest, WritesPredictionsSummaryAndReport) {
  const std::string p = dir_.File("p.csv"), s = dir_.File("s.json"), h = dir_.File("r.html");
  const CliResult r =
      RunSluice("replay --rows 3000 --predictions " + p + " --summary " + s + " --report " + h);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3000 events, 3000 labels"));
  const CsvTable predictions = ReadCsv(p);
  EXPECT_EQ(predictions.header, (std::vector<std::string>{"row", "id", "event_time", "label",
                                                          "anomaly_score", "fraud_probability"}));
  ASSERT_EQ(predictions.rows.size(), 3000u);
  EXPECT_EQ(predictions.rows[0][0], "0");
  EXPECT_EQ(predictions.rows[0][5], "0.5");  // An untrained LR says 0.5.
  const std::string json = ReadFileOrDie(s);
  for (const char* key :
       {"\"events\": 3000", "\"labels\": 3000", "\"seconds\":", "\"events_per_second\":",
        "\"auc\":", "\"rolling_auc\":", "\"river_rocauc\":", "\"river_rolling_rocauc\":"}) {
    EXPECT_THAT(json, HasSubstr(key));
  }
  const std::string html = ReadFileOrDie(h);
  EXPECT_THAT(html, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(html, HasSubstr("<path d=\"M"));  // The rolling-AUC curves.
  EXPECT_THAT(html, HasSubstr("score distribution"));
  EXPECT_EQ(html.find("http"), std::string::npos);  // Self-contained: nothing to fetch.
}

TEST_F(CliTest, IdColumnAndLabelDelayInSecondsFlowThrough) {
  const std::string p = dir_.File("p.csv"), s = dir_.File("s.json");
  const CliResult r =
      Replay("tx,Time,V1,Class\n\"a,1\",0,1.5,0\nb,5,-0.5,1\nc,20,0.25,0\n",
             "--id-column tx --label-delay-seconds 10 --predictions " + p + " --summary " + s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string predictions = ReadFileOrDie(p);
  EXPECT_THAT(predictions, HasSubstr("\n0,\"a,1\",0,0,"));  // The id, quoted as it holds a comma.
  EXPECT_THAT(predictions, HasSubstr("\n2,c,20,0,"));
  // Row c (t=20) is scored after the labels of a (t=0) and b (t=5) arrived, 10 s later.
  const CsvTable table = ReadCsv(p);
  EXPECT_NE(table.rows[2][5], "0.5");
  EXPECT_EQ(table.rows[1][5], "0.5");  // Nothing learned yet at t=5.
  EXPECT_THAT(ReadFileOrDie(s), HasSubstr("\"label_delay\": \"10 s\""));
}

TEST_F(CliTest, SameInputGivesIdenticalOutput) {
  const std::string a = dir_.File("a.csv"), b = dir_.File("b.csv");
  ASSERT_EQ(RunSluice("replay --quiet --rows 2000 --label-delay 100 --predictions " + a).exit_code,
            0);
  ASSERT_EQ(RunSluice("replay --quiet --rows 2000 --label-delay 100 --predictions " + b).exit_code,
            0);
  EXPECT_EQ(ReadFileOrDie(a), ReadFileOrDie(b));
}

TEST_F(CliTest, QuietPrintsNothingAndProgressIsPlainWithoutATerminal) {
  CliResult r = RunSluice("replay --quiet --rows 1000");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  r = RunSluice("replay --rows 1000");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("river_rocauc"));
  EXPECT_EQ(r.err.find('\r'), std::string::npos);  // No carriage-return bar into a file.
}

}  // namespace
}  // namespace sluice::testing
