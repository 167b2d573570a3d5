"""Secrets never leave the process: with secrets of normal and very short length given through
${env:…} and ${file:…} (a real PostgreSQL password, an SMTP password, the API token, a webhook
token, the masking key, S3 keys), every command and the daemon run, then every output channel is
searched for the secret values — stdout/stderr (text and JSON logs), the catalog's run records and
the run logs (every file the project holds outside the lake), API answers, mail and webhook
bodies: zero hits. Literal secrets in the YAML are refused."""
import glob
import json
import os
import tempfile
import unittest

from pg_project import PostgresProjectTest
from test_notifications import HookReceiver, SmtpServer
from test_serve import Daemon, free_port

# Secrets: each distinct, none a substring of ordinary output; four are very short on purpose.
PG_PASSWORD = "sluice-test-pw"          # the test server's password (scripts/pg_test_server.py), via ${file:}
SMTP_PASSWORD = "q7Z"                   # very short, via ${env:}
API_TOKEN = "tok-Vb93kLm2Qx8"           # server.token, via ${env:}
HOOK_TOKEN = "hk-Pz71Ww"                # the webhook notifier's bearer token, via ${file:}
TRIGGER_TOKEN = "wt-K3m9"               # the pipeline's own webhook trigger token, via ${env:}
MASK_KEY = "m4K"                        # very short masking.key, via ${env:}
S3_KEY_ID = "AKIAQ5SECRETTEST"          # via ${env:}
S3_SECRET = "J9x"                       # very short, via ${file:}
SECRETS = [PG_PASSWORD, SMTP_PASSWORD, API_TOKEN, HOOK_TOKEN, TRIGGER_TOKEN, MASK_KEY, S3_KEY_ID, S3_SECRET]
ENV = {"SMTP_PW": SMTP_PASSWORD, "SLUICE_TOKEN": API_TOKEN, "TRIGGER_TOKEN": TRIGGER_TOKEN,
       "SLUICE_MASK_KEY": MASK_KEY, "S3_KEY_ID": S3_KEY_ID}


