"""Every alert family, end to end: inject its fault, time the page, clear it, see the all-clear.

`run_families(client, settings, timing)` drives a running lab through its
control endpoint (in-process for the tests, or the background lab of `make
lab`). Faults of one service run one step after another (a lane); lanes run
concurrently, since their alerts cannot interact (different `service`
labels, so no inhibition across them). For each expected alert it measures
fault -> notification on the topic its severity routes to, next to the
minimum the configuration allows (`for` + evaluation interval + group_wait,
at the lab's scale, plus the rule's own window when the fault can only show
once that window has passed), then the repair -> resolved notification.
Alerts the fault raises too but that Alertmanager must hold back
(inhibition) must fire in Prometheus, show as inhibited in Alertmanager and
never reach SNS. Then a Prometheus restart while an alert fires: no
resolved message during the restart, still firing after it.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

import yaml

from infra.alerting.time_scale import duration_seconds, scaled_duration
from infra.config import StackInput
from infra.promql import series_names
from lab.config import LAB_TIME_SCALE, Clock, lab_rule_files
from lab.fake_sns import Published
from lab.faults import FAULTS, Expected, Fault
from lab.processes import LabError, http_json, wait_for
from lab.scope import Untestable, lab_untestable

MAX_RATIO = 1.2
# The longest a family may take in the lab; alerts that need more are left to promtool.
LONGEST_SECONDS = 120.0
HEALTHY_SECONDS = 6.0
# How long after a page its chat copy may still arrive (same receiver, another SNS config).
CHAT_GRACE_SECONDS = 2.0
# Faults of one service, in order; each inner tuple is injected at once. An
# alert whose Alertmanager group still exists (Alertmanager drops empty groups
# only every 30 s, a constant that does not scale) waits a group_interval
# instead of a group_wait: a step measures no alert that an earlier step of its
# lane raised, even held back (hence the backlog before the workers' outage).
LANES: dict[str, tuple[tuple[str, ...], ...]] = {
    "api": (
        ("errors", "latency", "health", "db-pool", "slow-queries", "db-errors", "cache-misses", "screening-drop"),
        ("replica-down",),
        ("down",),
    ),
    "postgres": (("db-down",), ("db-connections", "replication-lag", "deadlocks")),
    "redis": (("redis-down",), ("redis-memory", "redis-evictions")),
    "nginx": (("nginx-down",),),
    "celery": (("celery-queue", "celery-failures"), ("celery-workers-down",)),
    "airflow": (("airflow-scheduler",), ("airflow-failures", "airflow-import-errors")),
    "node": (("disk", "memory", "disk-filling"),),
    "containers": (("container-memory", "cpu", "volume"),),
    "collector": (("collector-behind", "collector-failing"),),
    # Kubernetes objects: the frontend's workloads, Airflow's batch objects, the cluster's nodes.
    "workloads": (
        ("crash-loop", "oom-kill", "pod-not-ready"),
        ("replicas-mismatch", "rollout-stuck", "hpa-maxed"),
        ("workload-down",),
    ),
    "batch": (("job-failed", "cronjob-missed"),),
    "cluster": (("node-not-ready", "node-pressure"), ("node-cordoned-dead",)),
    "daemonsets": (("daemonset-not-scheduled", "daemonset-misscheduled"),),
}
RESTART_FAULT = "nginx-down"
# Alerts no simulated fault can raise: they need Prometheus itself to fail.
NOT_INJECTED = {
    "MetricsNotArriving": "needs every collector gone (no `up` at all); the lab's Prometheus always scrapes",
    "RecordingRulesMissing": "needs recording rules that stop evaluating while raw series arrive",
    "Watchdog": "always firing: checked as the heartbeat instead",
}


class LabClient:
    """Talks to a running lab through its URLs (see lab/stack.py for the control endpoint)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.wall_offset = 0.0
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._published: list[Published] = []
        self._published_lock = threading.Lock()

    def change_faults(self, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> float:
        """Add and remove faults (other lanes' stay); returns the monotonic time the simulator changed."""
        with self._lock:
            self._active = (self._active | set(add)) - set(remove)
            answer = http_json(f"{self.urls['control']}/faults", {"faults": sorted(self._active)}, "PUT")
            self.wall_offset = float(answer["wall_offset"])
            return float(answer["at"])

    def active_since(self, alert: Expected) -> float | None:
        """Monotonic time Prometheus first saw the alert's expression true (its activeAt), if it is active."""
        times = [_timestamp(a["activeAt"]) - self.wall_offset for a in self.prometheus_alerts() if _is(a, alert)]
        return min(times) if times else None

    def notifications(self) -> list[Published]:
        """Every notification so far. Only the new ones cross the wire: every lane polls this every
        POLL_SECONDS, and the recorder serves it from the process that also serves the simulated
        exporters; sending the whole, growing list each time held the GIL long enough to time out a
        scrape (250 ms at 1/60), whose staleness markers reset a pending alert's `for`."""
        with self._published_lock:
            answer = http_json(f"{self.urls['control']}/notifications?since={len(self._published)}")
            self._published.extend(Published(**n) for n in answer["notifications"])
            return list(self._published)

    def refused(self) -> list[str]:
        return list(http_json(f"{self.urls['control']}/notifications?since=1000000000")["refused"])

    def prometheus_alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = http_json(f"{self.urls['prometheus']}/api/v1/alerts")["data"]["alerts"]
        return alerts

    def alertmanager_alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = http_json(f"{self.urls['alertmanager']}/api/v2/alerts")
        return alerts

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.urls['prometheus']}/api/v1/query?query={urllib.parse.quote(expr)}"
        result: list[dict[str, Any]] = http_json(url)["data"]["result"]
        return result

    def restart_prometheus(self) -> float:
        return float(http_json(f"{self.urls['control']}/restart/prometheus", {}, "POST", timeout=60)["down_seconds"])


