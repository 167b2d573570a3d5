#include "config/project.hpp"

#include <fmt/format.h>

#include "common/strings.hpp"
#include "config/document.hpp"
#include "config/stream.hpp"

namespace sluice::config {

namespace fs = std::filesystem;
using internal::Prefix;

const std::vector<OptionSpec>& ProjectKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"project", OptionType::kString, "", false, false,
       "name of the project, shown in logs, run records and the UI; default: the name of its folder"},
      {"lake", OptionType::kString, "./lake", false, false,
       "where tables are stored: a local folder (relative to sluice.yaml) or s3://bucket/prefix"},
      {"catalog", OptionType::kString, ".sluice/catalog.db", false, false,
       "metadata store: a SQLite file (relative to sluice.yaml); postgresql://user@host:port/db is reserved for the "
       "shared store, which is not built yet (refused when opened)"},
      {"table_format", OptionType::kString, "none", false, false,
       "open table format kept beside every table: none, or iceberg (Iceberg v2 metadata written by every "
       "commit, see docs/iceberg.md)"},
      {"s3", OptionType::kMap, "", false, false, "S3 settings, used when the lake or a source is s3:// (keys below)"},
      {"connections", OptionType::kMap, "", false, false,
       "named connections that sources use with connection: NAME; each is a map with a type: (the connector) "
       "and that connector's keys"},
      {"notifications", OptionType::kMap, "", false, false,
       "named notification targets that pipelines use in notify:; each is a map with a type: (email, webhook)"},
      {"server", OptionType::kMap, "", false, false, "settings of sluice serve (listen, token, ...)"},
      {"query", OptionType::kMap, "", false, false,
       "settings of sluice query (max_bytes_scanned, result_location, ...)"},
      {"engine", OptionType::kMap, "", false, false,
       "settings of the embedded engine: memory_limit, threads, temp_directory (keys below)"},
      {"defaults", OptionType::kMap, "", false, false, "defaults for every job of every pipeline"},
      {"masking", OptionType::kMap, "", false, false,
       "settings of mask: (key: the secret of keyed hashes, e.g. key: \"${env:SLUICE_MASK_KEY}\")"},
      {"streams", OptionType::kMap, "", false, false,
       "event streams sluice serve accepts over HTTP and lands in lake tables (docs/streams.md)"},
      {"environments", OptionType::kMap, "", false, false,
       "named overlays chosen with --env NAME: maps merge key by key, lists and values replace"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& QueryKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"max_bytes_scanned", OptionType::kByteSize, "", false, false,
       "refuse a query whose files, after partition pruning, exceed this size (e.g. 10GB); omitted = no limit"},
      {"result_location", OptionType::kString, "", false, false,
       "where sluice query --save writes results: a folder (relative to sluice.yaml) or s3://bucket/prefix"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& EngineKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"memory_limit", OptionType::kString, "2GB", false, false,
       "most memory the engine holds per process (DuckDB's form: 4GB, 512MB); larger work spills to temp_directory"},
      {"threads", OptionType::kInt, "0", false, false, "engine threads; 0 = one per core"},
      {"temp_directory", OptionType::kString, "", false, false,
       "where the engine spills (relative to sluice.yaml); each process uses its own <pid>-<random>/ inside; "
       "omitted = .sluice/tmp"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& ServerKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"listen", OptionType::kString, "127.0.0.1:8080", false, false,
       "HOST:PORT to listen on; port 0 picks a free one (printed at start); [::1]:8080 for IPv6. Anything but a "
       "loopback address needs token"},
      {"token", OptionType::kString, "", false, true,
       "bearer token every /api/v1/ call must send; unset, sluice serve generates one into .sluice/api_token (a "
       "pipeline's own webhook token, docs/triggers.md, may instead start that pipeline as configured, and do "
       "nothing else)"},
      {"max_concurrent_runs", OptionType::kInt, "2", false, false,
       "runs executing at once over all pipelines; one per pipeline always"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& S3Keys() {
  static const std::vector<OptionSpec> kKeys = {
      {"endpoint", OptionType::kString, "", false, false,
       "http(s)://host:port of an S3-compatible server; omit for AWS"},
      {"region", OptionType::kString, "", false, false,
       "region used for signing requests; omitted = $AWS_REGION, else $AWS_DEFAULT_REGION, else us-east-1"},
      {"access_key_id", OptionType::kString, "", false, true, "access key id"},
      {"secret_access_key", OptionType::kString, "", false, true, "secret access key"},
      {"session_token", OptionType::kString, "", false, true, "session token of temporary credentials"},
      {"profile", OptionType::kString, "", false, false, "profile of ~/.aws/credentials to take the keys from"},
      {"path_style", OptionType::kBool, "", false, false,
       "address buckets as endpoint/bucket/key instead of bucket.endpoint/key; default true with an endpoint "
       "(local S3 servers), false for AWS"},
      {"verify_tls", OptionType::kBool, "true", false, false,
       "check the server's TLS certificate; false is unsafe (accepts any server) and only for test endpoints"},
      // transfer tuning
      {"part_size", OptionType::kByteSize, "8MiB", false, false,
       "multipart upload part size; objects above it are uploaded in parts (AWS minimum 5MiB)"},
      {"upload_concurrency", OptionType::kInt, "4", false, false,
       "multipart parts uploaded at once (memory: this many parts plus one per upload); 1 = one after another"},
      {"max_attempts", OptionType::kInt, "6", false, false,
       "tries per request (retries with exponential backoff and jitter on throttling, 5xx, timeouts)"},
      {"cache_size", OptionType::kByteSize, "10GiB", false, false,
       "size limit of the local read-through cache (.sluice/cache) that queries read S3 tables from"},
  };
  return kKeys;
}

const std::vector<OptionSpec>& MaskingKeys() {
  static const std::vector<OptionSpec> kKeys = {
      {"key", OptionType::kString, "", false, true,
       "secret key of mask: hash (HMAC-SHA256); keep it stable, or hashed values stop matching earlier loads"},
  };
  return kKeys;
}

fs::path ResolveProjectPath(const ProjectConfig& project, std::string_view text) {
  fs::path path(text);
  if (!path.is_absolute()) path = project.root / path;
  return path.lexically_normal();
}

namespace {

/// connections: / notifications: — each entry a map with a type.
void CheckNamedSections(const Value& section, std::string_view section_name, std::string_view example,
                        std::vector<std::string>* errors) {
  if (!section.IsMap()) return;  // a wrong type is reported by ValidateOptions
  for (const auto& [name, entry] : section.entries()) {
    Location key_loc = section.KeyLocation(name);
    if (!internal::IsPlainName(name)) {
      errors->push_back(fmt::format("{}{} name '{}' may only use letters, digits, '_', '-' and '.'", Prefix(key_loc),
                                    section_name, name));
    }
    if (!entry.IsMap()) {
      errors->push_back(
          fmt::format("{}{}.{} must be a map with a type:, e.g. {}", Prefix(key_loc), section_name, name, example));
      continue;
    }
    const Value* type = entry.Find("type");
    if (type == nullptr || type->IsNull()) {
      errors->push_back(fmt::format("{}{}.{} needs a type:, e.g. {}", Prefix(key_loc), section_name, name, example));
    } else if (!type->IsScalar()) {
      errors->push_back(fmt::format("{}{}.{}.type must be a name such as {}, got a {}", Prefix(type->location()),
                                    section_name, name, example, type->IsList() ? "list" : "map"));
    }
  }
}

std::string ReadString(const Value& doc, std::string_view key, std::string fallback, std::vector<std::string>* errors) {
  auto value = doc.GetString(key, std::move(fallback));
  if (!value.ok()) {
    errors->push_back(value.status().message());
    return "";
  }
  return *value;
}

/// A value for a message: masked when it came from a secret reference.
std::string Shown(const Value& value, const std::string& text) {
  return value.is_secret() ? std::string(Redactor::kMask) : text;
}

/// What the chosen environment's overlay does to the stores, read before the overlay is merged.
struct EnvironmentStores {
  bool moves_lake = false;    // it sets lake: to something else than the base file
  bool sets_catalog = false;  // it sets catalog:
  Location where;             // the overlay, for messages
};

EnvironmentStores ChosenEnvironmentStores(const Value& doc, const std::string& env) {
  EnvironmentStores stores;
  if (env.empty() || !doc.IsMap()) return stores;
  const Value* environments = doc.Find("environments");
  const Value* overlay = environments != nullptr && environments->IsMap() ? environments->Find(env) : nullptr;
  if (overlay == nullptr || !overlay->IsMap()) return stores;
  stores.where = environments->KeyLocation(env);
  const Value* catalog = overlay->Find("catalog");
  stores.sets_catalog = catalog != nullptr && !catalog->IsNull();
  const Value* lake = overlay->Find("lake");
  if (lake != nullptr && lake->IsScalar()) {
    const Value* base_lake = doc.Find("lake");
    std::string base_text = base_lake != nullptr && base_lake->IsScalar() ? base_lake->scalar() : "./lake";
    stores.moves_lake = fs::path(lake->scalar()).lexically_normal() != fs::path(base_text).lexically_normal();
  }
  return stores;
}

Value Section(const Value& doc, std::string_view key) {
  const Value* v = doc.Find(key);
  return v == nullptr ? Value() : *v;
}

/// Resolves the references of `doc`, except that a problem inside one connection or notification, or
/// inside server: or streams:, goes to config->unresolved under that part's key instead of `errors`:
/// only the commands using that part need its variables to be set.
void ResolveDeferringParts(Value* doc, const ParseOptions& resolve, ProjectConfig* config,
                           std::vector<std::string>* errors) {
  auto resolve_part = [&](Value* part, const std::string& key) {
    std::vector<std::string> problems;
    internal::ResolveReferences(part, resolve, &problems);
    if (!problems.empty()) config->unresolved[key] = Join(problems, "\n");
  };
  for (auto& [key, section] : internal::ValueAccess::Entries(doc)) {
    if ((key == "connections" || key == "notifications") && section.IsMap()) {
      for (auto& [name, entry] : internal::ValueAccess::Entries(&section)) resolve_part(&entry, key + "." + name);
    } else if (key == "server" || key == "streams") {
      resolve_part(&section, key);
    } else {
      internal::ResolveReferences(&section, resolve, errors);
    }
  }
}

}  // namespace

Status ProjectConfig::CheckResolved(const std::string& part, std::string_view user) const {
  auto problem = unresolved.find(part);
  if (problem == unresolved.end()) return Status::OK();
  return Status::Invalid("{} ({} needs {})", problem->second, user, part);
}

Result<ProjectConfig> LoadProject(const fs::path& path, const LoadOptions& options) {
  std::error_code ec;
  fs::path given = fs::absolute(path, ec).lexically_normal();
  if (ec) return Status::Invalid("cannot make '{}' absolute: {}", path.string(), ec.message());
  fs::path file = given;
  if (fs::is_directory(given, ec)) {
    file = given / "sluice.yaml";
    if (!fs::exists(file, ec) && fs::exists(given / "sluice.yml", ec)) file = given / "sluice.yml";
  }
  if (!fs::is_regular_file(file, ec)) {
    return Status::NotFound(
        "no project file at '{}'; pass the folder holding sluice.yaml, or create one with "
        "`sluice init DIR`",
        file.string());
  }

  ProjectConfig config;
  config.file = file;
  config.root = file.parent_path();
  config.env = options.env;
  const std::string display = file.filename().string();

  std::vector<std::string> errors;
  SLUICE_ASSIGN_OR_RETURN(Value doc, internal::ParseFileUnresolved(file, display, &errors));
  if (doc.IsNull()) doc = Value::Map({}, Location{display, 0, 0});
  if (!doc.IsMap()) {
    return Status::Invalid("{}{} must be a map of settings (project:, lake:, ...), got {}", Prefix(doc.location()),
                           display, doc.IsList() ? "a list" : "a single value");
  }

  const EnvironmentStores stores = ChosenEnvironmentStores(doc, options.env);
  config.environments = internal::ApplyEnvironment(&doc, options.env, display, ProjectKeys(), true, &errors);
  ResolveDeferringParts(&doc, ParseOptions{config.root, options.redactor, options.getenv}, &config, &errors);
  ValidateOptions(doc, ProjectKeys(), display, &errors);

  config.project = ReadString(doc, "project", config.root.filename().string(), &errors);
  if (const Value* name = doc.Find("project"); name != nullptr && name->IsScalar() && name->scalar().empty()) {
    errors.push_back(fmt::format("{}project: must not be empty", Prefix(doc.KeyLocation("project"))));
  }

  std::string lake = ReadString(doc, "lake", "./lake", &errors);
  if (StartsWith(lake, "file://")) lake = lake.substr(7);
  if (StartsWith(lake, "s3://")) {
    if (lake.size() <= 5 || lake[5] == '/') {
      errors.push_back(fmt::format("{}lake '{}' names no bucket; write s3://bucket or s3://bucket/prefix",
                                   Prefix(Section(doc, "lake").location()), Shown(Section(doc, "lake"), lake)));
    }
    config.lake = lake;
  } else if (lake.find("://") != std::string::npos) {
    errors.push_back(
        fmt::format("{}lake '{}' is neither a local folder nor s3://bucket/prefix; other stores are "
                    "not supported",
                    Prefix(Section(doc, "lake").location()), Shown(Section(doc, "lake"), lake)));
  } else if (lake.empty()) {
    errors.push_back(fmt::format("{}lake: must not be empty; write a folder such as ./lake or s3://bucket/prefix",
                                 Prefix(doc.KeyLocation("lake"))));
  } else {
    config.lake = ResolveProjectPath(config, lake).string();
  }

  config.table_format = ReadString(doc, "table_format", "none", &errors);
  if (config.table_format != "none" && config.table_format != "iceberg") {
    errors.push_back(fmt::format("{}table_format '{}' is not known; write none or iceberg",
                                 Prefix(Section(doc, "table_format").location()), config.table_format));
  }

  std::string catalog = ReadString(doc, "catalog", ".sluice/catalog.db", &errors);
  if (StartsWith(catalog, "postgresql://") || StartsWith(catalog, "postgres://")) {
    config.catalog = catalog;
  } else if (catalog.find("://") != std::string::npos) {
    errors.push_back(
        fmt::format("{}catalog '{}' is neither a SQLite file nor postgresql://…; those are the "
                    "supported metadata stores",
                    Prefix(Section(doc, "catalog").location()), Shown(Section(doc, "catalog"), catalog)));
  } else if (catalog.empty()) {
    errors.push_back(fmt::format("{}catalog: must not be empty; write a file such as .sluice/catalog.db",
                                 Prefix(doc.KeyLocation("catalog"))));
  } else {
    config.catalog = ResolveProjectPath(config, catalog).string();
  }
  if (stores.moves_lake && !stores.sets_catalog && !config.catalog.empty()) {
    // A catalog lists the files of one lake: sharing the default's catalog with another lake would make this
    // environment skip files the default already loaded (they are not in this lake) and list tables whose
    // files it does not have.
    if (!internal::IsPlainName(options.env)) {
      errors.push_back(
          fmt::format("{}environment '{}' moves the lake but sets no catalog:, and its name cannot be "
                      "part of a file name; set catalog: in environments.{} too",
                      Prefix(stores.where), options.env, options.env));
    } else if (StartsWith(config.catalog, "postgresql://") || StartsWith(config.catalog, "postgres://")) {
      errors.push_back(fmt::format(
          "{}environment '{}' moves the lake but keeps the shared catalog of the default environment, whose "
          "records describe the other lake; set catalog: in environments.{} too (another database), e.g. "
          "catalog: \"postgresql://sluice@host/sluice_{}\"",
          Prefix(stores.where), options.env, options.env, options.env));
    } else {
      fs::path path(config.catalog);
      config.catalog =
          (path.parent_path() / fmt::format("{}-{}{}", path.stem().string(), options.env, path.extension().string()))
              .string();
    }
  }

  config.s3 = Section(doc, "s3");
  ValidateOptions(config.s3, S3Keys(), fmt::format("s3 of {}", display), &errors);
  config.connections = Section(doc, "connections");
  CheckNamedSections(config.connections, "connections",
                     "{ type: postgres, url: \"postgresql://user@host/db\", password: \"${env:PW}\" }", &errors);
  config.notifications = Section(doc, "notifications");
  CheckNamedSections(config.notifications, "notifications", "{ type: webhook, url: http://host/hook }", &errors);
  config.server = Section(doc, "server");
  ValidateOptions(config.server, ServerKeys(), fmt::format("server of {}", display), &errors);
  config.query = Section(doc, "query");
  ValidateOptions(config.query, QueryKeys(), fmt::format("query of {}", display), &errors);
  config.engine = Section(doc, "engine");
  ValidateOptions(config.engine, EngineKeys(), fmt::format("engine of {}", display), &errors);
  config.defaults = Section(doc, "defaults");
  config.masking = Section(doc, "masking");
  ValidateOptions(config.masking, MaskingKeys(), fmt::format("masking of {}", display), &errors);
  ReadStreams(Section(doc, "streams"), display, &errors);  // checked here; sluice serve reads them again
  config.raw = std::move(doc);

  if (!errors.empty()) return ErrorsToStatus(errors);
  return config;
}

}  // namespace sluice::config
