#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "storage/object_store.hpp"

// The behaviour every ObjectStore must share (like Arrow's GenericFileSystemTest). The test bodies
// live in object_store_conformance_test.cpp; each implementation adds one INSTANTIATE_TEST_SUITE_P
// with a factory that returns a fresh, empty store.
namespace sluice::storage::testing {

struct StoreFactory {
  std::string name;
  /// `scratch` is an empty local folder owned by the test (local stores may live in it).
  std::function<Result<std::unique_ptr<ObjectStore>>(const std::filesystem::path& scratch)> make;
  /// Non-empty: why ConcurrentWritersAndDeletersInOneFolder cannot run against this store's test server.
  std::string skip_concurrency = {};
};

inline void PrintTo(const StoreFactory& factory, std::ostream* os) { *os << factory.name; }

class ObjectStoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// A scratch folder for local files the test hands to or takes from the store.
  const std::filesystem::path& scratch() const { return scratch_; }
  ObjectStore& store() { return *store_; }

  /// Reads a whole reader into a string (fails the test on error).
  static std::string Drain(ObjectReader& reader, size_t chunk = 7);
  std::vector<std::string> ListKeys(const std::string& prefix);

 private:
  std::filesystem::path scratch_;
  std::unique_ptr<ObjectStore> store_;
};

/// A fresh, unique folder under the system temp folder.
std::filesystem::path MakeScratchFolder(const std::string& label);
void WriteLocalFile(const std::filesystem::path& path, const std::string& data);
std::string ReadLocalFile(const std::filesystem::path& path);

}  // namespace sluice::storage::testing
