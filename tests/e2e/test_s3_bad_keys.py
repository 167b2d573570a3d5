"""An S3 drop zone holding an object whose key has a '..' segment ("in/../evil.csv"): S3 allows
such keys, but they cannot be fetched as named (HTTP clients fold the "..") nor stored below the
run's folder. The files source skips them with a warning; the other objects load, and later runs
are not blocked by them.

s3rver stores objects as files and so folds '..' itself; the test puts the object under a
placeholder key and a small proxy in front of s3rver (loopback, free port) renames it in the
listings, which is what a real S3 bucket would list."""
import http.client
import http.server
import json
import os
import sys
import threading
import unittest

from sluice_e2e import Project

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402

PLACEHOLDER = "dotdot-placeholder/evil.csv"
DOTDOT = "../evil.csv"


class ListingRewriter:
    """Forwards every request to s3rver; in ListObjects answers, keys ending in PLACEHOLDER end in
    DOTDOT instead."""

    def __init__(self, upstream_port):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                if self.command == "GET" and "list-type=2" in self.path:
                    data = data.replace(PLACEHOLDER.encode(), DOTDOT.encode())
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class S3KeyWithDotDotTest(unittest.TestCase):
    def setUp(self):
        self.server = S3Server(buckets=["drop"]).__enter__()
        self.proxy = ListingRewriter(self.server.port)
        self.boto = self.server.boto3_client()
        yaml = self.server.sluice_yaml("./lake").replace(self.server.endpoint, f"http://127.0.0.1:{self.proxy.port}")
        self.p = Project(yaml)

    def tearDown(self):
        self.p.cleanup()
        self.proxy.stop()
        self.server.__exit__(None, None, None)

    def sluice(self, *args):
        return self.p.sluice(*args, env=ENV)

    def test_key_with_dotdot_is_skipped_with_a_warning_and_never_blocks(self):
        self.boto.put_object(Bucket="drop", Key="in/a.csv", Body=b"id\n1\n2\n")
        self.boto.put_object(Bucket="drop", Key="in/" + PLACEHOLDER, Body=b"id\n666\n")
        listed = [o["Key"] for o in self.boto.list_objects_v2(Bucket="drop")["Contents"]]
        self.assertIn("in/" + PLACEHOLDER, listed)  # s3rver itself lists the placeholder
        self.p.pipeline("drop", """\
name: drop
source:
  type: files
  path: s3://drop/in/**.csv
target:
  zone: raw
  table: landed
""")
        first = self.sluice("run", "drop")
        self.assertEqual(first.rc, 0, repr(first))
        self.assertIn("skipping object 'in/../evil.csv'", first.out + first.err)
        self.assertEqual(self.query("SELECT id FROM raw.landed ORDER BY id"), [{"id": 1}, {"id": 2}])

        # A new object still loads: the bad key does not stand in the way of later runs.
        self.boto.put_object(Bucket="drop", Key="in/b.csv", Body=b"id\n3\n")
        second = self.sluice("run", "drop")
        self.assertEqual(second.rc, 0, repr(second))
        self.assertEqual(self.query("SELECT id FROM raw.landed ORDER BY id"), [{"id": 1}, {"id": 2}, {"id": 3}])

    def query(self, sql):
        r = self.sluice("query", sql, "--format", "json")
        self.assertEqual(r.rc, 0, repr(r))
        return json.loads(r.out)


if __name__ == "__main__":
    unittest.main()
