#include "engine/csv_reader.h"

#include <cmath>
#include <string>

#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::sluice::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<CsvReader>> FromText(const std::string& text,
                                                    const CsvReader::Options& options = {}) {
  return CsvReader::Create("in.csv", NewStringStream(text), options);
}

TEST(CsvReader, ReadsTheRealCreditCardDialect) {
  // Quoted header, quoted class, LF; Time is both the time and a feature.
  ASSERT_OK_AND_ASSIGN(auto reader,
                       FromText("\"Time\",\"V1\",\"Amount\",\"Class\"\n0,-1.5,149.62,\"0\"\n"
                                "2,0.25,2.69,\"1\"\n"));
  EXPECT_THAT(reader->feature_names(), ElementsAre("Time", "V1", "Amount"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_THAT(e.features, ElementsAre(0.0, -1.5, 149.62));
  EXPECT_EQ(e.label, false);
  EXPECT_EQ(e.event_time, 0.0);
  EXPECT_EQ(e.id, "0");
  ASSERT_OK_AND_ASSIGN(result, reader->Next(&e));
  EXPECT_EQ(e.label, true);
  EXPECT_EQ(e.row, 1);
  ASSERT_OK_AND_ASSIGN(result, reader->Next(&e));
  EXPECT_EQ(result, CsvReader::Result::kEndOfStream);
}

TEST(CsvReader, KeepsEachFeaturesTextAsWritten) {
  // Unquoted rows (the one-pass path, plain decimals and others) and quoted ones.
  ASSERT_OK_AND_ASSIGN(auto reader,
                       FromText("Time,V1,Amount,Class\n0,-1.50,1e3,0\n\"2.0\",\"+4\",.5,1\n"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_THAT(reader->feature_text(), ElementsAre("0", "-1.50", "1e3"));
  ASSERT_OK_AND_ASSIGN(result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_THAT(reader->feature_text(), ElementsAre("2.0", "+4", ".5"));
  EXPECT_THAT(e.features, ElementsAre(2.0, 4.0, 0.5));
}

TEST(CsvReader, AcceptsBomCrlfBlankLinesAndNoFinalNewline) {
  ASSERT_OK_AND_ASSIGN(auto reader, FromText("\xEF\xBB\xBFTime,x,Class\r\n1,2,0\r\n\r\n3,4,1"));
  EXPECT_THAT(reader->columns(), ElementsAre("Time", "x", "Class"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  EXPECT_THAT(e.features, ElementsAre(1.0, 2.0));
  ASSERT_OK_AND_ASSIGN(result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_THAT(e.features, ElementsAre(3.0, 4.0));
  EXPECT_EQ(e.label, true);
}

TEST(CsvReader, IdColumnExcludeAndQuotedFieldsWithCommas) {
  CsvReader::Options options;
  options.id_column = "id";
  options.exclude = {"Time"};
  ASSERT_OK_AND_ASSIGN(auto reader,
                       FromText("id,Time,x,Class\n\"t,1 \"\"a\"\"\",5,0.5,1\n", options));
  EXPECT_THAT(reader->feature_names(), ElementsAre("x"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_EQ(e.id, "t,1 \"a\"");
  EXPECT_EQ(e.event_time, 5.0);  // Excluded from the features, still the event time.
  EXPECT_THAT(e.features, ElementsAre(0.5));
}

TEST(CsvReader, HeaderErrorsNameTheFileAndColumn) {
  EXPECT_THAT(FromText(""), StatusIs(absl::StatusCode::kInvalidArgument, "in.csv: empty file"));
  EXPECT_THAT(FromText("a,b\n1,2\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("in.csv:1: label column \"Class\" is not in the header")));
  CsvReader::Options exclude;
  exclude.exclude = {"nope"};
  EXPECT_THAT(FromText("a,Class\n1,0\n", exclude),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("excluded column \"nope\" is not in the header")));
  EXPECT_THAT(FromText("a,a,Class\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate column \"a\"")));
  EXPECT_THAT(FromText("Class\n0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no feature columns")));
  CsvReader::Options time;
  time.time_column = "ts";
  time.time_column_required = true;
  EXPECT_THAT(FromText("a,Class\n1,0\n", time),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time column \"ts\"")));
}

// One bad row per reason; each message is "FILE:LINE: column NAME: reason".
TEST(CsvReader, BadRowsAreReportedAndSkippable) {
  ASSERT_OK_AND_ASSIGN(auto reader,
                       FromText("Time,V1,Class\n"
                                "0,1.5\n"       // line 2: too few fields
                                "0,1.5,0,9\n"   // line 3: too many
                                "0,abc,0\n"     // line 4: not a number
                                "0,nan,0\n"     // line 5: NaN
                                "0,-inf,0\n"    // line 6: infinity
                                "0,,0\n"        // line 7: empty
                                "0,1,2\n"       // line 8: bad label
                                "x,1,0\n"       // line 9: bad time
                                "0,\"1,0\n"     // line 10: unterminated quote
                                "7,2.5,1\n"));  // line 11: good
  const std::string expected[] = {
      "in.csv:2: column Class: missing (the row has 2 fields, the header 3)",
      "in.csv:3: column #4: unexpected (the row has 4 fields, the header 3)",
      "in.csv:4: column V1: not a number: \"abc\"",
      "in.csv:5: column V1: not a finite number: \"nan\"",
      "in.csv:6: column V1: not a finite number: \"-inf\"",
      "in.csv:7: column V1: empty value",
      "in.csv:8: column Class: label must be 0 or 1, got \"2\"",
      "in.csv:9: column Time: not a number: \"x\"",
      "in.csv:10: column V1: unterminated quoted field",
  };
  core::Event e;
  for (const std::string& message : expected) {
    ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
    ASSERT_EQ(result, CsvReader::Result::kBadRow) << message;
    EXPECT_EQ(reader->bad_row_message(), message);
  }
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_EQ(e.row, 9);  // Bad rows keep their row numbers.
  EXPECT_THAT(e.features, ElementsAre(7.0, 2.5));
}

// Options with these roles; an empty time column keeps the default, optional "Time".
CsvReader::Options Roles(const std::string& id, const std::string& time = "",
                         const std::vector<std::string>& exclude = {},
                         const std::string& label = "Class") {
  CsvReader::Options options;
  options.label_column = label;
  if (!time.empty()) {
    options.time_column = time;
    options.time_column_required = true;
  }
  options.id_column = id;
  options.exclude = exclude;
  return options;
}

TEST(CsvReader, AColumnWithTwoRolesIsRefusedNamingItAndBothRoles) {
  const std::string csv = "Time,a,Class\n0,1,0\n";
  const auto refused = [&](const CsvReader::Options& options, const std::string& message) {
    EXPECT_THAT(FromText(csv, options),
                StatusIs(absl::StatusCode::kInvalidArgument, "in.csv:1: " + message));
  };
  refused(Roles("Class"), "column \"Class\" cannot be both the label column and the id column");
  refused(Roles("", "Class"),
          "column \"Class\" cannot be both the label column and the time column");
  refused(Roles("a", "a"), "column \"a\" cannot be both the id column and the time column");
  refused(Roles("", "", {"Class"}),
          "column \"Class\" cannot be both the label column and an excluded column");
  refused(Roles("a", "", {"a"}),
          "column \"a\" cannot be both the id column and an excluded column");
  // Excluding the time column keeps the time and drops the feature: one role each.
  ASSERT_OK_AND_ASSIGN(auto reader, FromText(csv, Roles("", "", {"Time"})));
  EXPECT_THAT(reader->feature_names(), ElementsAre("a"));
  EXPECT_TRUE(reader->has_time());
}

TEST(CsvReader, ANulInAHeaderNameIsRefusedNamingTheColumnNumber) {
  EXPECT_THAT(FromText(std::string("Time,V") + '\0' + "x,Class\n0,1,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "in.csv:1: header: column 2 (\"V?x\") contains a NUL byte"));
}

TEST(CsvReader, AShortOrLongRowReportsItsFieldCountFirst) {
  ASSERT_OK_AND_ASSIGN(auto reader, FromText("Time,V1,V2,Class\n"
                                             "0,abc,1\n"         // Short, and V1 is bad.
                                             "0,1,x,1,5\n"       // Long, and V2 is bad.
                                             "0,1,1,\"7\",9\n"   // Long and quoted.
                                             "0,1,\"y\",0\n"));  // Right count: V2 is bad.
  const std::string expected[] = {
      "in.csv:2: column Class: missing (the row has 3 fields, the header 4)",
      "in.csv:3: column #5: unexpected (the row has 5 fields, the header 4)",
      "in.csv:4: column #5: unexpected (the row has 5 fields, the header 4)",
      "in.csv:5: column V2: not a number: \"y\"",
  };
  core::Event e;
  for (const std::string& message : expected) {
    ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
    ASSERT_EQ(result, CsvReader::Result::kBadRow) << message;
    EXPECT_EQ(reader->bad_row_message(), message);
  }
}

TEST(CsvReader, MessagesEchoAtMost80BytesOfInput) {
  // A 10 MB header without the label column used to give a 10 MB message.
  std::string header = "Time";
  for (int i = 0; i < 1'000'000; ++i) header += ",feature" + std::to_string(i);
  const auto missing = FromText(header + "\n");
  ASSERT_THAT(missing, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string message(missing.status().message());
  EXPECT_LT(message.size(), 200u) << message.substr(0, 300);
  EXPECT_THAT(message, HasSubstr("label column \"Class\" is not in the header (columns: "
                                 "Time,feature0,feature1,"));
  EXPECT_THAT(message, HasSubstr("…; 1000001 columns)"));
  // A long column name and a long field are cut too.
  const std::string long_name(5000, 'n');
  const std::string long_field(5000, 'z');
  ASSERT_OK_AND_ASSIGN(auto reader,
                       FromText("Time," + long_name + ",Class\n0," + long_field + ",0\n"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kBadRow);
  EXPECT_EQ(reader->bad_row_message(), "in.csv:2: column " + std::string(80, 'n') +
                                           "…: not a number: \"" + std::string(80, 'z') + "…\"");
  EXPECT_THAT(FromText("Time,Class\n", Roles("", "", {}, long_name)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "in.csv:1: label column \"" + std::string(80, 'n') +
                           "…\" is not in the header (columns: Time,Class)"));
}

TEST(CsvReader, LinesLongerThanTheBufferAreRead) {
  std::string header = "Class";
  std::string row = "1";
  for (int i = 0; i < 120000; ++i) {
    header += ",f" + std::to_string(i);
    row += ",0.125";
  }
  ASSERT_OK_AND_ASSIGN(auto reader, FromText(header + "\n" + row + "\n"));
  core::Event e;
  ASSERT_OK_AND_ASSIGN(auto result, reader->Next(&e));
  ASSERT_EQ(result, CsvReader::Result::kEvent);
  EXPECT_EQ(e.features.size(), 120000u);
  EXPECT_EQ(e.features.back(), 0.125);
}

TEST(CsvReader, MissingFileIsNotFound) {
  EXPECT_THAT(CsvReader::Open("/nonexistent/x.csv", {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/x.csv")));
}

}  // namespace
}  // namespace sluice::engine
