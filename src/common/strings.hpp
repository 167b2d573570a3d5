#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

/// Edit distance, for "did you mean" hints.
size_t EditDistance(std::string_view a, std::string_view b);
/// The candidate closest to `word` within a small distance, or "" if none is close.
std::string NearestWord(std::string_view word, const std::vector<std::string>& candidates);
/// " (did you mean 'x'?)" for the candidate NearestWord finds, "" when none is close: the tail of a
/// message naming something unknown.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string> Split(std::string_view text, char sep);
std::string Trim(std::string_view text);
bool StartsWith(std::string_view text, std::string_view prefix);
bool EndsWith(std::string_view text, std::string_view suffix);
std::string ToLower(std::string_view text);
/// SQL string literal with single quotes doubled: O'Brien -> 'O''Brien'.
std::string SqlQuote(std::string_view text);
/// SQL identifier in double quotes, embedded quotes doubled.
std::string SqlIdent(std::string_view name);
/// "12.3 MB"
std::string HumanBytes(uint64_t bytes);
/// Parses "10GB", "512MiB", "1000" (bytes). Returns false on a malformed value.
bool ParseByteSize(std::string_view text, uint64_t* out);

}  // namespace sluice
