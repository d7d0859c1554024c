"""`python -m lab <command>`: the alerting lab from the command line (what `make lab*` runs).

up [--stack dev] [--workdir build/lab]   start in the background; state in <workdir>/state.json
fault NAME [NAME ...]                    serve these faults (`none` clears); `fault` alone lists them
report                                   run every alert family against the running lab, print the table
down                                     stop everything `up` started and check nothing still listens
run [--stack staging]                    one shot: start, run every family, print, stop (exit 1 on a failure)
serve ...                                the background process itself (used by `up`)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from infra.stack_name import stack_argument
from lab.processes import LabError, http_json, wait_for
from lab.scenario import LabClient, check, run_families
from lab.stack import Lab

DEFAULT_WORKDIR = Path("build/lab")
UP_TIMEOUT_SECONDS = 60.0


def _state(workdir: Path) -> dict[str, Any]:
    path = workdir / "state.json"
    if not path.exists():
        raise LabError(f"no lab is running ({path} is missing): start one with `make lab`")
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def serve(stack: str, workdir: Path) -> int:
    """Run a lab until SIGTERM; state.json says where everything is."""
    lab = Lab(stack, workdir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab.start()
    try:
        state = {**lab.state(), "ready_at": time.monotonic()}
        state["pids"] = {"lab": os.getpid(), **state["pids"]}
        (workdir / "state.json.tmp").write_text(json.dumps(state, indent=2))
        (workdir / "state.json.tmp").rename(workdir / "state.json")
        stop.wait()
    finally:
        lab.stop()
    return 0


def up(stack: str, workdir: Path) -> int:
    if (workdir / "state.json").exists() and _alive(_state(workdir)["pids"]["lab"]):
        print(f"a lab is already running ({workdir / 'state.json'}); `make lab-down` stops it", file=sys.stderr)
        return 1
    workdir.mkdir(parents=True, exist_ok=True)
    # A fresh lab: no TSDB or silences of an earlier one.
    for stale in ("prom-data", "am-data"):
        shutil.rmtree(workdir / stale, ignore_errors=True)
    (workdir / "state.json").unlink(missing_ok=True)
    with (workdir / "lab.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "lab", "serve", "--stack", stack, "--workdir", str(workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def started() -> bool:
        if process.poll() is not None:
            raise LabError(f"the lab exited with {process.returncode}; see {workdir / 'lab.log'}")
        return (workdir / "state.json").exists()

    wait_for("the lab to start", started, UP_TIMEOUT_SECONDS, (workdir / "lab.log",))
    state = _state(workdir)
    urls = state["urls"]
    print(f"lab running ({stack} rules and routes at time scale {state['time_scale']}), state in {workdir}/state.json")
    for name, url in urls.items():
        print(f"  {name:<13} {url}")
    print("  notifications: curl -s " + urls["control"] + "/notifications | python3 -m json.tool")
    print("inject a fault:  make lab-fault FAULT=<name>   (FAULT=none clears; `make lab-fault` lists them)")
    print("stop it:         make lab-down")
    return 0


def fault(names: list[str], workdir: Path) -> int:
    control = _state(workdir)["urls"]["control"]
    if not names:
        known = http_json(f"{control}/faults")
        print(f"active: {', '.join(known['active']) or 'none'}")
        for name, summary in known["known"].items():
            print(f"  {name:<22} {summary}")
        return 0
    try:
        answer = http_json(f"{control}/faults", {"faults": names}, "PUT")
    except OSError as error:
        print(f"lab refused the faults: {error}", file=sys.stderr)
        return 1
    print(f"active faults: {', '.join(answer['active']) or 'none'}")
    return 0


def down(workdir: Path) -> int:
    state = _state(workdir)
    pids: dict[str, int] = state["pids"]
    if _alive(pids["lab"]):
        os.kill(pids["lab"], signal.SIGTERM)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for name, pid in pids.items():
        if _alive(pid):
            print(f"{name} (pid {pid}) did not stop on SIGTERM; killing it", file=sys.stderr)
            os.kill(pid, signal.SIGKILL)
    still = [f"{name}:{port}" for name, port in state["ports"].items() if _listening(port)]
    (workdir / "state.json").unlink()
    if still:
        print(f"still listening after lab-down: {still}", file=sys.stderr)
        return 1
    print("lab stopped; nothing listens on its ports any more")
    return 0


def report(workdir: Path) -> int:
    from lab.config import clock, lab_settings

    state = _state(workdir)
    settings = lab_settings(state["stack"])
    result = run_families(LabClient(state["urls"]), settings, state["stack"], clock(settings), state["ready_at"])
    print("\n".join(result.lines()))
    problems = check(result)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def run(stack: str) -> int:
    with tempfile.TemporaryDirectory(prefix="screener-lab-") as directory:
        lab = Lab(stack, Path(directory))
        lab.start()
        try:
            result = run_families(LabClient(lab.urls), lab.settings, stack, lab.timing, time.monotonic())
        finally:
            lab.stop()
    print("\n".join(result.lines()))
    problems = check(result)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("command", choices=("up", "fault", "report", "down", "run", "serve"))
    parser.add_argument("names", nargs="*", help="fault names (for `fault`)")
    parser.add_argument("--stack", default=None, type=stack_argument, help="<stack> or <org>/<stack>")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            return up(args.stack.stack if args.stack else "dev", args.workdir)
        if args.command == "serve":
            return serve(args.stack.stack if args.stack else "dev", args.workdir)
        if args.command == "fault":
            return fault(args.names, args.workdir)
        if args.command == "report":
            return report(args.workdir)
        if args.command == "down":
            return down(args.workdir)
        return run(args.stack.stack if args.stack else "staging")
    except LabError as error:
        print(f"lab: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
