#!/usr/bin/python3
"""Signs requests with botocore's own S3SigV4Auth and prints each Authorization header, one per line.

stdin: a JSON list of {"method", "url", "headers": {name: value}, "body" (text), "unsigned" (bool),
"time" ("YYYYmmddTHHMMSSZ"), "region", "access_key", "secret_key", "token"}. The url carries the
percent-encoded path and query exactly as sluice sends them. Used by s3_sigv4_test.cpp.
"""
import datetime
import json
import sys

import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials


class _FixedClock(datetime.datetime):
    fixed = None

    @classmethod
    def utcnow(cls):
        return cls.fixed


def main():
    cases = json.load(sys.stdin)
    botocore.auth.datetime.datetime = _FixedClock
    for case in cases:
        _FixedClock.fixed = datetime.datetime.strptime(case["time"], "%Y%m%dT%H%M%SZ")
        request = AWSRequest(method=case["method"], url=case["url"], headers=dict(case["headers"]),
                             data=case["body"].encode())
        if case.get("unsigned"):
            request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        credentials = Credentials(case["access_key"], case["secret_key"], case.get("token") or None)
        S3SigV4Auth(credentials, "s3", case["region"]).add_auth(request)
        print(request.headers["Authorization"])


if __name__ == "__main__":
    main()
