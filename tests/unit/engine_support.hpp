#pragma once

// An in-memory engine and one connection for a test fixture, opened the same way everywhere.

#include <gtest/gtest.h>

#include <memory>

#include "engine/engine.hpp"

namespace sluice::test_support {

/// Mixed into a fixture: call OpenEngine() from SetUp (inside ASSERT_NO_FATAL_FAILURE), then use db_ and conn_.
class WithEngine {
 protected:
  void OpenEngine() {
    auto db = engine::Database::Open({});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(db).value();
    auto conn = db_->Connect();
    ASSERT_TRUE(conn.ok()) << conn.status();
    conn_ = std::move(conn).value();
  }

  std::unique_ptr<engine::Database> db_;
  std::unique_ptr<engine::Connection> conn_;
};

}  // namespace sluice::test_support
