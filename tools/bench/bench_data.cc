// tools/bench/bench_data.cc
#include "tools/bench/bench_data.h"

#include <map>

#include "engine/csv_reader.h"
#include "engine/synthetic_stream.h"

namespace sluice::bench {

const Stream& SyntheticStream(int rows) {
  static auto* cache = new std::map<int, Stream>();
  auto it = cache->find(rows);
  if (it != cache->end()) return it->second;
  Stream& s = (*cache)[rows];
  auto reader =
      engine::CsvReader::Create("synthetic", engine::NewSyntheticCsvStream(1, rows), {}).value();
  s.names = reader->feature_names();
  core::Event e;
  while (reader->Next(&e).value() == engine::CsvReader::Result::kEvent) {
    s.x.push_back(e.features);
    s.labels.push_back(*e.label);
  }
  return s;
}

}  // namespace sluice::bench
