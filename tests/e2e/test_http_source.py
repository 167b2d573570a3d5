"""The http source against a real HTTP server (http.server on 127.0.0.1, free port) started by
the test: zip and gzip downloads, unchanged downloads (304 and same content), retries, errors."""
import gzip
import hashlib
import http.server
import io
import threading
import unittest
import zipfile

from sluice_e2e import ProjectTest


def indicators_csv(rows):
    lines = ["Country,Year,Indicator,Value"]
    for i in range(rows):
        lines.append(f"C{i % 5},{2000 + i // 5},gdp,{i * 1.5}")
    return ("\n".join(lines) + "\n").encode()


def zipped(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


class FileServer:
    """Serves self.files[path] = bytes. ETags only when self.etags; self.fail_first[path] = n
    answers HTTP 500 n times first. self.requests records (path, If-None-Match header)."""

    def __init__(self):
        self.files, self.fail_first, self.requests = {}, {}, []
        self.etags = True
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?")[0]
                server.requests.append((path, self.headers.get("If-None-Match"), self.headers.get("Authorization")))
                if server.fail_first.get(path, 0) > 0:
                    server.fail_first[path] -= 1
                    self.send_error(500, "temporarily broken")
                    return
                body = server.files.get(path)
                if body is None:
                    self.send_error(404, "no such file")
                    return
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if server.etags and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/octet-stream")
                if server.etags:
                    self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class HttpSourceTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.server = FileServer()

    def tearDown(self):
        self.server.stop()
        super().tearDown()

    def pipeline(self, url, extra="", mode="full"):
        self.p.pipeline("worldbank", f"""\
name: worldbank
source: {{ type: http, url: "{url}", format: csv{extra} }}
mode: {mode}
target: {{ zone: raw, table: indicators }}
""")

    def test_zip_download_loads_and_unchanged_download_loads_nothing(self):
        self.server.files["/indicators.zip"] = zipped("indicators.csv", indicators_csv(100))
        self.pipeline(self.server.url("/indicators.zip"))
        first = self.p.sluice("run", "worldbank")
        self.assertOk(first)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 100)
        self.assertEqual(self.p.query("SELECT DISTINCT _source_file FROM raw.indicators"),
                         [{"_source_file": self.server.url("/indicators.zip/indicators.csv")}])
        # Second run: conditional GET answered 304, nothing written.
        files_before = self.p.lake_files()
        second = self.p.sluice("run", "worldbank")
        self.assertOk(second)
        self.assertIn("no changes", second.out + second.err)
        self.assertIsNotNone(self.server.requests[-1][1], "the second request was not conditional")
        self.assertEqual(self.p.lake_files(), files_before)
        # New content replaces the table (mode: full keeps the latest download).
        self.server.files["/indicators.zip"] = zipped("indicators.csv", indicators_csv(40))
        third = self.p.sluice("run", "worldbank")
        self.assertOk(third)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 40)

    def test_same_content_without_validators_is_no_change(self):
        self.server.etags = False
        self.server.files["/data/export"] = gzip.compress(indicators_csv(30))
        self.pipeline(self.server.url("/data/export"))
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 30)  # gzip body sniffed
        self.assertEqual(self.p.scalar("SELECT DISTINCT _source_file FROM raw.indicators"),
                         self.server.url("/data/export"))
        again = self.p.sluice("run", "worldbank")
        self.assertOk(again)
        self.assertIn("no changes", again.out + again.err)
        self.assertEqual(len(self.server.requests), 2)  # it did download, and compared the content hash
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 30)

    def test_incremental_mode_appends_each_changed_download(self):
        self.server.files["/a.csv"] = indicators_csv(10)
        self.pipeline(self.server.url("/a.csv"), mode="incremental")
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.server.files["/a.csv"] = indicators_csv(15)
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 25)

    def test_server_error_then_success_is_retried(self):
        self.server.files["/flaky.csv"] = indicators_csv(20)
        self.server.fail_first["/flaky.csv"] = 2
        self.pipeline(self.server.url("/flaky.csv"), ", retries: 3, retry_backoff: 10ms")
        self.assertOk(self.p.sluice("run", "worldbank"))
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.indicators"), 20)

    def test_server_errors_beyond_retries_fail_with_status(self):
        self.server.files["/flaky.csv"] = indicators_csv(20)
        self.server.fail_first["/flaky.csv"] = 5
        self.pipeline(self.server.url("/flaky.csv"), ", retries: 1, retry_backoff: 10ms")
        r = self.p.sluice("run", "worldbank")
        self.assertEqual(r.rc, 1, repr(r))
        self.assertIn("HTTP 500", r.out + r.err)
        self.assertIn("after 2 attempts", r.out + r.err)
        self.assertEqual(len(self.server.requests), 2)

    def test_not_found_names_url_without_credentials(self):
        url = self.server.url("/missing.csv?token=s3cr3tvalue").replace("http://", "http://alice:${env:HTTP_PW}@")
        self.pipeline(url)
        r = self.p.sluice("run", "worldbank", env={"HTTP_PW": "pa55word"})
        self.assertEqual(r.rc, 1, repr(r))
        text = r.out + r.err
        self.assertIn("HTTP 404", text)
        self.assertIn(f"http://127.0.0.1:{self.server.port}/missing.csv?token=***", text)
        self.assertIn("url:", text)
        self.assertNotIn("pa55word", text)
        self.assertNotIn("s3cr3tvalue", text)
        self.assertEqual(self.server.requests[0][0], "/missing.csv")

    def test_a_password_written_into_the_url_is_refused(self):
        self.pipeline(self.server.url("/a.csv").replace("http://", "http://alice:pa55word@"))
        r = self.p.sluice("run", "worldbank")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("'url' in source of job 'worldbank' (http connector) has a password written into its URL", r.err)
        self.assertNotIn("pa55word", r.out + r.err)
        self.assertEqual(self.server.requests, [])

    def test_headers_are_sent_and_never_shown(self):
        self.server.files["/a.csv"] = indicators_csv(3)
        self.pipeline(self.server.url("/a.csv"), ", headers: { Authorization: \"Bearer ${env:HTTP_TOKEN}\" }")
        r = self.p.sluice("run", "worldbank", env={"HTTP_TOKEN": "tok-123456"})
        self.assertOk(r)
        self.assertEqual(self.server.requests[0][2], "Bearer tok-123456")
        self.assertNotIn("tok-123456", r.out + r.err)


if __name__ == "__main__":
    unittest.main()
