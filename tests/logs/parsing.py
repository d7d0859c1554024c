"""The collector's parsing, applied in Python with the exact definitions the collector gets.

Fluent Bit's `regex` parser uses Onigmo (Ruby syntax): a named group is
`(?<name>...)`, which Python's `re` spells `(?P<name>...)`; nothing else in
the contract's patterns differs (no lookbehind, no Onigmo-only escapes, which
`to_python_regex` refuses). The `json` parser decodes one object per line.
The multiline rule joins a PostgreSQL entry's continuation lines to it, as
Fluent Bit's regex multiline parser does with the same start/cont patterns.
What is not emulated: the CRI/docker unwrapping (Fluent Bit built-ins), and
Onigmo itself; docs/logs.md lists both under what the offline plan cannot know.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infra.logs.contract import PARSERS, LogFormat, ParserSpec
from infra.logs.fluent_bit import parsers_text

SAMPLES = Path(__file__).parent / "samples"


def to_python_regex(onigmo: str) -> str:
    if "(?<=" in onigmo or "(?<!" in onigmo or "\\h" in onigmo or "\\A" in onigmo:
        raise ValueError("the pattern uses Onigmo syntax this emulation does not translate")
    return re.sub(r"\(\?<([A-Za-z_][A-Za-z0-9_]*)>", r"(?P<\1>", onigmo)


def _typed(parser: ParserSpec, fields: dict[str, Any]) -> dict[str, Any]:
    for name, kind in parser.types:
        if name in fields:
            fields[name] = int(fields[name]) if kind == "integer" else float(fields[name])
    return fields


def parse_line(fmt: LogFormat, line: str) -> dict[str, Any]:
    """One record as the collector's parser filter leaves it; raises when the parser would not match."""
    parser = PARSERS[fmt]
    if parser.format == "json":
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError(f"not a JSON object: {line!r}")
        return record
    assert parser.regex is not None
    match = re.match(to_python_regex(parser.regex), line)
    if match is None:
        raise ValueError(f"{parser.name} does not match {line!r}")
    # Fluent Bit leaves out groups that did not participate in the match.
    return _typed(parser, {k: v for k, v in match.groupdict().items() if v is not None})


def multiline_rules() -> dict[str, str]:
    """state -> pattern of the rendered [MULTILINE_PARSER] (the rules the collector gets)."""
    rules = re.findall(r'^\s*rule\s+"([a-z_]+)"\s+"/(.*)/"\s+"cont"$', parsers_text(), re.MULTILINE)
    return dict(rules)


def join_postgres_entries(lines: list[str]) -> list[str]:
    """Fluent Bit's regex multiline: `start_state` opens an entry, a line matching `cont` continues it."""
    rules = multiline_rules()
    start, cont = re.compile(to_python_regex(rules["start_state"])), re.compile(to_python_regex(rules["cont"]))
    entries: list[str] = []
    for line in lines:
        if start.match(line):
            entries.append(line)
        elif entries and cont.match(line):
            entries[-1] += "\n" + line
        else:
            raise ValueError(f"neither rule matches {line!r}")
    return entries


def sample_lines(fmt: LogFormat) -> list[str]:
    lines = (SAMPLES / f"{fmt}.log").read_text().splitlines()
    return join_postgres_entries(lines) if fmt == "postgres" else lines


def parsed_samples(fmt: LogFormat, service: str | None = None) -> list[dict[str, Any]]:
    """Every sample of a format after parsing and the collector's `modify` filter (`service` added if missing)."""
    records = [parse_line(fmt, line) for line in sample_lines(fmt)]
    if service is not None:
        records = [{"service": service, **record} for record in records]
    return records
