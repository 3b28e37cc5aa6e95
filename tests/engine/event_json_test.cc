// The JSON event and label formats: what is written reads back exactly, and every malformed
// message is refused with the field named.
#include "engine/event_json.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/format.h"
#include "core/random.h"
#include "engine/event_scan.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

using ::testing::HasSubstr;

TEST(EventJson, WrittenEventsReadBackBitForBit) {
  const std::vector<std::string> names = {"V1", "we\"ird\\name", "Amount"};
  EventJsonParser parser(names);
  core::PyRandom rng(3);
  for (int i = 0; i < 2000; ++i) {
    core::Event event;
    event.id = i % 3 == 0 ? std::string("id-\"") + std::to_string(i) : std::to_string(i);
    event.event_time = i % 5 == 0 ? core::kMissing : rng.Uniform(0, 1e6);
    event.features = {rng.Uniform(-10, 10), i % 4 == 0 ? core::kMissing : rng.Random() * 1e-300,
                      std::bit_cast<double>(rng.GetRandBits(62))};
    std::string json;
    AppendEventJson(event, names, &json);
    core::Event back;
    ASSERT_OK(parser.Parse(json, &back)) << json;
    EXPECT_EQ(back.id, event.id);
    EXPECT_EQ(std::bit_cast<uint64_t>(back.event_time), std::bit_cast<uint64_t>(event.event_time));
    for (size_t f = 0; f < names.size(); ++f) {
      EXPECT_EQ(std::bit_cast<uint64_t>(back.features[f]),
                std::bit_cast<uint64_t>(event.features[f]))
          << json;
    }
    EXPECT_FALSE(back.label.has_value());
  }
}

TEST(EventJson, FeaturesInAnyOrderReadTheSameAndARepeatIsRefused) {
  // The parser tries the schema's next feature first; any other order goes through its index.
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  EventJsonParser parser(names);
  core::PyRandom rng(8);
  std::vector<size_t> order = {0, 1, 2, 3};
  for (int i = 0; i < 200; ++i) {
    for (size_t k = order.size() - 1; k > 0; --k) std::swap(order[k], order[rng.RandBelow(k + 1)]);
    const size_t given = 1 + rng.RandBelow(4);  // The first `given` of the shuffled order.
    std::string json = "{\"features\": {";
    for (size_t k = 0; k < given; ++k) {
      absl::StrAppend(&json, k > 0 ? ", " : "", "\"", names[order[k]], "\": ", order[k] + 1);
    }
    core::Event event;
    ASSERT_OK(parser.Parse(json + "}}", &event)) << json;
    for (size_t f = 0; f < names.size(); ++f) {
      const bool present =
          std::find(order.begin(), order.begin() + given, f) != order.begin() + given;
      if (present) {
        EXPECT_EQ(event.features[f], static_cast<double>(f + 1)) << json;
      } else {
        EXPECT_TRUE(core::IsMissing(event.features[f])) << json;
      }
    }
    // The same with one of them again at the end: refused, naming it.
    const std::string& again = names[order[rng.RandBelow(given)]];
    const absl::Status twice = parser.Parse(absl::StrCat(json, ", \"", again, "\": 9}}"), &event);
    EXPECT_THAT(twice.message(), HasSubstr(absl::StrCat("feature \"", again, "\" appears twice")));
  }
}

