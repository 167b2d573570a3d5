#include "streams/record_shape.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sluice::streams {

namespace {

constexpr char kPathSeparator = kFieldPathSeparator;

std::string Fold(std::string_view name) { return FoldFieldName(name); }

/// The SAX events of nlohmann's parser that only the shape of a record needs: values are skipped, and
/// objects and arrays open and close frames of `Derived` (its Open(bool is_object) and Close()).
template <class Derived>
class StructureSax {
 public:
  using json = nlohmann::json;
  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return self().Open(true); }
  bool start_array(std::size_t) { return self().Open(false); }
  bool end_object() { return self().Close(); }
  bool end_array() { return self().Close(); }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

/// nlohmann's SAX events over one record: checks each object's keys and every name's spelling. Built for the
/// ingest path: frames are reused, paths live in one buffer, and names are only remembered where they can
/// clash (under a list, or against the spellings of a flush).
class NameChecker : public StructureSax<NameChecker> {
 public:
  using json = nlohmann::json;
  explicit NameChecker(FieldSpellings* spellings) : spellings_(spellings) {}

  friend class StructureSax<NameChecker>;  // calls Open and Close
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    if (error_.empty()) error_ = "the record is not valid JSON";
    return false;
  }

  bool key(json::string_t& key) {
    Frame& frame = frames_[depth_ - 1];
    if (key.empty()) {
      std::string where = Display(depth_ - 1, "");
      error_ = where.empty() ? "a field of the record has an empty name; give every field a name"
                             : fmt::format("a field of '{}' has an empty name; give every field a name", where);
      return false;
    }
    folded_ = Fold(key);
    if (const std::string* seen = frame.Seen(folded_)) {
      error_ = *seen == key ? fmt::format("field '{}' appears twice in one object; send each field once",
                                          Display(depth_ - 1, key))
                            : fmt::format(
                                  "fields '{}' and '{}' of one object differ only in case; column names are "
                                  "case-insensitive (DuckDB, Spark, Trino), so rename one of them",
                                  Display(depth_ - 1, *seen), Display(depth_ - 1, key));
      return false;
    }
    frame.Remember(folded_, key);
    frame.last_key = key;
    path_.resize(frame.path_length);
    path_ += kPathSeparator;
    path_ += folded_;
    if (spellings_ == nullptr && !frame.under_list) return true;
    const std::string* known = spellings_ != nullptr ? spellings_->Find(path_) : nullptr;
    if (known == nullptr) {
      auto mine = record_names_.find(path_);
      if (mine != record_names_.end()) known = &mine->second;
    }
    if (known != nullptr && *known != key) {
      std::string expected = *known;
      error_ = fmt::format(
          "field '{}' is spelled '{}' where the table or an earlier record of the stream has '{}'; "
          "column names are case-insensitive (DuckDB, Spark, Trino), so send it as '{}'",
          Display(depth_ - 1, key), key, expected, expected);
      return false;
    }
    if (known == nullptr) record_names_.emplace(path_, key);
    return true;
  }

  const std::string& error() const { return error_; }
  /// Adds the record's names to the spellings (once it has passed).
  void Register() {
    if (spellings_ == nullptr) return;
    for (auto& [path, spelling] : record_names_) {
      if (spellings_->Find(path) == nullptr) spellings_->Add(path, spelling);
    }
  }

 private:
  /// Keys of one object: a short list (most objects), a map once it grows.
  struct Frame {
    bool object = false;
    bool under_list = false;  // inside a list: its objects share paths
    size_t path_length = 0;   // of path_ at this container
    std::string last_key;
    std::vector<std::pair<std::string, std::string>> keys;  // folded, as written
    std::unordered_map<std::string, std::string> many;

    const std::string* Seen(const std::string& folded) const {
      if (!many.empty()) {
        auto it = many.find(folded);
        return it == many.end() ? nullptr : &it->second;
      }
      for (const auto& [f, raw] : keys) {
        if (f == folded) return &raw;
      }
      return nullptr;
    }
    void Remember(const std::string& folded, const std::string& raw) {
      if (!many.empty() || keys.size() >= 32) {
        if (many.empty()) {
          for (auto& [f, r] : keys) many.emplace(std::move(f), std::move(r));
          keys.clear();
        }
        many.emplace(folded, raw);
      } else {
        keys.emplace_back(folded, raw);
      }
    }
  };

  bool Open(bool object) {
    if (depth_ == frames_.size()) frames_.emplace_back();
    Frame& frame = frames_[depth_];
    frame.object = object;
    frame.keys.clear();
    frame.many.clear();
    frame.last_key.clear();
    frame.under_list = depth_ > 0 && (frames_[depth_ - 1].under_list || !frames_[depth_ - 1].object);
    if (depth_ > 0 && !frames_[depth_ - 1].object) {
      path_.resize(frames_[depth_ - 1].path_length);
      path_ += kPathSeparator;
      path_ += "[]";
    }
    frame.path_length = depth_ == 0 ? 0 : path_.size();
    ++depth_;
    return true;
  }

