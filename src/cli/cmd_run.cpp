#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

#include "cli/cli_context.hpp"
#include "cli/progress_display.hpp"
#include "common/strings.hpp"
#include "notify/dispatch.hpp"
#include "pipeline/runner.hpp"
#include "pipeline/shared_targets.hpp"
#include "pipeline/window_jobs.hpp"
#include "scheduler/pipeline_triggers.hpp"
#include "scheduler/run_notifications.hpp"

namespace sluice::cli {
namespace {

/// `run --follow`: SIGINT/SIGTERM set the stop flag (the cdc job then commits what it holds and
/// ends) instead of killing the process. The signals are blocked before any thread starts, so
/// only this watcher receives them.
class StopOnSignal {
 public:
  StopOnSignal() : stop_(std::make_shared<std::atomic<bool>>(false)) {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    watcher_ = std::thread([this] {
      timespec tick{0, 200 * 1000 * 1000};
      while (!done_.load()) {
        int received = sigtimedwait(&signals_, nullptr, &tick);
        if (received == SIGINT || received == SIGTERM) {
          std::fprintf(stderr, "sluice run --follow: %s received, committing what was read and stopping\n",
                       received == SIGINT ? "SIGINT" : "SIGTERM");
          stop_->store(true);
        }
      }
    });
  }
  ~StopOnSignal() {
    done_.store(true);
    watcher_.join();
  }
  std::shared_ptr<std::atomic<bool>> flag() const { return stop_; }