TEST(EventJson, FeatureTextIsCopiedOnlyWhenItIsAJsonNumber) {
  // Texts as a CSV may hold them; each feature's value is the text read as the CSV reader does.
  const std::vector<std::string> texts = {"-1.35980713367",
                                          "0",
                                          "-0",
                                          "1e-300",
                                          "2.5E+3",
                                          "123456789012345678901234567890",
                                          "1.",
                                          ".5",
                                          "+1",
                                          "01",
                                          "1e5x",
                                          "0.1000"};
  const std::vector<bool> json_number = {true,  true,  true,  true,  true,  true,
                                         false, false, false, false, false, true};
  std::vector<std::string> names;
  core::Event event;
  event.id = "e";
  std::vector<absl::string_view> views;
  for (size_t i = 0; i < texts.size(); ++i) {
    names.push_back(absl::StrCat("f", i));
    event.features.push_back(core::ParseDouble(texts[i]).value_or(7.25));  // "1e5x": any value.
    views.push_back(texts[i]);
  }
  std::string with_text, formatted;
  AppendEventJson(event, names, views, &with_text);
  AppendEventJson(event, names, &formatted);
  EventJsonParser parser(names);
  core::Event a, b;
  ASSERT_OK(parser.Parse(with_text, &a)) << with_text;
  ASSERT_OK(parser.Parse(formatted, &b)) << formatted;
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(std::bit_cast<uint64_t>(a.features[i]), std::bit_cast<uint64_t>(event.features[i]))
        << texts[i];
    EXPECT_EQ(std::bit_cast<uint64_t>(b.features[i]), std::bit_cast<uint64_t>(event.features[i]))
        << texts[i];
    // A JSON number is copied as it was; anything else is the formatted double.
    const std::string copied = absl::StrCat("\"", names[i], "\": ", texts[i]);
    const bool found = with_text.find(copied + ",") != std::string::npos ||
                       with_text.find(copied + "}") != std::string::npos;
    EXPECT_EQ(found, json_number[i]) << texts[i] << " in " << with_text;
  }
}

TEST(EventJson, TheReusedParserRefusesWhatTheOneShotRefuses) {
  const std::vector<std::string> names = {"a", "b"};
  EventJsonParser parser(names);
  for (const char* bad : {"", "{", "[]", "{\"features\": {\"a\": \"x\"}}",
                          "{\"features\": {\"c\": 1}}", "{\"features\": {\"a\": 1, \"a\": 2}}",
                          "{\"id\": 1}", "{\"features\": {}} x", "{\"features\": {}, \"t\": 1}"}) {
    core::Event event;
    const absl::Status reused = parser.Parse(bad, &event);
    const absl::Status once = ParseEventJson(bad, names, &event);
    EXPECT_FALSE(reused.ok()) << bad;
    EXPECT_EQ(reused, once) << bad;
  }
  core::Event event;
  ASSERT_OK(parser.Parse("{\"features\": {\"b\": 2}, \"id\": 7}", &event));
  EXPECT_EQ(event.id, "7");
  EXPECT_TRUE(core::IsMissing(event.features[0]));
  EXPECT_EQ(event.features[1], 2.0);
}

TEST(LabelJson, RoundTripsAndNamesWhatIsWrong) {
  LabelRecord label{"t-\"1", true, 1732240040.5};
  std::string json;
  AppendLabelJson(label, &json);
  EXPECT_EQ(json, "{\"id\": \"t-\\\"1\", \"label\": 1, \"time\": 1732240040.5}");
  LabelRecord back;
  ASSERT_OK(ParseLabelJson(json, &back));
  EXPECT_EQ(back.id, label.id);
  EXPECT_EQ(back.label, true);
  EXPECT_EQ(back.time, label.time);
  ASSERT_OK(ParseLabelJson("{\"id\": 12, \"label\": false, \"time\": 3}", &back));
  EXPECT_EQ(back.id, "12");
  EXPECT_FALSE(back.label);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"id\": \"a\", \"label\": 1}", "missing \"time\""},
      {"{\"id\": \"a\", \"time\": 1}", "missing \"label\""},
      {"{\"label\": 1, \"time\": 1}", "missing \"id\""},
      {"{\"id\": \"a\", \"label\": 2, \"time\": 1}", "label must be"},
      {"{\"id\": \"a\", \"label\": null, \"time\": 1}", "label must be"},
      {"{\"id\": \"a\", \"label\": 1, \"time\": \"x\"}", "time must be"},
      {"{\"id\": [1], \"label\": 1, \"time\": 1}", "id must be"},
      {"{\"id\": \"a\", \"label\": 1, \"time\": 1, \"x\": 0}", "unknown field \"x\""},
      {"{\"id\": \"a\", \"label\": 1, \"time\": 1} 5", "trailing"},
      {"nope", "label JSON"}};
  for (const auto& [text, reason] : bad) {
    const absl::Status status = ParseLabelJson(text, &back);
    EXPECT_FALSE(status.ok()) << text;
    EXPECT_THAT(std::string(status.message()), HasSubstr(reason)) << text;
    EXPECT_THAT(std::string(status.message()), HasSubstr("label JSON: ")) << text;
  }
}

