"""table_format: iceberg — every commit publishes Iceberg v2 metadata that an independent reader (icebird,
through the metadata only) reads as the same rows as `sluice query`; the Avro files are checked against the
spec's schemas with avsc; every data file carries the schema's field ids; the JDBC-catalog table
iceberg_tables follows each commit; `sluice catalog export-iceberg` rebuilds lost metadata."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import unittest

from sluice_e2e import NPM_TOOLS, Project, ProjectTest
from test_serve import Daemon, free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from s3_test_server import ENV, S3Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
READ_ICEBERG = os.path.join(HERE, "read_iceberg.mjs")
REST_CLIENT = os.path.join(HERE, "iceberg_rest_client.mjs")
TOKEN = "iceberg-rest-test-token"
DATA_COLUMNS = ["id", "name", "amount"]

EVENTS = """\
name: events
source: { type: files, path: incoming/events*.csv }
target: { zone: raw, table: events, write: WRITE }
"""


class IcebergTest(ProjectTest):
    sluice_yaml = "project: test\nlake: ./lake\ntable_format: iceberg\n"

    def table_uri(self, location="raw/files/events"):
        return "file://" + self.p.path("lake", location)

    def read_iceberg(self, metadata_file=None, location="raw/files/events"):
        args = ["node", READ_ICEBERG, self.table_uri(location)] + ([metadata_file] if metadata_file else [])
        proc = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, SLUICE_NPM_TOOLS=NPM_TOOLS),
                              timeout=300)
        self.assertEqual(proc.returncode, 0, msg=f"the Iceberg reader failed: {proc.stderr}")
        return json.loads(proc.stdout)

    @staticmethod
    def data_rows(rows):
        return sorted(([r.get(c) for c in DATA_COLUMNS] for r in rows), key=lambda r: r[0])

    def sluice_rows(self, version=None):
        args = ["query", f"SELECT {', '.join(DATA_COLUMNS)} FROM raw.events ORDER BY id", "--format", "json"]
        if version is not None:
            args += ["--as-of", str(version)]
        r = self.p.sluice(*args)
        self.assertOk(r)
        return self.data_rows(json.loads(r.out))

    def add_file(self, n, ids):
        rows = "".join(f"{i},name {i},{'' if i % 5 == 0 else i * 1.25}\n" for i in ids)
        self.p.write(f"incoming/events_{n}.csv", "id,name,amount\n" + rows)

    def catalog_pointer(self):
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            return db.execute("SELECT catalog_name, table_namespace, table_name, metadata_location, "
                              "previous_metadata_location FROM iceberg_tables WHERE table_name = 'events'").fetchall()

    def check_version(self, version, operation):
        """The Iceberg view of the current version equals sluice's, and its files and pointers are right."""
        read = self.read_iceberg()
        metadata = read["metadata"]
        self.assertEqual(metadata["format-version"], 2)
        self.assertEqual(metadata["current-snapshot-id"], version)
        self.assertEqual(metadata["refs"]["main"]["snapshot-id"], version)
        snapshot = next(s for s in metadata["snapshots"] if s["snapshot-id"] == version)
        self.assertEqual(snapshot["summary"]["operation"], operation)
        self.assertEqual(self.data_rows(read["rows"]), self.sluice_rows())
        # Field ids: each column a data file has carries the schema's id for that name.
        schema = next(s for s in metadata["schemas"] if s["schema-id"] == metadata["current-schema-id"])
        ids = {f["name"]: f["id"] for f in schema["fields"]}
        self.assertTrue(read["field_ids"])
        for f in read["field_ids"]:
            for column, field_id in f["ids"].items():
                self.assertEqual(field_id, ids[column], msg=f"{f['path']}: column {column}")
        # Partition values come from the path (_load_date is the files source's fixed partition).
        entries = [e for m in read["manifests"] for e in m["entries"]]
        self.assertEqual(sum(e["data_file"]["record_count"] for e in entries), len(read["rows"]))
        for e in entries:
            self.assertIn("_load_date=", e["data_file"]["file_path"])
            self.assertIsInstance(e["data_file"]["partition"]["_load_date"], int)
        # The JDBC catalog's row moved with the commit; the version hint followed it.
        pointer = self.catalog_pointer()
        uri = self.table_uri() + f"/metadata/v{version}.metadata.json"
        self.assertEqual(pointer[0][:4], ("sluice", "raw", "events", uri))
        with open(self.p.path("lake", "raw/files/events/metadata/version-hint.text")) as f:
            self.assertEqual(f.read().strip(), str(version))
        return read

    def test_load_append_compact_overwrite_and_time_travel(self):
        self.p.pipeline("events", EVENTS.replace("WRITE", "append"))
        self.add_file(0, range(1, 21))
        self.assertOk(self.p.sluice("run", "events"))
        first = self.check_version(1, "append")
        self.assertEqual(len(first["rows"]), 20)
        self.assertEqual(self.catalog_pointer()[0][4], None)

        self.add_file(1, range(21, 31))
        self.assertOk(self.p.sluice("run", "events"))
        second = self.check_version(2, "append")
        self.assertEqual(len(second["rows"]), 30)
        statuses = sorted(e["status"] for m in second["manifests"] for e in m["entries"])
        self.assertEqual(statuses, [0, 1])  # the first load's file exists, the new one is added
        self.assertEqual(self.catalog_pointer()[0][4], self.table_uri() + "/metadata/v1.metadata.json")

        r = self.p.sluice("maintain", "compact", "raw.events")
        self.assertOk(r)
        compacted = self.check_version(3, "replace")
        self.assertEqual(len([e for m in compacted["manifests"] for e in m["entries"]]), 1)

        self.p.pipeline("events", EVENTS.replace("WRITE", "overwrite"))
        self.add_file(2, range(100, 105))
        self.assertOk(self.p.sluice("run", "events"))
        overwritten = self.check_version(4, "overwrite")
        self.assertEqual([r[0] for r in self.data_rows(overwritten["rows"])], [100, 101, 102, 103, 104])

        # Time travel: an older metadata file gives that version's rows, as sluice's --as-of does.
        old = self.read_iceberg("v2.metadata.json")
        self.assertEqual(self.data_rows(old["rows"]), self.sluice_rows(version=2))
        self.assertEqual(len(old["rows"]), 30)

        # Vacuum deletes the replaced files; the snapshots that read them expire with them, the current stays.
        v = self.p.sluice("maintain", "vacuum", "--retain", "0s")
        self.assertOk(v)
        self.assertIn("expired 3 Iceberg snapshots", v.out)
        pointer = self.catalog_pointer()[0]
        self.assertEqual(pointer[4], self.table_uri() + "/metadata/v4.metadata.json")
        self.assertRegex(pointer[3], r"/metadata/v4-expired-\d+\.metadata\.json$")
        expired = self.read_iceberg(os.path.basename(pointer[3]))
        self.assertEqual([s["snapshot-id"] for s in expired["metadata"]["snapshots"]], [4])
        self.assertNotIn("parent-snapshot-id", expired["metadata"]["snapshots"][0])
        self.assertEqual(self.data_rows(expired["rows"]), self.sluice_rows())
        for s in expired["metadata"]["snapshots"]:
            self.assertTrue(os.path.exists(s["manifest-list"][len("file://"):]))

    def test_schema_evolution_keeps_ids_and_export_rebuilds_metadata(self):
        self.p.pipeline("events", EVENTS.replace("WRITE", "append"))
        self.add_file(0, range(1, 6))
        self.assertOk(self.p.sluice("run", "events"))
        self.p.write("incoming/events_1.csv", "id,name,amount,extra\n6,name 6,7.5,x\n")
        self.assertOk(self.p.sluice("run", "events"))
        read = self.read_iceberg()
        schemas = read["metadata"]["schemas"]
        self.assertEqual(len(schemas), 2)
        before = {f["name"]: f["id"] for f in schemas[0]["fields"]}
        after = {f["name"]: f["id"] for f in schemas[1]["fields"]}
        for name, field_id in before.items():
            self.assertEqual(after[name], field_id, msg=f"column {name} changed id")
        self.assertEqual(after["extra"], max(before.values()) + 1)
        self.assertEqual(read["metadata"]["last-column-id"], after["extra"])
        extra = sorted((r["id"], r.get("extra")) for r in read["rows"])
        self.assertEqual(extra[0], (1, None))
        self.assertEqual(extra[-1], (6, "x"))

        # Metadata lost (or a lake from before table_format): export-iceberg writes it again from the catalog.
        shutil.rmtree(self.p.path("lake", "raw/files/events/metadata"))
        r = self.p.sluice("catalog", "export-iceberg", "raw.events")
        self.assertOk(r)
        self.assertIn("versions 1 to 2", r.out)
        rebuilt = self.read_iceberg()
        self.assertEqual(self.data_rows(rebuilt["rows"]), self.sluice_rows())
        self.assertEqual(rebuilt["metadata"]["table-uuid"], read["metadata"]["table-uuid"])
        self.assertEqual([s["snapshot-id"] for s in rebuilt["metadata"]["snapshots"]], [1, 2])
        self.assertEqual(len(self.read_iceberg("v1.metadata.json")["rows"]), 5)

    def assert_files_carry_schema_ids(self, read):
        """Every Parquet schema element of every data file, nested ones included, carries the id the current
        Iceberg schema gives that path (DuckDB writes lists as name.list.element, maps as name.key_value.key)."""
        def paths_of(fields, prefix=""):
            out = {}
            for f in fields:
                name = prefix + f["name"]
                out[name] = f["id"]
                out.update(type_paths(f["type"], name))
            return out

        def type_paths(t, name):
            if not isinstance(t, dict):
                return {}
            if t["type"] == "struct":
                return paths_of(t["fields"], name + ".")
            if t["type"] == "list":
                element = name + ".list.element"
                return {element: t["element-id"], **type_paths(t["element"], element)}
            key, value = name + ".key_value.key", name + ".key_value.value"
            return {key: t["key-id"], value: t["value-id"], **type_paths(t["key"], key), **type_paths(t["value"], value)}

        metadata = read["metadata"]
        schema = next(s for s in metadata["schemas"] if s["schema-id"] == metadata["current-schema-id"])
        expected = paths_of(schema["fields"])
        self.assertTrue(read["field_ids"])
        for f in read["field_ids"]:
            with_ids = {p: i for p, i in f["paths"].items() if i is not None}
            for path, field_id in expected.items():
                if path in f["paths"]:
                    self.assertEqual(f["paths"][path], field_id, msg=f"{f['path']}: {path}")
            for path in with_ids:
                self.assertIn(path, expected, msg=f"{f['path']}: {path} has an id the schema does not know")
        return schema

    def metadata_location_of(self, table):
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            uri = db.execute("SELECT metadata_location FROM iceberg_tables WHERE table_name = ?", (table,)).fetchone()[0]
        return uri[len("file://" + self.p.path("lake") + "/"):uri.index("/metadata/")]

    def test_nested_columns_are_published_with_ids_at_every_level(self):
        self.p.pipeline("orders", "name: orders\nsource: { type: files, path: incoming/orders*.json, format: json }\n"
                                  "steps:\n  - sql: \"SELECT *, MAP {'n': id} AS counts FROM input\"\n"
                                  "target: { zone: raw, table: orders, schema_evolution: evolve }\n")
        records = [{"id": 1, "customer": {"name": "Ann", "tags": ["a", "b"]}, "items": [{"sku": "x", "qty": 2}]},
                   {"id": 2, "customer": {"name": "Bo", "tags": []}, "items": []}]
        self.p.write("incoming/orders_0.json", "\n".join(json.dumps(r) for r in records) + "\n")
        self.assertOk(self.p.sluice("run", "orders"))
        read = self.read_iceberg(location=self.metadata_location_of("orders"))
        schema = self.assert_files_carry_schema_ids(read)
        types = {f["name"]: f["type"] for f in schema["fields"]}
        self.assertEqual(types["customer"]["type"], "struct")
        self.assertEqual([f["name"] for f in types["customer"]["fields"]], ["name", "tags"])
        self.assertEqual(types["customer"]["fields"][1]["type"]["type"], "list")
        self.assertEqual(types["items"]["type"], "list")
        self.assertEqual(types["items"]["element"]["type"], "struct")
        self.assertEqual(types["counts"]["type"], "map")
        self.assertEqual((types["counts"]["key"], types["counts"]["value"]), ("string", "long"))
        ids = [f["id"] for f in schema["fields"]]
        nested = [i for p, i in read["field_ids"][0]["paths"].items() if i is not None and "." in p]
        self.assertEqual(len(set(ids + nested)), len(ids) + len(nested), msg="field ids are not unique")
        self.assertLessEqual(max(ids + nested), read["metadata"]["last-column-id"])
        by_id = {r["id"]: r for r in read["rows"]}
        self.assertEqual(by_id[1]["customer"]["tags"], ["a", "b"])
        self.assertEqual(by_id[1]["items"][0]["sku"], "x")

        # A later load with a new nested column: the ids given before stay, the new ones come after them all.
        records = [{"id": 3, "customer": {"name": "Cy", "tags": ["c"]}, "items": [{"sku": "y", "qty": 1}],
                    "address": {"city": "Oslo"}}]
        self.p.write("incoming/orders_1.json", json.dumps(records[0]) + "\n")
        self.assertOk(self.p.sluice("run", "orders"))
        again = self.read_iceberg(location=self.metadata_location_of("orders"))
        schema2 = self.assert_files_carry_schema_ids(again)
        self.assertEqual(schema2["fields"][:len(schema["fields"])], schema["fields"])
        address = next(f for f in schema2["fields"] if f["name"] == "address")
        self.assertGreater(address["id"], max(ids + nested))
        self.assertGreater(address["type"]["fields"][0]["id"], address["id"])
        by_id = {r["id"]: r for r in again["rows"]}
        self.assertEqual(by_id[1]["customer"]["name"], "Ann")  # the older file's fields still map by id
        self.assertEqual(by_id[3]["address"]["city"], "Oslo")

    def test_rejects_and_masked_files_carry_field_ids(self):
        self.p.pipeline("events", "name: events\nsource: { type: files, path: incoming/events*.csv }\n"
                                  "on_error: quarantine\nmask: { name: redact }\n"
                                  "target: { zone: raw, table: events }\n")
        self.p.write("incoming/events_0.csv", "id,name,amount\n1,a,1.5\n2,b,2.5,extra,more\n3,c,3.5\n")
        r = self.p.sluice("run", "events")
        self.assertOk(r)
        for table in ("events", "events__rejects", "events__masked"):
            read = self.read_iceberg(location=self.metadata_location_of(table))
            self.assert_files_carry_schema_ids(read)
            for f in read["field_ids"]:
                missing = [c for c, i in f["ids"].items() if i is None]
                self.assertEqual(missing, [], msg=f"{table}: {f['path']} has columns without field ids")
            self.assertEqual(len(read["rows"]), 1 if table == "events__rejects" else 2, msg=table)

    def test_rest_catalog_serves_the_current_metadata(self):
        self.p.pipeline("events", EVENTS.replace("WRITE", "append"))
        self.add_file(0, range(1, 4))
        self.assertOk(self.p.sluice("run", "events"))
        self.add_file(1, range(4, 6))
        self.assertOk(self.p.sluice("run", "events"))
        port = free_port()
        self.p.write("sluice.yaml", f"project: test\nlake: ./lake\ntable_format: iceberg\nserver:\n"
                                    f"  listen: 127.0.0.1:{port}\n  token: ${{env:SLUICE_TEST_TOKEN}}\n")
        daemon = Daemon(self.p, port, TOKEN, env={"SLUICE_TEST_TOKEN": TOKEN})
        self.addCleanup(lambda: daemon.proc.poll() is None and daemon.stop())
        daemon.wait_ready()

        proc = subprocess.run(["node", REST_CLIENT, f"http://127.0.0.1:{port}/iceberg", TOKEN, "raw", "events"],
                              capture_output=True, text=True, env=dict(os.environ, SLUICE_NPM_TOOLS=NPM_TOOLS),
                              timeout=120)
        self.assertEqual(proc.returncode, 0, msg=proc.stderr)
        got = json.loads(proc.stdout)
        self.assertEqual(got["namespaces"]["namespaces"], [{"namespace": ["raw"]}])
        self.assertEqual(got["namespace"], {"properties": {}})
        self.assertEqual(got["tables"]["identifiers"], [{"namespace": ["raw"], "name": "events"}])
        with open(self.p.path("lake", "raw/files/events/metadata/v2.metadata.json")) as f:
            self.assertEqual(got["table"], json.load(f))
        self.assertEqual(got["missing"]["status"], 404)
        self.assertEqual(got["unauthorized"]["status"], 401)

        # The spec's response shapes, as plain HTTP: metadata-location and the ErrorModel.
        load = daemon.json("GET", "/iceberg/v1/namespaces/raw/tables/events")
        self.assertEqual(load["metadata-location"], self.table_uri() + "/metadata/v2.metadata.json")
        self.assertEqual(load["metadata"]["current-snapshot-id"], 2)
        status, text, _ = daemon.call("GET", "/iceberg/v1/namespaces/gold/tables/x")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(text)["error"]["type"], "NoSuchTableException")
        status, text, _ = daemon.call("GET", "/iceberg/v1/config", token=None)
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(text)["error"]["code"], 401)
        self.assertNotIn(TOKEN, daemon.output())
        self.assertEqual(daemon.stop(), 0)

    def test_partition_overwrite_and_merge(self):
        sales = ("name: sales\nsource: { type: files, path: incoming/sales*.csv }\nprimary_key: [id]\n"
                 "target: { zone: raw, table: sales, partition_by: [country], write: WRITE }\n")
        location = "raw/files/sales"

        def rows_of(read):
            return sorted((r["id"], r["amount"]) for r in read["rows"])

        def sluice_sales():
            return sorted((r["id"], r["amount"]) for r in self.p.query("SELECT id, amount FROM raw.sales"))

        self.p.pipeline("sales", sales.replace("WRITE", "overwrite_partitions"))
        self.p.write("incoming/sales_0.csv", "id,country,amount\n1,DE,1.5\n2,FR,2.5\n3,DE,3.5\n")
        self.assertOk(self.p.sluice("run", "sales"))
        self.p.write("incoming/sales_1.csv", "id,country,amount\n4,DE,4.5\n")
        self.assertOk(self.p.sluice("run", "sales"))  # replaces the DE partition only
        read = self.read_iceberg(location=location)
        self.assertEqual(read["metadata"]["snapshots"][-1]["summary"]["operation"], "overwrite")
        self.assertEqual(rows_of(read), [(2, 2.5), (4, 4.5)])
        self.assertEqual(rows_of(read), sluice_sales())
        countries = sorted(e["data_file"]["partition"]["country"] for m in read["manifests"] for e in m["entries"])
        self.assertEqual(countries, ["DE", "FR"])

        self.p.pipeline("sales", sales.replace("WRITE", "merge"))
        self.p.write("incoming/sales_2.csv", "id,country,amount\n2,FR,20.5\n5,FR,5.5\n")
        self.assertOk(self.p.sluice("run", "sales"))
        merged = self.read_iceberg(location=location)
        self.assertEqual(merged["metadata"]["current-snapshot-id"], 3)
        self.assertEqual(merged["metadata"]["snapshots"][-1]["summary"]["operation"], "overwrite")
        self.assertEqual(rows_of(merged), sluice_sales())
        self.assertIn((2, 20.5), rows_of(merged))
        self.assertIn((5, 5.5), rows_of(merged))

    def test_unknown_table_format_is_a_config_error(self):
        self.p.write("sluice.yaml", "project: test\nlake: ./lake\ntable_format: delta\n")
        r = self.p.sluice("validate")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("table_format 'delta'", r.err)


