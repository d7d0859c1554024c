"""Shared fixtures: plans of the committed stacks, computed once per test session."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from planner.engine import Plan

# The planner (Pulumi and its SDKs) is imported where a plan is made, not here: pytest-xdist's controller
# loads this file too, and runs no test.

STACKS = ("dev", "staging", "prod")
_PLANS: dict[str, Plan] = {}
# Under pytest-xdist: a directory of this run that every worker sees (see `_plans_shared_by_workers`).
_SHARED_PLANS: Path | None = None


def plan_of(stack: str) -> Plan:
    """The plan of a committed stack file, shared by every test (plans are read-only)."""
    from planner.engine import run_stack

    return shared_plan(stack, lambda: run_stack(stack))


def shared_plan(name: str, make: Callable[[], Plan]) -> Plan:
    """The plan `make` returns, made once per test run under this name and shared by every test."""
    if name not in _PLANS:
        _PLANS[name] = make() if _SHARED_PLANS is None else _planned_once_per_run(name, make, _SHARED_PLANS)
    return _PLANS[name]


def _planned_once_per_run(name: str, make: Callable[[], Plan], directory: Path) -> Plan:
    """The first worker that needs the plan makes it and leaves a pickled copy; the others read it.

    The lock is held while planning, so a second worker waits for the plan instead of making it again.
    The directory belongs to this run only (see `_plans_shared_by_workers`), so a copy is never older than
    the code and stack files the run tests.
    """
    pickled = directory / f"{name}.pickle"
    with (directory / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if pickled.is_file():
            plan: Plan = pickle.loads(pickled.read_bytes())
            return plan
        plan = make()
        partial = pickled.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL))
        partial.rename(pickled)
        return plan


@pytest.fixture(scope="session", autouse=True)
def _plans_shared_by_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each pytest-xdist worker is a process of its own, and each would plan the three stacks again.

    A worker's base temporary directory is <run>/popen-gwN, where <run> is the controller's: new for every
    run, or emptied at the start of one when given as --basetemp. So a shared plan never outlives its run.
    """
    global _SHARED_PLANS
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        yield
        return
    directory = tmp_path_factory.getbasetemp().parent / "shared-plans"
    directory.mkdir(exist_ok=True)
    _SHARED_PLANS = directory
    yield
    _SHARED_PLANS = None


@pytest.fixture(params=STACKS)
def stack_plan(request: pytest.FixtureRequest) -> Plan:
    return plan_of(request.param)


@pytest.fixture
def plan_with() -> Callable[..., Plan]:
    """Plan a stack with config overrides: {'monitoring:key': value or None to delete}."""

    def run(stack: str = "dev", overrides: dict[str, Any] | None = None, **kwargs: Any) -> Plan:
        from planner.engine import run_stack

        return run_stack(stack, overrides=overrides, **kwargs)

    return run
