"""What a preflight check reports: one line per finding, naming what is missing and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    FAIL = "FAIL"  # the deployment would fail or misbehave: fix it first
    WARN = "warn"  # cannot be confirmed from here, or works with a caveat
    INFO = "info"  # nothing to fix now; something to do after the deploy
    SKIP = "skip"  # does not apply to this stack (the message says why)


@dataclass(frozen=True)
class Finding:
    status: Status
    check: str
    message: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.status.value:<4} {self.check}: {self.message}" + (f"; fix: {self.fix}" if self.fix else "")


def ok(check: str, message: str) -> Finding:
    return Finding(Status.OK, check, message)


def fail(check: str, message: str, fix: str) -> Finding:
    return Finding(Status.FAIL, check, message, fix)


def warn(check: str, message: str, fix: str = "") -> Finding:
    return Finding(Status.WARN, check, message, fix)


def info(check: str, message: str) -> Finding:
    return Finding(Status.INFO, check, message)


def skip(check: str, why: str) -> Finding:
    return Finding(Status.SKIP, check, why)
