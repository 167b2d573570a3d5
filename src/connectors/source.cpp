#include "connectors/source.hpp"

#include "common/strings.hpp"

namespace sluice::connectors {

Status SourceRegistry::Register(SourceDescriptor descriptor) {
  if (Find(descriptor.name) != nullptr) {
    return Status::AlreadyExists("source '{}' is registered twice", descriptor.name);
  }
  descriptors_.push_back(std::move(descriptor));
  return Status::OK();
}

const SourceDescriptor* SourceRegistry::Find(std::string_view name) const {
  for (const auto& d : descriptors_) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::vector<std::string> SourceRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& d : descriptors_) names.push_back(d.name);
  return names;
}

Result<std::unique_ptr<Source>> BindSource(const SourceDescriptor& descriptor, const BindContext& context,
                                           const config::Value& options) {
  std::vector<std::string> errors;
  config::ValidateOptions(options, descriptor.options,
                          fmt::format("source of job '{}' ({} connector)", context.job, descriptor.name), &errors);
  if (!errors.empty()) return config::ErrorsToStatus(errors);
  return descriptor.bind(context, options);
}

}  // namespace sluice::connectors