class IcebergOnS3Test(unittest.TestCase):
    """On S3 the metadata is written with object puts only; its locations are s3:// URIs of the bucket."""

    def setUp(self):
        self.server = S3Server(buckets=["lake"]).__enter__()
        self.addCleanup(self.server.__exit__, None, None, None)
        self.p = Project(self.server.sluice_yaml("s3://lake/prod") + "table_format: iceberg\n")
        self.addCleanup(self.p.cleanup)
        self.boto = self.server.boto3_client()

    def get(self, key):
        return self.boto.get_object(Bucket="lake", Key=key)["Body"].read()

    def test_commits_publish_metadata_in_the_bucket(self):
        self.p.pipeline("events", EVENTS.replace("WRITE", "append"))
        for n in range(2):
            self.p.write(f"incoming/events_{n}.csv", f"id,name,amount\n{n},name {n},1.5\n")
            r = self.p.sluice("run", "events", env=ENV)
            self.assertEqual(r.rc, 0, msg=repr(r))
        listed = self.boto.list_objects_v2(Bucket="lake", Prefix="prod/")["Contents"]
        keys = sorted(o["Key"] for o in listed)
        meta = "prod/raw/files/events/metadata/"
        self.assertIn(meta + "v1.metadata.json", keys)
        self.assertIn(meta + "v2.metadata.json", keys)
        self.assertEqual(self.get(meta + "version-hint.text"), b"2")
        self.assertEqual(len([k for k in keys if k.startswith(meta + "snap-")]), 2)
        metadata = json.loads(self.get(meta + "v2.metadata.json"))
        self.assertEqual(metadata["location"], "s3://lake/prod/raw/files/events")
        snapshot = metadata["snapshots"][-1]
        self.assertTrue(snapshot["manifest-list"].startswith("s3://lake/prod/raw/files/events/metadata/snap-2-"))
        manifest_list = self.get(snapshot["manifest-list"][len("s3://lake/"):])
        manifests = [k for k in keys if k.startswith(meta) and k.endswith("-m0.avro")]
        current = [k for k in manifests if ("s3://lake/" + k).encode() in manifest_list]
        self.assertEqual(len(current), 1)
        manifest = self.get(current[0])
        for data_key in (k for k in keys if k.endswith(".parquet")):
            self.assertIn(("s3://lake/" + data_key).encode(), manifest)
        with sqlite3.connect(self.p.path(".sluice", "catalog.db")) as db:
            location = db.execute("SELECT metadata_location FROM iceberg_tables").fetchone()[0]
        self.assertEqual(location, "s3://lake/" + meta + "v2.metadata.json")


if __name__ == "__main__":
    unittest.main()
