#include "connectors/postgres/pg_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit/postgres/pg_server.hpp"

namespace sluice::postgres {
namespace {

using testing::PgServerTest;

/// A loopback port with nothing listening on it.
int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 1;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

class PgClientTest : public PgServerTest {};

TEST_F(PgClientTest, ConnectsWithPasswordAndQueriesText) {
  auto pg = Connect();
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg->endpoint(), "127.0.0.1:" + std::to_string(server_->port) + "/postgres");
  EXPECT_GE(pg->server_version(), 150000);
  auto rows = pg->Query(
      "SELECT 1 AS a, NULL::text AS b, 'x''y' AS c, current_user AS who, "
      "current_setting('application_name') AS app, current_setting('client_encoding') AS enc");
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->rows.size(), 1u);
  EXPECT_EQ(rows->Get(0, "a"), "1");
  EXPECT_FALSE(rows->rows[0][1].has_value());
  EXPECT_EQ(rows->Get(0, "c"), "x'y");
  EXPECT_EQ(rows->Get(0, "who"), "sluice");
  EXPECT_EQ(rows->Get(0, "app"), "sluice");
  EXPECT_EQ(rows->Get(0, "enc"), "UTF8");
  // The password really is checked: the role's login goes through scram over TCP.
  auto method = pg->Query("SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = 'sluice'");
  ASSERT_TRUE(method.ok()) << method.status();
  EXPECT_EQ(method->Get(0, "scram"), "t");

  auto params = pg->QueryParams("SELECT $1::int + 1 AS n, $2::text IS NULL AS isnull", {"41", std::nullopt});
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->Get(0, "n"), "42");
  EXPECT_EQ(params->Get(0, "isnull"), "t");
  EXPECT_TRUE(pg->Execute("CREATE TEMP TABLE t (a int); INSERT INTO t VALUES (1), (2)").ok());
  EXPECT_EQ(pg->Query("SELECT count(*) AS n FROM t")->Get(0, "n"), "2");
}

TEST_F(PgClientTest, ApplicationNameFromTheUrlWins) {
  auto pg = PgClient::Connect(server_->url + "?application_name=custom", Secret(server_->password));
  ASSERT_TRUE(pg.ok()) << pg.status();
  EXPECT_EQ((*pg)->Query("SELECT current_setting('application_name') AS a")->Get(0, "a"), "custom");
}

TEST_F(PgClientTest, WrongPasswordFailsWithoutShowingIt) {
  const std::string wrong = "Wrong-Secret-4711";
  auto pg = PgClient::Connect(server_->url, Secret(wrong));
  ASSERT_FALSE(pg.ok());
  const std::string& message = pg.status().message();
  EXPECT_EQ(pg.status().code(), StatusCode::kInvalidArgument) << message;
  EXPECT_FALSE(pg.status().retryable()) << message;
  EXPECT_NE(message.find("127.0.0.1:" + std::to_string(server_->port) + "/postgres"), std::string::npos) << message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(message.find(wrong), std::string::npos) << message;
  EXPECT_EQ(message.find(server_->password), std::string::npos) << message;

  // A password written into the URL itself is not echoed either.
  std::string inline_url =
      "postgresql://sluice:Inline-Bad-Pw-99@127.0.0.1:" + std::to_string(server_->port) + "/postgres";
  auto inline_pw = PgClient::Connect(inline_url, std::nullopt);
  ASSERT_FALSE(inline_pw.ok());
  EXPECT_EQ(inline_pw.status().message().find("Inline-Bad-Pw-99"), std::string::npos) << inline_pw.status();

  // Without any password the server asks for one; still not retryable.
  auto none = PgClient::Connect(server_->url, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_FALSE(none.status().retryable()) << none.status();
}

TEST_F(PgClientTest, UnknownDatabaseIsNotRetryable) {
  std::string url = "postgresql://sluice@127.0.0.1:" + std::to_string(server_->port) + "/no_such_db";
  auto pg = PgClient::Connect(url, Secret(server_->password));
  ASSERT_FALSE(pg.ok());
  EXPECT_FALSE(pg.status().retryable()) << pg.status();
  EXPECT_NE(pg.status().message().find("/no_such_db"), std::string::npos) << pg.status();
}

TEST_F(PgClientTest, RefusedConnectionIsRetryable) {
  int port = UnusedPort();
  ConnectOptions options;
  options.connect_timeout_seconds = 5;
  auto pg = PgClient::Connect("postgresql://sluice@127.0.0.1:" + std::to_string(port) + "/postgres",
                              Secret("Some-Password-123"), options);
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), StatusCode::kUnavailable) << pg.status();
  EXPECT_TRUE(pg.status().retryable());
  EXPECT_NE(pg.status().message().find("127.0.0.1:" + std::to_string(port) + "/postgres"), std::string::npos);
  EXPECT_EQ(pg.status().message().find("Some-Password-123"), std::string::npos);
}

TEST_F(PgClientTest, MalformedUrlIsInvalid) {
  auto pg = PgClient::Connect("postgresql://sluice:pw-in-url@[bad", std::nullopt);
  ASSERT_FALSE(pg.ok());
  EXPECT_EQ(pg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pg.status().message().find("pw-in-url"), std::string::npos) << pg.status();
}

