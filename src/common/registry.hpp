#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace sluice {

/// The plug-ins of one kind (sources, steps, checks, triggers, notifiers), found by name;
/// `kName` is the descriptor member that holds it. A new plug-in is one Register line in its
/// module's register_builtin.cpp.
template <typename Descriptor, std::string Descriptor::*kName>
class PluginRegistry {
 public:
  /// Fails when a plug-in of that name is already registered.
  Status Register(Descriptor descriptor) {
    if (Find(descriptor.*kName) != nullptr) {
      return Status::AlreadyExists("plug-in '{}' is registered twice", descriptor.*kName);
    }
    descriptors_.push_back(std::move(descriptor));
    return Status::OK();
  }

  const Descriptor* Find(std::string_view name) const {
    for (const auto& d : descriptors_) {
      if (d.*kName == name) return &d;
    }
    return nullptr;
  }

  /// In registration order.
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& d : descriptors_) names.push_back(d.*kName);
    return names;
  }

  const std::vector<Descriptor>& descriptors() const { return descriptors_; }

 private:
  std::vector<Descriptor> descriptors_;
};

}  // namespace sluice
