"""Event streams over HTTP (docs/streams.md): a real `sluice serve` on a free loopback port, records
posted as JSON, NDJSON and gzip, through the AWS SDK's Firehose client and as Firehose HTTP-endpoint
deliveries; flushed into the lake by size or by an injected clock; kill -9 at the stream's fault points.
No test sleeps: the clock file moves time, fault points stop the server at exact places, and waits are
for observable states."""
import base64
import gzip
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.request

from sluice_e2e import NPM_TOOLS, SLUICE, FaultPoints, Project, wait_until
from test_serve import Daemon, free_port

TOKEN = "stream-token-1234"
SERVER_TOKEN = "server-token-5678"
AWS_SECRET = "aws-secret-abcdef"
START = "2026-12-05T10:00:00Z"
ENV = {"WEB_EVENTS_TOKEN": TOKEN, "SLUICE_SERVER_TOKEN": SERVER_TOKEN, "WEB_EVENTS_AWS_SECRET": AWS_SECRET}
FIREHOSE_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "firehose_client.mjs")

SLUICE_YAML = """\
project: streams
lake: ./lake
server:
  listen: 127.0.0.1:{port}
  token: ${{env:SLUICE_SERVER_TOKEN}}
streams:
  web_events:
    token: ${{env:WEB_EVENTS_TOKEN}}    # bearer token of this stream's producers (server.token also works)
    target: {{ zone: raw, table: web_events }}
    buffer: {{ max_bytes: 64MB, max_age: 60s }}   # flush to Parquet at whichever comes first
    partition_by: [event_date]        # optional; a column of the events or a derived one:
    columns: {{ event_date: "CAST(to_timestamp(ts / 1000) AS DATE)" }}
    aws_access_keys:                  # optional: AWS SDK Firehose producers (SigV4-signed PutRecord/PutRecordBatch)
      - id: AKIAWEBEVENTS
        secret: ${{env:WEB_EVENTS_AWS_SECRET}}
  small:
    token: ${{env:WEB_EVENTS_TOKEN}}
    target: {{ zone: raw, table: small }}
    buffer: {{ max_bytes: 2KB, max_age: 1h }}
    max_request_bytes: 4KB
    max_request_records: 20
    max_record_size: 512
    max_spool_bytes: 6KB
  capped:
    target: {{ zone: raw, table: capped }}
    partition_by: [k]
    max_active_partitions: 2
"""


