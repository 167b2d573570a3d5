"""`sluice serve` against hostile callers: queries over the API read the lake and nothing else of the
machine, every request needs the token, requests from web pages (other Host, other Origin, non-JSON
bodies) are refused, and bodies are bounded. Each attack is sent literally, over a real socket."""
import json
import os
import socket
import stat
import sys
import unittest

from sluice_e2e import Project, ProjectTest
from test_serve import Daemon, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402

BIRDS = """\
name: birds
source:
  type: files
  path: incoming/birds*.csv
  format: csv
target:
  zone: raw
  table: birds
triggers:
  - webhook: true
"""


def raw_request(port, data, timeout=60):
    """Sends bytes as they are and returns (status, headers text, body text) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    status = int(head.split(b" ")[1]) if head else 0
    return status, head.decode(errors="replace"), body.decode(errors="replace")


class ServeSecurityTest(ProjectTest):
    def start(self, sluice_yaml_extra=""):
        self.port = free_port()
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\nserver:\n  listen: 127.0.0.1:{self.port}\n"
                     + sluice_yaml_extra)
        d = Daemon(self.p, self.port)
        self.addCleanup(lambda: d.proc.poll() is None and d.stop())
        d.wait_ready()
        return d

    def loaded(self):
        """A server whose lake holds raw.birds (version 1: 2 rows, version 2: 3 rows)."""
        self.p.pipeline("birds", BIRDS)
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n2,wren\n")
        d = self.start()
        self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "succeeded")
        self.p.write("incoming/birds_2.csv", "id,name\n3,kite\n")
        self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "succeeded")
        return d

    def refused(self, d, sql, expect_in):
        answer = d.json("POST", "/api/v1/query", {"sql": sql}, expect=400)
        self.assertIn(expect_in, answer["error"], sql)
        return answer

    # --- the query endpoint -------------------------------------------------------------------

    def test_queries_read_the_lake_and_versions_of_it(self):
        d = self.loaded()
        rows = d.json("POST", "/api/v1/query", {"sql": "SELECT id, name FROM raw.birds ORDER BY id"})["rows"]
        self.assertEqual([r["id"] for r in rows], [1, 2, 3])
        old = d.json("POST", "/api/v1/query", {"sql": "SELECT count(*) AS n FROM raw.birds", "as_of": 1})
        self.assertEqual(old["rows"], [{"n": 2}])
        self.assertIn("as_of", d.json("POST", "/api/v1/query", {"sql": "SELECT 1", "as_of": "x"}, expect=400)["error"])
        # FROM-first, WITH, VALUES and DESCRIBE are SELECT-like too.
        self.assertEqual(d.json("POST", "/api/v1/query", {"sql": "FROM raw.birds SELECT max(id) AS m"})["rows"],
                         [{"m": 3}])
        self.assertEqual(d.json("POST", "/api/v1/query",
                                {"sql": "WITH b AS (SELECT * FROM raw.birds) SELECT count(*) AS n FROM b"})["rows"],
                         [{"n": 3}])
        self.assertEqual(d.stop(), 0)

    def test_queries_cannot_read_files_outside_the_lake(self):
        d = self.loaded()
        outside = "reads outside the lake are not allowed"
        self.refused(d, "SELECT * FROM read_csv('/etc/passwd')", outside)
        self.refused(d, "SELECT * FROM read_text('/etc/passwd')", outside)
        answer = self.refused(d, f"SELECT * FROM read_text('{self.p.path('.sluice', 'api_token')}')", outside)
        self.assertNotIn(d.token, json.dumps(answer))
        self.refused(d, f"SELECT * FROM read_text('{self.p.path('sluice.yaml')}')", outside)
        self.refused(d, f"SELECT * FROM read_text('{self.p.path('lake')}/../.sluice/api_token')", outside)
        self.refused(d, "SELECT * FROM read_text('.sluice/api_token')", outside)
        self.refused(d, f"SELECT * FROM read_blob('{self.p.path('.sluice', 'catalog.db')}')", outside)
        # A folder next to the lake whose name starts like it is outside it too.
        os.makedirs(self.p.path("lake-private"))
        self.p.write("lake-private/secret.csv", "a\n1\n")
        self.refused(d, f"SELECT * FROM read_csv('{self.p.path('lake-private', 'secret.csv')}')", outside)
        self.refused(d, "SELECT * FROM glob('/etc/*')", outside)
        self.assertEqual(d.stop(), 0)

    def test_only_one_select_statement_runs(self):
        d = self.loaded()
        target = self.p.path("pwned.csv")
        in_lake = self.p.path("lake", "pwned.csv")
        one = "only one SELECT statement is allowed"
        self.refused(d, f"SELECT 1; COPY (SELECT 42) TO '{target}'", one)
        self.refused(d, f"SELECT 1 AS x; COPY (SELECT 42) TO '{in_lake}'", one)
        self.refused(d, f"COPY (SELECT 42) TO '{in_lake}'", one)
        self.refused(d, f"ATTACH '{self.p.path('other.db')}' AS other", one)
        self.refused(d, "ATTACH ':memory:' AS other", one)
        self.refused(d, "INSTALL httpfs", one)
        self.refused(d, "LOAD httpfs", one)
        self.refused(d, "SET enable_external_access = true", one)
        self.refused(d, "RESET lock_configuration", one)
        self.refused(d, "PRAGMA enable_profiling", one)
        self.refused(d, "CREATE TABLE t AS SELECT 1 AS x", one)
        self.refused(d, "DROP VIEW raw.birds", one)
        self.refused(d, f"EXPORT DATABASE '{self.p.path('lake', 'export')}'", one)
        for path in (target, in_lake, self.p.path("other.db")):
            self.assertFalse(os.path.exists(path), path)
        self.assertFalse(os.path.exists(self.p.path("lake", "export")))
        # Nothing was dropped: the table still reads.
        self.assertEqual(d.json("POST", "/api/v1/query", {"sql": "SELECT count(*) AS n FROM raw.birds"})["rows"],
                         [{"n": 3}])
        self.assertIn("empty", d.json("POST", "/api/v1/query", {"sql": "  -- nothing\n"}, expect=400)["error"])
        self.assertEqual(d.stop(), 0)

    def test_queries_keep_their_limits(self):
        d = self.loaded()
        result = d.json("POST", "/api/v1/query", {"sql": "SELECT * FROM range(50)", "max_rows": 5})
        self.assertEqual((len(result["rows"]), result["truncated"]), (5, True))
        slow = d.json("POST", "/api/v1/query", {"sql": "SELECT count(*) FROM range(100000000000) a",
                                                "timeout_seconds": 0.5}, expect=408)
        self.assertIn("timeout_seconds", slow["error"])
        self.assertEqual(d.stop(), 0)
        # query.max_bytes_scanned refuses a query that would read more.
        d = self.start("query:\n  max_bytes_scanned: 10\n")
        answer = d.json("POST", "/api/v1/query", {"sql": "SELECT * FROM raw.birds"}, expect=400)
        self.assertIn("max_bytes_scanned", answer["error"])
        self.assertEqual(d.stop(), 0)

    def test_queries_over_an_s3_lake_read_through_the_cache_only(self):
        with S3Server(buckets=["lake"]) as server:
            p = Project(server.sluice_yaml("s3://lake/prod"))
            self.addCleanup(p.cleanup)
            port = free_port()
            with open(p.path("sluice.yaml")) as f:
                p.write("sluice.yaml", f.read() + f"server:\n  listen: 127.0.0.1:{port}\n")
            p.pipeline("birds", BIRDS)
            p.write("incoming/birds_1.csv", "id,name\n1,robin\n2,wren\n")
            d = Daemon(p, port, env=ENV)
            self.addCleanup(lambda: d.proc.poll() is None and d.stop())
            d.wait_ready()
            self.assertEqual(d.wait_run(d.trigger("birds")["run_id"])["status"], "succeeded")
            self.assertFalse(os.path.exists(p.path("lake")))
            self.assertEqual(d.json("POST", "/api/v1/query", {"sql": "SELECT count(*) AS n FROM raw.birds"})["rows"],
                             [{"n": 2}])
            self.refused(d, f"SELECT * FROM read_text('{p.path('.sluice', 'api_token')}')",
                         "reads outside the lake are not allowed")
            self.assertEqual(d.stop(), 0)

    # --- the token ----------------------------------------------------------------------------

    def test_without_server_token_a_generated_one_is_required(self):
        d = self.start()
        token_file = self.p.path(".sluice", "api_token")
        self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
        token = d.token
        self.assertGreaterEqual(len(token), 32)
        for bearer in (None, "wrong", token[:-1]):
            status, text, _ = d.call("GET", "/api/v1/pipelines", token=bearer)
            self.assertEqual(status, 401, text)
            self.assertIn(".sluice/api_token", json.loads(text)["error"])
        self.assertEqual(d.json("GET", "/api/v1/pipelines")["pipelines"], [])
        self.assertEqual(d.stop(), 0)
        self.assertIn(token_file, d.output())  # where the token is, never the token itself
        self.assertNotIn(token, d.output())
        # The next start reuses it.
        d = self.start()
        self.assertEqual(d.token, token)
        self.assertEqual(d.json("GET", "/api/v1/pipelines")["pipelines"], [])
        self.assertEqual(d.stop(), 0)

    def test_a_webhook_token_only_starts_its_pipeline_as_configured(self):
        self.p.pipeline("birds", BIRDS.replace("  - webhook: true\n", "  - webhook: { token: \"${env:BIRDS_HOOK}\" }\n"))
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n")
        hook = "hook-only-for-birds-7b1d"
        os.environ["BIRDS_HOOK"] = hook
        self.addCleanup(os.environ.pop, "BIRDS_HOOK", None)
        d = self.start()
        trigger = "/api/v1/pipelines/birds/trigger"
        self.assertIn("full_refresh", d.json("POST", trigger, {"full_refresh": True}, token=hook, expect=403)["error"])
        self.assertIn("job", d.json("POST", trigger, {"job": "birds"}, token=hook, expect=403)["error"])
        self.assertEqual(d.json("GET", "/api/v1/queue")["queue"], [])
        run = d.json("POST", trigger, token=hook, expect=202)
        self.assertEqual(d.wait_run(run["run_id"])["status"], "succeeded")
        self.assertEqual(d.call("POST", "/api/v1/query", {"sql": "SELECT 1"}, token=hook)[0], 401)
        self.assertEqual(d.stop(), 0)

    # --- requests from web pages, and bounds --------------------------------------------------

    def test_requests_a_web_page_can_send_are_refused(self):
        d = self.start()
        for host in ("evil.example", f"evil.example:{self.port}", f"127.0.0.1:{self.port + 1}"):
            status, text, content_type = d.call("GET", "/api/v1/pipelines", headers={"Host": host})
            self.assertEqual(status, 403, (host, text))
            self.assertIn("Host", json.loads(text)["error"])
        self.assertEqual(d.call("GET", "/healthz", headers={"Host": "evil.example"})[0], 403)
        for host in (f"localhost:{self.port}", f"127.0.0.1:{self.port}"):
            self.assertEqual(d.call("GET", "/api/v1/pipelines", headers={"Host": host})[0], 200)
        status, text, _ = d.call("GET", "/api/v1/pipelines", headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403, text)
        self.assertIn("cross-origin", json.loads(text)["error"])
        own = {"Origin": f"http://127.0.0.1:{self.port}"}
        self.assertEqual(d.call("GET", "/api/v1/pipelines", headers=own)[0], 200)
        # A cross-site form can send text/plain without a preflight; the API takes only JSON bodies.
        body = b'{"sql": "SELECT 1"}'
        request = (f"POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"Authorization: Bearer {d.token}\r\nContent-Type: text/plain\r\n"
                   f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        status, head, text = raw_request(self.port, request)
        self.assertEqual(status, 415, text)
        self.assertIn("application/json", json.loads(text)["error"])
        self.assertEqual(d.stop(), 0)

    def test_a_trigger_without_a_body_or_content_length_is_answered(self):
        self.p.pipeline("birds", BIRDS)
        self.p.write("incoming/birds_1.csv", "id,name\n1,robin\n")
        d = self.start()
        # What `curl -X POST -H 'Authorization: Bearer …' …/trigger` sends: no Content-Length, no body.
        request = (f"POST /api/v1/pipelines/birds/trigger HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"Authorization: Bearer {d.token}\r\nAccept: */*\r\n\r\n").encode()
        status, head, text = raw_request(self.port, request, timeout=4)  # the server's read timeout is 10 s
        self.assertEqual(status, 202, head + text)
        self.assertEqual(d.wait_run(json.loads(text)["run_id"])["status"], "succeeded")
        self.assertEqual(d.stop(), 0)

    def test_an_oversize_body_is_refused_before_it_is_read(self):
        d = self.start()
        # Headers announcing 300 MB, then a little of it: the answer comes without waiting for the rest
        # (the socket's timeout is below the server's 10 s read timeout).
        request = (f"POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                   f"Authorization: Bearer {d.token}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {300 * 1024 * 1024}\r\n\r\n").encode() + b'{"sql": "' + b"x" * 1000
        status, head, text = raw_request(self.port, request, timeout=8)
        self.assertEqual(status, 413, head + text)
        self.assertIn("limit", json.loads(text)["error"])
        # Without the token too: the size is checked before anything else reads the body.
        status, head, text = raw_request(self.port, request.replace(d.token.encode(), b"nope"), timeout=8)
        self.assertEqual(status, 413, head + text)
        self.assertIsNone(d.proc.poll())
        self.assertEqual(d.stop(), 0)

    def test_every_error_is_a_json_error(self):
        d = self.start()
        cases = [
            b"GARBAGE\r\n\r\n",
            f"GET /{'x' * 9000} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode(),
            f"POST /api/v1/query HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Length: abc\r\n\r\n".encode(),
            f"GET /api/v1/nothing HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nAuthorization: Bearer {d.token}\r\n\r\n".encode(),
        ]
        for request in cases:
            status, head, text = raw_request(self.port, request, timeout=30)
            self.assertGreaterEqual(status, 400, head)
            self.assertIn("application/json", head.lower(), head)
            self.assertIn("error", json.loads(text), text)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
