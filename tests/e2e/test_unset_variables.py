"""A variable that is not set here only stops the commands that need it: with the warehouse
password, a webhook URL and the API token of sluice.yaml unset, a files pipeline runs, `sluice
runs`, `query` and `catalog` answer, while a job using the warehouse fails naming the variable and
the key, the webhook's notification fails without failing the run, `sluice serve` refuses to start,
and `sluice validate` reports every unset variable. A variable in a key every command needs (lake:)
stops them all."""
import os

from sluice_e2e import ProjectTest

SLUICE_YAML = """\
project: unset
lake: ./lake
connections:
  warehouse: { type: postgres, url: "postgresql://etl@127.0.0.1:1/shop", password: "${env:WAREHOUSE_PW}" }
notifications:
  ops: { type: webhook, url: "${env:OPS_HOOK_URL}" }
server:
  token: "${env:SLUICE_API_TOKEN}"
"""
UNSET = ["WAREHOUSE_PW", "OPS_HOOK_URL", "SLUICE_API_TOKEN", "LAKE_DIR_NOT_SET"]


class UnsetVariablesTest(ProjectTest):
    sluice_yaml = SLUICE_YAML

    def setUp(self):
        super().setUp()
        for name in UNSET:
            if name in os.environ:
                self.skipTest(f"{name} is set in this environment")
        self.p.write("incoming/people.csv", "id,name\n1,a\n2,b\n")
        self.p.pipeline("people", """\
source: { type: files, path: incoming/people*.csv }
target: { zone: raw, table: people }
notify:
  on_success: [ops]
""")
        self.p.pipeline("orders", """\
source: { connection: warehouse, table: public.orders }
target: { zone: raw, table: orders }
""")

    def sluice(self, *args):
        return self.p.sluice(*args)

    def test_commands_that_do_not_use_the_part_work(self):
        run = self.sluice("run", "people")
        self.assertOk(run)  # the notification fails (its URL is unset); the run does not
        self.assertIn("2 rows written", run.out)
        self.assertIn("OPS_HOOK_URL", run.err)
        for args in (("runs",), ("query", "SELECT count(*) AS n FROM raw.people"), ("catalog", "list")):
            self.assertOk(self.sluice(*args))

    def test_a_job_using_the_connection_fails_naming_variable_and_key(self):
        r = self.sluice("run", "orders")
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("WAREHOUSE_PW", r.err + r.out)
        self.assertIn("connections.warehouse.password", r.err + r.out)
        self.assertIn("needs connections.warehouse", r.err + r.out)

    def test_serve_refuses_and_validate_reports_every_unset_variable(self):
        serve = self.sluice("serve")
        self.assertNotEqual(serve.rc, 0, serve)
        self.assertIn("SLUICE_API_TOKEN", serve.err)
        validate = self.sluice("validate")
        self.assertNotEqual(validate.rc, 0, validate)
        for name in ("WAREHOUSE_PW", "OPS_HOOK_URL", "SLUICE_API_TOKEN"):
            self.assertIn(name, validate.err)

    def test_a_variable_every_command_needs_stops_them_all(self):
        self.p.write("sluice.yaml", "project: unset\nlake: \"${env:LAKE_DIR_NOT_SET}\"\n")
        r = self.sluice("runs")
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn("LAKE_DIR_NOT_SET", r.err)
