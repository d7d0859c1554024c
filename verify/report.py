"""One line per check: PASS, FAIL, WARN or SKIP, with the evidence and the fix; text for people, JSON for CI."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"  # could not tell (no credentials, a check Grafana does not implement): a person should look
    SKIP = "SKIP"  # the stack does not have this feature; `evidence` says why


@dataclass(frozen=True)
class Result:
    """One check's outcome; `check` is its stable name (`amp.workspace`, `delivery.subscriptions`, ...)."""

    check: str
    status: Status
    evidence: str
    fix: str = ""


def passed(check: str, evidence: str) -> Result:
    return Result(check, Status.PASS, evidence)


def failed(check: str, evidence: str, fix: str) -> Result:
    return Result(check, Status.FAIL, evidence, fix)


def warned(check: str, evidence: str, fix: str) -> Result:
    return Result(check, Status.WARN, evidence, fix)


def skipped(check: str, why: str) -> Result:
    return Result(check, Status.SKIP, why)


def text_lines(results: Iterable[Result]) -> list[str]:
    lines = []
    for result in results:
        lines.append(f"{result.status.value:<4}  {result.check}: {result.evidence}")
        if result.fix:
            lines.append(f"      fix: {result.fix}")
    return lines


def summary(results: list[Result]) -> str:
    counts = {status: sum(1 for r in results if r.status is status) for status in Status}
    return ", ".join(f"{count} {status.value}" for status, count in counts.items())


def to_json(stack: str, results: list[Result]) -> str:
    return json.dumps(
        {
            "stack": stack,
            "ok": exit_code(results) == 0,
            "summary": {status.value: sum(1 for r in results if r.status is status) for status in Status},
            "results": [{**asdict(r), "status": r.status.value} for r in results],
        },
        indent=2,
    )


def exit_code(results: list[Result]) -> int:
    """Non-zero exactly when a check failed: a WARN or SKIP alone does not fail a deploy."""
    return 1 if any(r.status is Status.FAIL for r in results) else 0