  bool Close() {
    --depth_;
    return true;
  }

  /// "a.b[].c" for `key` of the object at frames_[level], for messages.
  std::string Display(size_t level, const std::string& key) const {
    std::string out;
    for (size_t i = 1; i <= level; ++i) {
      if (frames_[i - 1].object) {
        if (!out.empty()) out += '.';
        out += frames_[i - 1].last_key;
      } else {
        out += "[]";
      }
    }
    if (!key.empty()) {
      if (!out.empty()) out += '.';
      out += key;
    }
    return out;
  }

  FieldSpellings* spellings_;
  std::vector<Frame> frames_;
  size_t depth_ = 0;
  std::string path_, folded_;
  std::unordered_map<std::string, std::string> record_names_;
  std::string error_;
};

/// The common case at ingest, without allocating: hashes of the case-folded keys of each object, and of every
/// name's path under a list. A key whose hash was seen in its object, or a path under a list whose spelling's
/// hash differs, makes the record "suspect"; NameChecker then decides exactly (and words the message).
class QuickNameScan : public StructureSax<QuickNameScan> {
 public:
  using json = nlohmann::json;

  friend class StructureSax<QuickNameScan>;  // calls Open and Close
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    suspect_ = true;
    return false;
  }

  bool key(json::string_t& key) {
    if (key.empty()) return Suspect();
    uint64_t folded = kOffset, raw = kOffset;
    for (char c : key) {
      char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      folded = (folded ^ static_cast<unsigned char>(lower)) * kPrime;
      raw = (raw ^ static_cast<unsigned char>(c)) * kPrime;
    }
    Frame& frame = frames_[depth_ - 1];
    if (keys_.size() - frame.first_key >= kMaxScannedKeys) return Suspect();  // NameChecker uses a map
    for (size_t i = frame.first_key; i < keys_.size(); ++i) {
      if (keys_[i] == folded) return Suspect();
    }
    keys_.push_back(folded);
    frame.child_path = (frame.path ^ folded) * kPrime + 0x9e3779b97f4a7c15ULL;
    if (frame.under_list) {
      for (const auto& [path, spelling] : names_) {
        if (path == frame.child_path) {
          if (spelling != raw) return Suspect();
          return true;
        }
      }
      names_.emplace_back(frame.child_path, raw);
    }
    return true;
  }

  bool suspect() const { return suspect_; }

 private:
  static constexpr uint64_t kOffset = 1469598103934665603ULL, kPrime = 1099511628211ULL;
  static constexpr size_t kMaxScannedKeys = 256;
  struct Frame {
    bool object = false, under_list = false;
    uint64_t path = 0, child_path = 0;
    size_t first_key = 0;
  };

  bool Suspect() {
    suspect_ = true;
    return false;
  }

  bool Open(bool object) {
    Frame frame;
    frame.object = object;
    frame.first_key = keys_.size();
    if (depth_ > 0) {
      const Frame& parent = frames_[depth_ - 1];
      frame.under_list = parent.under_list || !parent.object;
      frame.path = parent.object ? parent.child_path : (parent.path ^ 0x5bd1e995ULL) * kPrime;
    }
    if (depth_ == frames_.size())
      frames_.push_back(frame);
    else
      frames_[depth_] = frame;
    ++depth_;
    return true;
  }

  bool Close() {
    --depth_;
    if (frames_[depth_].object) keys_.resize(frames_[depth_].first_key);
    return true;
  }

  std::vector<Frame> frames_;
  size_t depth_ = 0;
  std::vector<uint64_t> keys_;                        // of the open objects, innermost last
  std::vector<std::pair<uint64_t, uint64_t>> names_;  // path under a list, spelling
  bool suspect_ = false;
};

}  // namespace

std::string FoldFieldName(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

const std::string* FieldSpellings::Find(const std::string& folded_path) const {
  auto it = spellings_.find(folded_path);
  return it == spellings_.end() ? nullptr : &it->second;
}

std::string CheckFieldNames(std::string_view record, FieldSpellings* spellings) {
  if (spellings == nullptr) {
    QuickNameScan scan;
    bool parsed = false;
    try {
      parsed = nlohmann::json::sax_parse(record.begin(), record.end(), &scan);
    } catch (const std::exception&) {
      return "the record is not valid JSON";
    }
    if (parsed && !scan.suspect()) return "";
  }
  NameChecker checker(spellings);
  bool parsed = false;
  try {
    parsed = nlohmann::json::sax_parse(record.begin(), record.end(), &checker);
  } catch (const std::exception&) {
    return "the record is not valid JSON";
  }
  if (!parsed) return checker.error().empty() ? "the record is not valid JSON" : checker.error();
  checker.Register();
  return "";
}

}  // namespace sluice::streams
