// engine/event_scan.cc
#include "engine/event_scan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/features.h"
#include "core/format.h"

namespace sluice::engine {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const char* JsonNumberEnd(const char* p, const char* end) {
  const auto digits = [&] {
    const char* first = p;
    while (p < end && IsDigit(*p)) ++p;
    return p > first;
  };
  if (p < end && *p == '-') ++p;
  if (p < end && *p == '0') {
    ++p;  // A leading zero stands alone: in "01" the number is "0".
  } else if (!digits()) {
    return nullptr;
  }
  if (p < end && *p == '.' && (++p, !digits())) return nullptr;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digits()) return nullptr;
  }
  return p;
}

namespace {

// Whether [p, stop), as core::ParseDecimalPrefix read it, is the JSON number at p whole: a digit
// after the optional '-' (not '+'), no zero before another digit, a digit last (not the point),
// and no exponent after it. It stops before no digit, so JsonNumberEnd would stop there too.
bool IsPlainJsonNumber(const char* p, const char* stop, const char* end) {
  const char* first = p + (p < stop && *p == '-');
  return first < stop && IsDigit(*first) &&
         !(*first == '0' && first + 1 < stop && IsDigit(first[1])) && IsDigit(stop[-1]) &&
         (stop == end || (*stop != 'e' && *stop != 'E'));
}

}  // namespace

const char* ReadJsonNumber(const char* p, const char* end, double* out) {
  // The CSV reader's conversions: Clinger's fast path, else from_chars (strtod past the range).
  // The plain number, what producers write, is read once; the grammar is checked after.
  bool exact = false;
  const char* stop = core::ParseDecimalPrefix(p, end, out, &exact);
  if (exact && IsPlainJsonNumber(p, stop, end)) return stop;
  stop = JsonNumberEnd(p, end);
  if (stop == nullptr) return nullptr;
  if (core::ParseDecimalPrefix(p, end, out, &exact) == stop && exact) return stop;
  const std::optional<double> v = core::ParseDouble(absl::string_view(p, stop - p));
  if (!v.has_value()) return nullptr;
  *out = *v;
  return stop;
}

bool ParseJsonNumber(absl::string_view text, double* out) {
  const char* end = text.data() + text.size();
  return ReadJsonNumber(text.data(), end, out) == end;
}

namespace {

// A cursor over the document. Each reader returns false, where it stands, for what it does not
// take (the caller gives up).
class Scanner {
 public:
  explicit Scanner(absl::string_view json, size_t offset = 0)
      : begin_(json.data()), p_(json.data() + offset), end_(json.data() + json.size()) {}

  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  // The next byte after white space, or '\0' at the end.
  char Peek() {
    Space();
    return p_ == end_ ? '\0' : *p_;
  }
  void Space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    Space();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool AtEnd() {
    Space();
    return p_ == end_;
  }
  // A string of printable ASCII without escapes: its contents.
  bool String(absl::string_view* out) {
    if (!Eat('"')) return false;
    const char* start = p_;
    for (; p_ < end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *out = absl::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c < 0x20 || c >= 0x80 || c == '\\') return false;
    }
    return false;
  }
  // A JSON number that is a finite double.
  bool Number(double* out) {
    Space();
    const char* next = ReadJsonNumber(p_, end_, out);
    if (next == nullptr || (next < end_ && !Delimiter(*next)) || !std::isfinite(*out)) return false;
    p_ = next;
    return true;
  }
  // `word` (true, false, null, 0, 1) as a whole token.
  bool Literal(absl::string_view word) {
    Space();
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return false;
    }
    const char* next = p_ + word.size();
    if (next < end_ && !Delimiter(*next)) return false;  // "null1": not this word.
    p_ = next;
    return true;
  }
  // A canonical integer (what absl::StrCat of the int64 simdjson reads gives back): its text.
  bool Integer(absl::string_view* out) {
    Space();
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    const char* first = p_;
    while (p_ < end_ && IsDigit(*p_)) ++p_;
    const size_t n = static_cast<size_t>(p_ - first);
    if (n == 0 || n > 18 || (*first == '0' && (n > 1 || first != start))) return false;
    if (p_ < end_ && !Delimiter(*p_)) return false;
    *out = absl::string_view(start, static_cast<size_t>(p_ - start));
    return true;
  }
  // The key `key` (its quotes included) if it is next; else false, having moved past white space.
  bool Key(const ScanSchema::Key& key) {
    Space();
    if (key.size == 0 || end_ - p_ < 8) return false;
    uint64_t word;
    std::memcpy(&word, p_, sizeof word);
    if ((word & key.mask) != key.bytes) return false;
    p_ += key.size;
    return true;
  }
  bool AtString() {
    Space();
    return p_ < end_ && *p_ == '"';
  }

 private:
  static bool Delimiter(char c) {
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }
  const char* begin_;
  const char* p_;
  const char* end_;
};