@dataclass
class Measured:
    """One expected alert of one fault, end to end."""

    fault: str
    alert: str
    severity: str
    service: str
    topic: str
    minimum_seconds: float  # for + evaluation + group_wait (+ window), at the lab's scale
    for_seconds: float
    active_seconds: float = 0.0  # fault -> Prometheus sees the expression true
    notified_seconds: float = 0.0
    resolved_seconds: float = 0.0
    subject: str = ""
    firing_count: int = 0
    in_chat: bool = False

    @property
    def ratio(self) -> float:
        return self.notified_seconds / self.minimum_seconds


@dataclass
class HeldBack:
    fault: str
    alert: str
    severity: str
    service: str
    fired_in_prometheus: bool = False
    inhibited_in_alertmanager: bool = False
    # Sent once the critical was paged (an inhibition failure) / before it existed (nothing to inhibit yet).
    notified: list[str] = field(default_factory=list)
    sent_before_critical: list[str] = field(default_factory=list)


@dataclass
class Restart:
    alert: str
    down_seconds: float = 0.0
    refired_seconds: float = 0.0  # restart start -> firing again in Prometheus
    resolved_during: list[str] = field(default_factory=list)
    firing_after: bool = False
    active_in_alertmanager: bool = False
    resolved_after_repair_seconds: float = 0.0


