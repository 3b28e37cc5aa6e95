// engine/labels_file.h. Ground truth from a file: a CSV with the columns id, label (0 or 1) and
// time (in the events' time units); other columns are ignored.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/byte_stream.h"
#include "engine/label_record.h"

namespace sluice::engine {

// Every label of `stream`, sorted by time (ties keep the file's order). InvalidArgument with
// "NAME:LINE: column COL: reason" for the first bad row or a header without the three columns.
absl::StatusOr<std::vector<LabelRecord>> ReadLabels(std::string name,
                                                    std::unique_ptr<ByteStream> stream);
// ReadLabels() of the file at `path`; NotFound if it does not exist.
absl::StatusOr<std::vector<LabelRecord>> ReadLabelsFile(const std::string& path);

}  // namespace sluice::engine
