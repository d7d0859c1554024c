"""The one harness for the real programs the lab and the exporter checks run on loopback.

Both start Debian's binaries as child processes with a log file each, wait
(always with a bound) for them to answer, and stop them in order however
the run ends; a failure carries the tail of the process's own log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.02


class LabError(RuntimeError):
    """A lab process did not start, answer or do what was asked in time; the message shows its log."""


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def program(name: str, package: str) -> str:
    """The path of an installed program, or a LabError naming the Debian package that has it."""
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if not found:
        raise LabError(f"{name} is not installed: run `make tools` (Debian package {package})")
    return found


def http_get(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback URLs the lab built
        return str(response.read().decode())


def http_json(url: str, body: Any = None, method: str = "GET", timeout: float = 5.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def log_tail(log: Path, lines: int = 25) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for(
    what: str,
    check: Callable[[], Any],
    timeout: float,
    logs: tuple[Path, ...] = (),
    *,
    process: Process | None = None,
    not_yet: tuple[type[Exception], ...] = (),
    poll_seconds: float = POLL_SECONDS,
) -> Any:
    """Poll `check` until it returns something truthy, and return that.

    Raises LabError after `timeout`, or as soon as `process` has exited, with
    the tails of `logs` (and of the process's log). Exceptions of the types in
    `not_yet` count as "not ready yet" (a server that does not listen yet).
    """
    deadline = time.monotonic() + timeout
    tails = (*logs, *((process.log,) if process else ()))

    def failure(message: str) -> LabError:
        shown = "\n".join(f"--- {log.name}:\n{log_tail(log, 15)}" for log in tails if log.exists())
        return LabError(f"{message}\n{shown}")

    while True:
        if process is not None and process.popen.poll() is not None:
            raise failure(f"{process.name} exited ({process.popen.returncode}) before {what}")
        try:
            result = check()
        except not_yet:
            result = None
        if result:
            return result
        if time.monotonic() >= deadline:
            raise failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(poll_seconds)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self, stop_signal: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(stop_signal)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout)


def start_process(
    name: str,
    command: list[str],
    log: Path,
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> Process:
    """Start `command` with its output appended to `log`, in a process group of its own.

    Its own group: Ctrl-C on the parent reaches the parent only, which then stops it in order.
    """
    with log.open("ab") as out:
        popen = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            user=user,
            start_new_session=True,
        )
    return Process(name, popen, log)


@contextmanager
def running_process(
    name: str,
    command: list[str],
    workdir: Path,
    *,
    stop_signal: int = signal.SIGTERM,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> Iterator[Process]:
    """A process for the length of a `with` block, its log `<workdir>/<name>.log`."""
    process = start_process(name, command, workdir / f"{name}.log", cwd=workdir, env=env, user=user)
    try:
        yield process
    finally:
        process.stop(stop_signal)