// The "features" object into event->features (all kMissing on entry). As the simdjson path,
// the name after the last one found is tried before the index.
bool ScanFeatures(Scanner& s, const ScanSchema& schema, core::Event* event) {
  if (!s.Eat('{')) return false;
  if (s.Eat('}')) return true;
  size_t next = 0;
  do {
    size_t slot = next;
    if (slot >= schema.keys.size() || !s.Key(schema.keys[slot])) {
      absl::string_view key;
      if (!s.String(&key)) return false;
      if (slot >= schema.features.size() || key != schema.features[slot]) {
        const auto it = schema.index.find(key);
        if (it == schema.index.end()) return false;
        slot = it->second;
      }
    }
    double& out = event->features[slot];
    if (!s.Eat(':') || !core::IsMissing(out) || !s.Number(&out)) return false;
    next = slot + 1;
  } while (s.Eat(','));
  return s.Eat('}');
}

bool ScanLabel(Scanner& s, std::optional<bool>* label) {
  if (s.Literal("null")) {
    label->reset();
  } else if (s.Literal("1") || s.Literal("true")) {
    *label = true;
  } else if (s.Literal("0") || s.Literal("false")) {
    *label = false;
  } else {
    return false;
  }
  return true;
}

bool ScanEvent(Scanner& s, const ScanSchema& schema, core::Event* event) {
  event->id.clear();
  event->event_time = core::kMissing;
  event->label.reset();
  event->features.assign(schema.features.size(), core::kMissing);
  if (!s.Eat('{')) return false;
  bool id = false, time = false, label = false, has_features = false;
  do {
    absl::string_view key;
    if (!s.String(&key) || !s.Eat(':')) return false;
    bool ok = false;
    if (key == "features" && !has_features) {
      has_features = ok = ScanFeatures(s, schema, event);
    } else if (key == "id" && !id) {
      absl::string_view text;
      id = ok = s.AtString() ? s.String(&text) : s.Integer(&text);
      event->id.assign(text.data(), text.size());
    } else if (key == "time" && !time) {
      time = ok = s.Number(&event->event_time);
    } else if (key == "label" && !label) {
      label = ok = ScanLabel(s, &event->label);
    }
    if (!ok) return false;
  } while (s.Eat(','));
  return s.Eat('}') && has_features;
}

}  // namespace

ScanSchema::ScanSchema(std::vector<std::string> feature_names)
    : features(std::move(feature_names)), keys(features.size()) {
  for (size_t i = 0; i < features.size(); ++i) {
    index.emplace(features[i], i);
    const size_t size = features[i].size() + 2;
    // A name that needs escaping in JSON is matched only by the index, as Scanner::String reads.
    if (size > 8 || !std::all_of(features[i].begin(), features[i].end(), [](char c) {
          return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
        })) {
      continue;
    }
    const std::string quoted = absl::StrCat("\"", features[i], "\"");
    std::memcpy(&keys[i].bytes, quoted.data(), size);  // Little-endian: the first byte lowest.
    keys[i].mask = size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
    keys[i].size = size;
  }
}

bool ScanEvents(absl::string_view json, const ScanSchema& schema, std::vector<core::Event>* events,
                bool* is_array) {
  Scanner s(json);
  *is_array = s.Eat('[');
  if (!*is_array) {
    events->resize(1);
    return ScanEvent(s, schema, &(*events)[0]) && s.AtEnd();
  }
  size_t n = 0;
  if (!s.Eat(']')) {
    do {
      if (events->size() <= n) events->resize(n + 1);
      if (!ScanEvent(s, schema, &(*events)[n])) return false;
      ++n;
    } while (s.Eat(','));
    if (!s.Eat(']')) return false;
  }
  events->resize(n);
  return s.AtEnd();
}

BatchScanner::Step BatchScanner::Next(absl::string_view json, core::Event* event) {
  while (expect_ != Expect::kNotPlain) {
    Scanner s(json, offset_);
    if (expect_ == Expect::kEvent) {
      // A failure may be the end of the bytes so far: the event is read again with more of them.
      // A success is final: the event's closing brace was read, so every token in it ended.
      if (!ScanEvent(s, schema_, event)) {
        // Each part reads the unfinished event again from its start: a huge one would cost
        // the square of its size.
        if (json.size() - offset_ > kMaxEventBytes) break;
        return Step::kMore;
      }
      offset_ = s.offset();
      expect_ = Expect::kSeparator;
      return Step::kEvent;
    }
    const char c = s.Peek();
    if (c == '\0' && s.AtEnd()) return expect_ == Expect::kClosed ? Step::kEnd : Step::kMore;
    Expect next = Expect::kNotPlain;
    if (expect_ == Expect::kOpen && c == '[') next = Expect::kFirst;
    if (expect_ == Expect::kFirst && c == '{') next = Expect::kEvent;
    if (expect_ == Expect::kSeparator && c == ',') next = Expect::kEvent;
    if ((expect_ == Expect::kFirst || expect_ == Expect::kSeparator) && c == ']') {
      next = Expect::kClosed;
    }
    expect_ = next;
    offset_ = s.offset() + (c == '{' ? 0 : 1);  // An event's brace is ScanEvent's to read.
  }
  expect_ = Expect::kNotPlain;
  return Step::kNotPlain;
}

}  // namespace sluice::engine
