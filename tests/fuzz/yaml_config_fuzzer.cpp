// Config files are YAML written by people (and sometimes by attackers: a pipeline file from a
// pull request). Loading must answer or refuse in bounded time and memory: no crash, no hang on
// alias bombs, no unbounded recursion.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.hpp"
#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "config/value.hpp"

using namespace sluice;
using namespace sluice::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseOptions options;
  options.base_dir = "/nonexistent-sluice-fuzz";  // ${file:...} references resolve to nothing
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/fuzz";
    return std::nullopt;
  };
  auto parsed = ParseYaml(text, "fuzz.yaml", options);
  if (!parsed.ok()) return 0;
  std::vector<std::string> errors;
  ValidateOptions(*parsed, PipelineKeys(), "pipeline", &errors);
  ValidateOptions(*parsed, ProjectKeys(), "project", &errors);
  (void)ErrorsToStatus(errors);
  Value merged = MergeOverlay(*parsed, *parsed);
  (void)merged.Keys();
  return 0;
}