TEST(EventJsonParser, ABatchIsAnArrayOfEventsParsedInOrderAndOneObjectIsABatchOfOne) {
  EventJsonParser parser({"a", "b"});
  std::vector<core::Event> events;
  bool is_array = false;
  ASSERT_OK(parser.ParseBatch(
      "[{\"id\": \"x\", \"features\": {\"a\": 1, \"b\": 2}}, {\"features\": {\"b\": 0.5}}]",
      &events, &is_array));
  EXPECT_TRUE(is_array);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].id, "x");
  EXPECT_EQ(events[0].features, (std::vector<double>{1, 2}));
  EXPECT_TRUE(core::IsMissing(events[1].features[0]));
  EXPECT_EQ(events[1].features[1], 0.5);
  ASSERT_OK(parser.ParseBatch("{\"features\": {\"a\": 3}}", &events, &is_array));
  EXPECT_FALSE(is_array);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].features[0], 3);
  ASSERT_OK(parser.ParseBatch("[]", &events, &is_array));
  EXPECT_TRUE(events.empty());
  const absl::Status bad =
      parser.ParseBatch("[{\"features\": {}}, {\"features\": {\"a\": \"1\"}}]", &events, &is_array);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("event 1: feature \"a\": not a number"));
  EXPECT_THAT(std::string(parser.ParseBatch("[1]", &events, &is_array).message()),
              HasSubstr("event 0: expected an object"));
  // Found by the http_request fuzzer: simdjson tells a null by its first letter only.
  EXPECT_THAT(
      std::string(
          parser.ParseBatch("{\"features\": {}, \"label\": nul}", &events, &is_array).message()),
      HasSubstr("label must be"));
}

// The syntax locator against the parser: where one rejects a text for its syntax the other
// names a place; on well-formed texts both agree there is nothing wrong.
TEST(FindJsonSyntaxError, NamesTheByteAndTheFault) {
  const std::vector<std::tuple<std::string, size_t, std::string>> bad = {
      {"", 0, "expected a value, found the end"},
      {"{\"a\": 1,}", 8, "expected a string key"},
      {"{\"a\" 1}", 5, "expected ':'"},
      {"[1 2]", 3, "expected ',' or ']'"},
      {"{\"a\": tru}", 6, "invalid literal"},
      {"{\"a\": 01}", 7, "expected ',' or '}'"},
      {"{\"a\": -}", 7, "expected a digit"},
      {"{\"a\": 1.}", 8, "expected a digit"},
      {"\"ab", 3, "unterminated string"},
      {"\"a\\x\"", 3, "bad escape in a string"},
      {"\"\\u12g4\"", 5, "bad \\u escape"},
      {"\"a\nb\"", 2, "control character in a string"},
      {"{} {}", 3, "unexpected characters after the JSON value"},
      {std::string(600, '[') + std::string(600, ']'), 513, "nested too deeply"}};
  for (const auto& [text, offset, message] : bad) {
    const std::optional<JsonSyntaxError> e = FindJsonSyntaxError(text);
    ASSERT_TRUE(e.has_value()) << text;
    EXPECT_EQ(e->offset, offset) << text;
    EXPECT_EQ(e->message, message) << text;
  }
  for (const std::string good :
       {"0", "-1.5e+3", "\"\\u00e9\\n\"", " [ ] ", "{\"a\": [1, {\"b\": null}], \"c\": true}"}) {
    EXPECT_FALSE(FindJsonSyntaxError(good).has_value()) << good;
  }
}

