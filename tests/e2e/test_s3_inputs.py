"""S3 as an input, on a real S3-compatible server (s3rver, started here on loopback), with objects put
there by an independent client (boto3):
- the files source reads s3://bucket/prefix globs like local ones (a second run loads nothing, an
  overwritten object loads again, a missing bucket fails naming bucket and S3 error code);
- `sluice catalog crawl s3://…` registers folders on S3 as tables, `sluice query` reads them, and
  vacuum never deletes the crawled objects;
- a query over a partitioned S3 table fetches only the partitions its filter keeps."""
import gzip
import io
import json
import os
import sys
import unittest
import zipfile

from sluice_e2e import Project

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402


def csv_rows(start, count):
    lines = ["id,amount"]
    lines += [f"{i},{i * 2}" for i in range(start, start + count)]
    return "\n".join(lines) + "\n"


class S3Test(unittest.TestCase):
    lake = "./lake"

    @classmethod
    def setUpClass(cls):
        cls.server = S3Server(buckets=["drop", "lake"]).__enter__()
        cls.boto = cls.server.boto3_client()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.p = Project(self.server.sluice_yaml(self.lake))
        # Each test works under a prefix of its own, so tests sharing the server never see each other's objects.
        self.prefix = f"{self.id().rsplit('.', 1)[-1]}"

    def tearDown(self):
        self.p.cleanup()

    def put(self, key, body, bucket="drop"):
        self.boto.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    def sluice(self, *args, env=None):
        return self.p.sluice(*args, env=dict(ENV, **(env or {})))

    def ok(self, *args):
        r = self.sluice(*args)
        self.assertEqual(r.rc, 0, msg=repr(r))
        return r

    def query(self, sql):
        return json.loads(self.ok("query", sql, "--format", "json").out)


class FilesSourceOnS3Test(S3Test):
    def pipeline(self, path):
        self.p.pipeline("orders", f"""\
name: orders
source:
  type: files
  path: {path}
target:
  zone: raw
  table: orders
""")

    def test_glob_over_a_prefix_loads_new_and_changed_objects_once(self):
        base = f"{self.prefix}/incoming"
        self.put(f"{base}/orders_1.csv", csv_rows(0, 100))
        self.put(f"{base}/orders_2.csv.gz", gzip.compress(csv_rows(100, 50).encode()))
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as z:
            z.writestr("orders_3.csv", csv_rows(150, 25))
        self.put(f"{base}/orders_3.zip", zipped.getvalue())
        self.put(f"{base}/archive/orders_old.csv", csv_rows(1000, 7))  # '*' stays within one folder
        self.put(f"{base}/.orders_hidden.csv", csv_rows(2000, 3))
        self.put(f"{base}/notes.txt", "not an order\n")
        self.pipeline(f"s3://drop/{base}/orders*")

        first = self.ok("run", "orders")
        self.assertEqual(self.query("SELECT _source_file, count(*) AS n, sum(id) AS s FROM raw.orders "
                                    "GROUP BY 1 ORDER BY 1"),
                         [{"_source_file": f"s3://drop/{base}/orders_1.csv", "n": 100, "s": sum(range(100))},
                          {"_source_file": f"s3://drop/{base}/orders_2.csv.gz", "n": 50, "s": sum(range(100, 150))},
                          {"_source_file": f"s3://drop/{base}/orders_3.zip/orders_3.csv", "n": 25,
                           "s": sum(range(150, 175))}],
                         msg=repr(first))

        # Nothing changed in the bucket: the second run loads nothing.
        again = self.ok("run", "orders")
        self.assertIn("no changes", again.out + again.err)
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.orders"), [{"n": 175}])

        # An object overwritten with new bytes (new ETag) loads again; the others stay loaded.
        self.put(f"{base}/orders_1.csv", csv_rows(500, 10))
        self.ok("run", "orders")
        self.assertEqual(self.query(f"SELECT count(*) AS n FROM raw.orders "
                                    f"WHERE _source_file = 's3://drop/{base}/orders_1.csv'"), [{"n": 110}])
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.orders"), [{"n": 185}])

        # Run scratch space (the downloads) is gone after the runs.
        leftovers = [os.path.join(d, f) for d, _, fs in os.walk(self.p.path(".sluice", "staging")) for f in fs]
        self.assertEqual(leftovers, [])

    def test_double_star_crosses_folders_and_a_list_mixes_local_and_s3(self):
        base = f"{self.prefix}/zone"
        self.put(f"{base}/a/2024/orders.csv", csv_rows(0, 3))
        self.put(f"{base}/b/orders.csv", csv_rows(3, 4))
        self.p.write("incoming/local.csv", csv_rows(7, 5))
        self.p.pipeline("orders", f"""\
name: orders
source:
  type: files
  path: ["s3://drop/{base}/**/orders.csv", incoming/local.csv]
target:
  zone: raw
  table: orders
""")
        self.ok("run", "orders")
        self.assertEqual(self.query("SELECT _source_file, count(*) AS n FROM raw.orders GROUP BY 1 ORDER BY 1"),
                         [{"_source_file": "incoming/local.csv", "n": 5},
                          {"_source_file": f"s3://drop/{base}/a/2024/orders.csv", "n": 3},
                          {"_source_file": f"s3://drop/{base}/b/orders.csv", "n": 4}])

    def test_many_objects_are_listed_across_pages(self):
        base = f"{self.prefix}/many"
        for i in range(1005):  # more than one ListObjectsV2 page of 1000 keys
            self.put(f"{base}/part-{i:04d}.csv", f"id\n{i}\n")
        self.pipeline(f"s3://drop/{base}/part-*.csv")
        self.ok("run", "orders")
        self.assertEqual(self.query("SELECT count(*) AS n, sum(id) AS s FROM raw.orders"),
                         [{"n": 1005, "s": sum(range(1005))}])

    def test_missing_bucket_error_names_bucket_and_s3_code(self):
        self.pipeline("s3://no-such-bucket/incoming/*.csv")
        r = self.sluice("run", "orders", env={"AWS_SECRET_ACCESS_KEY": "e2e-secret-never-shown"})
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("s3://no-such-bucket", r.out + r.err)
        self.assertIn("NoSuchBucket", r.out + r.err)
        self.assertNotIn("e2e-secret-never-shown", r.out + r.err)


