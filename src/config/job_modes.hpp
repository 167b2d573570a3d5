#pragma once

// The closed choices of a pipeline job (mode:, write:, on_error:, deletes:, a depends_on condition:),
// parsed once when the pipeline file is read, so the rest of the code compares enums and a
// misspelled value cannot compile. ToString gives the YAML spelling, for run records, JSON and
// messages.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace sluice::config {

/// mode: of a job — what each run reads from its source.
enum class LoadMode { kFull, kIncremental, kWindow, kChanges, kCdc };
/// write: of a lake target — how a run's rows replace the table's. (A sink target's write: is the
/// sink's own option, e.g. PostgreSQL's replace.)
enum class WriteMode { kAppend, kOverwrite, kOverwritePartitions, kMerge };
/// on_error: of a job — what happens to rows the source cannot read.
enum class OnError { kFail, kQuarantine };
/// deletes: of a job — what a key that disappeared from the source does.
enum class DeleteHandling { kIgnore, kMark, kApply };
/// condition: of a depends_on entry — which ends of the upstream job let this one run.
enum class DependencyCondition { kSuccess, kFailure, kAlways };

const char* ToString(LoadMode mode);
const char* ToString(WriteMode write);
const char* ToString(OnError on_error);
const char* ToString(DeleteHandling deletes);
const char* ToString(DependencyCondition condition);

/// The parsers take `owner` (e.g. "job 'orders' of pipeline 'shop'", "target of ...") for the
/// message "KEY 'TEXT' of OWNER is not one of A, B (did you mean 'X'?)".
Result<LoadMode> ParseLoadMode(std::string_view text, std::string_view owner);
Result<WriteMode> ParseWriteMode(std::string_view text, std::string_view owner);
Result<OnError> ParseOnError(std::string_view text, std::string_view owner);
Result<DeleteHandling> ParseDeleteHandling(std::string_view text, std::string_view owner);
Result<DependencyCondition> ParseDependencyCondition(std::string_view text, std::string_view owner);

/// "KEY 'TEXT' of OWNER is not one of A, B, C (did you mean 'X'?)": the message for a value
/// outside a closed choice, shared by every choice of the pipeline file.
std::string NotOneOfMessage(std::string_view key, std::string_view text, std::string_view owner,
                            const std::vector<std::string>& allowed);

}  // namespace sluice::config