class SecretsTest(PostgresProjectTest):
    def setUp(self):
        super().setUp()
        self.mail_dir = tempfile.mkdtemp(prefix="sluice-smtp-")
        self.smtp = SmtpServer(self.mail_dir, auth=f"etl:{SMTP_PASSWORD}")
        self.addCleanup(self.smtp.stop)
        self.hooks = HookReceiver()
        self.addCleanup(self.hooks.stop)
        self.port = free_port()
        self.pg.psql("CREATE TABLE public.customers (id integer PRIMARY KEY, email text, town text);"
                     "INSERT INTO public.customers SELECT g, 'user' || g || '@example.test', 'town ' || (g % 7) "
                     "FROM generate_series(1, 40) g;"
                     "GRANT SELECT ON public.customers TO sluice;")
        closed_port = free_port()
        self.p.write("secrets/pg.pw", PG_PASSWORD + "\n")
        self.p.write("secrets/hook.token", HOOK_TOKEN + "\n")
        self.p.write("secrets/s3.secret", S3_SECRET)
        self.p.write("sluice.yaml", f"""\
project: secrets
lake: ./lake
s3:
  region: us-east-1
  access_key_id: "${{env:S3_KEY_ID}}"
  secret_access_key: "${{file:secrets/s3.secret}}"
masking:
  key: "${{env:SLUICE_MASK_KEY}}"
connections:
  src:
    type: postgres
    url: {self.pg.url}
    password: "${{file:secrets/pg.pw}}"
notifications:
  mail:
    type: email
    smtp: {{ host: 127.0.0.1, port: {self.smtp.port}, tls: none, user: etl, password: "${{env:SMTP_PW}}" }}
    from: sluice@acme.test
    to: [ops@acme.test]
  hook:
    type: webhook
    url: http://127.0.0.1:{self.hooks.port}/hook
    token: "${{file:secrets/hook.token}}"
server:
  listen: 127.0.0.1:{self.port}
  token: "${{env:SLUICE_TOKEN}}"
""")
        self.p.pipeline("customers", """\
name: customers
triggers:
  - webhook: { token: "${env:TRIGGER_TOKEN}" }
notify:
  on_success: [mail, hook]
  on_failure: [mail, hook]
jobs:
  load:
    source: { connection: src, table: public.customers }
    target: { zone: raw, table: customers }
  protect:
    depends_on: [load]
    source: { table: raw.customers }
    steps:
      - mask: { email: hash }
    target: { zone: silver, table: customers }
""")
        # Fails connecting: the connection string, with the password in it, is in the error path.
        self.p.pipeline("broken", f"""\
name: broken
notify:
  on_failure: [mail, hook]
source:
  type: postgres
  url: "postgresql://sluice:${{file:secrets/pg.pw}}@127.0.0.1:{closed_port}/nothing"
  table: public.customers
  connect_retries: 0
retries: 0
target: {{ zone: raw, table: broken }}
""")
        # Secrets also turn up where nobody expects them: here as the names of input files, which go to
        # logs, run records and the catalog's file state — each must be masked there, short ones too.
        self.p.write(f"incoming/{SMTP_PASSWORD}.csv", "id\n1\n")
        self.p.write(f"incoming/{PG_PASSWORD}.csv", "id\n2\n")
        self.p.pipeline("drop", """\
name: drop
source:
  type: files
  path: ["incoming/${env:SMTP_PW}.csv", "incoming/${file:secrets/pg.pw}.csv"]
target: { zone: raw, table: drop }
""")
        # Nothing matches: the "no new input (files matching …)" note names the path, secret and all.
        self.p.pipeline("quiet", """\
name: quiet
source: { type: files, path: "incoming/${env:SMTP_PW}/${env:SLUICE_MASK_KEY}-*.csv", format: csv }
target: { zone: raw, table: quiet }
""")
        self.outputs = []  # (channel, text)

    def sluice(self, *args, expect=0):
        r = self.p.sluice(*args, env=ENV)
        self.outputs.append((f"sluice {' '.join(args)} (stdout)", r.out))
        self.outputs.append((f"sluice {' '.join(args)} (stderr)", r.err))
        self.assertEqual(r.rc, expect, f"sluice {' '.join(args)}: {r}")
        return r

    def run_id(self, pipeline, status):
        r = self.sluice("--log-format", "json", "runs")
        for line in r.out.splitlines():
            if pipeline in line and status in line:
                return line.split()[0]
        raise AssertionError(f"no {status} run of {pipeline} in {r.out}")

    def assertNoSecretAnywhere(self):
        hits = []
        for channel, text in self.outputs:
            for secret in SECRETS:
                if secret in text:
                    hits.append(f"{secret!r} in {channel}")
        self.assertEqual(hits, [])

    def collect_files(self):
        """Every file of the project but the lake's data and the secret files themselves: catalog
        (SQLite, with its WAL), run logs, state, spill."""
        for path in glob.glob(os.path.join(self.p.root, "**", "*"), recursive=True):
            relative = os.path.relpath(path, self.p.root)
            if os.path.isdir(path) or relative.startswith(("secrets", "lake" + os.sep)):
                continue
            with open(path, "rb") as f:
                self.outputs.append((f"file {relative}", f.read().decode("utf-8", "replace")))

    def collect_mail_and_hooks(self, mails):
        for envelope, raw, _ in self.smtp.messages(mails):
            self.outputs.append((f"mail {envelope['rcpt_tos']}", raw.decode("utf-8", "replace")))
        for hook in self.hooks.received:
            self.outputs.append((f"webhook body {hook['path']}", hook["body"].decode("utf-8", "replace")))

    def test_no_secret_in_any_output_channel(self):
        self.sluice("validate")
        self.sluice("run", "customers")
        self.sluice("--log-format", "json", "--log-level", "debug", "run", "customers")  # no changes
        r = self.sluice("--log-format", "json", "--log-level", "debug", "run", "broken", expect=1)
        self.assertIn("nothing committed", r.out)
        self.sluice("--log-level", "debug", "run", "drop")
        quiet = self.sluice("run", "quiet")
        self.assertIn("no changes — no new input (files matching incoming/***/***-*.csv)", quiet.err)
        self.sluice("runs", "show", self.run_id("quiet", "no_changes"))
        self.sluice("runs")
        drop_run = self.run_id("drop", "succeeded")
        self.sluice("runs", "show", drop_run)
        self.sluice("logs", drop_run)
        ok_run, failed_run = self.run_id("customers", "succeeded"), self.run_id("broken", "failed")
        for run in (ok_run, failed_run):
            self.sluice("runs", "show", run)
            self.sluice("logs", run)
        self.sluice("catalog", "list")
        self.sluice("catalog", "show", "raw.customers")
        self.sluice("catalog", "history", "silver.customers")
        # The mask key did its work: the e-mail column is hashed in silver.
        r = self.sluice("query", "SELECT min(email) AS e FROM silver.customers", "--format", "json")
        hashed = json.loads(r.out)[0]["e"]
        self.assertEqual(len(hashed), 64, hashed)

        d = Daemon(self.p, self.port, API_TOKEN, env=ENV)
        try:
            d.wait_ready()
            for path in ("/api/v1/pipelines", "/api/v1/runs", f"/api/v1/runs/{ok_run}", f"/api/v1/runs/{failed_run}",
                         "/api/v1/tables", "/api/v1/queue"):
                status, text, _ = d.call("GET", path)
                self.assertEqual(status, 200, f"{path}: {text}")
                self.outputs.append((f"GET {path}", text))
            for pipeline, token in (("customers", TRIGGER_TOKEN), ("broken", API_TOKEN)):
                status, text, _ = d.call("POST", f"/api/v1/pipelines/{pipeline}/trigger", token=token)
                self.assertEqual(status, 202, text)
                self.outputs.append((f"POST trigger {pipeline}", text))
                run = d.wait_run(json.loads(text)["run_id"])
                status, text, _ = d.call("GET", f"/api/v1/runs/{run['id']}")
                self.outputs.append((f"GET run {run['id']}", text))
            self.assertEqual(d.call("GET", "/api/v1/runs", token=None)[0], 401)
        finally:
            d.stop()
            self.outputs.append(("sluice serve output", d.output()))

        # Mail: one per ended run that has notify: — customers ok x2 (+1 no changes), broken x2.
        self.collect_mail_and_hooks(mails=5)
        self.collect_files()
        self.assertGreater(len(self.outputs), 40)
        self.assertNoSecretAnywhere()