@dataclass
class FamiliesReport:
    stack: str
    time_scale: Fraction
    timing: Clock
    measured: list[Measured] = field(default_factory=list)
    held_back: list[HeldBack] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (fault, reason)
    untestable: list[Untestable] = field(default_factory=list)
    not_injected: dict[str, str] = field(default_factory=dict)
    healthy_noise: list[str] = field(default_factory=list)
    watchdog_first_seconds: float = 0.0
    watchdog_gaps: list[float] = field(default_factory=list)
    restart: Restart | None = None
    refused: list[str] = field(default_factory=list)
    chat_example: str = ""
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> list[str]:
        lines = [
            f"{'fault':<21} {'alert':<32} {'severity':<8} {'topic':<8} {'seen s':>6} {'page s':>6} {'min s':>6} "
            f"{'ratio':>5} {'clear s':>7}"
        ]
        for m in self.measured:
            lines.append(
                f"{m.fault:<21} {m.alert:<32} {m.severity:<8} {m.topic:<8} {m.active_seconds:>6.2f} "
                f"{m.notified_seconds:>6.2f} {m.minimum_seconds:>6.2f} {m.ratio:>5.2f} {m.resolved_seconds:>7.2f}"
            )
        return lines

    def lines(self) -> list[str]:
        t = self.timing
        out = [
            f"lab ({self.stack} rules and routes at time scale {self.time_scale}: scrape {t.scrape_seconds:g} s, "
            f"evaluation {t.evaluation_seconds:g} s, group_wait {t.group_wait_seconds:g} s, "
            f"group_interval {t.group_interval_seconds:g} s), {self.seconds:.0f} s in all",
            f"  Watchdog: first after {self.watchdog_first_seconds:.1f} s, then every "
            f"{', '.join(f'{g:.1f}' for g in self.watchdog_gaps[:8])} s",
            f"  healthy platform for {HEALTHY_SECONDS:g} s: {len(self.healthy_noise)} other notification(s)",
            "",
            *self.table(),
            "",
            "  held back (fired in Prometheus, inhibited in Alertmanager, not sent once the critical was):",
            *(
                f"    {h.alert} {h.severity} {h.service} during {h.fault}: fired={h.fired_in_prometheus} "
                f"inhibited={h.inhibited_in_alertmanager} sent={h.notified or 'no'}"
                + (
                    f" (sent before the critical existed: {len(h.sent_before_critical)})"
                    if h.sent_before_critical
                    else ""
                )
                for h in self.held_back
            ),
        ]
        if self.restart:
            r = self.restart
            out.append(
                f"  Prometheus restart while {r.alert} fired: down {r.down_seconds:.1f} s, firing again after "
                f"{r.refired_seconds:.1f} s, resolved during restart: {r.resolved_during or 'none'}, "
                f"still firing: {r.firing_after}, all-clear after repair {r.resolved_after_repair_seconds:.1f} s"
            )
        out.append("  not tested in the lab (left to promtool):")
        out += [f"    {u.alert} {u.severity}: {u.reason}" for u in self.untestable]
        out += [f"    {alert}: {reason}" for alert, reason in self.not_injected.items()]
        out += [f"    fault {fault}: {reason}" for fault, reason in self.skipped]
        out.append(f"  refused by the SNS stand-in: {self.refused or 'none'}")
        out += [f"  ERROR: {error}" for error in self.errors]
        return out


