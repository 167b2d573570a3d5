#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "config/pipeline.hpp"
#include "pipeline/workspace.hpp"
#include "query/sandboxed_engine.hpp"
#include "scheduler/daemon.hpp"
#include "server/run_progress_board.hpp"
#include "server/server_options.hpp"

namespace sluice::streams {
class StreamHub;
}

namespace httplib {
class Server;
}

namespace sluice::server {

/// The HTTP API of `sluice serve` (docs/api.md): JSON under /api/v1, Prometheus text at
/// /metrics, /healthz. Runs are started through the daemon's queue. Requests are served on httplib's
/// worker threads; the workspace's catalog and engine are safe to share between them.
class ApiServer {
 public:
  ApiServer(pipeline::Workspace& workspace, scheduler::Daemon& daemon, config::ProjectConfig project,
            std::vector<config::PipelineConfig> pipelines, ServerOptions options);
  ~ApiServer();

  /// Serves the project's streams (docs/streams.md) too; before Bind(). Without it every stream is unknown.
  void AttachStreams(streams::StreamHub* hub);

  /// Binds the listening socket (an error names the address); returns the bound port.
  Result<int> Bind();
  /// Serves until Stop() is called from another thread.
  void Serve();
  void Stop();

 private:
  void Routes();
  void RunRoutes();
  void DataRoutes();
  void QueryRoutes();     // api_query_route.cpp
  void PipelineRoutes();  // api_pipeline_routes.cpp
  void TableRoutes();     // api_table_routes.cpp
  void RunLiveRoutes();   // api_run_live_routes.cpp
  void UiAssetRoutes();   // ui_assets_route.cpp
  void IcebergRoutes();   // iceberg_rest_route.cpp
  void StreamRoutes();    // stream_routes.cpp
  void FirehoseRoutes();  // firehose_routes.cpp
  /// The largest body a request to `path` may send (streams have their own limits).
  uint64_t BodyLimit(const std::string& path) const;
  /// Whether `bearer` is the token of the stream a request to `path` posts to.
  bool IsStreamToken(const std::string& path, const std::string& bearer) const;

  pipeline::Workspace& workspace_;
  scheduler::Daemon& daemon_;
  config::ProjectConfig project_;
  std::vector<config::PipelineConfig> pipelines_;
  ServerOptions options_;
  query::SandboxOptions sandbox_options_;
  std::mutex query_mutex_;
  RunProgressBoard progress_board_;  // live per-job progress of the runs the daemon executes
  streams::StreamHub* streams_ = nullptr;
  int bound_port_ = 0;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace sluice::server
