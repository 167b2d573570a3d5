"""The lake on S3: a files pipeline writes into s3://lake/prod on a real S3-compatible server (s3rver,
started here on loopback), `sluice query` reads it back through the read-through cache, and boto3
checks independently what landed in the bucket (keys and bytes)."""
import os
import sys
import tempfile
import unittest

from sluice_e2e import Project, read_parquet_independently

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402

PIPELINE = """\
name: birdstrikes
source:
  type: files
  path: incoming/birdstrikes*.csv
target:
  zone: raw
  table: birdstrikes
"""


def csv_rows(start, count):
    lines = ["id,name,amount"]
    for i in range(start, start + count):
        lines.append(f'{i},"name {i}",{i * 1.25:.2f}')
    return "\n".join(lines) + "\n"


class S3LakeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = S3Server(buckets=["lake"]).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        # The s3: block exactly as CONFIG.md shows it; the keys come from the environment.
        self.p = Project(self.server.sluice_yaml("s3://lake/prod"))
        self.env = dict(ENV)
        self.boto = self.server.boto3_client()

    def tearDown(self):
        self.p.cleanup()

    def run_sluice(self, *args):
        r = self.p.sluice(*args, env=self.env)
        self.assertEqual(r.rc, 0, msg=repr(r))
        return r

    def query(self, sql):
        import json
        return json.loads(self.run_sluice("query", sql, "--format", "json").out)

    def bucket_keys(self, prefix="prod/"):
        keys = []
        for page in self.boto.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return keys

    def test_files_pipeline_into_s3_then_query_and_read_back_with_boto3(self):
        self.p.pipeline("birdstrikes", PIPELINE)
        self.p.write("incoming/birdstrikes_1.csv", csv_rows(0, 1500))
        self.run_sluice("run", "birdstrikes")
        parquet = [k for k in self.bucket_keys() if k.endswith(".parquet")]
        self.assertTrue(parquet, self.bucket_keys())
        self.assertTrue(all(k.startswith("prod/raw/") for k in parquet), parquet)
        self.assertFalse(os.path.exists(self.p.path("lake")))  # nothing went to a local folder

        self.assertEqual(self.query("SELECT count(*) AS n, sum(id) AS s FROM raw.birdstrikes"),
                         [{"n": 1500, "s": sum(range(1500))}])

        # The bytes in the bucket are a Parquet file an independent reader decodes to the same rows.
        with tempfile.TemporaryDirectory() as tmp:
            local = []
            for i, key in enumerate(parquet):
                path = os.path.join(tmp, f"{i}.parquet")
                self.boto.download_file("lake", key, path)
                local.append(path)
            rows = read_parquet_independently(local)["rows"]
            self.assertEqual(len(rows), 1500)

        # A second file appends; the cache serves old files and fetches only the new one.
        self.p.write("incoming/birdstrikes_2.csv", csv_rows(1500, 500))
        self.run_sluice("run", "birdstrikes")
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.birdstrikes"), [{"n": 2000}])
        cached = [os.path.join(d, f) for d, _, fs in os.walk(self.p.path(".sluice", "cache")) for f in fs]
        self.assertEqual(len(cached), len([k for k in self.bucket_keys() if k.endswith(".parquet")]))

    def test_missing_bucket_error_names_bucket_and_s3_code_not_the_secret(self):
        self.p.write("sluice.yaml", open(self.p.path("sluice.yaml")).read().replace("s3://lake/prod",
                                                                                   "s3://no-such-bucket/prod"))
        self.p.pipeline("birdstrikes", PIPELINE)
        self.p.write("incoming/birdstrikes_1.csv", csv_rows(0, 10))
        env = dict(self.env, AWS_SECRET_ACCESS_KEY="e2e-secret-value-never-shown")
        r = self.p.sluice("run", "birdstrikes", env=env)
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("s3://no-such-bucket/prod/", r.out + r.err)
        self.assertIn("NoSuchBucket", r.out + r.err)
        self.assertNotIn("e2e-secret-value-never-shown", r.out + r.err)


if __name__ == "__main__":
    unittest.main()