// A JSON number of one of the forms producers write, or of a corner: integers of 1-20 digits,
// decimals of up to 25 digits (past 2^53 and 10^22), leading zeros after the point, -0,
// exponents, shortest round trips of doubles of every magnitude.
std::string GeneratedNumber(core::PyRandom& rng) {
  const auto digits = [&](uint64_t n, bool leading) {
    std::string out;
    for (uint64_t i = 0; i < n; ++i) out += static_cast<char>('0' + rng.RandBelow(10));
    if (leading && out[0] == '0') out[0] = static_cast<char>('1' + rng.RandBelow(9));
    return out;
  };
  std::string sign = rng.RandBelow(2) == 0 ? "-" : "";
  switch (rng.RandBelow(6)) {
    case 0:
      return sign + digits(1 + rng.RandBelow(20), true);
    case 1:
      return sign + (rng.RandBelow(3) == 0 ? "0" : digits(1 + rng.RandBelow(5), true)) + "." +
             digits(1 + rng.RandBelow(25), false);
    case 2:
      return sign + "0." + std::string(rng.RandBelow(25), '0') + digits(1 + rng.RandBelow(8), true);
    case 3:
      return sign + (rng.RandBelow(2) == 0 ? "0" : "0.0");
    case 4:
      return sign + digits(1 + rng.RandBelow(3), true) + (rng.RandBelow(2) == 0 ? "." : "") +
             digits(rng.RandBelow(2) + 1, false) + (rng.RandBelow(2) == 0 ? "e" : "E-") +
             std::to_string(rng.RandBelow(300));
    default: {
      std::string out;
      core::AppendDouble(std::ldexp(rng.Random(), static_cast<int>(rng.RandBelow(200)) - 100),
                         &out);
      return sign + out;
    }
  }
}

// Numbers are correctly rounded, as glibc's strtod (an exact decimal-to-binary conversion)
// rounds them: the m / 10^k path, std::from_chars past it, and the range's edges. simdjson
// 3.0.1's get_double, used before, read "0.95000000000000000000" as 0.0277.
TEST(EventScan, NumbersAreCorrectlyRounded) {
  core::PyRandom rng(5);
  std::vector<std::string> numbers = {"0.95000000000000000000",
                                      "-0.836791601108436469748212",
                                      "9007199254740993",
                                      "1e400",
                                      "-1e400",
                                      "1e-400",
                                      "4.9e-324",
                                      "2.2250738585072011e-308",
                                      "-0",
                                      "0e5"};
  for (int i = 0; i < 100000; ++i) numbers.push_back(GeneratedNumber(rng));
  for (const std::string& text : numbers) {
    double v = 0;
    ASSERT_TRUE(ParseJsonNumber(text, &v)) << text;
    ASSERT_EQ(std::bit_cast<uint64_t>(v),
              std::bit_cast<uint64_t>(std::strtod(text.c_str(), nullptr)))
        << text;
  }
  double value = 0;
  ASSERT_TRUE(ParseJsonNumber("0.95000000000000000000", &value));
  EXPECT_EQ(value, 0.95);
  for (const char* bad :
       {"", "-", "01", "1.", ".5", "1e", "1e+", "+1", "0x10", "inf", "NaN", "1 "}) {
    double v = 0;
    EXPECT_FALSE(ParseJsonNumber(bad, &v)) << bad;
  }
}

// The fast path reads every plain event (keys in any order, some features left out, ids as
// strings or integers, labels in every spelling) exactly as the simdjson path does.
TEST(EventScan, PlainEventsAreReadAsSimdjsonReadsThemBitForBit) {
  // Names of up to 6 characters are matched in one load, longer ones by the index.
  const std::vector<std::string> names = {"Time", "V1", "V2", "Amount", "Amount_eur"};
  const ScanSchema schema(names);
  EventJsonParser simdjson_only(names, /*fast_path=*/false);
  core::PyRandom rng(11);
  const char* labels[] = {"0", "1", "true", "false", "null"};
  for (int batch = 0; batch < 200; ++batch) {
    std::string json = "[";
    for (int e = 0; e < 50; ++e) {
      std::vector<std::string> fields;
      for (const std::string& name : names) {
        if (rng.RandBelow(5) > 0) fields.push_back("\"" + name + "\": " + GeneratedNumber(rng));
      }
      if (rng.RandBelow(2) == 0) std::reverse(fields.begin(), fields.end());
      std::vector<std::string> members = {"\"features\":{" + absl::StrJoin(fields, ",\n ") + "}"};
      if (rng.RandBelow(3) > 0) {
        members.push_back(rng.RandBelow(2) == 0 ? absl::StrCat("\"id\": \"t-", e, "\"")
                                                : absl::StrCat("\"id\":", batch * 100 - e));
      }
      if (rng.RandBelow(2) == 0) members.push_back("\"time\": " + GeneratedNumber(rng));
      if (rng.RandBelow(2) == 0) members.push_back(absl::StrCat("\"label\": ", labels[e % 5]));
      std::rotate(members.begin(), members.begin() + rng.RandBelow(members.size()), members.end());
      absl::StrAppend(&json, e == 0 ? "" : ", ", "{", absl::StrJoin(members, ", "), "}");
    }
    json += "]";
    std::vector<core::Event> scanned, expected;
    bool is_array = false, expected_is_array = false;
    const absl::Status status = simdjson_only.ParseBatch(json, &expected, &expected_is_array);
    if (!status.ok()) {  // A number out of range (1e300 and up): left to simdjson to refuse.
      EXPECT_THAT(std::string(status.message()), HasSubstr("not finite")) << json;
      EXPECT_FALSE(ScanEvents(json, schema, &scanned, &is_array));
      continue;
    }
    ASSERT_TRUE(ScanEvents(json, schema, &scanned, &is_array)) << json;
    ASSERT_TRUE(is_array);
    ASSERT_EQ(scanned.size(), expected.size());
    for (size_t i = 0; i < scanned.size(); ++i) {
      EXPECT_EQ(scanned[i].id, expected[i].id);
      EXPECT_EQ(scanned[i].label, expected[i].label);
      EXPECT_EQ(std::bit_cast<uint64_t>(scanned[i].event_time),
                std::bit_cast<uint64_t>(expected[i].event_time));
      for (size_t f = 0; f < names.size(); ++f) {
        ASSERT_EQ(std::bit_cast<uint64_t>(scanned[i].features[f]),
                  std::bit_cast<uint64_t>(expected[i].features[f]))
            << "batch " << batch << " event " << i << " feature " << names[f] << " in " << json;
      }
    }
  }
}

