"""Run the lab: healthy platform, one injected outage, and the notifications it must produce.

What is real: Debian's `prometheus` evaluating the dev stack's rule files as
`render_rule_files` renders them, Debian's `prometheus-alertmanager` with the
routes, inhibitions, receivers and templates `render_alertmanager_definition`
renders for AMP, and Alertmanager's own SNS notifier. What is lab-only, and
printed: time runs faster (every `for` divided by `TIME_COMPRESSION`, 1 s
scrapes and evaluations, short group timings), the SNS API is a strict
stand-in on loopback (`api_url`), and the dev settings get a Slack channel so
that the chat message is exercised too.

The sequence: the Watchdog must reach its own receiver; a healthy platform
must stay quiet; then the API's target disappears, and the `ServiceDown`
page must arrive on the critical topic (and in chat) within 1.2 x the
minimum the configuration allows (`for` + evaluation interval +
group_wait); then the target comes back and the resolved message must arrive.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.alerting.alertmanager import alertmanager_files, render_alertmanager_definition
from infra.alerting.rules import render_rule_files
from infra.config import StackInput
from lab.exporter import LabExporter
from lab.fake_sns import FakeSns, Published
from planner.stackfile import stack_settings

# Lab time: 1 lab second stands for TIME_COMPRESSION real seconds of `for`.
TIME_COMPRESSION = 30
# Scrapes twice per evaluation, so that a fault is seen by the next evaluation.
SCRAPE_SECONDS = 0.5
EVALUATION_SECONDS = 1
GROUP_WAIT_SECONDS = 1
GROUP_INTERVAL_SECONDS = 2
HEALTHY_SECONDS = 8
FAULT_SERVICE = "api"
FAULT_ALERT = "ServiceDown"
MAX_RATIO = 1.2
# Warnings that exist in the rules; the first shares the outage's service.
INHIBITED_WARNING = "ApiHighLatency"
CONTROL_WARNING, CONTROL_SERVICE = "RedisMemoryNearMax", "redis"
STEP_TIMEOUT_SECONDS = 45
LAB_REGION = "ap-northeast-2"
LAB_ACCOUNT = "000000000000"
LAB_SLACK = {"teamId": "TLAB00001", "channelId": "CLAB00001"}


class LabError(RuntimeError):
    """The lab could not show what it must; the message says which step and why."""


@dataclass
class LabReport:
    stack: str
    for_seconds: float
    min_notify_seconds: float
    watchdog_seconds: float = 0.0
    notify_seconds: float = 0.0
    chat_seconds: float = 0.0
    chat_message: str = ""
    # Warnings pushed to Alertmanager during the outage: the API's must be
    # held back by the page, the control (another service) must go through.
    inhibited: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)
    control_seconds: float = 0.0
    resolve_seconds: float = 0.0
    healthy_noise: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.notify_seconds / self.min_notify_seconds

    def lines(self) -> list[str]:
        return [
            f"lab ({self.stack} rules and routes, time compressed x{TIME_COMPRESSION}):",
            f"  Watchdog reached the watchdog receiver {self.watchdog_seconds:.1f} s after Prometheus was ready",
            f"  healthy for {HEALTHY_SECONDS} s: {len(self.healthy_noise)} other notification(s)",
            f"  {FAULT_ALERT} {FAULT_SERVICE} page after the fault: {self.notify_seconds:.1f} s "
            f"(minimum allowed {self.min_notify_seconds:.1f} s = for {self.for_seconds:.0f} s + evaluation "
            f"{EVALUATION_SECONDS} s + group_wait {GROUP_WAIT_SECONDS} s; ratio {self.ratio:.2f}, bound {MAX_RATIO})",
            f"  same page in chat: {self.chat_seconds:.1f} s",
            f"  during the outage: {', '.join(self.inhibited) or 'nothing'} inhibited by the page, "
            f"{len(self.leaked)} leaked; control warning ({CONTROL_SERVICE}) sent in {self.control_seconds:.1f} s",
            f"  resolved message after the repair: {self.resolve_seconds:.1f} s",
            f"  subjects: {self.subjects}",
            f"  refused by the SNS stand-in: {self.refused or 'none'}",
        ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([smhdw])", duration)
    if not match:
        raise ValueError(f"unexpected duration {duration!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]


def compress_for(rule_file: str) -> str:
    """The same rules with every `for` divided by TIME_COMPRESSION (at least 1 s); nothing else changes."""
    document = yaml.safe_load(rule_file)
    for group in document["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = f"{max(1, round(_seconds(rule['for']) / TIME_COMPRESSION))}s"
    return yaml.safe_dump(document, sort_keys=False, width=10_000)


def lab_settings(stack: str) -> StackInput:
    """The stack's settings with the lab's clock and a Slack channel, validated like a stack file."""
    raw = stack_settings(stack).model_dump(by_alias=True, mode="json", exclude_none=True)
    raw["rules"] = {**raw.get("rules", {}), "evaluationIntervalSeconds": EVALUATION_SECONDS}
    raw["notifications"] = {**raw["notifications"], "groupWaitSeconds": GROUP_WAIT_SECONDS, "slack": LAB_SLACK}
    return StackInput.model_validate(raw)


def lab_alertmanager_config(definition: str, sns_url: str) -> dict[str, str]:
    """Alertmanager files from the AMP definition, with the lab's SNS endpoint and group interval."""
    files = alertmanager_files(definition)
    config: dict[str, Any] = yaml.safe_load(files["alertmanager.yml"])

    def speed_up(route: dict[str, Any]) -> None:
        if "group_interval" in route:
            route["group_interval"] = f"{GROUP_INTERVAL_SECONDS}s"
        for child in route.get("routes", []):
            speed_up(child)

    speed_up(config["route"])
    for receiver in config["receivers"]:
        for sns in receiver.get("sns_configs", []):
            sns["api_url"] = sns_url
            # Alertmanager signs every request; the stand-in ignores the signature.
            sns["sigv4"] = {**sns["sigv4"], "access_key": "LABONLYNOTAKEY", "secret_key": "lab-only-not-a-secret"}
    return {**files, "alertmanager.yml": yaml.safe_dump(config, sort_keys=False)}


