#!/usr/bin/python3
"""A fault-injecting HTTP proxy for S3 tests, on loopback.

    s3_fault_proxy.py UPSTREAM_PORT STATS_FILE [--every N]

Listens on a free 127.0.0.1 port (printed as the first stdout line: "PORT <n>") and forwards requests
to 127.0.0.1:UPSTREAM_PORT, except every N-th request (default 3), which in turn gets a 503 SlowDown,
a 500 InternalError, or a dropped connection (closed without an answer). After each request STATS_FILE
holds "requests=<n> faults=<m>". Stopped by its pid (SIGTERM).
"""
import http.client
import http.server
import socketserver
import sys
import threading

UPSTREAM = int(sys.argv[1])
STATS = sys.argv[2]
EVERY = int(sys.argv[sys.argv.index("--every") + 1]) if "--every" in sys.argv else 3
lock = threading.Lock()
counts = {"requests": 0, "faults": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            counts["requests"] += 1
            n = counts["requests"]
            fault = n % EVERY == 0
            if fault:
                counts["faults"] += 1
            kind = counts["faults"] % 3
            with open(STATS, "w") as f:
                f.write(f"requests={counts['requests']} faults={counts['faults']}\n")
        if fault:
            if kind == 0:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            code, s3code = (503, "SlowDown") if kind == 1 else (500, "InternalError")
            payload = f"<?xml version=\"1.0\"?><Error><Code>{s3code}</Code><Message>injected</Message></Error>".encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        upstream.request(self.command, self.path, body=body if body or self.command in ("PUT", "POST") else None,
                         headers=headers)
        response = upstream.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
