#!/usr/bin/python3
"""A throwaway SMTP server for tests (Debian's python3-aiosmtpd): listens on 127.0.0.1 at a free
port, saves every message it accepts as DIR/NNNN.eml (envelope in DIR/NNNN.json), prints
"ready PORT" on stdout once it accepts connections, and runs until SIGTERM/SIGINT.

    /usr/bin/python3 scripts/smtp_test_server.py DIR [--auth USER:PASSWORD]
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class SaveToFolder:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            stem = os.path.join(self.folder, f"{self.count:04d}")
        # Write the envelope last: a test polling for *.json sees a complete message.
        with open(stem + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        with open(stem + ".json.tmp", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "authenticated": bool(getattr(session, "authenticated", False))}, f)
        os.rename(stem + ".json.tmp", stem + ".json")
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--auth", help="USER:PASSWORD required (plain auth over a loopback connection)")
    args = parser.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    kwargs = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password
            return AuthResult(success=ok)

        kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
    controller = Controller(SaveToFolder(args.folder), hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"\nready {controller.port}", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
