"""`make lab` / `make lab-fault` / `make lab-down`: the background lab starts, takes faults and leaves nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab


def lab(*args: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "lab", *args, "--workdir", str(workdir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_background_lab_starts_on_loopback_takes_faults_and_stops_without_a_trace(tmp_path: Path) -> None:
    started = lab("up", "--stack", "dev", workdir=tmp_path)
    assert started.returncode == 0, started.stderr
    state = json.loads((tmp_path / "state.json").read_text())
    try:
        assert set(state["pids"]) == {"lab", "prometheus", "alertmanager"}
        assert all(listening(port) for port in state["ports"].values())
        assert all(url.startswith("http://127.0.0.1:") for url in state["urls"].values())
        assert "make lab-fault FAULT=" in started.stdout
        injected = lab("fault", "db-down", workdir=tmp_path)
        assert injected.returncode == 0 and "active faults: db-down" in injected.stdout
        with urllib.request.urlopen(f"{state['urls']['control']}/metrics/postgres/0", timeout=5) as response:
            assert response.read().decode().startswith("pg_up 0")
        assert lab("fault", "no-such-fault", workdir=tmp_path).returncode == 1
        assert "active faults: none" in lab("fault", "none", workdir=tmp_path).stdout
    finally:
        stopped = lab("down", workdir=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert not any(listening(port) for port in state["ports"].values())
    assert not (tmp_path / "state.json").exists()
    for pid in state["pids"].values():
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
