"""One line per check, for both read-only tools: `make preflight` (before a deploy) and `make verify` (after).

Each check reports PASS, FAIL, WARN, INFO or SKIP with its evidence and, where there is one, the fix;
text for people, JSON for CI. preflight imports this module too, so both tools print the same lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"  # the deploy would fail, or the deployed stack is broken: the fix says what to do
    WARN = "WARN"  # could not tell (no credentials, a check Grafana does not implement): a person should look
    INFO = "INFO"  # nothing to fix now: something to do after the deploy (a topic to confirm once it exists)
    SKIP = "SKIP"  # the stack does not have this feature; `evidence` says why


# INFO is a note for later, not an outcome: it is counted only when a check reports one, so a report
# without any (every `make verify`) keeps its four counts.
ALWAYS_COUNTED = (Status.PASS, Status.FAIL, Status.WARN, Status.SKIP)


@dataclass(frozen=True)
class Result:
    """One check's outcome; `check` is its stable name (`amp.workspace`, `eks-cluster`, ...)."""

    check: str
    status: Status
    evidence: str
    fix: str = ""


def passed(check: str, evidence: str) -> Result:
    return Result(check, Status.PASS, evidence)


def failed(check: str, evidence: str, fix: str) -> Result:
    return Result(check, Status.FAIL, evidence, fix)


def warned(check: str, evidence: str, fix: str = "") -> Result:
    return Result(check, Status.WARN, evidence, fix)


def noted(check: str, evidence: str) -> Result:
    return Result(check, Status.INFO, evidence)


def skipped(check: str, why: str) -> Result:
    return Result(check, Status.SKIP, why)


def text_lines(results: Iterable[Result]) -> list[str]:
    lines = []
    for result in results:
        lines.append(f"{result.status.value:<4}  {result.check}: {result.evidence}")
        if result.fix:
            lines.append(f"      fix: {result.fix}")
    return lines


def text_report(stack: str, results: list[Result]) -> list[str]:
    """What `make verify` and `make preflight` print: a line per check (and its fix), then the counts."""
    return [*text_lines(results), f"{stack}: {summary(results)}"]


def counts(results: list[Result]) -> dict[Status, int]:
    """How many checks ended in each status, in the order of `Status`: INFO only when there is one."""
    tally = {status: sum(1 for r in results if r.status is status) for status in Status}
    return {status: count for status, count in tally.items() if count or status in ALWAYS_COUNTED}


def summary(results: list[Result]) -> str:
    return ", ".join(f"{count} {status.value}" for status, count in counts(results).items())


def to_json(stack: str, results: list[Result]) -> str:
    return json.dumps(
        {
            "stack": stack,
            "ok": exit_code(results) == 0,
            "summary": {status.value: count for status, count in counts(results).items()},
            "results": [{**asdict(r), "status": r.status.value} for r in results],
        },
        indent=2,
    )


def exit_code(results: list[Result]) -> int:
    """Non-zero exactly when a check failed: a WARN, INFO or SKIP alone does not fail a deploy."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0