def write_parquet(p, sql):
    """A Parquet file written by sluice's own engine (query --save); returns its bytes."""
    r = p.sluice("query", sql, "--save")
    if r.rc != 0:
        raise AssertionError(repr(r))
    with open(r.out.strip(), "rb") as f:
        data = f.read()
    os.remove(r.out.strip())
    return data


class CrawlS3Test(S3Test):
    lake = "s3://lake/prod"

    def parquet(self, sql):
        helper = Project("project: helper\nlake: ./lake\nquery: { result_location: ./results }\n")
        try:
            return write_parquet(helper, sql)
        finally:
            helper.cleanup()

    def test_crawl_s3_prefix_registers_tables_queryable_and_vacuum_keeps_them(self):
        # Parquet under the lake's prefix: referenced where it is. CSV outside the lake: converted into it.
        legacy = f"prod/{self.prefix}/legacy"
        for year, n in ((2023, 40), (2024, 60)):
            self.put(f"{legacy}/sales/year={year}/data.parquet",
                     self.parquet(f"SELECT range AS id, range * 2 AS amount FROM range({n})"), bucket="lake")
        self.put(f"{legacy}/sales/year=2023/more.parquet",
                 self.parquet("SELECT 1000 + range AS id, 0 AS amount FROM range(5)"), bucket="lake")
        self.put(f"{legacy}/sales/_SUCCESS", "", bucket="lake")
        self.put(f"{self.prefix}/export/orders/country=DE/part-0.csv", "id,amount\n1,10.5\n2,20\n")
        self.put(f"{self.prefix}/export/orders/country=FR/part-0.csv", "id,amount\n3,7\n")

        r = self.ok("catalog", "crawl", f"s3://lake/{legacy}", "--zone", "bronze")
        self.assertIn("bronze.sales", r.out)
        self.assertIn("referenced in place", r.out)
        r = self.ok("catalog", "crawl", f"s3://drop/{self.prefix}/export", "--zone", "raw")
        self.assertIn("raw.orders", r.out)
        self.assertIn("converted to Parquet", r.out)

        self.assertEqual(self.query("SELECT year, count(*) AS n FROM bronze.sales GROUP BY 1 ORDER BY 1"),
                         [{"year": 2023, "n": 45}, {"year": 2024, "n": 60}])
        self.assertEqual(self.query("SELECT country, sum(amount) AS total FROM raw.orders GROUP BY 1 ORDER BY 1"),
                         [{"country": "DE", "total": 30.5}, {"country": "FR", "total": 7.0}])
        keys = [o["Key"] for o in self.boto.list_objects_v2(Bucket="lake", Prefix="prod/")["Contents"]]
        # In place means no copy: the table's only objects are the originals.
        self.assertEqual(sorted(k for k in keys if "sales" in k),
                         [f"{legacy}/sales/_SUCCESS", f"{legacy}/sales/year=2023/data.parquet",
                          f"{legacy}/sales/year=2023/more.parquet", f"{legacy}/sales/year=2024/data.parquet"])
        self.assertTrue(any(k.startswith("prod/raw/crawled/orders/") for k in keys), keys)

        # Crawling again finds nothing new; a new object is added by the next crawl.
        again = self.ok("catalog", "crawl", f"s3://lake/{legacy}", "--zone", "bronze")
        self.assertEqual(self.query("SELECT count(*) AS n FROM bronze.sales"), [{"n": 105}], msg=again.out)
        self.put(f"{legacy}/sales/year=2025/data.parquet", self.parquet("SELECT 1 AS id, 2 AS amount"), bucket="lake")
        self.ok("catalog", "crawl", f"s3://lake/{legacy}", "--zone", "bronze")
        self.assertEqual(self.query("SELECT count(*) AS n FROM bronze.sales"), [{"n": 106}])

        # vacuum with no retention never deletes the crawled objects in place, not even those a
        # compaction has replaced in the table.
        self.ok("maintain", "compact", "bronze.sales")
        self.ok("maintain", "vacuum", "--retain", "0s")
        after = [o["Key"] for o in self.boto.list_objects_v2(Bucket="lake", Prefix=f"{legacy}/")["Contents"]]
        for original in ("year=2023/data.parquet", "year=2023/more.parquet", "year=2024/data.parquet",
                         "year=2025/data.parquet"):
            self.assertIn(f"{legacy}/sales/{original}", after)
        self.assertEqual(self.query("SELECT count(*) AS n FROM bronze.sales"), [{"n": 106}])

    def test_crawl_of_a_missing_bucket_names_it(self):
        r = self.sluice("catalog", "crawl", "s3://no-such-bucket/data", "--zone", "raw")
        self.assertNotEqual(r.rc, 0, repr(r))
        self.assertIn("no-such-bucket", r.err)
        self.assertIn("NoSuchBucket", r.err)


