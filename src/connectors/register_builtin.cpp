#include "connectors/sink.hpp"
#include "connectors/source.hpp"
#include "connectors/sinks/postgres/postgres_sink.hpp"
#include "connectors/sources/files/files_source.hpp"
#include "connectors/sources/http/http_source.hpp"
#include "connectors/sources/postgres/postgres_source.hpp"

namespace sluice::connectors {

// One line per source plug-in; tests/unit/connectors asserts the full list.
void RegisterBuiltinSources(SourceRegistry& registry) {
  (void)registry.Register(FilesSourceDescriptor());
  (void)registry.Register(PostgresSourceDescriptor());
  (void)registry.Register(HttpSourceDescriptor());
}

// One line per sink plug-in (targets outside the lake); tests/unit/connectors asserts the full list.
void RegisterBuiltinSinks(SinkRegistry& registry) {
  (void)registry.Register(PostgresSinkDescriptor());
}

}  // namespace sluice::connectors
