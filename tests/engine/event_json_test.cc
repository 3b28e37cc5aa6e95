// The JSON event and label formats: what is written reads back exactly, and every malformed
// message is refused with the field named.
#include "engine/event_json.h"

#include <bit>
#include <string>
#include <vector>

#include "core/random.h"
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

}  // namespace
}  // namespace sluice::engine
