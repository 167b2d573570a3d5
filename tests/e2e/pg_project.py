"""A project whose sluice.yaml names a throwaway PostgreSQL 15 server as a connection."""
import os
import sys

from sluice_e2e import ProjectTest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../scripts"))
from pg_test_server import PgServer  # noqa: E402

PASSWORD_ENV = "SLUICE_E2E_PG_PASSWORD"


class PostgresProjectTest(ProjectTest):
    """setUp starts the server (stopped by its pid at cleanup) and writes sluice.yaml with the
    connection `connection_name`; the password is in the environment while the test runs."""
    connection_name = "src"

    def setUp(self):
        super().setUp()
        self.pg = PgServer()
        self.pg.__enter__()
        self.addCleanup(self.pg.__exit__, None, None, None)
        self.p.write("sluice.yaml", f"""\
project: test
lake: ./lake
connections:
  {self.connection_name}:
    type: postgres
    url: {self.pg.url}
    password: ${{env:{PASSWORD_ENV}}}
""")
        self.env = {PASSWORD_ENV: self.pg.password}
        os.environ[PASSWORD_ENV] = self.pg.password
        self.addCleanup(os.environ.pop, PASSWORD_ENV, None)
