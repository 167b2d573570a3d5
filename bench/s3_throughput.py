#!/usr/bin/python3
"""S3 upload/download throughput: sluice's S3 store (bench s3_transfer) vs boto3, same file, same run.

    bench/s3_throughput.py BUILD_DIR [SIZE_MB]     (default 1024 MB)

Starts s3rver on loopback (scripts/s3_test_server.py), writes a SIZE_MB file of incompressible bytes
(BENCH_DATA, default /tmp/sluice-bench), then times BENCH_REPEAT (default 3) uploads and downloads by
each client with 8 MB parts, at 1 part at a time (sequential, boto3 with use_threads=False) and at
BENCH_CONCURRENCY (default 4) parts in flight (sluice's s3.upload_concurrency, boto3's
max_concurrency), and prints the medians in MB/s and the ratio sluice/boto3. Every download is
checked byte for byte against the source file (SHA-256). Downloads are sequential in sluice either
way (one streaming GET), so only uploads have a concurrent row for sluice.
"""
import hashlib
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "scripts"))
from s3_test_server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    size_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    data_dir = os.environ.get("BENCH_DATA", "/tmp/sluice-bench")
    os.makedirs(data_dir, exist_ok=True)
    source = os.path.join(data_dir, f"s3_random_{size_mb}mb.bin")
    if not os.path.exists(source) or os.path.getsize(source) != size_mb << 20:
        with open(source, "wb") as f:
            for _ in range(size_mb):
                f.write(os.urandom(1 << 20))
    expected = sha256(source)
    tool = os.path.join(build, "bench", "s3_transfer")
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)

    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "4"))
    from boto3.s3.transfer import TransferConfig
    sequential = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=1,
                                use_threads=False)
    parallel = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20,
                              max_concurrency=concurrency, use_threads=True)
    rows = [("upload, 1 part at a time", "up", 1, sequential), (f"upload, {concurrency} parts at a time", "up",
                                                                 concurrency, parallel),
            ("download", "down", 1, sequential)]
    results = {label: {"sluice": [], "boto3": []} for label, _, _, _ in rows}
    with S3Server(buckets=["bench"]) as server:
        client = server.boto3_client()
        down = os.path.join(data_dir, "s3_download.bin")

        def sluice(mode, key, path, parts_at_once):
            subprocess.run([tool, mode, server.endpoint, "bench", key, path, "8", str(parts_at_once)], env=env,
                           check=True)

        def check_download():
            assert sha256(down) == expected, "download differs from the source"
            os.remove(down)

        for _ in range(repeat):
            for label, direction, parts_at_once, config in rows:
                if direction == "up":
                    results[label]["sluice"].append(
                        timed(lambda: sluice("put", "sluice.bin", source, parts_at_once)))
                    results[label]["boto3"].append(
                        timed(lambda: client.upload_file(source, "bench", "boto3.bin", Config=config)))
                else:
                    results[label]["sluice"].append(timed(lambda: sluice("get", "sluice.bin", down, 1)))
                    check_download()
                    results[label]["boto3"].append(
                        timed(lambda: client.download_file("bench", "boto3.bin", down, Config=config)))
                    check_download()
    mb = size_mb * 1.048576  # MB (10^6 bytes)
    print(f"S3 throughput, {size_mb} MiB file, s3rver on loopback, median of {repeat}")
    print("| transfer | sluice MB/s | boto3 MB/s | sluice/boto3 |")
    print("| --- | --- | --- | --- |")
    for label, _, _, _ in rows:
        s = mb / statistics.median(results[label]["sluice"])
        b = mb / statistics.median(results[label]["boto3"])
        print(f"| {label} | {s:.0f} | {b:.0f} | {s / b:.2f} |")


if __name__ == "__main__":
    main()
