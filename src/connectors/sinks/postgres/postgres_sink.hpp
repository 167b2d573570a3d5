#pragma once

#include "connectors/sink.hpp"

namespace sluice::connectors {

/// `target: { connection: <a postgres connection>, schema: …, table: …, write: append | replace | merge }`.
SinkDescriptor PostgresSinkDescriptor();

}  // namespace sluice::connectors