class LiteralSecretsAreRefusedTest(PostgresProjectTest):
    def test_literal_password_token_and_s3_secret_are_refused_with_a_valid_fix(self):
        self.p.write("sluice.yaml", f"""\
project: t
s3:
  secret_access_key: Jx-literal-key
connections:
  src:
    type: postgres
    url: {self.pg.url}
    password: {PG_PASSWORD}
server:
  token: literal-token-value
""")
        self.p.pipeline("p", "source: { connection: src, table: public.t }\ntarget: { zone: raw, table: t }\n")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("'secret_access_key' in s3 of sluice.yaml is a secret written into the file", r.err)
        self.assertIn("'token' in server of sluice.yaml is a secret written into the file", r.err)
        self.assertIn('write token: "${env:SERVER_TOKEN}"', r.err)
        for secret in ("Jx-literal-key", "literal-token-value"):
            self.assertNotIn(secret, r.out + r.err)

        self.p.write("sluice.yaml", f"""\
project: t
connections:
  src:
    type: postgres
    url: {self.pg.url}
    password: {PG_PASSWORD}
""")
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("sluice.yaml:6:15: 'password' in source of job 'p' (postgres connector) is a secret written "
                      "into the file", r.err)
        self.assertIn('password: "${env:SRC_PASSWORD}"', r.err)
        self.assertNotIn(PG_PASSWORD, r.out + r.err)

    def test_smtp_password_without_tls_to_a_remote_host_is_refused(self):
        self.p.write("sluice.yaml", """\
project: t
notifications:
  mail:
    type: email
    smtp: { host: mail.example.test, tls: none, user: etl, password: "${env:SMTP_PW}" }
    from: a@acme.test
    to: [b@acme.test]
""")
        r = self.p.sluice("validate", env=ENV)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("would send its SMTP password unencrypted to mail.example.test (tls: none)", r.err)
        self.assertIn("tls: starttls", r.err)
        self.assertNotIn(SMTP_PASSWORD, r.out + r.err)


if __name__ == "__main__":
    unittest.main()
