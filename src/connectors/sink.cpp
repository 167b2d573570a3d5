#include "connectors/sink.hpp"

#include "common/strings.hpp"

namespace sluice::connectors {

Result<std::unique_ptr<Sink>> BindSink(const SinkDescriptor& descriptor, const SinkBindContext& context,
                                       const config::Value& options) {
  std::vector<std::string> errors;
  config::ValidateOptions(options, descriptor.options,
                          fmt::format("target of job '{}' ({} sink)", context.job, descriptor.name), &errors);
  if (!errors.empty()) return config::ErrorsToStatus(errors);
  return descriptor.bind(context, options);
}

}  // namespace sluice::connectors
