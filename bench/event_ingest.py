#!/usr/bin/env python3
"""Event ingest over HTTP (docs/streams.md): N keep-alive producers post NDJSON batches to
`sluice serve` for a fixed time; reports records/s acknowledged (durable: fsync'd), p50/p99 ack
latency and the server's peak RSS, then checks every acknowledged record reached the lake. The same
producers then post to a baseline in the same run: Python's ThreadingHTTPServer appending each body
to a file and fsyncing it before answering (durable, no group commit).

Usage: bench/event_ingest.py BUILD_DIR [SECONDS=20] [PRODUCERS=8] [BATCH=500]
"""
import http.client
import http.server
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def batch_body(producer, batch):
    return "".join(json.dumps({"producer": producer, "seq": i, "ts": 1764979200000 + i, "page": f"/p/{i % 50}",
                               "user": {"id": i % 1000, "agent": "bench"}}) + "\n" for i in range(batch)).encode()


def produce(port, path, token, producer, batch, seconds, start_at, out):
    body = batch_body(producer, batch)
    headers = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, accepted, throttled = [], 0, 0
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = start_at + seconds
    while time.time() < deadline:
        t0 = time.perf_counter()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        text = response.read()
        if response.status == 200:
            latencies.append(time.perf_counter() - t0)
            accepted += json.loads(text)["accepted"]
        elif response.status == 429:
            throttled += 1
            time.sleep(float(response.getheader("Retry-After", "1")))
        else:
            raise SystemExit(f"producer {producer}: HTTP {response.status}: {text[:300]!r}")
    out.put((accepted, latencies, throttled))


def run_producers(port, path, token, producers, batch, seconds):
    out = multiprocessing.Queue()
    start_at = time.time() + 1.0
    procs = [multiprocessing.Process(target=produce, args=(port, path, token, p, batch, seconds, start_at, out))
             for p in range(producers)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    accepted = sum(r[0] for r in results)
    latencies = sorted(l for r in results for l in r[1])
    throttled = sum(r[2] for r in results)
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return {"accepted": accepted, "per_second": accepted / seconds, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "requests": len(latencies), "throttled": throttled}


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class AppendFsyncHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    file = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        records = body.count(b"\n")
        with AppendFsyncHandler.lock:
            AppendFsyncHandler.file.write(body)
            AppendFsyncHandler.file.flush()
            os.fsync(AppendFsyncHandler.file.fileno())
        answer = json.dumps({"accepted": records, "failed": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def baseline(workdir, producers, batch, seconds):
    port = free_port()
    AppendFsyncHandler.file = open(os.path.join(workdir, "baseline.ndjson"), "ab")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), AppendFsyncHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return run_producers(port, "/records", "x", producers, batch, seconds)
    finally:
        server.shutdown()
        AppendFsyncHandler.file.close()


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    producers = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 500
    sluice = os.path.abspath(os.path.join(build, "sluice"))
    workdir = tempfile.mkdtemp(prefix="sluice-bench-events-")
    port = free_port()
    token = "bench-token-0123456789"
    with open(os.path.join(workdir, "sluice.yaml"), "w") as f:
        f.write(f"""project: bench
lake: ./lake
server:
  listen: 127.0.0.1:{port}
  token: ${{env:BENCH_TOKEN}}
streams:
  events:
    target: {{ zone: raw, table: events }}
    buffer: {{ max_bytes: 64MB, max_age: 10s }}
""")
    env = dict(os.environ, BENCH_TOKEN=token)
    log = open(os.path.join(workdir, "serve.log"), "w")
    serve = subprocess.Popen([sluice, "--project", workdir, "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or serve.poll() is not None:
                    raise SystemExit("sluice serve did not start; see " + log.name)
                time.sleep(0.05)
        result = run_producers(port, "/api/v1/streams/events/records", token, producers, batch, seconds)
        rss = peak_rss_mib(serve.pid)
        # Every acknowledged record must reach the lake: one more request asks for the flush and waits.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("POST", "/api/v1/streams/events/records?ack=lake", b'{"last": true}\n',
                     {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"})
        landed = json.loads(conn.getresponse().read())
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=120)
        log.close()
    count = subprocess.run([sluice, "--project", workdir, "query", "SELECT count(*) AS n FROM raw.events", "--format",
                            "json"], capture_output=True, text=True, env=env)
    in_lake = json.loads(count.stdout)[0]["n"] - 1 if count.returncode == 0 else None
    base = baseline(workdir, producers, batch, seconds)
    shutil.rmtree(workdir, ignore_errors=True)

    print(f"event ingest: {producers} producers x {batch}-record NDJSON batches for {seconds:.0f} s, 2-core machine")
    print("| server | records/s acknowledged | p50 ack | p99 ack | requests | 429s | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| sluice serve | {result['per_second']:,.0f} | {result['p50_ms']:.1f} ms | {result['p99_ms']:.1f} ms | "
          f"{result['requests']} | {result['throttled']} | {rss:.0f} MiB |")
    print(f"| Python append+fsync | {base['per_second']:,.0f} | {base['p50_ms']:.1f} ms | {base['p99_ms']:.1f} ms | "
          f"{base['requests']} | {base['throttled']} | |")
    print(f"acknowledged by sluice: {result['accepted']}; in the lake afterwards: {in_lake} "
          f"(ack=lake: {landed.get('in_lake')})")
    if in_lake != result["accepted"]:
        raise SystemExit("MISMATCH: acknowledged records missing from (or duplicated in) the lake")


if __name__ == "__main__":
    main()