def _timestamp(stamp: str) -> float:
    """Unix seconds of an RFC 3339 time as Prometheus and Alertmanager write it (up to nanoseconds)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", stamp)
    if not match:
        raise ValueError(f"unexpected timestamp {stamp!r}")
    fraction = float(match.group(2) or 0)
    return datetime.fromisoformat(match.group(1) + "+00:00").timestamp() + fraction


def _subject(state: str, alert: str, severity: str, service: str) -> re.Pattern[str]:
    count = r":(\d+)" if state == "FIRING" else ""
    return re.compile(rf"^\[{state}{count}\] {severity.upper()} {re.escape(alert)} {re.escape(service)} \(")


def _rules_by_key(settings: StackInput) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    rules: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for content in lab_rule_files(settings).values():
        for group in yaml.safe_load(content)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    labels = rule.get("labels", {})
                    rules[(rule["alert"], labels["severity"], labels.get("service"))] = {
                        **rule,
                        "_group": group["name"],
                    }
    return rules


def _recordings(settings: StackInput) -> dict[str, tuple[str, str]]:
    """Recording rule name -> (its group, its expression)."""
    recorded: dict[str, tuple[str, str]] = {}
    for content in lab_rule_files(settings).values():
        for group in yaml.safe_load(content)["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    recorded[rule["record"]] = (group["name"], rule["expr"])
    return recorded


def _rule_for(rules: dict[tuple[str, str, str | None], dict[str, Any]], e: Expected) -> dict[str, Any] | None:
    return rules.get((e.alert, e.severity, e.service)) or rules.get((e.alert, e.severity, None))


def _is(alert: dict[str, Any], e: Expected) -> bool:
    labels = alert["labels"]
    return bool(
        labels.get("alertname") == e.alert
        and labels.get("severity") == e.severity
        and labels.get("service") == e.service
    )


def _testable(
    fault: Fault,
    rules: dict[tuple[str, str, str | None], dict[str, Any]],
    untestable: set[tuple[str, str, str | None]],
) -> tuple[Expected, ...]:
    """What a fault must make page in this stack's rules, leaving out what the lab cannot show at its scale.

    A rule over every service (no static `service`, key None) that the lab cannot show covers every service.
    """
    return tuple(
        e
        for e in fault.expect
        if _rule_for(rules, e) is not None
        and not {(e.alert, e.severity, e.service), (e.alert, e.severity, None)} & untestable
    )


def faults_to_measure(settings: StackInput) -> dict[str, tuple[Expected, ...]]:
    """Every fault of the lanes whose alerts this stack's rules can show paging in the lab (test parameters)."""
    rules = _rules_by_key(settings)
    untestable = {(u.alert, u.severity, u.service) for u in lab_untestable(settings, LAB_TIME_SCALE, LONGEST_SECONDS)}
    names = [name for steps in LANES.values() for step in steps for name in step]
    expected = {name: _testable(FAULTS[name], rules, untestable) for name in names}
    return {name: found for name, found in expected.items() if found}


