#include <fmt/format.h>
#include <zlib.h>

#include <array>
#include <fstream>
#include <random>

#include "cli/cli_context.hpp"

namespace sluice::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kProjectYaml = R"(project: demo
lake: ./lake                          # a local folder, or s3://bucket/prefix (keys under s3:)
catalog: .sluice/catalog.db           # SQLite file holding tables, versions, runs and job state
engine:
  memory_limit: 2GB                   # DuckDB spills to .sluice/tmp beyond this
)";

constexpr const char* kPipelineYaml = R"(name: birdstrikes
source:
  type: files
  path: incoming/birdstrikes*.csv     # glob; .gz and .zip are read transparently
  format: csv                         # csv | json | parquet; omitted = from extension
target:
  zone: raw
  table: birdstrikes
on_error: quarantine                  # fail (default) | quarantine → raw.birdstrikes__rejects
)";

constexpr const char* kReadme = R"(# A sluice project

    sluice run birdstrikes                       # load incoming/birdstrikes*.csv into raw.birdstrikes
    sluice query "SELECT state, count(*) AS strikes, sum(cost_usd) AS cost
                  FROM raw.birdstrikes GROUP BY state ORDER BY strikes DESC LIMIT 5"
    sluice catalog show raw.birdstrikes
    sluice query "SELECT * FROM raw.birdstrikes__rejects"   # the malformed line, with its line number
    sluice runs

Run `sluice run birdstrikes` again: files already loaded are skipped ("no changes").
Drop another incoming/birdstrikes_*.csv and run again: only the new file is loaded.
)";

/// Deterministic sample rows so every `sluice init` shows the same numbers.
std::string SampleCsv(int year, int rows, uint32_t seed, bool with_messy_lines) {
  static constexpr std::array<const char*, 8> kAirports = {"DEN", "DFW", "ORD", "ATL", "JFK", "SFO", "SEA", "MSP"};
  static constexpr std::array<const char*, 8> kStates = {"CO", "TX", "IL", "GA", "NY", "CA", "WA", "MN"};
  static constexpr std::array<const char*, 5> kAircraft = {"B-737", "A-320", "CRJ-200", "B-757", "E-175"};
  static constexpr std::array<const char*, 5> kPhases = {"Approach", "Landing Roll", "Take-off run", "Climb",
                                                         "Descent"};
  static constexpr std::array<const char*, 6> kSpecies = {"Mourning dove",     "Killdeer",        "Barn swallow",
                                                          "European starling", "Red-tailed hawk", "Unknown bird"};
  static constexpr std::array<const char*, 4> kDamage = {"None", "Minor", "Substantial", "Destroyed"};
  std::mt19937 rng(seed);
  auto pick = [&](const auto& values) { return values[rng() % values.size()]; };
  std::string out =
      "id,incident_date,airport,state,aircraft,phase_of_flight,species,damage,cost_usd,altitude_ft,remarks\n";
  for (int i = 1; i <= rows; ++i) {
    int airport = static_cast<int>(rng() % kAirports.size());
    int month = 1 + static_cast<int>(rng() % 12), day = 1 + static_cast<int>(rng() % 28);
    const char* damage = kDamage[rng() % 100 < 80 ? 0 : 1 + rng() % 3];
    int cost = damage == kDamage[0] ? 0 : static_cast<int>(rng() % 250000);
    std::string remarks =
        rng() % 7 == 0 ? "\"struck windshield, no injuries\"" : (rng() % 5 == 0 ? "" : "routine report");
    out += fmt::format("{},{}-{:02d}-{:02d},{},{},{},{},{},{},{},{},{}\n", year * 100000 + i, year, month, day,
                       kAirports[airport], kStates[airport], pick(kAircraft), pick(kPhases), pick(kSpecies), damage,
                       cost, rng() % 3000, remarks);
    if (with_messy_lines && i == rows / 2) {
      out += fmt::format("{},{}-06-31,DEN,CO,B-737\n", year * 100000 + 99999, year);  // truncated by an export tool
    }
  }
  return out;
}

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write '{}'", path.string());
  return Status::OK();
}

Status WriteGzip(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IoError("cannot write '{}'", path.string());
  int written = gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  int closed = gzclose(f);
  if (written != static_cast<int>(text.size()) || closed != Z_OK)
    return Status::IoError("cannot write '{}'", path.string());
  return Status::OK();
}

Status InitProject(const fs::path& dir, bool force) {
  if (fs::exists(dir / "sluice.yaml") && !force) {
    return Status::AlreadyExists("'{}' already holds a sluice project (sluice.yaml); pass --force to overwrite it",
                                 dir.string());
  }
  std::error_code ec;
  for (const auto& sub : {"pipelines", "incoming"}) {
    fs::create_directories(dir / sub, ec);
    if (ec) return Status::IoError("cannot create '{}': {}", (dir / sub).string(), ec.message());
  }
  SLUICE_TRY(WriteText(dir / "sluice.yaml", kProjectYaml));
  SLUICE_TRY(WriteText(dir / "pipelines" / "birdstrikes.yaml", kPipelineYaml));
  SLUICE_TRY(WriteText(dir / "README.md", kReadme));
  SLUICE_TRY(WriteText(dir / ".gitignore", ".sluice/\nlake/\n"));
  SLUICE_TRY(WriteText(dir / "incoming" / "birdstrikes_2024.csv", SampleCsv(2024, 5000, 2024, true)));
  SLUICE_TRY(WriteGzip(dir / "incoming" / "birdstrikes_2025.csv.gz", SampleCsv(2025, 3000, 2025, false)));
  return Status::OK();
}

}  // namespace

void AddInitCommand(CLI::App& app, CliContext& context) {
  struct Args {
    std::string dir;
    bool force = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("init", "Create a working example project (config, a pipeline, sample data)");
  cmd->add_option("DIR", args->dir, "folder to create the project in")->required();
  cmd->add_flag("--force", args->force, "overwrite an existing project's example files");
  cmd->callback([&context, args] {
    context.action = [&context, args]() -> int {
      fs::path dir = fs::absolute(args->dir);
      Status st = InitProject(dir, args->force);
      if (!st.ok()) return ReportError(context, st);
      fmt::print(
          "created a sluice project in {}\n\n  cd {}\n  sluice run birdstrikes\n"
          "  sluice query \"SELECT count(*) FROM raw.birdstrikes\"\n\nsee {}/README.md for more\n",
          dir.string(), dir.string(), dir.string());
      return kExitOk;
    };
  });
}

}  // namespace sluice::cli