// What is not plain goes to simdjson, which reads it or says what is wrong, as before.
TEST(EventScan, WhatIsNotPlainIsLeftToSimdjson) {
  const std::vector<std::string> names = {"a", "b", "c\\b"};
  const ScanSchema schema(names);
  EventJsonParser parser(names);
  for (const char* json : {
           "{\"id\": \"t\\u0041\", \"features\": {\"a\": 1}}",     // An escape.
           "{\"id\": \"caf\xc3\xa9\", \"features\": {\"a\": 1}}",  // Not ASCII.
           "{\"id\": 1, \"id\": 2, \"features\": {\"a\": 1}}",     // A key twice.
           "{\"id\": -0, \"features\": {\"a\": 1}}",               // Not canonical.
           "{\"features\": {\"a\": 1, \"a\": 2}}",                 // A feature twice.
           "{\"features\": {\"c\": 1}}",                           // Not in the schema.
           "{\"features\": {\"c\\b\": 1}}",             // c, backspace: not the name c\b.
           "{\"features\": {\"a\": 01}}",               // Not JSON.
           "{\"features\": {\"a\": 1e999}}",            // Not finite.
           "{\"features\": {\"a\": 1}, \"label\": 2}",  // Not a label.
           "[{\"features\": {}}] x",                    // Trailing text.
           "[{\"features\": {\"a\": 1}}, {\"features\": {}, \"label\": null1}]",  // Found by
                                                                                  // fuzzing.
       }) {
    std::vector<core::Event> events;
    bool is_array = false;
    EXPECT_FALSE(ScanEvents(json, schema, &events, &is_array)) << json;
    EventJsonParser simdjson_only(names, /*fast_path=*/false);
    std::vector<core::Event> expected;
    EXPECT_EQ(parser.ParseBatch(json, &events, &is_array),
              simdjson_only.ParseBatch(json, &expected, &is_array))
        << json;
  }
  // \v is not JSON white space (found by fuzzing: the number reader took it for some).
  std::vector<core::Event> events;
  bool is_array = false;
  EXPECT_THAT(
      std::string(parser.ParseBatch("{\"features\": {\"a\": 9\v}}", &events, &is_array).message()),
      HasSubstr("feature \"a\": not a number"));
  core::Event event;
  ASSERT_OK(parser.Parse("{\"id\": \"t\\u0041\", \"features\": {\"b\": 2.5}}", &event));
  EXPECT_EQ(event.id, "tA");
  EXPECT_EQ(event.features[1], 2.5);
}

