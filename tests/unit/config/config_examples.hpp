#pragma once

// The examples of the public configuration contract (CONFIG.md), copied verbatim: they must
// keep working as written.

namespace sluice::config::testing {

inline constexpr const char* kSluiceYaml = R"yaml(project: acme
lake: ./lake                          # a local folder, or s3://bucket/prefix
catalog: .sluice/catalog.db           # SQLite file (default), or postgresql://…
s3:                                   # used when lake (or a source) is s3://
  endpoint: http://127.0.0.1:4568     # omit for AWS
  region: us-east-1
  access_key_id: ${env:AWS_ACCESS_KEY_ID}
  secret_access_key: ${env:AWS_SECRET_ACCESS_KEY}
  path_style: true
connections:
  registry:
    type: postgres
    url: postgresql://etl@127.0.0.1:5432/registry
    password: ${env:REGISTRY_PASSWORD}
notifications:
  ops-mail:
    type: email
    smtp: { host: 127.0.0.1, port: 8025, tls: none }   # none | starttls | tls
    from: sluice@acme.test
    to: [data-team@acme.test]
  ops-hook:
    type: webhook
    url: http://127.0.0.1:9000/hook
server:
  listen: 127.0.0.1:8080
  token: ${env:SLUICE_TOKEN}
query:
  max_bytes_scanned: 10GB             # per query; like a query workgroup's limit
  result_location: ./query-results
environments:                         # `--env prod` overlays these keys
  prod:
    lake: s3://acme-lake/prod
    catalog: postgresql://sluice@meta.internal/sluice
)yaml";

inline constexpr const char* kBirdstrikesYaml = R"yaml(name: birdstrikes
source:
  type: files
  path: incoming/birdstrikes*.csv     # glob; .gz and .zip are read transparently
  format: csv                         # csv | json | parquet; omitted = from extension
target:
  zone: raw
  table: birdstrikes
on_error: quarantine                  # fail (default) | quarantine → raw.birdstrikes__rejects
)yaml";

inline constexpr const char* kCompoundsYaml = R"yaml(name: compounds
triggers:
  - schedule: "0 2 * * *"
notify:
  on_failure: [ops-mail]
source:
  connection: registry                # or inline: type/url/password
  table: public.compounds
mode: changes                         # full | incremental | window | changes | cdc
primary_key: [id]
deletes: mark                         # ignore (default) | mark (_change_type = delete)
target:
  zone: raw
  table: compounds                    # → raw/registry/compounds/original/incremental/_load_date=…/
)yaml";

inline constexpr const char* kDepositsYaml = R"yaml(name: deposits
source:
  connection: bank
  table: public.deposits
mode: window
window:
  column: shipmt_date_tstmp
  start: "2018-11-04 00:00:00"        # first window; afterwards the stored window is used
  stop: "2018-11-05 00:00:00"
  step: 1 day                          # rotation after each successful run
partitioning:                          # parallel reads inside one consistent snapshot
  column: quarter
  lower_bound: 1
  upper_bound: 1000
  num_partitions: 10
mask:                                  # also write …/masked/… with these columns protected
  account_number: hash
  customer_name: redact
target:
  zone: raw
  table: deposits
)yaml";

inline constexpr const char* kWorldbankYaml = R"yaml(name: worldbank
triggers:
  - on_demand: true
jobs:
  extract:
    source: { type: http, url: "http://127.0.0.1:8000/indicators.zip", format: csv }
    target: { zone: raw, table: indicators }
  clean:
    depends_on: [extract]             # default condition: success
    source: { table: raw.indicators } # only files committed since this job's last run
    steps:
      - clean: { names: snake_case, dedupe: true, types: { year: integer, value: double } }
      - add_columns: { etl_timestamp: now(), source_filename: _source_file }
    checks:
      - not_null: [country, year]
      - unique: [country, year, indicator]
    target: { zone: silver, table: indicators }
  by_country:
    depends_on: [clean]
    source: { table: silver.indicators }
    target: { zone: gold, table: indicators_by_country, partition_by: [country], write: overwrite }
)yaml";

inline constexpr const char* kTriggersFragment = R"yaml(triggers:
  - schedule: "*/15 * * * *"          # cron, 5 fields (6 with seconds)
    timezone: Europe/Berlin
  - file_arrival:
      path: incoming/                  # folder or s3:// prefix
      require: [orders*.csv, reviews*.csv, shipments*.csv]   # run when all have arrived
      settle: 30s                      # ignore files still being written
      max_runs: 1 per day
  - on_success: other_pipeline
  - webhook: true                      # POST /api/v1/pipelines/NAME/trigger
)yaml";

}  // namespace sluice::config::testing
