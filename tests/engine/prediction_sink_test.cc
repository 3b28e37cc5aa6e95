#include "engine/prediction_sink.h"

#include <sys/stat.h>

#include <string>

#include "core/event.h"
#include "tests/support/cli.h"
#include "tests/support/test_util.h"

namespace sluice::engine {
namespace {

core::Event MakeEvent(int64_t row) {
  core::Event e;
  e.row = row;
  e.id = "id" + std::to_string(row);
  e.event_time = static_cast<double>(row) / 4;
  e.label = row % 2 == 0;
  return e;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

const PredictionFormat kFormat{VersionColumns::kContinuous, true, true, {}};

// Flush() returns a durable position: the bytes are on disk and hold exactly that many lines.
TEST(CsvPredictionSink, FlushReturnsTheDurablePosition) {
  testing::TempDir dir;
  const std::string path = dir.File("p.csv");
  ASSERT_OK_AND_ASSIGN(auto sink, NewCsvPredictionSink(path, kFormat));
  for (int64_t row = 0; row < 5; ++row) sink->Write(MakeEvent(row), {0.25, 0.5}, {3, row});
  ASSERT_OK_AND_ASSIGN(const PredictionSink::Position at5, sink->Flush());
  EXPECT_EQ(at5.lines, 5);
  EXPECT_EQ(at5.bytes, FileSize(path));
  EXPECT_EQ(at5.sha256.size(), 64u);
  sink->Write(MakeEvent(5), {0.125, std::nan("")}, {3, 5});
  ASSERT_OK(sink->Close());
  const std::string text = testing::ReadFileOrDie(path);
  EXPECT_EQ(text.substr(0, text.find('\n')), PredictionsHeader(VersionColumns::kContinuous));
  EXPECT_NE(text.find("\n0,id0,0,1,0.25,0.5,3,0\n"), std::string::npos);
  EXPECT_NE(text.find("\n5,id5,1.25,0,0.125,nan,3,5\n"), std::string::npos);  // Diverged: nan.

  // Resuming at the recorded position drops what followed and continues.
  ASSERT_OK_AND_ASSIGN(auto resumed, NewCsvPredictionSink(path, kFormat, at5));
  resumed->Write(MakeEvent(5), {0.125, 0.75}, {3, 5});
  ASSERT_OK_AND_ASSIGN(const PredictionSink::Position at6, resumed->Flush());
  ASSERT_OK(resumed->Close());
  EXPECT_EQ(at6.lines, 6);
  EXPECT_EQ(at6.bytes, FileSize(path));
  EXPECT_NE(testing::ReadFileOrDie(path).find("\n5,id5,1.25,0,0.125,0.75,3,5\n"),
            std::string::npos);
}

TEST(CsvPredictionSink, ResumeRefusesAnEditedPrefix) {
  testing::TempDir dir;
  const std::string path = dir.File("p.csv");
  ASSERT_OK_AND_ASSIGN(auto sink, NewCsvPredictionSink(path, kFormat));
  for (int64_t row = 0; row < 4; ++row) sink->Write(MakeEvent(row), {0.25, 0.5}, {1, row});
  ASSERT_OK_AND_ASSIGN(const PredictionSink::Position at, sink->Flush());
  ASSERT_OK(sink->Close());
  const std::string original = testing::ReadFileOrDie(path);
  std::string same_length = original;
  same_length[same_length.find("0.25")] = '9';  // Same lines, same bytes, other content.
  for (const std::string& edited : {same_length, original.substr(0, original.size() - 3)}) {
    testing::WriteFile(path, edited);
    EXPECT_THAT(NewCsvPredictionSink(path, kFormat, at),
                testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                  ::testing::HasSubstr("was edited or replaced")));
  }
}

// A model that is off leaves its column empty; with kOnCommit nothing appears until Close().
TEST(CsvPredictionSink, OffModelsAreEmptyAndOnCommitFilesAppearOnlyWhenClosed) {
  testing::TempDir dir;
  const std::string path = dir.File("p.csv");
  ASSERT_OK_AND_ASSIGN(
      auto sink, NewCsvPredictionSink(path, {VersionColumns::kNone, true, false, {}}, std::nullopt,
                                      BufferedFile::Mode::kOnCommit));
  sink->Write(MakeEvent(0), {0.5, std::nan("")}, {});
  ASSERT_OK(sink->Flush().status());
  EXPECT_EQ(FileSize(path), -1);
  ASSERT_OK(sink->Close());
  EXPECT_EQ(testing::ReadFileOrDie(path),
            PredictionsHeader(VersionColumns::kNone) + "\n0,id0,0,1,0.5,\n");
}

}  // namespace
}  // namespace sluice::engine
