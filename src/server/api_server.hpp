#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "pipeline/workspace.hpp"
#include "server/server_options.hpp"

namespace httplib {
class Server;
}

namespace sluice::server {

/// The HTTP API of `sluice serve` (docs/api.md): JSON under /api/v1, Prometheus text at
/// /metrics, /healthz. Requests are served on httplib's worker threads; the workspace's catalog
/// and engine are safe to share between them (the pipeline runner already does so for jobs).
class ApiServer {
 public:
  ApiServer(pipeline::Workspace& workspace, std::vector<config::PipelineConfig> pipelines, ServerOptions options);
  ~ApiServer();

  /// Binds the listening socket (an error names the address); returns the bound port.
  Result<int> Bind();
  /// Serves until Stop() is called from another thread.
  void Serve();
  void Stop();

 private:
  void Routes();
  /// Marks the pipeline as running; false when a run of it is already in progress here.
  bool ClaimPipeline(const std::string& name);
  void ReleasePipeline(const std::string& name);

  pipeline::Workspace& workspace_;
  std::vector<config::PipelineConfig> pipelines_;
  ServerOptions options_;
  std::unique_ptr<httplib::Server> http_;
  std::mutex running_mutex_;
  std::set<std::string> running_pipelines_;
};

}  // namespace sluice::server