class PrunedQueryOnS3Test(S3Test):
    lake = "s3://lake/pruned"

    def cached_files(self):
        return sorted(os.path.join(d, f) for d, _, fs in os.walk(self.p.path(".sluice", "cache")) for f in fs)

    def test_query_fetches_only_the_partitions_its_filter_keeps(self):
        for region in ("eu", "us", "apac"):
            self.p.write(f"incoming/{region}.csv", "".join(
                ["id,region\n"] + [f"{i},{region}\n" for i in range(10)]))
        self.p.pipeline("sales", """\
name: sales
source: { type: files, path: "incoming/*.csv" }
target: { zone: raw, table: sales, partition_by: [region] }
""")
        self.p.pipeline("other", """\
name: other
source: { type: files, path: "incoming/eu.csv" }
target: { zone: raw, table: other }
""")
        self.ok("run", "sales")
        self.ok("run", "other")
        self.assertEqual(self.cached_files(), [])

        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.sales WHERE region = 'eu'"), [{"n": 10}])
        cached = self.cached_files()
        # Only the eu partition was fetched, and nothing of raw.other, which the query does not name.
        self.assertTrue(cached and all("region=eu" in c for c in cached), cached)

        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.sales s WHERE s.region IN ('eu', 'us')"),
                         [{"n": 20}])
        self.assertFalse(any("region=apac" in c for c in self.cached_files()), self.cached_files())

        # OR is no simple restriction: everything is fetched, and the answer is right.
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.sales WHERE region = 'eu' OR id = 3"),
                         [{"n": 12}])
        self.assertTrue(any("region=apac" in c for c in self.cached_files()))
        # A filter that is not a restriction of the whole WHERE (CASE) must not prune.
        self.assertEqual(self.query("SELECT sum(CASE WHEN region = 'eu' THEN 1 ELSE 0 END) AS eu, count(*) AS n "
                                    "FROM raw.sales"), [{"eu": 10, "n": 30}])
        # Joins: an inner join prunes the table its qualified column belongs to; a left join's answer is unchanged.
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.sales s JOIN raw.other o ON s.id = o.id "
                                    "WHERE s.region = 'us' AND o.id < 5"), [{"n": 5}])
        self.assertEqual(self.query("SELECT count(o.id) AS matched, count(*) AS n FROM raw.sales s "
                                    "LEFT JOIN raw.other o ON s.id = o.id AND o.id < 5 WHERE s.region = 'apac'"),
                         [{"matched": 5, "n": 10}])
        # A subquery's filter restricts only the table it reads.
        self.assertEqual(self.query("SELECT count(*) AS n FROM raw.sales WHERE id IN "
                                    "(SELECT id FROM raw.other WHERE region = 'eu' AND id < 3)"), [{"n": 9}])


if __name__ == "__main__":
    unittest.main()
