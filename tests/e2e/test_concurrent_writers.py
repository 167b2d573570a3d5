"""Two writers of one table: a merge that read version N does not overwrite a commit that landed
after it read (it is planned again on the new version), and `sluice validate` names both jobs.
The race is made deterministic with the after_upload fault point."""
import os
import unittest

from sluice_e2e import ProjectTest

INGEST = """\
name: ingest
source: { type: files, path: "incoming/c*.csv" }
target: { zone: raw, table: customers }
"""

CURRENT = """\
name: current
source: { table: raw.customers }
primary_key: [id]
steps:
  - sql: "SELECT id, name FROM input"
target: { zone: silver, table: customers, write: merge }
"""

MANUAL = """\
name: manual
source: { type: files, path: "incoming/manual*.csv" }
target: { zone: silver, table: customers, add_metadata_columns: false }
"""


class ConcurrentWritersTest(ProjectTest):
    def setUp(self):
        super().setUp()
        self.p.pipeline("ingest", INGEST)
        self.p.pipeline("current", CURRENT)
        self.p.pipeline("manual", MANUAL)

    def test_a_merge_is_planned_again_when_the_table_changed_after_it_read_it(self):
        self.p.write("incoming/c1.csv", "id,name\n1,ann\n2,bob\n")
        self.assertOk(self.p.sluice("run", "ingest"))
        self.assertOk(self.p.sluice("run", "current"))
        self.p.write("incoming/c2.csv", "id,name\n2,bobby\n3,cid\n")
        self.assertOk(self.p.sluice("run", "ingest"))

        # The merge has read version 1 of silver.customers and uploaded its rewrite of it ...
        merge, points = self.start_paused("after_upload", "run", "current", spec="after_upload@1:pause")
        # ... when another writer commits version 2.
        self.p.write("incoming/manual1.csv", "id,name\n100,manual\n")
        self.assertOk(self.p.sluice("run", "manual"))
        points.release("after_upload")
        out, err = merge.communicate(timeout=300)
        self.assertEqual(merge.returncode, 0, err)
        self.assertIn("table silver.customers changed while the job ran (version 1 → 2)", err)
        # Both writers' rows: the merge was applied to version 2, not to the version it first read.
        self.assertEqual(self.p.query("SELECT id, name FROM silver.customers ORDER BY id"),
                         [{"id": 1, "name": "ann"}, {"id": 2, "name": "bobby"}, {"id": 3, "name": "cid"},
                          {"id": 100, "name": "manual"}])

    def test_validate_names_every_job_writing_one_table(self):
        r = self.p.sluice("validate")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("table silver.customers is the target of 2 jobs", r.err)
        self.assertIn("job 'current' of pipeline 'current'", r.err)
        self.assertIn("job 'manual' of pipeline 'manual'", r.err)
        self.assertNotIn("raw.customers", r.err)
        self.assertOk(self.p.sluice("validate", "ingest"))
        os.remove(self.p.path("pipelines", "manual.yaml"))
        self.assertOk(self.p.sluice("validate"))


if __name__ == "__main__":
    unittest.main()
