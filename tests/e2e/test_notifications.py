"""Run notifications: a real SMTP server (Debian's aiosmtpd, scripts/smtp_test_server.py) and a
real HTTP receiver, both started here on loopback ports and stopped by PID; the received mail and
POST bodies are checked, and the SMTP password must appear in none of them."""
import email
import email.policy
import glob
import http.server
import json
import os
import re
import subprocess
import tempfile
import threading
import time
import unittest

from sluice_e2e import ProjectTest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SMTP_PASSWORD = "pw-Zq81-never-shown"
GOOD_CSV = "id,name\n1,a\n2,b\n3,c\n"


class SmtpServer:
    def __init__(self, folder, auth=None):
        self.folder = folder
        cmd = ["/usr/bin/python3", "-W", "ignore", os.path.join(ROOT, "scripts", "smtp_test_server.py"), folder]
        if auth:
            cmd += ["--auth", auth]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = None
        for line in self.proc.stdout:
            m = re.match(r"ready (\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if self.port is None:
            self.stop()
            raise AssertionError("the SMTP test server did not start")

    def messages(self, count, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            envelopes = sorted(glob.glob(os.path.join(self.folder, "*.json")))
            if len(envelopes) >= count:
                out = []
                for env in envelopes:
                    with open(env) as f:
                        envelope = json.load(f)
                    with open(env[:-len(".json")] + ".eml", "rb") as f:
                        raw = f.read()
                    out.append((envelope, raw, email.message_from_bytes(raw, policy=email.policy.default)))
                return out
            time.sleep(0.05)
        raise AssertionError(f"expected {count} mails in {self.folder}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.proc.stdout.close()


class HookReceiver:
    """An HTTP server in this process that records each POST (path, headers, body)."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(200 if self.path != "/broken" else 500)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class NotificationTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.mail_dir = tempfile.mkdtemp(prefix="sluice-smtp-")
        self.smtp = SmtpServer(self.mail_dir, auth=f"etl:{SMTP_PASSWORD}")
        self.hooks = HookReceiver()
        self.p.write("sluice.yaml", f"""\
            project: acme
            lake: ./lake
            notifications:
              ops-mail:
                type: email
                smtp:
                  host: 127.0.0.1
                  port: {self.smtp.port}
                  tls: none
                  user: etl
                  password: ${{env:SMTP_PASSWORD}}
                from: sluice@acme.test
                to: [data-team@acme.test, oncall@acme.test]
              ops-hook:
                type: webhook
                url: http://127.0.0.1:{self.hooks.port}/hook
              chat:
                type: webhook
                url: http://127.0.0.1:{self.hooks.port}/slack
                preset: slack
            """)
        self.env = {"SMTP_PASSWORD": SMTP_PASSWORD}

    def tearDown(self):
        self.smtp.stop()
        self.hooks.stop()
        import shutil
        shutil.rmtree(self.mail_dir, ignore_errors=True)
        super().tearDown()

    def test_failed_run_mails_and_posts_the_facts_without_secrets(self):
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.write("incoming/broken.json", "{ not json")
        self.p.pipeline("orders", """\
            name: orders
            notify:
              on_failure: [ops-mail, ops-hook]
              on_success: [chat]
            jobs:
              load_good:
                source: { type: files, path: "incoming/good*.csv", format: csv }
                target: { zone: raw, table: good }
              load_broken:
                source: { type: files, path: "incoming/broken.json", format: json }
                target: { zone: raw, table: broken }
            """)
        self.assertOk(self.p.sluice("validate", env=self.env))
        r = self.p.sluice("run", "orders", env=self.env)
        self.assertEqual(r.rc, 1, repr(r))
        run_id = re.search(r"run (\S+) failed", r.out).group(1)

        [(envelope, raw, msg)] = self.smtp.messages(1)
        self.assertTrue(envelope["authenticated"])
        self.assertEqual(envelope["mail_from"], "sluice@acme.test")
        self.assertEqual(sorted(envelope["rcpt_tos"]), ["data-team@acme.test", "oncall@acme.test"])
        self.assertIn("acme/orders failed", msg["Subject"])
        self.assertIn(run_id, msg["Subject"])
        body = msg.get_content()
        self.assertIn(f"Run:      {run_id}", body)
        self.assertIn("Status:   failed", body)
        self.assertRegex(body, r"load_good\s+succeeded\s+3 rows")
        self.assertRegex(body, r"load_broken\s+failed")
        self.assertIn("broken.json", body)  # the error with its location
        self.assertIn(f"sluice logs {run_id}", body)
        self.assertNotIn(SMTP_PASSWORD.encode(), raw)

        posts = [h for h in self.hooks.received if h["path"] == "/hook"]
        self.assertEqual(len(posts), 1)
        self.assertEqual(posts[0]["headers"]["Content-Type"], "application/json")
        notice = json.loads(posts[0]["body"])
        self.assertEqual((notice["pipeline"], notice["run_id"], notice["status"]), ("orders", run_id, "failed"))
        jobs = {j["job"]: j for j in notice["jobs"]}
        self.assertEqual(jobs["load_good"]["rows_written"], 3)
        self.assertGreater(jobs["load_good"]["bytes_written"], 0)
        self.assertIn("broken.json", jobs["load_broken"]["message"])
        self.assertEqual(notice["logs"], f"sluice logs {run_id}")
        self.assertNotIn(SMTP_PASSWORD.encode(), posts[0]["body"])
        self.assertEqual([h for h in self.hooks.received if h["path"] == "/slack"], [])  # not a success

    def test_success_uses_the_slack_preset(self):
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.pipeline("orders", """\
            name: orders
            notify: { on_success: [chat], on_failure: [ops-mail] }
            source: { type: files, path: "incoming/good*.csv", format: csv }
            target: { zone: raw, table: good }
            """)
        r = self.p.sluice("run", "orders", env=self.env)
        self.assertOk(r)
        [post] = self.hooks.received
        self.assertEqual(post["path"], "/slack")
        text = json.loads(post["body"])["text"]
        self.assertIn("acme/orders succeeded", text)
        self.assertIn("sluice logs ", text)
        self.assertEqual(glob.glob(os.path.join(self.mail_dir, "*.json")), [])

    def test_a_failing_destination_warns_and_keeps_the_run_outcome(self):
        self.p.write("incoming/good.csv", GOOD_CSV)
        self.p.write("sluice.yaml", f"""\
            project: acme
            lake: ./lake
            notifications:
              down:
                type: webhook
                url: http://127.0.0.1:{self.hooks.port}/broken
            """)
        self.p.pipeline("orders", """\
            name: orders
            notify: { on_success: [down] }
            source: { type: files, path: "incoming/good*.csv", format: csv }
            target: { zone: raw, table: good }
            """)
        r = self.p.sluice("run", "orders")
        self.assertOk(r)
        self.assertIn("webhook notification 'down'", r.err)
        self.assertIn("HTTP 500", r.err)

    def test_validate_names_unknown_notifications_and_keys(self):
        self.p.pipeline("orders", """\
            name: orders
            notify: { on_failure: [ops-mial] }
            source: { type: files, path: "incoming/good*.csv", format: csv }
            target: { zone: raw, table: good }
            """)
        r = self.p.sluice("validate", env=self.env)
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("did you mean 'ops-mail'", r.err)


if __name__ == "__main__":
    unittest.main()