class StreamServer(Daemon):
    """One `sluice serve` with the streams above; stopped by its PID (SIGTERM, or SIGKILL by a fault point)."""

    def __init__(self, project, port, clock, fault_env=None):
        super().__init__(project, port, token=SERVER_TOKEN,
                         env=dict(ENV, SLUICE_TEST_CLOCK_FILE=clock, **(fault_env or {})))
        self.wait_ready(60)

    def post(self, path, body, token=TOKEN, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else body.encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method="POST",
                                         headers=dict(headers or {}))
        request.add_header("Content-Type", content_type)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def records(self, stream, body, expect=200, **kwargs):
        status, text, headers = self.post(f"/api/v1/streams/{stream}/records", body, **kwargs)
        if status != expect:
            raise AssertionError(f"POST {stream}: expected {expect}, got {status}: {text}")
        return json.loads(text), headers

    def metrics(self):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/metrics",
                                         headers={"Authorization": f"Bearer {SERVER_TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.read().decode()


def ndjson(records):
    return "".join(json.dumps(r) + "\n" for r in records)


class StreamsTestBase(unittest.TestCase):
    """A project with the streams above, a clock file, and the servers a test starts (stopped at its end)."""

    def setUp(self):
        self.port = free_port()
        self.project = Project(SLUICE_YAML.format(port=self.port))
        self.clock = self.project.path("clock.txt")
        self.set_clock(START)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.proc.poll() is None:
                server.stop()
            else:
                server.log.close()
        self.project.cleanup()

    def set_clock(self, text):
        tmp = self.clock + ".tmp"
        with open(tmp, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, self.clock)

    def serve(self, fault_env=None):
        server = StreamServer(self.project, self.port, self.clock, fault_env)
        self.servers.append(server)
        return server

    def rows(self, sql):
        result = self.project.sluice("query", sql, "--format", "json", env=ENV)
        if result.rc != 0:
            raise AssertionError(f"query failed: {sql}\n{result}")
        return json.loads(result.out)

    def table_rows(self, table):
        """Rows of a lake table, or None while it is not in the catalog."""
        result = self.project.sluice("query", f"SELECT count(*) AS n FROM {table}", "--format", "json", env=ENV)
        return json.loads(result.out)[0]["n"] if result.rc == 0 else None

    def wait_rows(self, table, n, server):
        wait_until(lambda: self.table_rows(table) == n, f"{table} holding {n} rows", 120, server.proc)

    def flush_by_age(self, minutes=2):
        """Moves the injected clock past every stream's max_age that is counted in seconds or minutes."""
        self.set_clock(f"2026-12-05T10:{minutes:02d}:00Z")


class StreamsTest(StreamsTestBase):
    def test_formats_failures_auth_and_flush_by_age(self):
        server = self.serve()
        one, _ = server.records("web_events", json.dumps({"id": 1, "ts": 1764979200000, "page": "/a"}))
        self.assertEqual(one, {"accepted": 1, "failed": []})
        array, _ = server.records("web_events", json.dumps([{"id": 2, "ts": 1764979200000}, 7, {"id": 3, "ts": 1765065600000}]))
        self.assertEqual(array["accepted"], 2)
        self.assertEqual([f["index"] for f in array["failed"]], [1])
        lines, _ = server.records("web_events", '{"id": 4, "ts": 1764979200000}\nnot json\n{"id": 5, "ts": 1764979200000, '
                                                '"person": {"name": "ann", "tags": ["x"]}}\n', content_type="application/x-ndjson")
        self.assertEqual(lines["accepted"], 2)
        self.assertEqual(lines["failed"][0]["index"], 1)
        packed = gzip.compress(ndjson([{"id": 6, "ts": 1764979200000}, {"id": 7, "ts": 1764979200000}]).encode())
        zipped, _ = server.records("web_events", packed, content_type="application/x-ndjson",
                                   headers={"Content-Encoding": "gzip"})
        self.assertEqual(zipped["accepted"], 2)
        # The server's own token works too.
        server.records("web_events", json.dumps({"id": 8, "ts": 1764979200000}), token=SERVER_TOKEN)

        status, text, headers = server.post("/api/v1/streams/web_events/records", "{}", token="wrong")
        self.assertEqual(status, 401, text)
        self.assertNotIn(TOKEN, text)
        status, text, _ = server.post("/api/v1/streams/nope/records", "{}", token=SERVER_TOKEN)
        self.assertEqual(status, 404, text)
        status, text, _ = server.post("/api/v1/streams/web_events/records", "{}", content_type="text/plain")
        self.assertEqual(status, 415, text)
        status, text, _ = server.post("/api/v1/streams/web_events/records", ndjson([{"i": i} for i in range(501)]),
                                      content_type="application/x-ndjson")
        self.assertEqual(status, 413, text)
        self.assertIn("max_request_records", text)
        # The stream's token opens nothing else.
        status, _, _ = server.post("/api/v1/pipelines/x/trigger", "{}", token=TOKEN)
        self.assertEqual(status, 401)

        self.assertIsNone(self.table_rows("raw.web_events"), "nothing lands before max_age")
        self.flush_by_age()
        self.wait_rows("raw.web_events", 8, server)
        rows = self.rows("SELECT id, CAST(event_date AS VARCHAR) AS d, _source_file, person.name AS name "
                         "FROM raw.web_events ORDER BY id")
        self.assertEqual([r["id"] for r in rows], [1, 2, 3, 4, 5, 6, 7, 8])
        self.assertEqual({r["d"] for r in rows}, {"2025-12-06", "2025-12-07"})
        self.assertTrue(all(r["_source_file"].startswith("web_events/") for r in rows))
        self.assertEqual([r["name"] for r in rows if r["name"]], ["ann"])
        folders = {os.path.basename(os.path.dirname(f)) for f in self.project.lake_files("raw/streams/web_events/**/*.parquet")}
        self.assertEqual(folders, {"event_date=2025-12-06", "event_date=2025-12-07"})
        spool = self.project.path(".sluice", "streams", "web_events")
        wait_until(lambda: len(os.listdir(spool)) == 1, "the flushed segment deleted, the active one left", 60)
        wait_until(lambda: 'sluice_stream_records_flushed_total{stream="web_events"} 8' in server.metrics(),
                   "the flush counted in /metrics", 60)
        metrics = server.metrics()
        self.assertIn('sluice_stream_records_acknowledged_total{stream="web_events"} 8', metrics)
        self.assertIn('sluice_stream_ack_latency_seconds_count{stream="web_events"}', metrics)
        self.assertEqual(server.stop(), 0)
        self.assertNotIn(TOKEN, server.output())
        self.assertNotIn(AWS_SECRET, server.output())

    def test_limits_flush_by_bytes_and_backpressure(self):
        server = self.serve()
        big = {"pad": "x" * 600}
        answer, _ = server.records("small", ndjson([{"i": 1}, big, {"i": 2}]), content_type="application/x-ndjson")
        self.assertEqual(answer["accepted"], 2)
        self.assertIn("max_record_size", answer["failed"][0]["error"])
        status, text, _ = server.post("/api/v1/streams/small/records", ndjson([{"pad": "y" * 400}] * 12),
                                      content_type="application/x-ndjson")
        self.assertEqual(status, 413, text)
        self.assertIn("max_request_bytes", text)
        gzipped = gzip.compress(ndjson([{"pad": "z" * 400}] * 15).encode())
        self.assertLess(len(gzipped), 4096)
        status, text, _ = server.post("/api/v1/streams/small/records", gzipped, content_type="application/x-ndjson",
                                      headers={"Content-Encoding": "gzip"})
        self.assertEqual(status, 413, "the decompressed size counts: " + text)
        # Past max_bytes (2KB) the flush starts without the clock moving.
        for i in range(3):
            server.records("small", ndjson([{"batch": i, "pad": "p" * 300}] * 3), content_type="application/x-ndjson")
        wait_until(lambda: (self.table_rows("raw.small") or 0) >= 2, "small flushed by max_bytes", 120, server.proc)

    def test_backpressure_429_then_accepts_again(self):
        # The first flush is held at its staging point, so the spool fills up to max_spool_bytes.
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        server = self.serve(fault_env=faults.env("stream_flush_staged:pause"))
        statuses = []
        for i in range(12):
            status, text, headers = server.post("/api/v1/streams/small/records", ndjson([{"i": i, "pad": "q" * 300}] * 3),
                                                content_type="application/x-ndjson")
            statuses.append(status)
            if status == 429:
                self.assertGreaterEqual(int(headers["Retry-After"]), 1)
                self.assertIn("max_spool_bytes", text)
                break
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertIn('sluice_stream_throttled_total{stream="small"} 1', server.metrics())
        faults.wait_reached("stream_flush_staged", server.proc)
        faults.release("stream_flush_staged")
        self.set_clock("2026-12-05T12:00:00Z")  # past max_age (1h): the rest flushes too
        accepted = sum(1 for s in statuses if s == 200) * 3
        self.wait_rows("raw.small", accepted, server)
        answer, _ = server.records("small", ndjson([{"after": 1}]), content_type="application/x-ndjson")
        self.assertEqual(answer["accepted"], 1)

    def test_schema_evolution_rejects_and_partition_cap(self):
        server = self.serve()
        server.records("web_events", ndjson([{"id": 1, "ts": 1764979200000, "n": 5}]), content_type="application/x-ndjson")
        self.flush_by_age(2)
        self.wait_rows("raw.web_events", 1, server)
        server.records("web_events", ndjson([{"id": 2, "ts": 1764979200000, "n": 6, "extra": {"deep": True}},
                                             {"id": 3, "ts": 1764979200000, "n": "not a number"}]),
                       content_type="application/x-ndjson")
        self.flush_by_age(4)
        self.wait_rows("raw.web_events", 2, server)
        rows = self.rows("SELECT id, n, extra.deep AS deep FROM raw.web_events ORDER BY id")
        self.assertEqual(rows, [{"id": 1, "n": 5, "deep": None}, {"id": 2, "n": 6, "deep": True}])
        rejects = self.rows("SELECT id, _reject_reason FROM raw.web_events__rejects")
        self.assertEqual([r["id"] for r in rejects], [3])
        self.assertIn("column n", rejects[0]["_reject_reason"])

        server.records("capped", ndjson([{"k": k, "v": i} for i, k in enumerate(["a", "b", "c", "a"])]),
                       token=SERVER_TOKEN, content_type="application/x-ndjson")
        self.flush_by_age(6)
        self.wait_rows("raw.capped", 3, server)
        overflow = self.rows("SELECT k, _reject_reason FROM raw.capped__rejects")
        self.assertEqual([r["k"] for r in overflow], ["c"])
        self.assertIn("k=c", overflow[0]["_reject_reason"])
        self.assertIn("max_active_partitions", overflow[0]["_reject_reason"])

    def test_idempotent_retry_and_ack_lake(self):
        server = self.serve()
        body = ndjson([{"id": 1, "ts": 1764979200000}, {"id": 2, "ts": 1764979200000}])
        first, headers = server.records("web_events", body, content_type="application/x-ndjson",
                                        headers={"Idempotency-Key": "batch-1"})
        again, again_headers = server.records("web_events", body, content_type="application/x-ndjson",
                                              headers={"Idempotency-Key": "batch-1"})
        self.assertEqual(first, again)
        self.assertEqual(again_headers.get("Idempotent-Replayed"), "true")
        # ?ack=lake answers once the records are committed.
        status, text, _ = server.post("/api/v1/streams/web_events/records?ack=lake",
                                      ndjson([{"id": 3, "ts": 1764979200000}]), content_type="application/x-ndjson")
        self.assertEqual(status, 200, text)
        self.assertTrue(json.loads(text)["in_lake"])
        self.assertEqual(self.table_rows("raw.web_events"), 3)
        # After a restart the key is still remembered (it moved forward with the spool's segments).
        self.assertEqual(server.stop(), 0)
        server = self.serve()
        again, again_headers = server.records("web_events", body, content_type="application/x-ndjson",
                                              headers={"Idempotency-Key": "batch-1"})
        self.assertEqual(again_headers.get("Idempotent-Replayed"), "true")
        self.flush_by_age()
        # Nothing new was spooled, so nothing new lands; the table keeps its three rows.
        self.assertEqual(self.table_rows("raw.web_events"), 3)
        self.assertEqual(self.rows("SELECT count(DISTINCT id) AS n FROM raw.web_events")[0]["n"], 3)

    def crash_and_recover(self, point):
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        server = self.serve(fault_env=faults.env(f"{point}:kill"))
        batches = [ndjson([{"id": b * 10 + i, "ts": 1764979200000} for i in range(3)]) for b in range(3)]
        answered = []
        for b, body in enumerate(batches):
            try:
                status, _, _ = server.post("/api/v1/streams/web_events/records", body, content_type="application/x-ndjson",
                                           headers={"Idempotency-Key": f"crash-{b}"})
                answered.append(status)
            except (ConnectionError, urllib.error.URLError):
                answered.append(None)  # the server died before answering
                break
        if server.proc.poll() is None:
            self.flush_by_age(2)
        server.proc.wait(timeout=120)
        self.assertEqual(server.proc.returncode, -signal.SIGKILL, server.output())
        server.log.close()
        self.servers.remove(server)
        # Restart; the producer retries every batch it has no answer for (and, being careful, all of them).
        server = self.serve()
        for b, body in enumerate(batches):
            answer, _ = server.records("web_events", body, content_type="application/x-ndjson",
                                       headers={"Idempotency-Key": f"crash-{b}"})
            self.assertEqual(answer["accepted"], 3)
        self.flush_by_age(4)
        self.wait_rows("raw.web_events", 9, server)
        ids = [r["id"] for r in self.rows("SELECT id FROM raw.web_events ORDER BY id")]
        self.assertEqual(ids, [0, 1, 2, 10, 11, 12, 20, 21, 22])
        self.assertEqual(server.stop(), 0)

    def test_kill_after_spool_before_ack(self):
        self.crash_and_recover("stream_spooled_before_ack")

    def test_kill_after_staging_a_flush(self):
        self.crash_and_recover("stream_flush_staged")

    def test_kill_after_commit_before_spool_delete(self):
        self.crash_and_recover("stream_after_commit_before_spool_delete")

    def test_firehose_http_endpoint_delivery(self):
        server = self.serve()
        request_id = "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"
        delivery = json.dumps({"requestId": request_id, "timestamp": 1764979200000, "records": [
            {"data": base64.b64encode(json.dumps({"id": i, "ts": 1764979200000}).encode()).decode()} for i in range(4)]})
        headers = {"X-Amz-Firehose-Request-Id": request_id, "X-Amz-Firehose-Access-Key": TOKEN}
        for _ in range(2):  # Firehose retries a delivery it got no answer for
            status, text, _ = server.post("/firehose/http-endpoint/web_events", delivery, token=None, headers=headers)
            self.assertEqual(status, 200, text)
            self.assertEqual(json.loads(text)["requestId"], request_id)
        status, text, _ = server.post("/firehose/http-endpoint/web_events", delivery, token=None,
                                      headers={"X-Amz-Firehose-Request-Id": "other", "X-Amz-Firehose-Access-Key": "wrong"})
        self.assertEqual(status, 401, text)
        self.assertIn("errorMessage", json.loads(text))
        self.flush_by_age()
        self.wait_rows("raw.web_events", 4, server)

    def test_firehose_sdk_put_record_batch(self):
        if not os.path.exists(os.path.join(NPM_TOOLS, "node_modules", "@aws-sdk", "client-firehose")):
            self.skipTest("@aws-sdk/client-firehose is not installed: run scripts/install-deps.sh")
        server = self.serve()
        endpoint = f"http://127.0.0.1:{self.port}/firehose"
        records = [json.dumps({"id": 1, "ts": 1764979200000}), "not json", json.dumps({"id": 2, "ts": 1764979200000})]

        def client(secret, stream="web_events"):
            proc = subprocess.run(["node", FIREHOSE_CLIENT, endpoint, "AKIAWEBEVENTS", secret, stream],
                                  input="\n".join(records) + "\n", capture_output=True, text=True, timeout=120,
                                  env=dict(os.environ, SLUICE_NPM_TOOLS=NPM_TOOLS))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            return json.loads(proc.stdout)

        answer = client(AWS_SECRET)
        self.assertNotIn("error", answer, answer)
        self.assertEqual(answer["batch"]["FailedPutCount"], 1)
        responses = answer["batch"]["RequestResponses"]
        self.assertIn("RecordId", responses[0])
        self.assertEqual(responses[1]["ErrorCode"], "InvalidArgumentException")
        self.assertIn("RecordId", responses[2])
        self.assertTrue(answer["single"]["RecordId"])
        wrong = client("not-the-secret")
        self.assertEqual(wrong["error"], "InvalidSignatureException", wrong)
        unknown = client(AWS_SECRET, stream="nope")
        self.assertEqual(unknown["error"], "ResourceNotFoundException", unknown)
        self.flush_by_age()
        self.wait_rows("raw.web_events", 3, server)
        self.assertEqual(self.rows("SELECT count(*) AS n FROM raw.web_events WHERE single")[0]["n"], 1)

    def test_sluice_send(self):
        server = self.serve()
        data = self.project.write("events.ndjson", ndjson([{"id": i, "ts": 1764979200000} for i in range(1203)]))
        env = ENV
        sent = self.project.sluice("send", "web_events", data, env=env)
        self.assertEqual(sent.rc, 0, sent)
        self.assertIn("1203 records accepted", sent.out)
        bad = self.project.write("bad.ndjson", '{"id": 5000, "ts": 1764979200000}\nnot json\n')
        sent = self.project.sluice("send", "web_events", bad, env=env)
        self.assertEqual(sent.rc, 1, sent)
        self.assertIn("line 2", sent.err)
        missing = self.project.sluice("send", "nope", bad, env=env)
        self.assertEqual(missing.rc, 2, missing)
        self.flush_by_age()
        self.wait_rows("raw.web_events", 1204, server)

    def test_sluice_send_waits_out_429(self):
        # The first flush of `small` is held at its staging point, so the spool fills and answers 429; sluice send
        # waits Retry-After and resends the same batch until the spool has drained.
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        server = self.serve(fault_env=faults.env("stream_flush_staged:pause"))
        data = self.project.write("many.ndjson", ndjson([{"i": i, "pad": "s" * 280} for i in range(60)]))
        env = dict(os.environ, **ENV)
        sender = subprocess.Popen([SLUICE, "--project", self.project.root, "send", "small", data], env=env,
                                  cwd=self.project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: sender.poll() is None and sender.kill())
        wait_until(lambda: 'sluice_stream_throttled_total{stream="small"} 0' not in server.metrics(),
                   "a batch of sluice send answered 429", 120, server.proc)
        faults.release("stream_flush_staged")
        out, err = sender.communicate(timeout=600)
        self.assertEqual(sender.returncode, 0, err)
        self.assertIn("60 records accepted", out)
        self.set_clock("2026-12-05T12:00:00Z")  # past max_age (1h): what is left flushes too
        self.wait_rows("raw.small", 60, server)
        self.assertEqual(self.rows("SELECT count(DISTINCT i) AS n FROM raw.small")[0]["n"], 60)


if __name__ == "__main__":
    unittest.main()
