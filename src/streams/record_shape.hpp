#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

// The field names of records, checked against what becomes a column: DuckDB's JSON reader and the lake's
// readers (DuckDB, Spark, Trino) resolve names case-insensitively, so two spellings of one name cannot both
// be columns, and an object with a key twice or an empty key has no table shape at all.
namespace sluice::streams {

/// Separates the parts of a folded field path; list elements are the part "[]".
inline constexpr char kFieldPathSeparator = '\x1f';
/// A field name as compared for spelling: ASCII letters lower-cased (as DuckDB compares identifiers).
std::string FoldFieldName(std::string_view name);

/// The spelling of every field name seen so far, by its case-folded path ("user/id", list elements
/// transparent): the table's columns first, then the fields of the records accepted in arrival order.
class FieldSpellings {
 public:
  /// Seeds the spellings with a table column of DuckDB type `type` and its nested struct fields
  /// (field_spellings.cpp).
  void AddColumn(const std::string& name, const std::string& type);
  /// The spelling registered for `folded_path`, or nullptr.
  const std::string* Find(const std::string& folded_path) const;
  void Add(std::string folded_path, std::string spelling) {
    spellings_.emplace(std::move(folded_path), std::move(spelling));
  }

 private:
  std::unordered_map<std::string, std::string> spellings_;
};

/// Why the field names of `record` (valid JSON) cannot become columns, or "" when they can: a key twice in
/// one object, an empty key, two keys of one object that differ only in case, or — with `spellings` — a
/// name spelled differently from the column (or earlier record's field) it would share. Only a record that
/// passes adds its names to `spellings`. Invalid JSON is reported too (as not valid JSON).
std::string CheckFieldNames(std::string_view record, FieldSpellings* spellings = nullptr);

}  // namespace sluice::streams
