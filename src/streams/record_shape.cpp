#include "streams/record_shape.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>


namespace sluice::streams {

namespace {

constexpr char kPathSeparator = kFieldPathSeparator;

std::string Fold(std::string_view name) { return FoldFieldName(name); }

/// nlohmann's SAX events over one record: checks each object's keys and every name's spelling.
class NameChecker {
 public:
  using json = nlohmann::json;
  explicit NameChecker(FieldSpellings* spellings) : spellings_(spellings) {}

  bool null() { return true; }
  bool boolean(bool) { return true; }
  bool number_integer(json::number_integer_t) { return true; }
  bool number_unsigned(json::number_unsigned_t) { return true; }
  bool number_float(json::number_float_t, const json::string_t&) { return true; }
  bool string(json::string_t&) { return true; }
  bool binary(json::binary_t&) { return true; }
  bool start_object(std::size_t) { return Open(true); }
  bool start_array(std::size_t) { return Open(false); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    if (error_.empty()) error_ = "the record is not valid JSON";
    return false;
  }

  bool key(json::string_t& key) {
    Frame& frame = frames_.back();
    std::string display = frame.display.empty() ? key : fmt::format("{}.{}", frame.display, key);
    if (key.empty()) {
      error_ = frame.display.empty() ? "a field of the record has an empty name; give every field a name"
                                     : fmt::format("a field of '{}' has an empty name; give every field a name",
                                                   frame.display);
      return false;
    }
    std::string folded_key = Fold(key);
    for (const auto& seen : frame.keys) {
      if (seen == key) {
        error_ = fmt::format("field '{}' appears twice in one object; send each field once", display);
        return false;
      }
      if (Fold(seen) == folded_key) {
        error_ = fmt::format("fields '{}' and '{}' of one object differ only in case; column names are "
                             "case-insensitive (DuckDB, Spark, Trino), so rename one of them",
                             frame.display.empty() ? seen : fmt::format("{}.{}", frame.display, seen), display);
        return false;
      }
    }
    frame.keys.push_back(key);
    std::string path = frame.folded + kPathSeparator + folded_key;
    const std::string* known = spellings_ != nullptr ? spellings_->Find(path) : nullptr;
    if (known == nullptr) {
      auto mine = record_names_.find(path);
      if (mine != record_names_.end()) known = &mine->second;
    }
    if (known != nullptr && *known != key) {
      error_ = fmt::format("field '{}' is spelled '{}' where the table or an earlier record of the stream has '{}'; "
                           "column names are case-insensitive (DuckDB, Spark, Trino), so send it as '{}'",
                           display, key, *known, *known);
      return false;
    }
    record_names_.emplace(path, key);
    frame.child_folded = std::move(path);
    frame.child_display = std::move(display);
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
  struct Frame {
    bool object = false;
    std::string folded, display;
    std::vector<std::string> keys;
    std::string child_folded, child_display;  // of the value after the last key
  };

  bool Open(bool object) {
    Frame frame;
    frame.object = object;
    if (!frames_.empty()) {
      const Frame& parent = frames_.back();
      frame.folded = parent.object ? parent.child_folded : parent.folded + kPathSeparator + "[]";
      frame.display = parent.object ? parent.child_display : parent.display + "[]";
    }
    frames_.push_back(std::move(frame));
    return true;
  }

  bool Close() {
    frames_.pop_back();
    return true;
  }

  FieldSpellings* spellings_;
  std::vector<Frame> frames_;
  std::unordered_map<std::string, std::string> record_names_;
  std::string error_;
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
