"""The running lab: Prometheus, Alertmanager, the simulator and the SNS recorder on loopback.

`Lab(stack, workdir)` renders the files (`lab/config.py`), starts the
simulator and the SNS recorder in this process and Debian's `prometheus`
and `prometheus-alertmanager` as child processes, everything bound to
127.0.0.1. One small HTTP endpoint (the control server, on the simulator's
port) serves the simulated targets and lets anyone drive the lab:

    GET  /metrics/<job>/<replica>   what Prometheus scrapes
    GET  /faults                    active faults and every known one
    PUT  /faults                    {"faults": ["errors", ...]} (or ["none"]); answers the change's time
    GET  /notifications?since=N     what the recorder accepted (topic, subject, message, time)
    POST /restart/prometheus        stop and start Prometheus on the same TSDB and port

Times are `time.monotonic()` seconds: one clock for every process of the host.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from lab.config import (
    clock,
    lab_alertmanager_files,
    lab_rule_files,
    lab_settings,
    prometheus_config,
    simulated_jobs,
    topic_arns,
)
from lab.fake_sns import FakeSns
from lab.faults import FAULTS, NONE, apply_faults
from lab.processes import Process, free_port, http_json, program, start_process, wait_for
from lab.simulator import Simulator

READY_TIMEOUT_SECONDS = 30.0


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class Lab:
    """One lab: start() brings everything up, stop() takes everything down (idempotent)."""

    def __init__(self, stack: str, workdir: Path) -> None:
        self.stack = stack
        self.workdir = workdir
        self.settings = lab_settings(stack)
        self.timing = clock(self.settings)
        self.simulator = Simulator(simulated_jobs(self.settings))
        self.sns = FakeSns(topic_arns(self.settings))
        self._rule_files = lab_rule_files(self.settings)
        self._scrape_targets = 0
        self.prometheus_port = free_port()
        self.alertmanager_port = free_port()
        self.processes: dict[str, Process] = {}
        self._lock = threading.Lock()
        self.control = self._control_server()
        self.control_port: int = self.control.server_address[1]
        self._threads: list[threading.Thread] = []

    # --- what other code reads -------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        return {
            "prometheus": f"http://127.0.0.1:{self.prometheus_port}",
            "alertmanager": f"http://127.0.0.1:{self.alertmanager_port}",
            "control": f"http://127.0.0.1:{self.control_port}",
            "sns": self.sns.url,
        }

    @property
    def logs(self) -> tuple[Path, ...]:
        return (self.workdir / "prometheus.log", self.workdir / "alertmanager.log")

    def state(self) -> dict[str, Any]:
        """What build/lab/state.json records: ports, pids, URLs, the clock."""
        return {
            "stack": self.stack,
            "workdir": str(self.workdir),
            "urls": self.urls,
            "ports": {
                "prometheus": self.prometheus_port,
                "alertmanager": self.alertmanager_port,
                "control": self.control_port,
                "sns": self.sns.port,
            },
            "pids": {name: process.popen.pid for name, process in self.processes.items()},
            "time_scale": str(self.timing.rendered.time_scale),
            "clock": {k: v for k, v in asdict(self.timing).items() if k != "rendered"},
        }

    # --- life cycle ---------------------------------------------------------------

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._write_files()
        for server, name in ((self.control, "lab-control"), (self.sns.server, "lab-sns")):
            thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            self._start("alertmanager")
            self._start("prometheus")
            wait_for(
                "Alertmanager to be ready", lambda: ready(self.alertmanager_port), READY_TIMEOUT_SECONDS, self.logs
            )
            wait_for("Prometheus to be ready", lambda: ready(self.prometheus_port), READY_TIMEOUT_SECONDS, self.logs)
            # Prometheus hands its scrapers new targets on a 5 s tick, a constant no time scale
            # shrinks. With the rules loaded from the start, `absent(up)` (MetricsNotArriving: `for`
            # 5 s at 1/60) raced the first scrape and could page a healthy platform (seen on a cold
            # machine). So the rules are loaded once every target has been scraped, as they would
            # find a long-running production Prometheus.
            wait_for("every target to be scraped once", self._all_scraped, READY_TIMEOUT_SECONDS, self.logs)
            self._write_rules()
            self.processes["prometheus"].popen.send_signal(signal.SIGHUP)
            wait_for("Prometheus to load the rule files", self._rules_loaded, READY_TIMEOUT_SECONDS, self.logs)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for name in ("prometheus", "alertmanager"):
            self._stop(name)
        if self._threads:
            self.control.shutdown()
            self.sns.server.shutdown()
            self._threads = []
        self.control.server_close()
        self.sns.server.server_close()

    def restart_prometheus(self) -> float:
        """Stop Prometheus and start it again on the same TSDB and port; returns the seconds it was not ready."""
        stopped = time.monotonic()
        self._stop("prometheus")
        self._start("prometheus")
        wait_for("Prometheus to be ready again", lambda: ready(self.prometheus_port), READY_TIMEOUT_SECONDS, self.logs)
        return time.monotonic() - stopped

    def set_faults(self, names: tuple[str, ...]) -> float:
        """Make the simulator serve these faults (`none` clears); returns the monotonic time of the change."""
        active = tuple(name for name in names if name != NONE)
        conditions = apply_faults(active, self.simulator.healthy)
        self.simulator.set_conditions(active, conditions)
        return self.simulator.changed_at

    @property
    def wall_offset(self) -> float:
        """time.time() - time.monotonic(): turns Prometheus's wall-clock timestamps into lab times."""
        return time.time() - time.monotonic()

    # --- internals -----------------------------------------------------------------

    def _write_files(self) -> None:
        # Empty until the first scrapes are in (`start`); a restart finds the files there.
        (self.workdir / "rules").mkdir(exist_ok=True)
        am_dir = self.workdir / "alertmanager"
        am_dir.mkdir(exist_ok=True)
        for name, content in lab_alertmanager_files(self.settings, self.sns.url).items():
            (am_dir / name).write_text(content)
        config = prometheus_config(
            self.settings,
            self.simulator.targets,
            f"127.0.0.1:{self.control_port}",
            self.alertmanager_port,
            self.timing,
        )
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self._scrape_targets = sum(len(job["static_configs"]) for job in config["scrape_configs"])

    def _write_rules(self) -> None:
        for namespace, content in self._rule_files.items():
            (self.workdir / "rules" / f"{namespace}.yaml").write_text(content)

    def _prometheus_api(self, path: str) -> Any:
        try:
            return http_json(f"http://127.0.0.1:{self.prometheus_port}{path}", timeout=2)["data"]
        except OSError:
            return None

    def _all_scraped(self) -> bool:
        answer = self._prometheus_api("/api/v1/query?query=count(up)")
        scraped = int(float(answer["result"][0]["value"][1])) if answer and answer["result"] else 0
        return scraped >= self._scrape_targets

    def _rules_loaded(self) -> bool:
        expected = sum(len(yaml.safe_load(text)["groups"]) for text in self._rule_files.values())
        answer = self._prometheus_api("/api/v1/rules")
        return bool(answer) and len(answer["groups"]) == expected

    def _command(self, name: str) -> list[str]:
        if name == "alertmanager":
            return [
                program("prometheus-alertmanager", "prometheus-alertmanager"),
                f"--config.file={self.workdir / 'alertmanager' / 'alertmanager.yml'}",
                f"--storage.path={self.workdir / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.alertmanager_port}",
                "--cluster.listen-address=",  # no gossip: one instance, loopback only
            ]
        return [
            program("prometheus", "prometheus"),
            f"--config.file={self.workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.workdir / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            *self.timing.prometheus_flags,
        ]

    def _start(self, name: str) -> None:
        self.processes[name] = start_process(name, self._command(name), self.workdir / f"{name}.log")

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()

    def _control_server(self) -> ThreadingHTTPServer:
        lab = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlparse(self.path)
                if url.path.startswith("/metrics/"):
                    target = lab.simulator.target(url.path)
                    if target is None:
                        self.send_error(404)
                    elif lab.simulator.is_down(target):
                        self.send_error(503, "injected fault: target down")
                    else:
                        self._send(200, lab.simulator.exposition(target), "text/plain; version=0.0.4")
                elif url.path == "/faults":
                    self._json(
                        {"active": list(lab.simulator.faults), "known": {n: f.summary for n, f in FAULTS.items()}}
                    )
                elif url.path == "/notifications":
                    since = int(urllib.parse.parse_qs(url.query).get("since", ["0"])[0])
                    published = list(lab.sns.published)[since:]
                    self._json({"notifications": [asdict(p) for p in published], "refused": list(lab.sns.refused)})
                else:
                    self.send_error(404)

            def do_PUT(self) -> None:
                if self.path != "/faults":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    names = tuple(json.loads(self.rfile.read(length))["faults"])
                    at = lab.set_faults(names)
                except (KeyError, ValueError, TypeError) as error:
                    self._json({"error": str(error)}, 400)
                    return
                self._json({"active": list(lab.simulator.faults), "at": at, "wall_offset": lab.wall_offset})

            def do_POST(self) -> None:
                if self.path != "/restart/prometheus":
                    self.send_error(404)
                    return
                with lab._lock:
                    down = lab.restart_prometheus()
                self._json({"down_seconds": down, "pid": lab.processes["prometheus"].popen.pid})

            def _json(self, document: Any, status: int = 200) -> None:
                self._send(status, json.dumps(document), "application/json")

            def _send(self, status: int, body: str, content_type: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        return ThreadingHTTPServer(("127.0.0.1", 0), Handler)
