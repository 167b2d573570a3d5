"""`sluice jobs list|add|set|remove` against a real PostgreSQL 15: a window job added in the catalog runs
with the pipeline's own, rotates, shows in `jobs list`, and reads again the window it is set back
to; `runs show` names the window each job read."""
import re

from pg_project import PostgresProjectTest
from test_postgres_window import PIPELINE

DAY1 = ("2018-11-04 00:00:00", "2018-11-05 00:00:00")
DAY2 = ("2018-11-05 00:00:00", "2018-11-06 00:00:00")


class PostgresJobsTest(PostgresProjectTest):
    connection_name = "bank"

    def setUp(self):
        super().setUp()
        # Deposits every 5 minutes over 4 days; loans every 10 minutes, branch 1..10.
        self.pg.psql("""
            CREATE TABLE public.deposits (id integer PRIMARY KEY, account_number text, amount numeric(12,2),
                                          quarter integer, shipmt_date_tstmp timestamp);
            INSERT INTO public.deposits
              SELECT g, 'ACC' || g, g * 0.5, (g * 7) % 1200, timestamp '2018-11-03 00:00:00' + g * interval '5 minutes'
              FROM generate_series(1, 4 * 288) g;
            CREATE TABLE public.loans (id integer PRIMARY KEY, branch integer, granted_at timestamp);
            INSERT INTO public.loans
              SELECT g, 1 + g % 10, timestamp '2018-11-03 00:00:00' + g * interval '10 minutes'
              FROM generate_series(1, 4 * 144) g;
        """)
        self.p.pipeline("deposits", PIPELINE)

    def sluice(self, *args):
        return self.p.sluice(*args, env=self.env)

    def jobs(self):
        """`jobs list deposits` as {job: [column values]}."""
        r = self.sluice("jobs", "list", "deposits")
        self.assertOk(r)
        lines = r.out.strip().splitlines()
        rows = {}
        for line in lines[2:]:
            cells = [c.strip() for c in re.split(r"\s{2,}", line.strip())]
            rows[cells[1]] = cells
        return rows

    def loans_count(self, start, stop):
        return int(self.pg.psql(f"SELECT count(*) FROM public.loans WHERE granted_at >= '{start}' "
                                f"AND granted_at < '{stop}'").strip())

    def test_add_run_rotate_set_back_and_run_again(self):
        listed = self.jobs()
        self.assertEqual(list(listed), ["deposits"])
        self.assertIn(DAY1[0], listed["deposits"])
        self.assertIn("pipeline file", listed["deposits"])

        r = self.sluice("jobs", "add", "deposits", "loans", "--table", "public.loans", "--column", "granted_at",
                        "--start", DAY1[0], "--stop", DAY1[1], "--step", "1d", "--partition-by", "branch",
                        "--lower-bound", "1", "--upper-bound", "10", "--num-partitions", "3")
        self.assertOk(r)
        self.assertIn("added deposits/loans", r.out)
        listed = self.jobs()
        self.assertEqual(sorted(listed), ["deposits", "loans"])
        self.assertEqual(listed["loans"][2:8], ["public.loans", "raw.loans", "granted_at", DAY1[0], DAY1[1], "1d"])
        self.assertIn("catalog", listed["loans"][-1])

        # Mistakes are usage errors naming what is wrong, and change nothing.
        r = self.sluice("jobs", "add", "deposits", "loans", "--table", "public.loans", "--column", "granted_at",
                        "--start", DAY1[0], "--stop", DAY1[1], "--step", "1d")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("already has a job 'loans'", r.err)
        r = self.sluice("jobs", "set", "deposits", "loans", "--start", DAY1[1], "--stop", DAY1[0])
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("must be after its start", r.err)
        r = self.sluice("jobs", "set", "deposits", "loan", "--step", "2d")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("did you mean 'loans'", r.err)
        r = self.sluice("jobs", "set", "deposits", "loans", "--num-partitions", "100")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("between 1 and 64", r.err)
        self.assertEqual(self.jobs()["loans"][5:8], [DAY1[0], DAY1[1], "1d"])

        # One run reads both jobs' first windows; both rotate.
        r = self.sluice("run", "deposits")
        self.assertOk(r)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.loans"), self.loans_count(*DAY1))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.deposits"), 288)
        self.assertEqual(self.p.scalar(f"SELECT count(*) FROM raw.loans WHERE granted_at < '{DAY1[0]}' "
                                       f"OR granted_at >= '{DAY1[1]}'"), 0)
        listed = self.jobs()
        self.assertEqual(listed["loans"][5:7], list(DAY2))
        self.assertEqual(listed["deposits"][5:7], list(DAY2))
        self.assertIn("branch 1..10 in 3", listed["loans"])
        self.assertTrue(listed["loans"][9].startswith("succeeded"), listed["loans"])

        # runs show names the window each job read.
        runs = self.sluice("runs", "--pipeline", "deposits")
        self.assertOk(runs)
        last_run = runs.out.strip().splitlines()[2].split()[0]
        shown = self.sluice("runs", "show", last_run)
        self.assertOk(shown)
        self.assertIn("windows read", shown.out)
        self.assertRegex(shown.out, rf"loans\s+granted_at\s+{re.escape(DAY1[0])}\s+{re.escape(DAY1[1])}")
        self.assertRegex(shown.out, rf"deposits\s+shipmt_date_tstmp\s+{re.escape(DAY1[0])}\s+{re.escape(DAY1[1])}")

        # Set the added job back one day and give the file's job a 2-day step: the next run reads
        # day 1 of loans again (appended a second time) and two days of deposits.
        r = self.sluice("jobs", "set", "deposits", "loans", "--start", DAY1[0], "--stop", DAY1[1])
        self.assertOk(r)
        r = self.sluice("jobs", "set", "deposits", "deposits", "--step", "2 days")
        self.assertOk(r)
        listed = self.jobs()
        self.assertEqual(listed["loans"][5:7], list(DAY1))
        self.assertEqual(listed["deposits"][7], "2 days")
        self.assertIn("pipeline file + catalog", listed["deposits"][-1])
        self.assertOk(self.sluice("run", "deposits"))
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.loans"), 2 * self.loans_count(*DAY1))
        self.assertEqual(self.p.scalar("SELECT count(DISTINCT id) FROM raw.loans"), self.loans_count(*DAY1))
        listed = self.jobs()
        self.assertEqual(listed["loans"][5:7], list(DAY2))
        # deposits read day 2 and now moves on by its new step.
        self.assertEqual(listed["deposits"][5:7], ["2018-11-06 00:00:00", "2018-11-08 00:00:00"])
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.deposits"), 2 * 288)

    def test_remove_forgets_the_added_job_and_its_window_but_keeps_its_table(self):
        r = self.sluice("jobs", "add", "deposits", "loans", "--table", "public.loans", "--column", "granted_at",
                        "--start", DAY1[0], "--stop", DAY1[1], "--step", "1d")
        self.assertOk(r)
        self.assertOk(self.sluice("run", "deposits"))
        self.assertEqual(self.jobs()["loans"][5:7], list(DAY2))
        loaded = self.loans_count(*DAY1)

        # A job of the pipeline file, or one that does not exist, is not removed.
        r = self.sluice("jobs", "remove", "deposits", "deposits")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("remove it from that file", r.err)
        r = self.sluice("jobs", "remove", "deposits", "loan")
        self.assertEqual(r.rc, 2, repr(r))
        self.assertIn("has no job 'loan' added with `sluice jobs add`", r.err)

        r = self.sluice("jobs", "remove", "deposits", "loans")
        self.assertOk(r)
        self.assertIn("removed deposits/loans", r.out)
        self.assertEqual(list(self.jobs()), ["deposits"])
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.loans"), loaded)  # the table stays
        self.assertOk(self.sluice("run", "deposits"))  # reads deposits' day 2 only
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.loans"), loaded)
        self.assertEqual(self.p.scalar("SELECT count(*) FROM raw.deposits"), 2 * 288)

        # Added again, the job starts from the window it is given, not the removed job's stored one.
        r = self.sluice("jobs", "add", "deposits", "loans", "--table", "public.loans", "--column", "granted_at",
                        "--start", DAY1[0], "--stop", DAY1[1], "--step", "1d")
        self.assertOk(r)
        self.assertEqual(self.jobs()["loans"][5:7], list(DAY1))


if __name__ == "__main__":
    import unittest
    unittest.main()