// A batch read as it arrives, cut at every byte: the events ScanEvents reads from the whole, and
// the end only once the array has closed.
TEST(BatchScanner, ABatchCutAnywhereGivesTheEventsOfTheWhole) {
  const std::vector<std::string> names = {"Time", "V1", "Amount_eur"};
  const ScanSchema schema(names);
  const std::string json =
      "[ {\"id\": \"a\", \"features\": {\"Time\": 0, \"V1\": -1.25e-3, \"Amount_eur\": 149.62}},\n"
      "{\"features\": {\"V1\": 0.5}, \"label\": true, \"id\": 17, \"time\": 3.5},"
      "{\"features\": {}} ] ";
  std::vector<core::Event> whole;
  bool is_array = false;
  ASSERT_TRUE(ScanEvents(json, schema, &whole, &is_array));
  ASSERT_EQ(whole.size(), 3u);
  for (size_t cut = 0; cut <= json.size(); ++cut) {
    BatchScanner scan(schema);
    std::vector<core::Event> events;
    core::Event event;
    BatchScanner::Step step;
    for (const size_t end : {cut, json.size()}) {
      while ((step = scan.Next(absl::string_view(json).substr(0, end), &event)) ==
             BatchScanner::Step::kEvent) {
        events.push_back(event);
      }
      if (end == cut) {
        // Before the closing bracket, more is awaited; the events so far are those whose closing
        // brace has come.
        const bool closed = cut > json.rfind(']');
        EXPECT_EQ(step, closed ? BatchScanner::Step::kEnd : BatchScanner::Step::kMore) << cut;
        EXPECT_EQ(events.size(), cut > json.find("} ]")       ? 3u
                                 : cut > json.find("},{")     ? 2u
                                 : cut > json.find("}},") + 1 ? 1u
                                                              : 0u)
            << cut;
      }
    }
    EXPECT_EQ(step, BatchScanner::Step::kEnd);
    ASSERT_EQ(events.size(), whole.size());
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].id, whole[i].id);
      EXPECT_EQ(events[i].label, whole[i].label);
      // Bit for bit: a missing value is a NaN.
      const auto bits = [](const core::Event& e) {
        std::vector<uint64_t> out = {std::bit_cast<uint64_t>(e.event_time)};
        for (double v : e.features) out.push_back(std::bit_cast<uint64_t>(v));
        return out;
      };
      EXPECT_EQ(bits(events[i]), bits(whole[i]));
    }
  }
}

// What is not a plain array says so as soon as it shows, and for good; what is not a plain event
// waits for more, which on the whole body means it is not plain either; and so does an event
// unfinished past kMaxEventBytes.
TEST(BatchScanner, WhatIsNotPlainOrTooLongIsLeftToTheWholeBody) {
  const ScanSchema schema({"Time", "V1"});
  for (const char* bad : {"{\"features\": {}}", "[{\"features\": {}}] x", "[{\"features\": {}};"}) {
    BatchScanner scan(schema);
    core::Event event;
    BatchScanner::Step step;
    while ((step = scan.Next(bad, &event)) == BatchScanner::Step::kEvent) {
    }
    EXPECT_EQ(step, BatchScanner::Step::kNotPlain) << bad;
    EXPECT_EQ(scan.Next(bad, &event), BatchScanner::Step::kNotPlain) << bad;
  }
  BatchScanner scan(schema);
  core::Event event;
  EXPECT_EQ(scan.Next("[{\"features\": {\"V1\": \"x\"}}]", &event), BatchScanner::Step::kMore);
  // An event still unfinished past kMaxEventBytes is not waited for (each part would read it
  // again from its start), though it is plain: the whole body is read instead.
  const std::string huge =
      "[{\"id\": \"" + std::string(BatchScanner::kMaxEventBytes, 'x') + "\", \"features\": {}}]";
  BatchScanner patient(schema);
  EXPECT_EQ(patient.Next(absl::string_view(huge).substr(0, BatchScanner::kMaxEventBytes), &event),
            BatchScanner::Step::kMore);
  EXPECT_EQ(
      patient.Next(absl::string_view(huge).substr(0, BatchScanner::kMaxEventBytes + 2), &event),
      BatchScanner::Step::kNotPlain);
  std::vector<core::Event> whole;
  bool is_array = false;
  EXPECT_TRUE(ScanEvents(huge, schema, &whole, &is_array));
}

}  // namespace
}  // namespace sluice::engine
