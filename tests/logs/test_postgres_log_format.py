"""Debian's PostgreSQL, with the settings docs/logs.md gives the platform, writes lines the collector parses.

The real server's stderr (log_destination = 'stderr', the contract's log_line_prefix,
log_min_duration_statement = 1000) is joined with the collector's multiline rules and
parsed with its regex (tests/logs/parsing.py): a slow multi-line statement, an error,
and the server's own lines. About 7 s here (initdb, a 1.1 s statement), so it runs with the
exporter checks (`pytest -m exporters`, part of `make test`).
"""

from __future__ import annotations

import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest

from infra.logs.contract import POSTGRES_SLOW_STATEMENT_MS, postgres_settings_text
from lab.processes import LOOPBACK, wait_for
from tests.exporters.lab import missing_programs, start_postgres_server
from tests.logs.parsing import join_postgres_entries, parse_line

pytestmark = pytest.mark.exporters

SLOW = "SELECT pg_sleep(1.1) AS slept,\n       'screener' AS platform"


@pytest.mark.skipif("postgresql" in missing_programs(), reason="Debian's postgresql is not installed (make tools)")
def test_real_postgres_slow_statements_and_errors_parse_with_the_contracts_fields() -> None:
    # A directory of its own under /tmp: as root, the server runs as `postgres`, which pytest's tmp_path shuts out.
    with tempfile.TemporaryDirectory(prefix="postgres-logs-") as tmp, ExitStack() as stack:
        server = start_postgres_server(stack, Path(tmp), postgres_settings_text())
        psql = [str(server.bindir / "psql"), "-h", LOOPBACK, "-p", str(server.port), "-U", "postgres", "-d", "postgres"]
        subprocess.run([*psql, "-c", SLOW], check=True, capture_output=True, timeout=30, user=server.user)
        subprocess.run([*psql, "-c", "SELECT 1/0"], check=False, capture_output=True, timeout=30, user=server.user)
        wait_for(
            "the error line", lambda: "division by zero" in server.process.log.read_text(), 10, process=server.process
        )
        stack.close()  # stop the server: its shutdown lines must parse too
        lines = [line for line in server.process.log.read_text().splitlines() if line]
    records = [parse_line("postgres", entry) for entry in join_postgres_entries(lines)]
    slow = [r for r in records if "duration_ms" in r]
    assert len(slow) == 1, records
    assert slow[0]["duration_ms"] >= POSTGRES_SLOW_STATEMENT_MS
    # Both lines of the statement, joined back; PostgreSQL prefixes a continuation line with a tab.
    assert slow[0]["message"] == SLOW.replace("\n", "\n\t")
    assert (slow[0]["user"], slow[0]["database"], slow[0]["level"]) == ("postgres", "postgres", "LOG")
    (error,) = [r for r in records if r["level"] == "ERROR"]
    assert error["message"] == "division by zero" and isinstance(error["pid"], int)
    # The server's own lines (startup, shutdown) have no user@database and still parse.
    assert any("user" not in r for r in records)