 private:
  sigset_t signals_;
  std::shared_ptr<std::atomic<bool>> stop_;
  std::atomic<bool> done_{false};
  std::thread watcher_;
};

}  // namespace

void AddRunCommand(CLI::App& app, CliContext& context) {
  struct Args {
    std::string pipeline, job;
    bool full_refresh = false;
    bool quiet = false;
    bool follow = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "Run a pipeline once, with a progress display");
  cmd->add_option("PIPELINE", args->pipeline, "pipeline name (pipelines/NAME.yaml or its name: key)")->required();
  cmd->add_option("--job", args->job, "run only this job of the pipeline");
  cmd->add_flag("--full-refresh", args->full_refresh,
                "reload every input and replace the target tables' contents (one atomic commit)");
  cmd->add_flag("--quiet,-q", args->quiet, "no progress display, only the summary line");
  cmd->add_flag(
      "--follow", args->follow,
      "mode: cdc: keep streaming changes until SIGINT/SIGTERM (which commit what was read, exit 0) instead of "
      "stopping once caught up");
  cmd->footer("Exit codes: 0 succeeded or no changes, 1 run failed, 2 invalid usage or config.");
  cmd->callback([&context, args] {
    context.action = [&context, args]() -> int {
      std::optional<StopOnSignal> stop_on_signal;
      if (args->follow) stop_on_signal.emplace();
      auto loaded = LoadAll(context);
      if (!loaded.ok()) return ReportError(context, loaded.status());
      pipeline::PipelineRunner runner(*loaded->workspace, loaded->pipelines);
      pipeline::RunRequest request;
      request.pipeline = args->pipeline;
      request.full_refresh = args->full_refresh;
      if (!args->job.empty()) request.only_job = args->job;
      if (stop_on_signal) {
        request.follow = true;
        request.stop_following = stop_on_signal->flag();
      }
      ProgressDisplay display(stderr, context.redactor);
      auto outcome = runner.Run(request, args->quiet ? nullptr : &display);
      if (!outcome.ok()) return ReportError(context, outcome.status());
      const auto& r = outcome->record;
      double seconds = r.finished_at ? std::chrono::duration<double>(*r.finished_at - r.started_at).count() : 0.0;
      bool failed = r.status == catalog::RunStatus::kFailed || r.status == catalog::RunStatus::kCancelled;
      if (!failed) {
        std::printf("run %s %s: %lld rows written, %lld rejected, %s in %.2fs\n", r.id.value.c_str(),
                    catalog::RunStatusName(r.status), static_cast<long long>(r.rows_written),
                    static_cast<long long>(r.rows_rejected), HumanBytes(static_cast<uint64_t>(r.bytes_written)).c_str(),
                    seconds);
      } else if (r.rows_written == 0) {
        std::printf("run %s %s: %lld rows read, nothing committed, in %.2fs\n", r.id.value.c_str(),
                    catalog::RunStatusName(r.status), static_cast<long long>(r.rows_read), seconds);
      } else {  // jobs that finished before the failure keep their commits
        std::printf("run %s %s: %lld rows read; the jobs that succeeded committed %lld rows (%s), in %.2fs\n",
                    r.id.value.c_str(), catalog::RunStatusName(r.status), static_cast<long long>(r.rows_read),
                    static_cast<long long>(r.rows_written), HumanBytes(static_cast<uint64_t>(r.bytes_written)).c_str(),
                    seconds);
      }
      {  // tell the pipeline's notify: destinations; their failure does not change the run's outcome
        notify::NotifierRegistry notifiers;
        notify::RegisterBuiltinNotifiers(notifiers);
        for (const auto& p : loaded->pipelines) {
          if (p.name != r.pipeline) continue;
          Status sent = scheduler::NotifyRunOutcome(notifiers, loaded->project, p, *outcome);
          if (!sent.ok()) std::fprintf(stderr, "warning: %s\n", context.redactor->Apply(sent.message()).c_str());
        }
      }
      if (r.status == catalog::RunStatus::kFailed || r.status == catalog::RunStatus::kCancelled) {
        std::fprintf(stderr, "error: %s\n  see `sluice logs %s`\n", context.redactor->Apply(r.error).c_str(),
                     r.id.value.c_str());
        return kExitFailed;
      }
      return kExitOk;
    };
  });
}

void AddValidateCommand(CLI::App& app, CliContext& context) {
  auto pipeline_name = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("validate", "Check sluice.yaml and pipelines (all, or one) without reading data");
  cmd->add_option("PIPELINE", *pipeline_name, "only this pipeline");
  cmd->callback([&context, pipeline_name] {
    context.action = [&context, pipeline_name]() -> int {
      auto loaded = LoadAll(context);
      if (!loaded.ok()) return ReportError(context, loaded.status());
      pipeline::PipelineRunner runner(*loaded->workspace, loaded->pipelines);
      int checked = 0;
      std::vector<std::string> errors;
      for (const auto& p : loaded->pipelines) {
        if (!pipeline_name->empty() && p.name != *pipeline_name) continue;
        ++checked;
        Status st = runner.Validate(p);
        if (st.ok()) {
          std::printf("ok  %s (%zu job%s)\n", p.name.c_str(), p.jobs.size(), p.jobs.size() == 1 ? "" : "s");
        } else {
          errors.push_back(st.message());
        }
      }
      if (!pipeline_name->empty() && checked == 0) {
        return ReportError(context, Status::Invalid("no pipeline named '{}'", *pipeline_name));
      }
      {  // triggers: (cron, time zones, durations, the pipelines on_success/on_failure name)
        std::vector<std::string> names;
        for (const auto& p : loaded->pipelines) names.push_back(p.name);
        for (const auto& p : loaded->pipelines) {
          if (!pipeline_name->empty() && p.name != *pipeline_name) continue;
          auto triggers = scheduler::ReadPipelineTriggers(p, names);
          if (!triggers.ok()) errors.push_back(triggers.status().message());
        }
      }
      // ${env:}/${file:} references that could not be resolved: a run fails on them only where it
      // uses their connection, notification or server:, but validate checks the whole file.
      for (const auto& [part, problem] : loaded->project.unresolved) errors.push_back(problem);
      {  // notifications: of sluice.yaml and each pipeline's notify:
        notify::NotifierRegistry notifiers;
        notify::RegisterBuiltinNotifiers(notifiers);
        notify::ValidateNotifications(notifiers, loaded->project.notifications, &errors);
        for (const auto& p : loaded->pipelines) {
          if (pipeline_name->empty() || p.name == *pipeline_name) {
            notify::ValidatePipelineNotify(p.notify, loaded->project.notifications, p.name, &errors);
          }
        }
      }
      {  // one writing job per table, across every pipeline (and the jobs `sluice jobs add` keeps in the catalog)
        std::vector<config::PipelineConfig> all;
        for (const auto& p : loaded->pipelines) {
          auto with_catalog_jobs = pipeline::WithCatalogWindowJobs(loaded->workspace->catalog(), p);
          all.push_back(with_catalog_jobs.ok() ? std::move(with_catalog_jobs).value() : p);
        }
        for (auto& problem : pipeline::SharedTargetProblems(all, *pipeline_name)) errors.push_back(std::move(problem));
      }
      if (!errors.empty()) return ReportError(context, Status::Invalid("{}", Join(errors, "\n")));
      std::printf("%s: %d pipeline%s valid\n", loaded->project.file.string().c_str(), checked, checked == 1 ? "" : "s");
      return kExitOk;
    };
  });
}

}  // namespace sluice::cli