def prometheus_config(exporter: LabExporter, alertmanager_port: int) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": f"{round(SCRAPE_SECONDS * 1000)}ms",
            "scrape_timeout": f"{round(SCRAPE_SECONDS * 800)}ms",
            "evaluation_interval": f"{EVALUATION_SECONDS}s",
        },
        "rule_files": ["rules/*.yaml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        # The `service` label is what the collector's relabelling attaches in AWS.
        "scrape_configs": [
            {
                "job_name": service,
                "metrics_path": f"/metrics/{service}",
                "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"], "labels": {"service": service}}],
            }
            for service in exporter.services
        ],
    }


def _binary(name: str, package: str) -> str:
    found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
    if not found:
        raise LabError(f"{name} is missing: install Debian's {package} (`make tools` installs it)")
    return found


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait(what: str, check: Callable[[], Any], timeout: float, logs: list[Path]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    tails = "\n".join(
        f"--- {log.name}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]) for log in logs
    )
    raise LabError(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _post_warning(port: int, alertname: str, service: str) -> None:
    """Hand Alertmanager a firing warning, as Prometheus would."""
    alert = {
        "labels": {"alertname": alertname, "service": service, "severity": "warning"},
        "annotations": {
            "summary": f"{alertname} injected by the lab.",
            "description": f"{alertname} on {service}, pushed to check inhibition.",
            "runbook_url": f"https://runbooks.invalid/#{alertname.lower()}",
        },
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        if response.status != 200:
            raise LabError(f"Alertmanager refused the injected {alertname}: HTTP {response.status}")


def _inhibited(port: int) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/alerts", timeout=5) as response:
        alerts = json.load(response)
    return sorted(
        f"{a['labels']['alertname']}/{a['labels'].get('service', '')}" for a in alerts if a["status"]["inhibitedBy"]
    )


def _first(sns: FakeSns, topic: str, pattern: str, after: float) -> Published | None:
    for message in list(sns.published):
        text = message.message if topic == "chat" else message.subject or ""
        if message.topic == topic and message.at >= after and re.search(pattern, text):
            return message
    return None


def run_lab(stack: str = "dev", workdir: Path | None = None) -> LabReport:
    """Run the whole lab once; raises LabError when a step does not happen in time."""
    prometheus = _binary("prometheus", "prometheus")
    alertmanager = _binary("prometheus-alertmanager", "prometheus-alertmanager")
    settings = lab_settings(stack)
    topics = {
        audience: f"arn:aws:sns:{LAB_REGION}:{LAB_ACCOUNT}:screener-{settings.environment}-alerts-{audience}"
        for audience in ("critical", "warning", "watchdog", "chat")
    }
    own_dir = workdir is None
    root = Path(tempfile.mkdtemp(prefix="screener-lab-")) if workdir is None else workdir
    exporter = LabExporter(settings)
    sns = FakeSns(topics)
    try:
        rules_dir = root / "rules"
        rules_dir.mkdir(parents=True)
        fault_for: str | None = None
        for namespace, content in render_rule_files(settings).items():
            compressed = compress_for(content)
            (rules_dir / f"{namespace}.yaml").write_text(compressed)
            for group in yaml.safe_load(compressed)["groups"]:
                for rule in group["rules"]:
                    labels = rule.get("labels", {})
                    if (rule.get("alert"), labels.get("service"), labels.get("severity")) == (
                        FAULT_ALERT,
                        FAULT_SERVICE,
                        "critical",
                    ):
                        fault_for = rule["for"]
        if fault_for is None:
            raise LabError(f"the rendered rules have no critical {FAULT_ALERT} alert for service {FAULT_SERVICE}")
        for_seconds = _seconds(fault_for)
        report = LabReport(
            stack=stack,
            for_seconds=for_seconds,
            min_notify_seconds=for_seconds + EVALUATION_SECONDS + GROUP_WAIT_SECONDS,
        )

        am_dir = root / "alertmanager"
        am_dir.mkdir()
        definition = render_alertmanager_definition(settings, topics)
        for name, content in lab_alertmanager_config(definition, sns.url).items():
            (am_dir / name).write_text(content)
        am_port, prom_port = _free_port(), _free_port()
        (root / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(exporter, am_port), sort_keys=False))

        exporter.start()
        sns.start()
        am_log, prom_log = root / "alertmanager.log", root / "prometheus.log"
        logs = [am_log, prom_log]
        am_command = [
            alertmanager,
            f"--config.file={am_dir / 'alertmanager.yml'}",
            f"--storage.path={root / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # no gossip: one instance, loopback only
        ]
        prom_command = [
            prometheus,
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
            # Prometheus re-sends a firing alert only after this delay (1 m by
            # default): one dropped before Alertmanager was discovered would
            # otherwise stay unsent for a lab-minute.
            f"--rules.alert.resend-delay={EVALUATION_SECONDS}s",
        ]
        with _process(am_command, am_log), _process(prom_command, prom_log):
            _wait("Alertmanager to be ready", lambda: _ready(am_port), STEP_TIMEOUT_SECONDS, logs)
            _wait("Prometheus to be ready", lambda: _ready(prom_port), STEP_TIMEOUT_SECONDS, logs)
            ready = time.monotonic()

            watchdog = _wait(
                "the Watchdog at its own receiver",
                lambda: _first(sns, "watchdog", r"Watchdog", ready),
                STEP_TIMEOUT_SECONDS,
                logs,
            )
            report.watchdog_seconds = watchdog.at - ready

            time.sleep(max(0.0, ready + HEALTHY_SECONDS - time.monotonic()))
            report.healthy_noise = [
                f"{m.topic}: {m.subject or m.message[:80]}" for m in sns.published if m.topic != "watchdog"
            ]

            exporter.set_down(FAULT_SERVICE)
            fault = time.monotonic()
            subject = rf"^\[FIRING:\d+\] CRITICAL {FAULT_ALERT} {FAULT_SERVICE} \("
            page = _wait(
                f"the {FAULT_ALERT} page on the critical topic",
                lambda: _first(sns, "critical", subject, fault),
                STEP_TIMEOUT_SECONDS,
                logs,
            )
            report.notify_seconds = page.at - fault
            report.subjects.append(page.subject or "")
            chat = _wait(
                f"the {FAULT_ALERT} page in chat",
                lambda: _first(sns, "chat", rf'"title":"[^"]*{FAULT_ALERT} on {FAULT_SERVICE}[^"]*firing"', fault),
                STEP_TIMEOUT_SECONDS,
                logs,
            )
            report.chat_seconds = chat.at - fault
            report.chat_message = chat.message

            _post_warning(am_port, INHIBITED_WARNING, FAULT_SERVICE)
            _post_warning(am_port, CONTROL_WARNING, CONTROL_SERVICE)
            pushed = time.monotonic()
            control = _wait(
                f"the control warning {CONTROL_WARNING} on the warning topic",
                lambda: _first(sns, "warning", rf"WARNING {CONTROL_WARNING} {CONTROL_SERVICE} ", pushed),
                STEP_TIMEOUT_SECONDS,
                logs,
            )
            report.control_seconds = control.at - pushed
            report.inhibited = _inhibited(am_port)
            report.leaked = [m.subject or "" for m in sns.published if INHIBITED_WARNING in (m.subject or "")]

            exporter.set_up(FAULT_SERVICE)
            repair = time.monotonic()
            resolved_subject = rf"^\[RESOLVED\] CRITICAL {FAULT_ALERT} {FAULT_SERVICE} \("
            resolved = _wait(
                f"the resolved {FAULT_ALERT} message",
                lambda: _first(sns, "critical", resolved_subject, repair),
                STEP_TIMEOUT_SECONDS,
                logs,
            )
            report.resolve_seconds = resolved.at - repair
            report.subjects.append(resolved.subject or "")
        report.refused = list(sns.refused)
        return report
    finally:
        exporter.stop()
        sns.stop()
        if own_dir:
            shutil.rmtree(root, ignore_errors=True)


def check(report: LabReport) -> list[str]:
    """What the lab must show; empty when everything held."""
    problems = []
    if report.healthy_noise:
        problems.append(f"a healthy platform was not quiet: {report.healthy_noise}")
    if report.refused:
        problems.append(f"SNS would refuse some messages: {report.refused}")
    if report.leaked or f"{INHIBITED_WARNING}/{FAULT_SERVICE}" not in report.inhibited:
        problems.append(f"the page did not hold back {INHIBITED_WARNING}: inhibited {report.inhibited}")
    if report.ratio > MAX_RATIO:
        problems.append(f"the page took {report.ratio:.2f} x the minimum, above {MAX_RATIO}")
    return problems
