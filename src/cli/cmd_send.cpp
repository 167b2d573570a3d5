// sluice send STREAM FILE|- : posts NDJSON to a running sluice serve in batches within the stream's limits.

#include <httplib.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/cli_context.hpp"
#include "common/ids.hpp"
#include "common/json_limits.hpp"
#include "common/strings.hpp"
#include "config/stream.hpp"
#include "server/server_options.hpp"

namespace sluice::cli {
namespace {

struct SendOptions {
  std::string stream, file, url;
  int max_attempts = 30;
};

/// A batch's records with their line numbers, for messages about failed records.
struct Batch {
  std::string body;
  std::vector<size_t> lines;
};

/// The token a producer of `stream` sends: the stream's own, else the API token (server.token or the file
/// sluice serve generated).
std::string ProducerToken(const config::ProjectConfig& project, const config::StreamConfig* stream) {
  if (stream != nullptr && !stream->token.empty()) return stream->token.Reveal();
  if (const auto* token = project.server.Find("token"); token != nullptr && token->IsScalar()) return token->scalar();
  std::ifstream file(project.root / ".sluice" / "api_token");
  std::string text;
  std::getline(file, text);
  return Trim(text);
}

class Sender {
 public:
  Sender(httplib::Client& client, std::string path, std::string token, int max_attempts)
      : client_(client),
        path_(std::move(path)),
        token_(std::move(token)),
        max_attempts_(max_attempts),
        key_prefix_("send-" + RandomHex(8)) {}

  /// Posts one batch (retrying on 429, 503 and broken connections with the same Idempotency-Key);
  /// false when the server refused it.
  bool Post(const Batch& batch) {
    httplib::Headers headers{{"Authorization", "Bearer " + token_},
                             {"Idempotency-Key", fmt::format("{}-{}", key_prefix_, batches_++)}};
    for (int attempt = 1;; ++attempt) {
      auto result = client_.Post(path_, headers, batch.body, "application/x-ndjson");
      int status = result ? result->status : 0;
      if (status == 200) return Record(batch, result->body);
      bool retry = status == 0 || status == 429 || status == 503;
      if (!retry || attempt >= max_attempts_) {
        std::string why = result ? ErrorOf(result->body) : httplib::to_string(result.error());
        fmt::print(stderr, "sluice send: the batch of lines {}-{} was refused ({}): {}\n", batch.lines.front(),
                   batch.lines.back(), status == 0 ? "no answer" : std::to_string(status), why);
        failed_ += batch.lines.size();
        return false;
      }
      int wait = 1;
      if (result && result->has_header("Retry-After")) {
        try {
          wait = std::clamp(std::stoi(result->get_header_value("Retry-After")), 1, 60);
        } catch (const std::exception&) {
        }
      } else {
        wait = std::min(1 << std::min(attempt, 5), 30);
      }
      if (status == 429) ++throttled_;
      std::this_thread::sleep_for(std::chrono::seconds(wait));
    }
  }

  size_t accepted() const { return accepted_; }
  size_t failed() const { return failed_; }
  size_t throttled() const { return throttled_; }

 private:
  static std::string ErrorOf(const std::string& body) {
    auto parsed = ParseJsonOrDiscarded(body);
    return parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()
               ? parsed["error"].get<std::string>()
               : Trim(body.substr(0, 300));
  }

  bool Record(const Batch& batch, const std::string& body) {
    auto answer = ParseJsonOrDiscarded(body);
    if (!answer.is_object()) {
      failed_ += batch.lines.size();
      return false;
    }
    accepted_ += answer.value("accepted", size_t{0});
    for (const auto& failure : answer.value("failed", nlohmann::json::array())) {
      size_t index = failure.value("index", size_t{0});
      size_t line = index < batch.lines.size() ? batch.lines[index] : 0;
      fmt::print(stderr, "sluice send: line {}: {}\n", line, failure.value("error", std::string("refused")));
      ++failed_;
    }
    return true;
  }

