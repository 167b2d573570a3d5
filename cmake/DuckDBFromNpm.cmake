# DuckDBFromNpm.cmake -- prebuilt DuckDB (C API) from the npm registry.
#   libduckdb.so : @duckdb/node-bindings-linux-x64@<DUCKDB_NPM_BINDINGS_VERSION>  (package/libduckdb.so)
#   duckdb.h     : duckdb@<DUCKDB_NPM_HEADER_VERSION>  (package/src/duckdb/src/include/duckdb.h)
# Defines the IMPORTED target DuckDB::duckdb.  Runs at configure time; tarballs are
# verified by SHA-256 and kept in DUCKDB_NPM_CACHE_DIR, so a re-configure (or a fresh
# build dir pointing at a shared cache dir) does not call npm again.
include_guard(GLOBAL)

set(DUCKDB_NPM_BINDINGS_VERSION "1.4.4-r.4" CACHE STRING "@duckdb/node-bindings-linux-x64 version")
set(DUCKDB_NPM_HEADER_VERSION   "1.4.4"     CACHE STRING "duckdb (npm) version providing duckdb.h")
set(DUCKDB_NPM_CACHE_DIR "${CMAKE_SOURCE_DIR}/.cache/duckdb" CACHE PATH "Download/extract dir for DuckDB npm tarballs")
# Pinned hashes (sha256 of the .tgz; npm's own sha512 'integrity' is checked by npm itself)
set(_duckdb_lib_sha256 "732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b")
set(_duckdb_hdr_sha256 "5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed")

function(_duckdb_npm_fetch spec tgz_name sha256 out_var)
  set(tgz "${DUCKDB_NPM_CACHE_DIR}/${tgz_name}")
  if(EXISTS "${tgz}")
    file(SHA256 "${tgz}" have)
    if(NOT have STREQUAL sha256)
      message(STATUS "DuckDB: ${tgz_name} hash mismatch, re-downloading")
      file(REMOVE "${tgz}")
    endif()
  endif()
  if(NOT EXISTS "${tgz}")
    find_program(NPM_EXECUTABLE npm REQUIRED)
    file(MAKE_DIRECTORY "${DUCKDB_NPM_CACHE_DIR}")
    message(STATUS "DuckDB: npm pack ${spec}")
    execute_process(
      COMMAND "${NPM_EXECUTABLE}" pack "${spec}" --pack-destination "${DUCKDB_NPM_CACHE_DIR}" --silent
              --ignore-scripts --no-audit --no-fund
      WORKING_DIRECTORY "${DUCKDB_NPM_CACHE_DIR}"
      RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0 OR NOT EXISTS "${tgz}")
      message(FATAL_ERROR "npm pack ${spec} failed (rc=${rc}): ${out}\n${err}")
    endif()
    file(SHA256 "${tgz}" have)
    if(NOT have STREQUAL sha256)
      message(FATAL_ERROR "DuckDB: ${tgz_name} sha256 ${have} != pinned ${sha256}")
    endif()
  endif()
  set(${out_var} "${tgz}" PARENT_SCOPE)
endfunction()

set(_duckdb_root "${DUCKDB_NPM_CACHE_DIR}/duckdb-${DUCKDB_NPM_BINDINGS_VERSION}")
set(DUCKDB_LIBRARY     "${_duckdb_root}/lib/libduckdb.so")
set(DUCKDB_INCLUDE_DIR "${_duckdb_root}/include")

if(NOT EXISTS "${DUCKDB_LIBRARY}" OR NOT EXISTS "${DUCKDB_INCLUDE_DIR}/duckdb.h")
  _duckdb_npm_fetch("@duckdb/node-bindings-linux-x64@${DUCKDB_NPM_BINDINGS_VERSION}"
                    "duckdb-node-bindings-linux-x64-${DUCKDB_NPM_BINDINGS_VERSION}.tgz"
                    "${_duckdb_lib_sha256}" _lib_tgz)
  _duckdb_npm_fetch("duckdb@${DUCKDB_NPM_HEADER_VERSION}"
                    "duckdb-${DUCKDB_NPM_HEADER_VERSION}.tgz"
                    "${_duckdb_hdr_sha256}" _hdr_tgz)
  set(_tmp "${DUCKDB_NPM_CACHE_DIR}/_extract")
  file(REMOVE_RECURSE "${_tmp}")
  file(ARCHIVE_EXTRACT INPUT "${_lib_tgz}" DESTINATION "${_tmp}" PATTERNS "package/libduckdb.so")
  file(ARCHIVE_EXTRACT INPUT "${_hdr_tgz}" DESTINATION "${_tmp}"
       PATTERNS "package/src/duckdb/src/include/duckdb.h")
  file(MAKE_DIRECTORY "${_duckdb_root}/lib" "${_duckdb_root}/include")
  file(RENAME "${_tmp}/package/libduckdb.so" "${DUCKDB_LIBRARY}")
  file(RENAME "${_tmp}/package/src/duckdb/src/include/duckdb.h" "${DUCKDB_INCLUDE_DIR}/duckdb.h")
  file(REMOVE_RECURSE "${_tmp}")
endif()

if(NOT TARGET DuckDB::duckdb)
  add_library(DuckDB::duckdb SHARED IMPORTED GLOBAL)
  set_target_properties(DuckDB::duckdb PROPERTIES
    IMPORTED_LOCATION "${DUCKDB_LIBRARY}"
    IMPORTED_SONAME "libduckdb.so"
    INTERFACE_INCLUDE_DIRECTORIES "${DUCKDB_INCLUDE_DIR}")
endif()
message(STATUS "DuckDB: ${DUCKDB_LIBRARY}")
