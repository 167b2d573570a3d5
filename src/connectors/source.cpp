#include "connectors/source.hpp"

#include "common/strings.hpp"

namespace sluice::connectors {

Result<std::unique_ptr<Source>> BindSource(const SourceDescriptor& descriptor, const BindContext& context,
                                           const config::Value& options) {
  std::vector<std::string> errors;
  config::ValidateOptions(options, descriptor.options,
                          fmt::format("source of job '{}' ({} connector)", context.job, descriptor.name), &errors);
  if (!errors.empty()) return config::ErrorsToStatus(errors);
  return descriptor.bind(context, options);
}

}  // namespace sluice::connectors
