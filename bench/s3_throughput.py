#!/usr/bin/python3
"""S3 upload/download throughput: sluice's S3 store (bench s3_transfer) vs boto3, same file, same run.

    bench/s3_throughput.py BUILD_DIR [SIZE_MB]     (default 1024 MB)

Starts s3rver on loopback (scripts/s3_test_server.py), writes a SIZE_MB file of incompressible bytes
(BENCH_DATA, default /tmp/sluice-bench), then times BENCH_REPEAT (default 3) uploads and downloads by
each client (8 MB parts for both: boto3's TransferConfig with multipart_chunksize 8 MB, sequential,
like sluice's writer) and prints the medians in MB/s and the ratio sluice/boto3. Both downloads are
checked byte for byte against the source file (SHA-256).
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

    from boto3.s3.transfer import TransferConfig
    config = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=1,
                            use_threads=False)
    results = {"sluice": {"up": [], "down": []}, "boto3": {"up": [], "down": []}}
    with S3Server(buckets=["bench"]) as server:
        client = server.boto3_client()
        down = os.path.join(data_dir, "s3_download.bin")

        def sluice(mode, key, path):
            subprocess.run([tool, mode, server.endpoint, "bench", key, path, "8"], env=env, check=True)

        for _ in range(repeat):
            results["sluice"]["up"].append(timed(lambda: sluice("put", "sluice.bin", source)))
            results["boto3"]["up"].append(timed(lambda: client.upload_file(source, "bench", "boto3.bin",
                                                                           Config=config)))
            results["sluice"]["down"].append(timed(lambda: sluice("get", "sluice.bin", down)))
            assert sha256(down) == expected, "sluice download differs from the source"
            os.remove(down)
            results["boto3"]["down"].append(timed(lambda: client.download_file("bench", "boto3.bin", down,
                                                                               Config=config)))
            assert sha256(down) == expected, "boto3 download differs from the source"
            os.remove(down)
    mb = size_mb * 1.048576  # MB (10^6 bytes)
    print(f"S3 throughput, {size_mb} MiB file, s3rver on loopback, median of {repeat}")
    print("| direction | sluice MB/s | boto3 MB/s | sluice/boto3 |")
    print("| --- | --- | --- | --- |")
    for direction in ("up", "down"):
        s = mb / statistics.median(results["sluice"][direction])
        b = mb / statistics.median(results["boto3"][direction])
        print(f"| {'upload' if direction == 'up' else 'download'} | {s:.0f} | {b:.0f} | {s / b:.2f} |")


if __name__ == "__main__":
    main()