  httplib::Client& client_;
  std::string path_, token_;
  int max_attempts_;
  std::string key_prefix_;
  size_t batches_ = 0, accepted_ = 0, failed_ = 0, throttled_ = 0;
};

int RunSend(CliContext& context, const SendOptions& options) {
  auto project = LoadProjectOnly(context);
  if (!project.ok()) return ReportError(context, project.status());
  const std::vector<config::StreamConfig> streams = config::ProjectStreams(*project);
  const config::StreamConfig* stream = nullptr;
  for (const auto& s : streams) {
    if (s.name == options.stream) stream = &s;
  }
  std::string url = options.url;
  if (url.empty()) {
    auto server = server::ServerOptionsFromConfig(*project);
    if (!server.ok()) return ReportError(context, server.status());
    std::string host = server->host == "0.0.0.0" || server->host == "::" ? "127.0.0.1" : server->host;
    url = fmt::format("http://{}:{}", host, server->port);
  }
  if (stream == nullptr && options.url.empty()) {
    return ReportError(context, Status::Invalid("no stream named '{}' in streams: of {}", options.stream,
                                                project->file.filename().string()));
  }
  config::StreamConfig limits = stream != nullptr ? *stream : config::StreamConfig{};
  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.file != "-") {
    file.open(options.file, std::ios::binary);
    if (!file) return ReportError(context, Status::Invalid("cannot read {}", options.file));
    in = &file;
  }
  httplib::Client client(url);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(120, 0);  // ?ack is not used: the answer comes once the records are fsync'd
  client.set_keep_alive(true);
  Sender sender(client, fmt::format("/api/v1/streams/{}/records", options.stream), ProducerToken(*project, stream),
                options.max_attempts);
  // Leaves room for the request's own framing below the server's byte limit.
  const uint64_t max_bytes =
      limits.max_request_bytes > 1024 ? limits.max_request_bytes - 1024 : limits.max_request_bytes;
  const bool progress = isatty(STDERR_FILENO) != 0;
  Batch batch;
  std::string line;
  size_t line_number = 0, skipped = 0;
  bool refused = false;
  auto flush = [&] {
    if (batch.lines.empty()) return;
    refused |= !sender.Post(batch);
    batch = Batch{};
    if (progress)
      fmt::print(stderr, "\rsluice send: {} records accepted, {} failed", sender.accepted(), sender.failed());
  };
  while (std::getline(*in, line)) {
    ++line_number;
    if (Trim(line).empty()) continue;
    if (line.size() + 1 > max_bytes) {
      fmt::print(stderr, "sluice send: line {}: {} bytes, over max_request_bytes of the stream; skipped\n", line_number,
                 line.size());
      ++skipped;
      continue;
    }
    if (batch.lines.size() >= static_cast<size_t>(limits.max_request_records) ||
        batch.body.size() + line.size() + 1 > max_bytes) {
      flush();
    }
    batch.body += line;
    batch.body += '\n';
    batch.lines.push_back(line_number);
  }
  flush();
  if (progress) fmt::print(stderr, "\n");
  size_t failed = sender.failed() + skipped;
  fmt::print("{} records accepted by stream {}, {} failed{}\n", sender.accepted(), options.stream, failed,
             sender.throttled() > 0 ? fmt::format(" ({} throttled batches retried)", sender.throttled()) : "");
  return failed > 0 || refused ? kExitFailed : kExitOk;
}

}  // namespace

void AddSendCommand(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<SendOptions>();
  auto* send =
      app.add_subcommand("send", "Post NDJSON records to a stream of a running sluice serve (docs/streams.md)");
  send->add_option("STREAM", options->stream, "the stream's name (streams: in sluice.yaml)")->required();
  send->add_option("FILE", options->file, "an NDJSON file, or - for standard input")->required();
  send->add_option("--url", options->url, "the server, e.g. http://127.0.0.1:8080; default: server.listen");
  send->add_option("--max-attempts", options->max_attempts, "tries per batch on 429, 503 or a broken connection")
      ->check(CLI::PositiveNumber);
  send->footer(
      "Exit codes: 0 every record accepted, 1 some records failed or a batch was refused, 2 usage or config error.");
  send->callback([&context, options] { context.action = [&context, options] { return RunSend(context, *options); }; });
}

}  // namespace sluice::cli