class Families:
    def __init__(self, client: LabClient, settings: StackInput, stack: str, timing: Clock) -> None:
        self.client = client
        self.settings = settings
        self.timing = timing
        self.rules = _rules_by_key(settings)
        self.recorded = _recordings(settings)
        self.report = FamiliesReport(stack=stack, time_scale=LAB_TIME_SCALE, timing=timing)
        self.report.untestable = lab_untestable(settings, LAB_TIME_SCALE, LONGEST_SECONDS)
        self.untestable = {(u.alert, u.severity, u.service) for u in self.report.untestable}
        present = {key[0] for key in self.rules}
        self.report.not_injected = {a: r for a, r in NOT_INJECTED.items() if a in present}
        self._lock = threading.Lock()

    def topic(self, severity: str) -> str:
        if severity == "warning" and not self.settings.notifications.page_on_warning:
            return "warning"
        return "critical"

    def testable(self, fault: Fault) -> tuple[Expected, ...]:
        return _testable(fault, self.rules, self.untestable)

    def minimum(self, fault: Fault, e: Expected) -> tuple[float, float]:
        """for + evaluation x (1 + recording hops) + group_wait (+ the fault's window), and the `for`."""
        rule = _rule_for(self.rules, e)
        assert rule is not None
        for_seconds = float(duration_seconds(rule.get("for", "0s")))
        window = float(duration_seconds(fault.window) * LAB_TIME_SCALE) if fault.window else 0.0
        t = self.timing
        evaluations = 1 + self.hops(rule["expr"], rule["_group"])
        return for_seconds + evaluations * t.evaluation_seconds + t.group_wait_seconds + window, for_seconds

    def hops(self, expr: str, group: str) -> int:
        """Rule groups an expression's data goes through before this one: each evaluates on its own tick."""
        depth = 0
        for name in series_names(expr):
            recorded_in = self.recorded.get(name)
            if recorded_in is not None and recorded_in[0] != group:
                depth = max(depth, 1 + self.hops(recorded_in[1], recorded_in[0]))
        return depth

    def _chat_copy_arrives(self, e: Expected, after: float) -> bool:
        """Whether the page's chat copy arrives: Alertmanager publishes a receiver's SNS configs
        concurrently, so the chat copy may land a moment after the page it was just seen on."""
        deadline = time.monotonic() + CHAT_GRACE_SECONDS
        while True:
            if any(
                n.topic == "chat" and n.at >= after and f"{e.alert} on {e.service}" in n.message
                for n in self.client.notifications()
            ):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def _find(self, pattern: re.Pattern[str], topic: str, after: float) -> Published | None:
        for message in self.client.notifications():
            if message.topic == topic and message.at >= after and pattern.search(message.subject or ""):
                return message
        return None

    # --- one lane ---------------------------------------------------------------

    def run_lane(self, lane: str, steps: tuple[tuple[str, ...], ...]) -> None:
        try:
            for step in steps:
                self.run_step(step)
        except (LabError, OSError) as error:
            with self._lock:
                self.report.errors.append(f"lane {lane}: {error}")

    def run_step(self, names: tuple[str, ...]) -> None:
        faults = [FAULTS[name] for name in names]
        plans = []
        for fault in faults:
            expected = self.testable(fault)
            if not expected:
                reason = (
                    "its alert is not in this stack's rules"
                    if not any(_rule_for(self.rules, e) for e in fault.expect)
                    else "its alert is not lab-testable at this scale (see above)"
                )
                with self._lock:
                    self.report.skipped.append((fault.name, reason))
                continue
            plans.append((fault, expected))
        if not plans:
            return
        injected = self.client.change_faults(add=tuple(f.name for f, _ in plans))
        measured: list[Measured] = []
        for fault, expected in plans:
            for e in expected:
                minimum, for_seconds = self.minimum(fault, e)
                m = Measured(fault.name, e.alert, e.severity, e.service, self.topic(e.severity), minimum, for_seconds)
                pattern = _subject("FIRING", e.alert, e.severity, e.service)
                page = wait_for(
                    f"{e.alert} {e.severity} {e.service} on the {m.topic} topic after fault {fault.name}",
                    lambda p=pattern, m=m: self._find(p, m.topic, injected),  # type: ignore[misc]
                    max(30.0, 4 * minimum),
                )
                m.notified_seconds = page.at - injected
                active = self.client.active_since(e)
                m.active_seconds = active - injected if active is not None else float("nan")
                m.subject = page.subject or ""
                m.firing_count = int(pattern.search(m.subject).group(1))  # type: ignore[union-attr]
                m.in_chat = self._chat_copy_arrives(e, injected)
                measured.append(m)
        held = [HeldBack(fault.name, h.alert, h.severity, h.service) for fault, _ in plans for h in fault.held_back]
        for h in held:
            critical = next(m for m in measured if m.fault == h.fault)
            self.check_held_back(h, injected, injected + critical.notified_seconds)
        cleared = self.client.change_faults(remove=tuple(f.name for f, _ in plans))
        for m in measured:
            pattern = _subject("RESOLVED", m.alert, m.severity, m.service)
            resolved = wait_for(
                f"the all-clear of {m.alert} {m.severity} {m.service} after clearing {m.fault}",
                lambda p=pattern, m=m: self._find(p, m.topic, cleared),  # type: ignore[misc]
                LONGEST_SECONDS,
            )
            m.resolved_seconds = resolved.at - cleared
        with self._lock:
            self.report.measured.extend(measured)
            self.report.held_back.extend(held)

    def check_held_back(self, h: HeldBack, injected: float, paged: float) -> None:
        e = Expected(h.alert, h.severity, h.service)
        rule = _rule_for(self.rules, e)
        wait = float(duration_seconds(rule.get("for", "0s"))) if rule else 0.0
        h.fired_in_prometheus = bool(
            wait_for(
                f"{h.alert} {h.severity} to fire in Prometheus during {h.fault}",
                lambda: any(a["state"] == "firing" and _is(a, e) for a in self.client.prometheus_alerts()),
                wait + 30,
            )
        )
        # Give Alertmanager what it would need to send it: a group_wait and an evaluation.
        time.sleep(self.timing.group_wait_seconds + 2 * self.timing.evaluation_seconds)
        h.inhibited_in_alertmanager = any(
            _is(a, e) and a["status"]["inhibitedBy"] for a in self.client.alertmanager_alerts()
        )
        pattern = _subject("FIRING", h.alert, h.severity, h.service)
        sent = [n for n in self.client.notifications() if n.at >= injected and pattern.search(n.subject or "")]
        h.notified = [f"{n.topic}: {n.subject}" for n in sent if n.at >= paged]
        h.sent_before_critical = [f"{n.topic}: {n.subject}" for n in sent if n.at < paged]

    def _wall(self, stamp: str) -> float:
        return _timestamp(stamp) - self.client.wall_offset

    # --- the restart --------------------------------------------------------------

    def run_restart(self) -> None:
        fault = FAULTS[RESTART_FAULT]
        e = fault.expect[0]
        if _rule_for(self.rules, e) is None:
            return
        restart = Restart(e.alert)
        topic = self.topic(e.severity)
        injected = self.client.change_faults(add=(fault.name,))
        wait_for(
            f"{e.alert} page before the restart",
            lambda: self._find(_subject("FIRING", e.alert, e.severity, e.service), topic, injected),
            30,
        )
        started = time.monotonic()
        restart.down_seconds = self.client.restart_prometheus()
        wait_for(
            f"{e.alert} firing again in Prometheus after the restart",
            lambda: any(a["state"] == "firing" and _is(a, e) for a in self.client.prometheus_alerts()),
            30,
        )
        restart.refired_seconds = time.monotonic() - started
        # Alertmanager would resolve the alert 4 resend delays after the last
        # send before the restart and say so at its next group_interval: look
        # once the restarted Prometheus has sent it again, and one
        # group_interval later.
        wait_for(
            f"{e.alert} re-sent to Alertmanager by the restarted Prometheus",
            lambda: any(_is(a, e) and self._wall(a["updatedAt"]) > started for a in self.client.alertmanager_alerts()),
            30,
        )
        time.sleep(self.timing.group_interval_seconds + 1)
        resolved = _subject("RESOLVED", e.alert, e.severity, e.service)
        restart.resolved_during = [
            f"{n.topic}: {n.subject}"
            for n in self.client.notifications()
            if n.at >= started and n.topic == topic and resolved.search(n.subject or "")
        ]
        restart.firing_after = any(a["state"] == "firing" and _is(a, e) for a in self.client.prometheus_alerts())
        restart.active_in_alertmanager = any(
            _is(a, e) and a["status"]["state"] == "active" for a in self.client.alertmanager_alerts()
        )
        cleared = self.client.change_faults(remove=(fault.name,))
        message = wait_for(
            f"the all-clear of {e.alert} after the restart", lambda: self._find(resolved, topic, cleared), 60
        )
        restart.resolved_after_repair_seconds = message.at - cleared
        self.report.restart = restart


