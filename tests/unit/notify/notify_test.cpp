#include <gtest/gtest.h>

#include <optional>

#include "notify/dispatch.hpp"
#include "notify/message.hpp"
#include "notify/notifier.hpp"

namespace sluice::notify {
namespace {

config::Value Yaml(std::string_view text) {
  config::ParseOptions options;
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SMTP_TEST_PW") return "hunter2-secret";
    return std::nullopt;
  };
  auto parsed = config::ParseYaml(text, "sluice.yaml", options);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

TEST(NotifierRegistryTest, BuiltinsAreExactlyThese) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"email", "webhook"}));
}

TEST(NoticeTextTest, SaysWhatHappenedAndWhereTheLogsAre) {
  RunNotice notice;
  notice.project = "acme";
  notice.pipeline = "orders";
  notice.run_id = "r-123";
  notice.status = "failed";
  notice.duration_seconds = 12.5;
  notice.error = "job 'load' of pipeline 'orders': incoming/x.csv:7:3: bad value";
  notice.jobs.push_back({"load", "failed", "raw.x", 0, 0, 0, 3, "incoming/x.csv:7:3: bad value"});
  notice.jobs.push_back({"other", "succeeded", "raw.y", 42, 0, 2048, 1, ""});
  EXPECT_EQ(NoticeSubject(notice), "[sluice] acme/orders failed (run r-123)");
  std::string text = NoticeText(notice);
  EXPECT_NE(text.find("Duration: 12.5s"), std::string::npos) << text;
  EXPECT_NE(text.find("incoming/x.csv:7:3"), std::string::npos) << text;
  EXPECT_NE(text.find("(3 attempts)"), std::string::npos) << text;
  EXPECT_NE(text.find("42 rows, 2.0 KB -> raw.y"), std::string::npos) << text;
  EXPECT_NE(text.find("Logs: sluice logs r-123"), std::string::npos) << text;
  auto json = NoticeJson(notice);
  EXPECT_EQ(json["jobs"][1]["bytes_written"], 2048);
}

TEST(NotificationsConfigTest, ErrorsNameTheEntryAndSuggest) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  std::vector<std::string> errors;
  ValidateNotifications(registry,
                        Yaml("mail:\n  type: emial\nhook:\n  type: webhook\n  url: http://x\n  preset: teams\n"
                             "mail2:\n  type: email\n  smtp: {host: h, tls: ssl}\n  from: a@b\n  to: [c@d]\n"),
                        &errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("did you mean 'email'"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("preset of notification 'hook' must be json or slack"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("must be none, starttls or tls"), std::string::npos) << errors[2];
}

TEST(NotificationsConfigTest, RecipientsUnionInOrder) {
  auto notify = Yaml("on_failure: [a, b]\non_retries_exhausted: [b, c]\non_success: d\n");
  EXPECT_EQ(Recipients(notify, {RunEvent::kFailure, RunEvent::kRetriesExhausted}),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Recipients(notify, {RunEvent::kSuccess}), (std::vector<std::string>{"d"}));
  std::vector<std::string> errors;
  ValidatePipelineNotify(notify, Yaml("a: {}\nb: {}\nc: {}\n"), "p", &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'d'"), std::string::npos) << errors[0];
}

TEST(EmailNotifierTest, UnreachableServerIsARetryableErrorWithoutThePassword) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  auto notifications = Yaml(
      "mail:\n  type: email\n  smtp: {host: 127.0.0.1, port: 1, user: u, password: \"${env:SMTP_TEST_PW}\"}\n"
      "  from: a@b.test\n  to: c@d.test\n");
  RunNotice notice;
  notice.pipeline = "p";
  notice.run_id = "r1";
  Status st = SendNotice(registry, notifications, {"mail"}, notice);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.retryable());
  EXPECT_NE(st.message().find("notification 'mail'"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("hunter2-secret"), std::string::npos) << st.message();
}

TEST(EmailNotifierTest, APasswordIsNeverSentWithoutTlsToAnotherMachine) {
  NotifierRegistry registry;
  RegisterBuiltinNotifiers(registry);
  RunNotice notice;
  notice.pipeline = "p";
  notice.run_id = "r1";
  auto remote = Yaml(
      "mail:\n  type: email\n  smtp: {host: mail.example.test, tls: none, user: u, password: \"${env:SMTP_TEST_PW}\"}\n"
      "  from: a@b.test\n  to: c@d.test\n");
  Status st = SendNotice(registry, remote, {"mail"}, notice);
  ASSERT_FALSE(st.ok());
  EXPECT_FALSE(st.retryable());
  EXPECT_NE(st.message().find("sluice.yaml:3:40: notification 'mail' would send its SMTP password unencrypted to "
                              "mail.example.test (tls: none); use tls: starttls"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(st.message().find("hunter2-secret"), std::string::npos) << st.message();

  auto literal = Yaml(
      "mail:\n  type: email\n  smtp: {host: 127.0.0.1, port: 1, user: u, password: hunter2-secret}\n"
      "  from: a@b.test\n  to: c@d.test\n");
  st = SendNotice(registry, literal, {"mail"}, notice);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("'password' in smtp: of notification 'mail' is a secret written into the file"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(st.message().find("hunter2-secret"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace sluice::notify
