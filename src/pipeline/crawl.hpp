#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "catalog/metadata_store.hpp"
#include "common/ids.hpp"
#include "common/status.hpp"
#include "engine/engine.hpp"
#include "storage/object_store.hpp"

namespace sluice::pipeline {

struct CrawlRequest {
  std::string path;  // local folder or s3://bucket/prefix holding data files
  std::string zone;
  std::string table;              // "" = one table per top-level folder of `path`; else all of `path` is this table
  std::filesystem::path scratch;  // private local folder for converted files
  RunId run_id;
  storage::s3::S3Options s3;  // how to reach an s3:// path (the project's s3: block)
};

struct CrawledTable {
  std::string table;    // zone.table
  int64_t version = 0;  // 0 when nothing new was found
  int64_t files_added = 0, files_known = 0, rows_added = 0;
  std::vector<std::string> partition_columns;
  std::string placement;  // "referenced in place" | "copied into the lake" | "converted to Parquet in the lake"
};

/// Registers folders of existing Parquet / CSV / JSON files (hive-style k=v/ folders become
/// partition columns) as catalog tables with the schema DuckDB infers. Parquet files under the
/// lake root are referenced where they are; other Parquet files are copied into the lake and
/// CSV/JSON files converted to Parquet there (zone/crawled/table/...). Each table is one commit
/// that also records the crawled files (local ones by path, size and mtime; S3 objects by key, size
/// and ETag), so crawling again adds only files not seen before. S3 objects are downloaded to
/// `scratch` to be read; those that stay in place are deleted from it again.
Result<std::vector<CrawledTable>> Crawl(catalog::MetadataStore& catalog, storage::ObjectStore& lake,
                                        engine::Connection& connection, const CrawlRequest& request);

}  // namespace sluice::pipeline
