#pragma once

#include <span>

namespace sluice::catalog {

/// The catalog's schema steps: element N-1 brings a catalog from schema version N-1 to N
/// (SqliteMetadataStore::Migrate applies the missing ones in one transaction).
std::span<const char* const> CatalogMigrations();

}  // namespace sluice::catalog
