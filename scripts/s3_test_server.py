#!/usr/bin/python3
"""A throwaway S3-compatible server (npm's s3rver@3.7.1) for tests.

    s3_test_server.py start DIR [--bucket NAME ...]   start on a free 127.0.0.1 port with its data in DIR,
                                                       create the buckets, print one JSON line
                                                       {"endpoint", "port", "pid", "dir", "buckets"}
    s3_test_server.py stop DIR                        stop the server of DIR (SIGTERM to the pid recorded in
                                                       DIR/s3rver.pid, SIGKILL after a grace period)

Importable too:

    with S3Server(buckets=["lake"]) as s3:   # temp dir, started on enter, stopped and removed on exit
        s3.endpoint, s3.port

s3rver comes from build/_npm_tools (scripts/install-deps.sh installs it; SLUICE_NPM_TOOLS overrides the
folder). It does not verify signatures: any access key works. Never stops a server by name.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
ACCESS_KEY = "S3RVER"        # s3rver's documented default credentials
SECRET_KEY = "S3RVER"
ENV = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}  # what sluice_yaml() refers to


class S3ServerError(RuntimeError):
    pass


def _tools_dir():
    env = os.environ.get("SLUICE_NPM_TOOLS")
    if env:
        return env
    root = os.environ.get("SLUICE_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "build", "_npm_tools")


def _s3rver_bin():
    path = os.path.join(_tools_dir(), "node_modules", "s3rver", "bin", "s3rver.js")
    if not os.path.exists(path):
        raise S3ServerError(f"s3rver is not installed at {path}; run scripts/install-deps.sh")
    return path


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start(directory, buckets=()):
    directory = os.path.abspath(directory)
    data = os.path.join(directory, "data")
    os.makedirs(data, exist_ok=True)
    port = _free_port()
    # s3rver makes continuation tokens with DES, which Node 17+ (OpenSSL 3) only offers from the legacy
    # provider: without it every truncated listing (pagination) answers 500.
    argv = ["node", "--openssl-legacy-provider", _s3rver_bin(), "-d", data, "-a", "127.0.0.1", "-p", str(port), "--silent"]
    for bucket in buckets:
        argv += ["--configure-bucket", bucket]
    log = open(os.path.join(directory, "s3rver.log"), "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    with open(os.path.join(directory, "s3rver.pid"), "w") as f:
        f.write(str(proc.pid))
    deadline = time.time() + START_TIMEOUT_S
    while time.time() < deadline:
        if proc.poll() is not None:
            with open(os.path.join(directory, "s3rver.log")) as f:
                raise S3ServerError(f"s3rver exited with {proc.returncode}: {f.read().strip()}")
        if _listening(port):
            info = {"endpoint": f"http://127.0.0.1:{port}", "port": port, "pid": proc.pid, "dir": directory,
                    "buckets": list(buckets), "access_key": ACCESS_KEY, "secret_key": SECRET_KEY}
            return info
        time.sleep(0.1)
    stop(directory)
    raise S3ServerError(f"s3rver did not listen on 127.0.0.1:{port} within {START_TIMEOUT_S}s")


def stop(directory):
    pid_file = os.path.join(os.path.abspath(directory), "s3rver.pid")
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + STOP_TIMEOUT_S
        while _alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    os.remove(pid_file)


class S3Server:
    def __init__(self, buckets=("lake",)):
        self.buckets = list(buckets)
        self.dir = None
        self.info = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-s3rver-")
        self.info = start(self.dir, self.buckets)
        self.endpoint = self.info["endpoint"]
        self.port = self.info["port"]
        return self

    def __exit__(self, *exc):
        stop(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)

    def sluice_yaml(self, lake):
        """A sluice.yaml for `lake` with the s3: block exactly as CONFIG.md shows it, reaching this server;
        the keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (see ENV)."""
        return (f"project: acme\nlake: {lake}\ns3:\n  endpoint: {self.endpoint}\n  region: us-east-1\n"
                "  access_key_id: ${env:AWS_ACCESS_KEY_ID}\n  secret_access_key: ${env:AWS_SECRET_ACCESS_KEY}\n"
                "  path_style: true\n")

    def boto3_client(self):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}))


def main(argv):
    if len(argv) < 3 or argv[1] not in ("start", "stop"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[1] == "start":
            buckets = [argv[i + 1] for i in range(3, len(argv) - 1) if argv[i] == "--bucket"]
            print(json.dumps(start(argv[2], buckets)), flush=True)
        else:
            stop(argv[2])
    except S3ServerError as e:
        print(f"s3_test_server: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
