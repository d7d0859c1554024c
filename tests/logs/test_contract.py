"""The log contract against realistic sample lines, parsed with the definitions the collector gets.

Expectations come from the samples (tests/logs/samples/, written by hand in
each source's documented format) and from a real NGINX writing a line with
the exact `log_format` docs/logs.md tells the platform to apply.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dashboards.logs import build as build_logs_dashboard
from infra.logs.contract import (
    FIELDS,
    LOG_FORMATS,
    PARSERS,
    POSTGRES_SETTINGS,
    POSTGRES_SLOW_STATEMENT_MS,
    nginx_log_format,
    postgres_settings_text,
)
from infra.logs.fluent_bit import GROUP_OF_FORMAT, parsers_text
from infra.logs.queries import QUERIES, error_filter_pattern, pattern_fields
from tests.grafana.stacks import context_of
from tests.logs.parsing import parse_line, parsed_samples, sample_lines, to_python_regex

FORMAT_OF_GROUP = {group: fmt for fmt, group in GROUP_OF_FORMAT.items()}
# Logs Insights words that are not fields (commands, functions, keywords).
INSIGHTS_WORDS = {
    "fields", "filter", "stats", "count", "by", "bin", "sort", "desc", "asc", "limit", "as", "in", "ispresent",
    "and", "or", "not", "like", "m", "s", "h",
}  # fmt: skip


def fields_of_group(kind: str) -> set[str]:
    return {field for record in parsed_samples(FORMAT_OF_GROUP[kind], "x") for field in record}


def query_fields(text: str) -> set[str]:
    """Every field a Logs Insights query names: identifiers outside strings, minus keywords and `as` aliases."""
    bare = re.sub(r'"[^"]*"', " ", text)
    aliases = set(re.findall(r"\bas\s+([A-Za-z_]\w*)", bare))
    words = set(re.findall(r"(?<![@\w.])([A-Za-z_]\w*)\b", bare))
    return words - INSIGHTS_WORDS - aliases


@pytest.mark.parametrize("fmt", LOG_FORMATS)
def test_every_sample_line_parses_and_carries_the_contracts_fields(fmt: str) -> None:
    records = parsed_samples(fmt, "x")  # type: ignore[arg-type]
    assert len(records) >= 5
    for spec in FIELDS[fmt]:  # type: ignore[index]
        present = [spec.name in record for record in records]
        # A field the contract says is always there is on every line; an optional one on some.
        assert all(present) if spec.always else any(present), (fmt, spec.name)
        for record in records:
            if spec.name in record and spec.type == "number":
                assert isinstance(record[spec.name], int | float), (fmt, spec.name, record)


def test_backend_error_lines_carry_their_stack_trace() -> None:
    errors = [r for r in parsed_samples("backend") if r["level"] in ("ERROR", "CRITICAL")]
    assert errors and all(r["exc_info"].startswith("Traceback (most recent call last):\n") for r in errors)


def test_postgres_statement_lines_are_joined_and_the_duration_is_a_number() -> None:
    lines = sample_lines("postgres")
    raw = (Path(__file__).parent / "samples" / "postgres.log").read_text().splitlines()
    assert len(lines) == 5 and len(raw) == 9  # four continuation lines joined to their statement
    first = parse_line("postgres", lines[0])
    assert first["duration_ms"] == 1523.884 and first["pid"] == 4127
    assert first["message"].startswith("SELECT s.symbol") and first["message"].endswith("ORDER BY p.volume DESC")
    background = parse_line("postgres", lines[-1])
    assert "user" not in background and "database" not in background and "duration_ms" not in background


def test_a_line_outside_the_format_is_refused_by_the_postgres_parser() -> None:
    with pytest.raises(ValueError, match="does not match"):
        parse_line("postgres", "LOG:  duration: 1 ms  statement: SELECT 1")


def test_the_collectors_parsers_file_holds_the_contracts_exact_patterns() -> None:
    text = parsers_text()
    for fmt in LOG_FORMATS:
        parser = PARSERS[fmt]
        assert re.search(rf"^\s+Name\s+{parser.name}\n\s+Format\s+{parser.format}$", text, re.MULTILINE), fmt
        if parser.regex is not None:
            # The regex line in the file is the one the tests translate and apply.
            (line,) = [line for line in text.splitlines() if line.strip().startswith("Regex")]
            assert line.split(None, 1)[1] == parser.regex
            re.compile(to_python_regex(parser.regex))


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_every_field_a_saved_query_names_exists_in_the_parsed_samples(query: Any) -> None:
    available = set().union(*(fields_of_group(kind) for kind in query.group_kinds))
    named = query_fields(query.text)
    assert named, query.slug
    assert named <= available, (query.slug, sorted(named - available))
    assert set(query.fields) <= available


def test_the_field_check_catches_a_misspelt_field() -> None:
    assert query_fields('fields @timestamp, reqest_id | filter level = "ERROR" | stats count(*) as n by bin(5m)') == {
        "reqest_id",
        "level",
    }


def test_every_panel_of_the_logs_dashboard_names_only_parsed_fields() -> None:
    groups = {kind: f"/g/{kind}" for kind in ("application", "nginx-access", "database", "containers")}
    model = build_logs_dashboard(context_of("prod"), "ap-northeast-2", groups, ["api"])
    targets = [t for panel in model["panels"] for t in panel.get("targets", [])]
    assert len(targets) == 7
    for target in targets:
        available = set().union(*(fields_of_group(g.removeprefix("/g/")) for g in target["logGroupNames"]))
        text = target["expression"].replace("$request_id", "x")
        assert query_fields(text) <= available, target["id"]


@pytest.mark.parametrize(("fmt", "service"), [("backend", "api"), ("nginx", "nginx"), ("postgres", "postgres")])
def test_metric_filter_patterns_select_parsed_fields(fmt: str, service: str) -> None:
    pattern = error_filter_pattern(fmt, service)  # type: ignore[arg-type]
    available = {field for record in parsed_samples(fmt, service) for field in record}  # type: ignore[arg-type]
    assert pattern_fields(pattern) <= available and "service" in pattern_fields(pattern)


def test_postgres_settings_log_statements_over_a_second_with_the_parsed_prefix() -> None:
    assert POSTGRES_SETTINGS["log_min_duration_statement"] == str(POSTGRES_SLOW_STATEMENT_MS) == "1000"
    # %m [%p] %q%u@%d : the prefix the regex's timestamp, pid, user and database groups read.
    assert POSTGRES_SETTINGS["log_line_prefix"] == "'%m [%p] %q%u@%d '"


def test_the_logs_page_gives_the_platform_the_exact_settings_the_parsers_expect() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "logs.md").read_text()
    assert f"```nginx\n{nginx_log_format('nginx')}\n```" in readme
    assert f"```\n{postgres_settings_text()}\n```" in readme


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(shutil.which("nginx") is None, reason="Debian's nginx is not installed")
def test_real_nginx_writes_lines_the_collector_parses_with_the_contracts_fields(tmp_path: Path) -> None:
    """Debian's nginx, on loopback, with the exact directives of `nginx_log_format` (docs/logs.md)."""
    port = _free_port()
    log = tmp_path / "access.log"
    directives = nginx_log_format("nginx").replace("/dev/stdout", str(log))
    log_format, access_log, proxy_header = directives.splitlines()
    assert proxy_header == "proxy_set_header X-Request-ID $request_id;"
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"daemon off;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  {log_format}\n  {access_log}\n"
        f"  client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path}; fastcgi_temp_path {tmp_path};\n"
        f"  uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};\n"
        f"  server {{ listen 127.0.0.1:{port}; location / {{ return 503; }} }}\n}}\n"
    )
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/screen?q=secret", headers={"User-Agent": 'agent "with" quotes'}
        )
        deadline = time.monotonic() + 5
        while True:
            try:
                urllib.request.urlopen(request, timeout=1)
            except urllib.error.HTTPError as error:
                assert error.code == 503
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=5)
    (line,) = log.read_text().splitlines()
    record = parse_line("nginx", line)
    assert set(record) == {spec.name for spec in FIELDS["nginx"]}
    assert record["status"] == 503 and record["uri"] == "/api/v1/screen"  # no query string in the log
    assert record["http_user_agent"] == 'agent "with" quotes' and len(record["request_id"]) == 32
    assert isinstance(record["request_time"], float | int) and record["upstream_response_time"] == ""
    assert json.loads(line) == record
