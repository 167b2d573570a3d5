#pragma once

// A project folder on disk for tests that drive whole runs (the runner, the daemon): the test
// writes sluice.yaml, pipelines and data, then opens it as `sluice` would.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "config/pipeline.hpp"
#include "config/project.hpp"
#include "pipeline/workspace.hpp"

namespace sluice::test_support {

/// Mixed into a fixture: CreateProject() in SetUp, Write() the files, then OpenProject() (inside
/// ASSERT_NO_FATAL_FAILURE) loads them with no environment variables and opens the workspace.
class WithProject {
 protected:
  void CreateProject(const std::string& prefix) {
    std::string pattern = "/tmp/" + prefix + "-XXXXXX";
    dir_ = ::mkdtemp(pattern.data());
    std::filesystem::create_directories(dir_ / "pipelines");
    std::filesystem::create_directories(dir_ / "data");
  }
  /// Closes the workspace before its folder goes.
  void RemoveProject() {
    ws_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Write(const std::string& relative, const std::string& text) {
    std::ofstream out(dir_ / relative);
    out << text;
  }

  void OpenProject() {
    config::LoadOptions options;
    options.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    auto project = config::LoadProject(dir_ / "sluice.yaml", options);
    ASSERT_TRUE(project.ok()) << project.status();
    project_ = *project;
    auto pipelines = config::LoadPipelines(project_, options);
    ASSERT_TRUE(pipelines.ok()) << pipelines.status();
    pipelines_ = *pipelines;
    auto ws = pipeline::Workspace::Open(project_, std::make_shared<SystemClock>(), nullptr);
    ASSERT_TRUE(ws.ok()) << ws.status();
    ws_ = std::move(ws).value();
  }

  std::filesystem::path dir_;
  config::ProjectConfig project_;
  std::vector<config::PipelineConfig> pipelines_;
  std::unique_ptr<pipeline::Workspace> ws_;
};

}  // namespace sluice::test_support