TEST_F(PgClientTest, SqlErrorsCarrySqlstateAndRetryability) {
  auto pg = Connect();
  ASSERT_NE(pg, nullptr);
  Status syntax = pg->Execute("SELEC 1");
  EXPECT_EQ(syntax.code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(syntax.retryable());
  EXPECT_NE(syntax.message().find("42601"), std::string::npos) << syntax;
  EXPECT_NE(syntax.message().find("127.0.0.1:"), std::string::npos) << syntax;

  auto missing = pg->Query("SELECT * FROM no_such_table");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("42P01"), std::string::npos);

  auto data = pg->Query("SELECT 1 / 0");
  EXPECT_EQ(data.status().code(), StatusCode::kDataError) << data.status();

  ASSERT_TRUE(pg->Execute("CREATE ROLE nobody_special NOLOGIN").ok());
  ASSERT_TRUE(pg->Execute("CREATE TABLE secret_stuff (a int)").ok());
  ASSERT_TRUE(pg->Execute("SET ROLE nobody_special").ok());
  auto denied = pg->Query("SELECT * FROM secret_stuff");
  EXPECT_EQ(denied.status().code(), StatusCode::kInvalidArgument) << denied.status();
  EXPECT_FALSE(denied.status().retryable());
  EXPECT_NE(denied.status().message().find("42501"), std::string::npos) << denied.status();
  ASSERT_TRUE(pg->Execute("RESET ROLE").ok());

  for (const char* state : {"40001", "40P01", "57P03", "08006"}) {
    Status raised =
        pg->Execute(fmt::format("DO $$ BEGIN RAISE EXCEPTION 'raised' USING ERRCODE = '{}'; END $$", state));
    EXPECT_TRUE(raised.retryable()) << state << ": " << raised;
    EXPECT_NE(raised.message().find(state), std::string::npos) << raised;
  }
  // The connection survives ordinary errors.
  EXPECT_TRUE(pg->Query("SELECT 1").ok());
}

TEST_F(PgClientTest, TerminatedBackendIsRetryable) {
  auto victim = Connect();
  auto killer = Connect();
  ASSERT_NE(victim, nullptr);
  ASSERT_NE(killer, nullptr);
  std::string pid = victim->Query("SELECT pg_backend_pid() AS p")->Get(0, "p");
  ASSERT_TRUE(killer->Query("SELECT pg_terminate_backend(" + pid + ")").ok());
  auto after = victim->Query("SELECT 1");
  ASSERT_FALSE(after.ok());
  EXPECT_TRUE(after.status().retryable()) << after.status();
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable) << after.status();
}

TEST_F(PgClientTest, ImportedSnapshotSeesExportedDataOnly) {
  auto setup = Connect();
  ASSERT_NE(setup, nullptr);
  ASSERT_TRUE(setup->Execute("CREATE TABLE snap (id int); INSERT INTO snap VALUES (1), (2)").ok());

  auto exporter = Connect();
  auto importer = Connect();
  ASSERT_NE(exporter, nullptr);
  ASSERT_NE(importer, nullptr);
  auto id = exporter->ExportSnapshot();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_FALSE(id->empty());

  // Committed after the export: invisible to the snapshot, visible to everyone else.
  ASSERT_TRUE(setup->Execute("INSERT INTO snap VALUES (3); DELETE FROM snap WHERE id = 1").ok());

  ASSERT_TRUE(importer->ImportSnapshot(*id).ok());
  EXPECT_EQ(importer->Query("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM snap")->Get(0, "ids"), "1,2");
  EXPECT_EQ(exporter->Query("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM snap")->Get(0, "ids"), "1,2");
  EXPECT_EQ(setup->Query("SELECT string_agg(id::text, ',' ORDER BY id) AS ids FROM snap")->Get(0, "ids"), "2,3");

  // Ending the exporting transaction does not change what the importer's transaction sees.
  ASSERT_TRUE(exporter->Execute("COMMIT").ok());
  ASSERT_TRUE(setup->Execute("INSERT INTO snap VALUES (4)").ok());
  EXPECT_EQ(importer->Query("SELECT count(*) AS n FROM snap")->Get(0, "n"), "2");
  ASSERT_TRUE(importer->Execute("COMMIT").ok());
  EXPECT_EQ(importer->Query("SELECT count(*) AS n FROM snap")->Get(0, "n"), "3");

  // Once the exporter is gone the snapshot cannot be imported; the importer stays usable.
  Status stale = importer->ImportSnapshot(*id);
  EXPECT_FALSE(stale.ok());
  EXPECT_NE(stale.message().find(*id), std::string::npos) << stale;
  EXPECT_TRUE(importer->Query("SELECT 1").ok());
}

TEST(PgSqlStateTest, Classification) {
  EXPECT_TRUE(StatusFromSqlState("08001", "x").retryable());
  EXPECT_TRUE(StatusFromSqlState("57P01", "x").retryable());
  EXPECT_EQ(StatusFromSqlState("40001", "x").code(), StatusCode::kConflict);
  EXPECT_FALSE(StatusFromSqlState("42601", "x").retryable());
  EXPECT_FALSE(StatusFromSqlState("28P01", "x").retryable());
  EXPECT_EQ(StatusFromSqlState("22003", "x").code(), StatusCode::kDataError);
  EXPECT_EQ(StatusFromSqlState("57014", "x").code(), StatusCode::kCancelled);
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteLiteral("it's"), "'it''s'");
}

}  // namespace
}  // namespace sluice::postgres
