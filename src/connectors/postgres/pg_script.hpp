#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace sluice::postgres {

/// One statement of a script, as PostgreSQL's lexer would cut it.
struct ScriptStatement {
  std::string sql;  // without the terminating ';', comments kept (the server ignores them)
  int line = 1;     // 1-based line of the script where the statement's first token is
};

/// Splits a script at the semicolons that end statements, as psql does: not inside '…' or E'…'
/// strings, "…" identifiers, $tag$…$tag$ bodies, -- and (nested) /* */ comments or parentheses.
/// Statements holding only whitespace and comments are dropped. An unterminated string, identifier,
/// dollar-quoted body or comment is an error naming the line where it starts.
Result<std::vector<ScriptStatement>> SplitScript(std::string_view text);

/// The statement's first keyword, upper-cased ("" when it starts with something else).
std::string FirstKeyword(std::string_view statement);

/// The 1-based line within `statement` of the character at 1-based `position` (PostgreSQL's
/// error position counts characters, not bytes).
int LineOfPosition(std::string_view statement, int position);

}  // namespace sluice::postgres
