#pragma once

#include "connectors/source.hpp"

namespace sluice::connectors {

/// Downloads one URL per run (retries, conditional GET), unpacks .zip/.gz and reads the files
/// with the files source's readers. A download whose content did not change since the last
/// committed one loads nothing.
SourceDescriptor HttpSourceDescriptor();

}  // namespace sluice::connectors