def run_families(
    client: LabClient, settings: StackInput, stack: str, timing: Clock, started: float, restart: bool = True
) -> FamiliesReport:
    """Healthy check, every lane concurrently, then the restart; `started` is when Prometheus became ready."""
    families = Families(client, settings, stack, timing)
    report = families.report
    first = wait_for(
        "the Watchdog at its own receiver",
        lambda: next((n for n in client.notifications() if n.topic == "watchdog"), None),
        30,
    )
    report.watchdog_first_seconds = first.at - started
    time.sleep(max(0.0, started + HEALTHY_SECONDS - time.monotonic()))
    report.healthy_noise = [f"{n.topic}: {n.subject}" for n in client.notifications() if n.topic != "watchdog"]
    threads = [
        threading.Thread(target=families.run_lane, args=(lane, steps), name=f"lane-{lane}")
        for lane, steps in LANES.items()
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if restart:
        try:
            families.run_restart()
        except (LabError, OSError) as error:
            report.errors.append(f"restart: {error}")
    notifications = client.notifications()
    watchdog = [n.at for n in notifications if n.topic == "watchdog"]
    report.watchdog_gaps = [b - a for a, b in itertools.pairwise(watchdog)]
    report.refused = client.refused()
    report.chat_example = next((n.message for n in notifications if n.topic == "chat"), "")
    report.seconds = time.monotonic() - started
    return report


def check(report: FamiliesReport) -> list[str]:
    """What the families must show; empty when everything held."""
    problems = list(report.errors)
    if report.healthy_noise:
        problems.append(f"a healthy platform was not quiet: {report.healthy_noise}")
    if report.refused:
        problems.append(f"SNS would refuse some messages: {report.refused}")
    for m in report.measured:
        if m.ratio > MAX_RATIO:
            problems.append(f"{m.alert} {m.severity} ({m.fault}) took {m.ratio:.2f} x the minimum, above {MAX_RATIO}")
    for h in report.held_back:
        if not (h.fired_in_prometheus and h.inhibited_in_alertmanager) or h.notified:
            problems.append(f"{h.alert} {h.severity} was not held back during {h.fault}: {h}")
    if report.restart and (report.restart.resolved_during or not report.restart.firing_after):
        problems.append(f"the Prometheus restart lost {report.restart.alert}: {report.restart}")
    return problems


# --- dashboards -------------------------------------------------------------------

# Grafana's interval variables at the lab's scale (5m, 1m and 1h of production).
GRAFANA_INTERVALS = {"$__rate_interval": "5s", "$__interval": "1s", "$__range": "1m"}


def dashboard_queries(settings: StackInput) -> list[tuple[str, str, str]]:
    """(dashboard, panel title, PromQL) of every panel on the AMP data source, variables given real values."""
    from dashboards.context import DashboardContext, amp_panel_targets
    from dashboards.registry import build_all

    queries = []
    for slug, dashboard in build_all(DashboardContext.from_settings(settings)).items():
        values = {"env": settings.environment}
        for variable in dashboard.get("templating", {}).get("list", []):
            current = variable.get("current", {}).get("value")
            if variable.get("type") == "query" and variable["name"] != "env":
                first = current[0] if isinstance(current, list) and current else current
                values[variable["name"]] = first if first and first != "$__all" else "api"
        for panel, target in amp_panel_targets(dashboard):
            expr = _WINDOW.sub(_scaled_window, str(target["expr"]))
            for name, value in GRAFANA_INTERVALS.items():
                expr = expr.replace(name, value)
            for name, value in values.items():
                expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
            queries.append((slug, str(panel.get("title", "")), expr))
    return queries


# Ranges and subquery steps in dashboard queries: `[1d]`, `[1d:5m]`.
_WINDOW = re.compile(r"\[(\d+[smhdw])(?::(\d+[smhdw]))?\]")


def _scaled_window(match: re.Match[str]) -> str:
    """A dashboard window on the lab's clock, as the rules' are (Grafana's panels are not rendered at a scale)."""
    window = scaled_duration(match.group(1), LAB_TIME_SCALE)
    step = f":{scaled_duration(match.group(2), LAB_TIME_SCALE)}" if match.group(2) else ""
    return f"[{window}{step}]"


def empty_dashboard_panels(client: LabClient, settings: StackInput) -> list[str]:
    """Panels whose query returns no data from the lab's Prometheus ("No data" in Grafana)."""
    return [f"{slug} / {title}: {expr}" for slug, title, expr in dashboard_queries(settings) if not client.query(expr)]
