#include "connectors/postgres/pg_script.hpp"

#include <cctype>

namespace sluice::postgres {
namespace {

bool IsIdentChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

bool IsTagChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '_' || u >= 0x80;
}

/// Cuts a script into statements; `line_` follows the position so every error and statement knows its line.
class ScriptLexer {
 public:
  explicit ScriptLexer(std::string_view text) : text_(text) {}

  Result<std::vector<ScriptStatement>> Split() {
    std::vector<ScriptStatement> statements;
    size_t start = std::string_view::npos;  // first token of the current statement
    int start_line = 0;
    int depth = 0;
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == '\n') {
        ++line_;
        ++i_;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i_;
        continue;
      }
      if (c == '-' && Next() == '-') {
        while (i_ < text_.size() && text_[i_] != '\n') ++i_;
        continue;
      }
      if (c == '/' && Next() == '*') {
        SLUICE_TRY(SkipBlockComment());
        continue;
      }
      if (c == ';' && depth == 0) {
        if (start != std::string_view::npos) {
          statements.push_back(ScriptStatement{std::string(text_.substr(start, i_ - start)), start_line});
        }
        start = std::string_view::npos;
        ++i_;
        continue;
      }
      if (start == std::string_view::npos) {
        start = i_;
        start_line = line_;
      }
      if (c == '\'') {
        bool backslash_escapes =
            i_ > 0 && (text_[i_ - 1] == 'E' || text_[i_ - 1] == 'e') && (i_ < 2 || !IsIdentChar(text_[i_ - 2]));
        SLUICE_TRY(SkipQuoted('\'', backslash_escapes, "string literal ('…')"));
      } else if (c == '"') {
        SLUICE_TRY(SkipQuoted('"', false, "quoted identifier (\"…\")"));
      } else if (c == '$' && (i_ == 0 || !IsIdentChar(text_[i_ - 1])) && DollarTagEnd() != 0) {
        SLUICE_TRY(SkipDollarQuoted());
      } else {
        if (c == '(') ++depth;
        if (c == ')' && depth > 0) --depth;
        ++i_;
      }
    }
    if (start != std::string_view::npos) {
      size_t end = text_.size();
      while (end > start && std::isspace(static_cast<unsigned char>(text_[end - 1]))) --end;
      statements.push_back(ScriptStatement{std::string(text_.substr(start, end - start)), start_line});
    }
    return statements;
  }

 private:
  char Next() const { return i_ + 1 < text_.size() ? text_[i_ + 1] : '\0'; }

  void Advance() {
    if (text_[i_] == '\n') ++line_;
    ++i_;
  }

  Status SkipBlockComment() {
    int opened_at = line_;
    int nesting = 0;
    do {
      if (text_[i_] == '/' && Next() == '*') {
        ++nesting;
        i_ += 2;
      } else if (text_[i_] == '*' && Next() == '/') {
        --nesting;
        i_ += 2;
      } else {
        Advance();
      }
    } while (nesting > 0 && i_ < text_.size());
    if (nesting > 0) {
      return Status::Invalid("line {}: a /* comment is never closed; add */ where it ends", opened_at);
    }
    return Status::OK();
  }

  Status SkipQuoted(char quote, bool backslash_escapes, const char* what) {
    int opened_at = line_;
    ++i_;
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (backslash_escapes && c == '\\' && i_ + 1 < text_.size()) {
        ++i_;
        Advance();
        continue;
      }
      if (c == quote) {
        if (Next() == quote) {
          i_ += 2;
          continue;
        }
        ++i_;
        return Status::OK();
      }
      Advance();
    }
    return Status::Invalid("line {}: a {} is never closed; add the closing {}", opened_at, what, quote);
  }

  /// The index just past the closing '$' of a dollar-quote tag starting at i_, or 0 when i_ starts none.
  size_t DollarTagEnd() const {
    size_t j = i_ + 1;
    if (j < text_.size() && std::isdigit(static_cast<unsigned char>(text_[j]))) return 0;  // $1: a parameter
    while (j < text_.size() && IsTagChar(text_[j])) ++j;
    return j < text_.size() && text_[j] == '$' ? j + 1 : 0;
  }

  Status SkipDollarQuoted() {
    int opened_at = line_;
    size_t tag_end = DollarTagEnd();
    std::string_view tag = text_.substr(i_, tag_end - i_);
    i_ = tag_end;
    while (i_ < text_.size()) {
      if (text_.compare(i_, tag.size(), tag) == 0) {
        i_ += tag.size();
        return Status::OK();
      }
      Advance();
    }
    return Status::Invalid("line {}: the dollar-quoted text opened with {} is never closed; add {} where it ends",
                           opened_at, tag, tag);
  }

  std::string_view text_;
  size_t i_ = 0;
  int line_ = 1;
};

}  // namespace

Result<std::vector<ScriptStatement>> SplitScript(std::string_view text) { return ScriptLexer(text).Split(); }

std::string FirstKeyword(std::string_view statement) {
  std::string word;
  for (char c : statement) {
    if (!std::isalpha(static_cast<unsigned char>(c))) break;
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return word;
}

int LineOfPosition(std::string_view statement, int position) {
  int line = 1, characters = 0;
  for (char c : statement) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && ++characters >= position) break;
    if (c == '\n') ++line;
  }
  return line;
}

}  // namespace sluice::postgres
