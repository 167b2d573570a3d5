#!/usr/bin/python3
"""A throwaway PostgreSQL 15 cluster for tests.

    pg_test_server.py start DIR   initdb into DIR/data, start on a free 127.0.0.1 port, print one JSON line
    pg_test_server.py stop DIR    stop the server of DIR (SIGINT to the postmaster's pid), wait for it to exit

The server listens on 127.0.0.1 only (plus a unix socket inside DIR), has wal_level=logical for
change-data-capture tests and fsync off. Local connections are trusted; the role `sluice` logs in
over TCP with a password (scram-sha-256), so password handling is exercised for real.

Importable too:

    with PgServer() as pg:       # temp dir, started on enter, stopped and removed on exit
        pg.url, pg.password, pg.port

Needs only Debian's python3 standard library and the postgresql-15 package. Never stops a server
by name: only the pid recorded in DIR/data/postmaster.pid.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PG_BIN = os.environ.get("SLUICE_PG_BIN", "/usr/lib/postgresql/15/bin")
OS_USER = "postgres"
ROLE = "sluice"
PASSWORD = "sluice-test-pw"
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


class PgServerError(RuntimeError):
    pass


def _is_root():
    return os.geteuid() == 0


def _ensure_os_user():
    try:
        pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
                       check=True)


def _as_server_user(argv):
    """initdb and postgres refuse to run as root: drop to the postgres user when we are root."""
    if _is_root():
        return ["runuser", "-u", OS_USER, "--"] + argv
    return argv


# The server's tools run as the postgres user, which may not be allowed into the caller's working
# directory (a checkout under a 0700 home or mktemp -d): they would warn "could not change directory"
# on stderr. They start in "/" instead, and only their stdout is ever read as data.
_SERVER_TOOL_CWD = "/"


def _run(argv, what, env=None):
    proc = subprocess.run(_as_server_user(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env, cwd=_SERVER_TOOL_CWD)
    if proc.returncode != 0:
        raise PgServerError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()} {proc.stdout.strip()}")
    return proc.stdout


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_pid(data_dir):
    try:
        with open(os.path.join(data_dir, "postmaster.pid")) as f:
            return int(f.readline().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    """True while the process exists and is not a zombie (a dead postmaster nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _write_config(data_dir, sock_dir, port):
    with open(os.path.join(data_dir, "postgresql.conf"), "a") as f:
        f.write(f"""
# sluice test server
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sock_dir}'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
fsync = off
synchronous_commit = off
full_page_writes = off
password_encryption = 'scram-sha-256'
shared_buffers = 32MB
max_connections = 50
logging_collector = off
""")
    # First match wins: the sluice role must present its password over TCP; everyone else is trusted.
    with open(os.path.join(data_dir, "pg_hba.conf"), "w") as f:
        f.write(f"""# sluice test server
local   all          all                      trust
host    all          {ROLE}     127.0.0.1/32  scram-sha-256
host    replication  {ROLE}     127.0.0.1/32  scram-sha-256
host    all          all        127.0.0.1/32  trust
host    replication  all        127.0.0.1/32  trust
""")


def start(directory):
    """Creates and starts a cluster in `directory` (which must be empty or absent). Returns its info dict."""
    directory = os.path.abspath(directory)
    os.makedirs(directory, exist_ok=True)
    if os.listdir(directory):
        raise PgServerError(f"{directory} is not empty; give start an empty or new directory")
    data_dir = os.path.join(directory, "data")
    log_file = os.path.join(directory, "server.log")
    if _is_root():
        _ensure_os_user()
        user = pwd.getpwnam(OS_USER)
        os.chown(directory, user.pw_uid, user.pw_gid)
    os.chmod(directory, 0o700)
    _run([os.path.join(PG_BIN, "initdb"), "-D", data_dir, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
          "--locale=C", "--no-sync"], "initdb")

    last_error = None
    for _ in range(5):  # the free port can be taken between probing and binding
        port = _free_port()
        _write_config(data_dir, directory, port)
        try:
            _run([os.path.join(PG_BIN, "pg_ctl"), "-D", data_dir, "-l", log_file, "-w", "-t", str(START_TIMEOUT_S),
                  "start"], "pg_ctl start")
            break
        except PgServerError as e:
            last_error = e
            pid = _read_pid(data_dir)
            if pid is not None:
                _stop_pid(data_dir, pid)
    else:
        log = open(log_file).read()[-2000:] if os.path.exists(log_file) else ""
        raise PgServerError(f"{last_error}\n{log}")

    pid = _read_pid(data_dir)
    if pid is None:
        raise PgServerError(f"the server started but {data_dir}/postmaster.pid is unreadable")
    psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", str(port),
            "-U", "postgres", "-d", "postgres", "-c",
            f"CREATE ROLE {ROLE} LOGIN SUPERUSER REPLICATION PASSWORD '{PASSWORD}'"]
    try:
        _run(psql, "creating the sluice role")
    except PgServerError:
        _stop_pid(data_dir, pid)
        raise
    return {
        "port": port,
        "pid": pid,
        "dir": directory,
        "url": f"postgresql://{ROLE}@127.0.0.1:{port}/postgres",
        "password": PASSWORD,
    }


def _stop_pid(data_dir, pid):
    try:
        os.kill(pid, signal.SIGINT)  # fast shutdown: roll back sessions, then exit
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _alive(pid) or not os.path.exists(os.path.join(data_dir, "postmaster.pid")):
            # postmaster.pid goes last; give the process a moment to be gone too.
            for _ in range(50):
                if not _alive(pid):
                    return
                time.sleep(0.05)
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGQUIT)  # immediate shutdown as a last resort, still by pid
    raise PgServerError(f"server pid {pid} did not stop within {STOP_TIMEOUT_S}s after SIGINT; sent SIGQUIT")


def stop(directory):
    data_dir = os.path.join(os.path.abspath(directory), "data")
    pid = _read_pid(data_dir)
    if pid is None:
        return False
    _stop_pid(data_dir, pid)
    return True


class PgServer:
    """Context manager: a started server in a fresh temp dir; stopped and removed on exit."""

    def __init__(self, base_dir=None):
        self._base_dir = base_dir
        self.dir = None
        self.info = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-pg-", dir=self._base_dir)
        try:
            self.info = start(self.dir)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        return self

    def __exit__(self, *exc):
        try:
            stop(self.dir)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    @property
    def port(self):
        return self.info["port"]

    @property
    def pid(self):
        return self.info["pid"]

    @property
    def url(self):
        return self.info["url"]

    @property
    def password(self):
        return self.info["password"]

    def psql(self, sql):
        """Runs SQL as the postgres superuser over the unix socket; returns stdout (unaligned, tuples only)."""
        argv = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.dir,
                "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-c", sql]
        return _run(argv, "psql")


def main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        print(f"usage: {argv[0]} start|stop DIR", file=sys.stderr)
        return 2
    try:
        if argv[1] == "start":
            print(json.dumps(start(argv[2])), flush=True)
        else:
            stop(argv[2])
    except (PgServerError, OSError, subprocess.SubprocessError) as e:
        print(f"pg_test_server {argv[1]} {argv[2]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
