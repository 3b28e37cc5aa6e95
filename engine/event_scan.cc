// engine/event_scan.cc
#include "engine/event_scan.h"

#include <cmath>
#include <optional>

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

const char* ReadJsonNumber(const char* p, const char* end, double* out) {
  const char* stop = JsonNumberEnd(p, end);
  if (stop == nullptr) return nullptr;
  // The CSV reader's conversions: Clinger's fast path, else from_chars (strtod past the range).
  bool exact = false;
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
  explicit Scanner(absl::string_view json) : p_(json.data()), end_(json.data() + json.size()) {}

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
  bool AtString() {
    Space();
    return p_ < end_ && *p_ == '"';
  }

 private:
  static bool Delimiter(char c) {
    return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t';
  }
  const char* p_;
  const char* end_;
};

// The "features" object into event->features (all kMissing on entry). As the simdjson path,
// the name after the last one found is tried before the index.
bool ScanFeatures(Scanner& s, const std::vector<std::string>& features,
                  const absl::flat_hash_map<std::string, size_t>& index, core::Event* event) {
  if (!s.Eat('{')) return false;
  if (s.Eat('}')) return true;
  size_t next = 0;
  do {
    absl::string_view key;
    if (!s.String(&key) || !s.Eat(':')) return false;
    size_t slot = next;
    if (slot >= features.size() || key != features[slot]) {
      const auto it = index.find(key);
      if (it == index.end()) return false;
      slot = it->second;
    }
    double& out = event->features[slot];
    if (!core::IsMissing(out) || !s.Number(&out)) return false;
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

bool ScanEvent(Scanner& s, const std::vector<std::string>& features,
               const absl::flat_hash_map<std::string, size_t>& index, core::Event* event) {
  event->id.clear();
  event->event_time = core::kMissing;
  event->label.reset();
  event->features.assign(features.size(), core::kMissing);
  if (!s.Eat('{')) return false;
  bool id = false, time = false, label = false, has_features = false;
  do {
    absl::string_view key;
    if (!s.String(&key) || !s.Eat(':')) return false;
    bool ok = false;
    if (key == "features" && !has_features) {
      has_features = ok = ScanFeatures(s, features, index, event);
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

bool ScanEvents(absl::string_view json, const std::vector<std::string>& features,
                const absl::flat_hash_map<std::string, size_t>& index,
                std::vector<core::Event>* events, bool* is_array) {
  Scanner s(json);
  *is_array = s.Eat('[');
  if (!*is_array) {
    events->resize(1);
    return ScanEvent(s, features, index, &(*events)[0]) && s.AtEnd();
  }
  size_t n = 0;
  if (!s.Eat(']')) {
    do {
      if (events->size() <= n) events->resize(n + 1);
      if (!ScanEvent(s, features, index, &(*events)[n])) return false;
      ++n;
    } while (s.Eat(','));
    if (!s.Eat(']')) return false;
  }
  events->resize(n);
  return s.AtEnd();
}

}  // namespace sluice::engine
