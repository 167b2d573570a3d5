"""Stream flushes (docs/streams.md, "Durability and the flush"): records no table can hold go to
<table>__rejects with the reason while the rest of the flush commits; fields named like sluice's own
columns; every flush (and every failed one) is a run record. A real `sluice serve` on a free loopback
port; time moves by the injected clock file; fault points fail flushes at exact places."""
import json
import os
import struct
import unittest
import urllib.request
import zlib

from sluice_e2e import FaultPoints, wait_until
from test_streams import ENV, SERVER_TOKEN, StreamsTestBase, ndjson

TS = 1764979200000  # 2025-12-06


def segment_bytes(records, arrival_us=1764928800000000):
    """A spool segment as sluice writes it (spool.cpp): magic, then [len][crc32][kind][arrival µs][payload]."""
    out = bytearray(b"SLSPOOL1")
    for record in records:
        payload = record.encode()
        head = bytes([1]) + struct.pack("<q", arrival_us)
        crc = zlib.crc32(payload, zlib.crc32(head))
        out += struct.pack("<II", len(payload), crc) + head + payload
    return bytes(out)


class StreamFlushesTest(StreamsTestBase):
    def runs(self, server, pipeline):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/v1/runs?pipeline={pipeline}",
                                         headers={"Authorization": f"Bearer {SERVER_TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read().decode())["runs"]

    def test_records_no_table_can_hold_go_to_rejects_and_the_rest_commits(self):
        server = self.serve()
        body = b"\n".join([
            json.dumps({"id": 1, "ts": TS, "userId": "a", "person": {"name": "ann"}, "big": 1e300}).encode(),
            b'{"id": 91, "ts": 1764979200000, "dup": 1, "dup": 2}',     # a key twice
            b'{"id": 92, "ts": 1764979200000, "": 1}',                  # an empty key
            b'{"id": 93, "ts": 1764979200000, "Ab": 1, "aB": 2}',       # one object, two spellings
            b'{"id": 94, "ts": 1764979200000, "s": "\\udc00"}',        # a lone surrogate escape
            b'{"id": 95, "s": "\xff"}',                                  # not UTF-8
            json.dumps({"id": 2, "ts": TS, "userid": "b"}).encode(),     # spelled unlike record 1
            json.dumps({"id": 3, "ts": TS, "deep": json.loads("[" * 300 + "1" + "]" * 300)}).encode(),
            json.dumps({"id": 4, "ts": TS, "huge": 123456789012345678901234567890}).encode(),
        ]) + b"\n"
        answer, _ = server.records("web_events", body, content_type="application/x-ndjson")
        failed = {f["index"]: f["error"] for f in answer["failed"]}
        self.assertEqual(answer["accepted"], 4, answer)
        self.assertIn("'dup' appears twice", failed[1])
        self.assertIn("empty name", failed[2])
        self.assertIn("differ only in case", failed[3])
        self.assertIn("not valid JSON", failed[4])
        self.assertIn("not valid JSON", failed[5])

        self.flush_by_age(2)
        self.wait_rows("raw.web_events", 3, server)
        self.assertEqual([r["id"] for r in self.rows("SELECT id FROM raw.web_events ORDER BY id")], [1, 3, 4])
        rejects = self.rows("SELECT _record, _reject_reason, _source_file FROM raw.web_events__rejects")
        self.assertEqual(len(rejects), 1, rejects)
        self.assertEqual(json.loads(rejects[0]["_record"])["userid"], "b")
        self.assertIn("spelled 'userid' where the table or an earlier record of the stream has 'userId'",
                      rejects[0]["_reject_reason"])
        self.assertTrue(rejects[0]["_source_file"].startswith("web_events/"))

        # The next flush: a spelling unlike the table's column, and a type the column cannot hold.
        server.records("web_events", ndjson([{"id": 5, "ts": TS, "UserId": "c"},
                                             {"id": 6, "ts": TS, "person": 5},
                                             {"id": 7, "ts": TS, "userId": "d", "person": {"name": "bo"}}]),
                       content_type="application/x-ndjson")
        self.flush_by_age(4)
        self.wait_rows("raw.web_events", 4, server)
        rows = self.rows("SELECT id, userId, person.name AS name FROM raw.web_events WHERE id = 7")
        self.assertEqual(rows, [{"id": 7, "userId": "d", "name": "bo"}])
        reasons = {r["id"]: r["_reject_reason"]
                   for r in self.rows("SELECT coalesce(id, CAST(json_extract(_record, '$.id') AS BIGINT)) AS id, "
                                      "_reject_reason FROM raw.web_events__rejects")}
        self.assertEqual(sorted(reasons), [2, 5, 6], reasons)
        self.assertIn("spelled 'UserId'", reasons[5])
        self.assertIn("column person", reasons[6])
        self.assertNotIn(8, reasons)
        # A nested object that gains a field is a type change of its column: quarantined, not cut down.
        server.records("web_events", ndjson([{"id": 8, "ts": TS, "person": {"name": "cy", "age": 3}}]),
                       content_type="application/x-ndjson")
        self.flush_by_age(6)
        wait_until(lambda: self.rows("SELECT count(*) AS n FROM raw.web_events__rejects")[0]["n"] == 4,
                   "the record with a new nested field set aside", 120, server.proc)
        self.assertIn("column person", self.rows("SELECT _reject_reason FROM raw.web_events__rejects WHERE id = 8")[0]
                      ["_reject_reason"])
        self.assertEqual(self.table_rows("raw.web_events"), 4)
        spool = self.project.path(".sluice", "streams", "web_events")
        wait_until(lambda: len(os.listdir(spool)) == 1, "the flushed segments deleted", 60)
        wait_until(lambda: 'sluice_stream_rows_rejected_total{stream="web_events"} 4' in server.metrics(),
                   "the rejects counted in /metrics", 60)
        self.assertIn('sluice_stream_flush_failures_total{stream="web_events"} 0', server.metrics())
        self.assertEqual(server.stop(), 0)

    def test_a_segment_of_an_older_spool_with_unreadable_records_still_lands(self):
        # Records that bypassed today's checks on arrival (an older sluice wrote them): the flush sets aside the
        # ones DuckDB's JSON reader refuses, by the same checks, and commits the others with the segment.
        spool = self.project.path(".sluice", "streams", "web_events")
        os.makedirs(spool)
        with open(os.path.join(spool, "00000000000000000001.seg"), "wb") as f:
            f.write(segment_bytes(['{"id": 1, "ts": %d}' % TS, '{"id": 2, "a": 1, "a": 2}', '{"id": 3, "": 0}',
                                   '{"id": 4, "ts": %d}' % TS]))
        server = self.serve()
        self.wait_rows("raw.web_events", 2, server)
        reasons = sorted(r["_reject_reason"] for r in self.rows("SELECT _reject_reason FROM raw.web_events__rejects"))
        self.assertEqual(len(reasons), 2)
        self.assertIn("appears twice", reasons[0] + reasons[1])
        self.assertIn("empty name", reasons[0] + reasons[1])
        wait_until(lambda: "00000000000000000001.seg" not in os.listdir(spool),
                   "the old segment deleted after its commit", 60)
        run = self.runs(server, "stream:web_events")[0]
        self.assertEqual((run["id"], run["status"], run["trigger"]), ("stream-web_events-1", "succeeded", "restart"))
        self.assertEqual((run["rows_read"], run["rows_written"], run["rows_rejected"]), (4, 2, 2))

    def test_fields_named_like_sluice_columns_are_kept_beside_them(self):
        with open(self.project.path("sluice.yaml")) as f:
            yaml = f.read()
        self.project.write("sluice.yaml", yaml.replace(
            'columns: { event_date: "CAST(to_timestamp(ts / 1000) AS DATE)" }',
            'columns: { event_date: "coalesce(TRY_CAST(event_date AS DATE), CAST(to_timestamp(ts / 1000) AS DATE))" }')
            + "  plain:\n    target: { zone: raw, table: plain }\n")
        server = self.serve()
        server.records("plain", ndjson([
            {"id": 1, "_source_file": "s3://mine/a.json", "_arrived_at": "yesterday", "_arrival_date": "1999-01-01",
             "record_arrived_at": "taken"},
            {"id": 2}]), token=SERVER_TOKEN, content_type="application/x-ndjson")
        server.records("web_events", ndjson([{"id": 1, "ts": TS, "event_date": "2020-02-02"}, {"id": 2, "ts": TS}]),
                       content_type="application/x-ndjson")
        self.flush_by_age(2)
        self.wait_rows("raw.plain", 2, server)
        rows = self.rows("SELECT id, _source_file, CAST(_arrived_at AS VARCHAR) AS arrived, "
                         "CAST(_arrival_date AS VARCHAR) AS day, record_source_file, record_arrived_at, "
                         "record_record_arrived_at, record_arrival_date FROM raw.plain ORDER BY id")
        self.assertTrue(all(r["_source_file"].startswith("plain/") and r["day"] == "2026-12-05" for r in rows), rows)
        self.assertEqual(rows[0]["arrived"], "2026-12-05 10:00:00")
        self.assertEqual((rows[0]["record_source_file"], rows[0]["record_record_arrived_at"],
                          rows[0]["record_arrived_at"], rows[0]["record_arrival_date"]),
                         ("s3://mine/a.json", "yesterday", "taken", "1999-01-01"))

        folders = {os.path.basename(os.path.dirname(f)) for f in self.project.lake_files("raw/streams/plain/**/*.parquet")}
        self.assertEqual(folders, {"_arrival_date=2026-12-05"})
        # A derived column named like a field replaces it; its expression may use the field.
        self.wait_rows("raw.web_events", 2, server)
        dates = self.rows("SELECT id, CAST(event_date AS VARCHAR) AS d FROM raw.web_events ORDER BY id")
        self.assertEqual(dates, [{"id": 1, "d": "2020-02-02"}, {"id": 2, "d": "2025-12-06"}])
        # Another spelling of sluice's column lands in the same renamed column.
        server.records("plain", ndjson([{"id": 3, "_Source_File": "s3://mine/c.json"}]), token=SERVER_TOKEN,
                       content_type="application/x-ndjson")
        self.flush_by_age(4)
        self.wait_rows("raw.plain", 3, server)
        third = self.rows("SELECT _source_file, record_source_file FROM raw.plain WHERE id = 3")[0]
        self.assertEqual(third["record_source_file"], "s3://mine/c.json")
        self.assertTrue(third["_source_file"].startswith("plain/"))
        self.assertEqual(server.stop(), 0)

    def test_flushes_are_runs_and_a_failed_flush_shows_its_error(self):
        faults = FaultPoints()
        self.addCleanup(faults.cleanup)
        server = self.serve(fault_env=faults.env("stream_flush_staged@1:error"))
        server.records("web_events", ndjson([{"id": i, "ts": TS} for i in range(3)]), content_type="application/x-ndjson")
        self.flush_by_age(2)
        failed = wait_until(lambda: [r for r in self.runs(server, "stream:web_events") if r["status"] == "failed"],
                            "the failed flush recorded as a failed run", 60, server.proc)
        self.assertIn("stream_flush_staged", failed[0]["error"])
        self.assertIn("tried again", failed[0]["error"])
        shown = self.project.sluice("runs", "show", failed[0]["id"], env=ENV)
        self.assertEqual(shown.rc, 0, shown)
        self.assertIn("pipeline:  stream:web_events", shown.out)
        # The retry (5 s later, by the real clock) lands the records under the same run.
        self.wait_rows("raw.web_events", 3, server)
        run = wait_until(lambda: [r for r in self.runs(server, "stream:web_events") if r["status"] == "succeeded"],
                         "the retried flush recorded as succeeded", 60, server.proc)[0]
        self.assertEqual(run["id"], failed[0]["id"])
        self.assertEqual((run["rows_written"], run["rows_read"], run["trigger"]), (3, 3, "max_age"))
        self.assertEqual(run["details"]["attempts"], 2)
        self.assertIn("stream_flush_staged", run["details"]["earlier_errors"][0])
        self.assertEqual(run["details"]["jobs"][0]["table"], "raw.web_events")
        listed = self.project.sluice("runs", "list", "--pipeline", "stream:web_events", env=ENV)
        self.assertIn(run["id"], listed.out)
        logs = self.project.sluice("logs", run["id"], env=ENV)
        self.assertIn("landed", logs.out)
        self.assertIn('sluice_stream_flush_failures_total{stream="web_events"} 1', server.metrics())
        self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main()
