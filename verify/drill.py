"""`make test-alert`: one labelled test alert through AMP's Alertmanager, from fire to delivery to resolve.

The alert carries `test="true"`, the stack's `env`, a real service of the catalog and the chosen severity,
so the stack's own routes deliver it exactly as they would a real alert (there is no test route). Before
posting, anything that would hide it is reported and the run stops: an active maintenance window on its
route, a silence that matches it, a firing alert that would inhibit it. After posting, it waits (bounded)
until Alertmanager holds it and the expected SNS topics' CloudWatch metrics rise, runs Grafana's
contact-point test for the same audience, says who should have received what, resolves it (`endsAt`
now) and waits for the resolved notification.

Contract: Alertmanager API v2 (prometheus/alertmanager api/v2/openapi.yaml: POST /alerts takes
postableAlerts {labels, annotations, startsAt, endsAt, generatorURL}; GET /alerts answers gettableAlerts
with status {state: active|suppressed|unprocessed, silencedBy, inhibitedBy}; GET /silences answers
gettableSilences with matchers {name, value, isRegex, isEqual} and status.state) which AMP serves under
the workspace (CreateAlertManagerAlerts, ListAlertManagerAlerts, ListAlertManagerSilences); the AWS/SNS
CloudWatch metrics NumberOfMessagesPublished and NumberOfNotificationsDelivered by TopicName (SNS
developer guide, "Monitoring Amazon SNS topics using CloudWatch"); Grafana's
POST /api/alertmanager/grafana/config/api/v1/receivers/test (TestReceiversConfigBodyParams {alert: {labels,
annotations}, receivers: [PostableApiReceiver]}; answers 200 when every integration succeeded, 207 when
some failed, each grafana_managed_receiver_configs[] with status and error; grafana/grafana
pkg/services/ngalert/api/tooling/definitions/alertmanager.go).
"""

from __future__ import annotations

import calendar
import getpass
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from infra.alerting.alertmanager import alertmanager_config
from infra.alerting.maintenance import TimeInterval, utc_intervals
from infra.components.grafana_alerting import oncall_contact_point, team_contact_point
from infra.config import StackInput
from infra.config.maintenance import WEEKDAYS
from oncall.alertmanager_api import AlertmanagerApi, parse_matchers
from verify.http_api import JsonApi

TEST_ALERT_NAME = "ScreenerTestAlert"
SEVERITIES = ("warning", "critical")
# CloudWatch publishes SNS metrics at one-minute resolution, a few minutes late.
METRIC_PERIOD_SECONDS = 60
CLOUDWATCH_LAG = timedelta(minutes=10)


class DrillStoppedError(RuntimeError):
    """The run stopped on purpose (prod without CONFIRM, a silence, a maintenance window); the message says why."""


class Deliveries(Protocol):
    """How many messages a topic (by audience) has published and delivered since a time."""

    def count(self, audience: str, since: datetime) -> tuple[int, int]: ...


@dataclass(frozen=True)
class CloudWatchDeliveries:
    """SNS's own CloudWatch metrics of each topic: what AMP published and what SNS delivered to subscribers."""

    cloudwatch: Any
    topic_arns: Mapping[str, str]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def _sum(self, metric: str, topic_name: str, since: datetime) -> int:
        start = since.replace(second=0, microsecond=0)
        answer = self.cloudwatch.get_metric_statistics(
            Namespace="AWS/SNS",
            MetricName=metric,
            Dimensions=[{"Name": "TopicName", "Value": topic_name}],
            StartTime=start,
            EndTime=self.clock() + timedelta(minutes=1),
            Period=METRIC_PERIOD_SECONDS,
            Statistics=["Sum"],
        )
        return int(sum(point["Sum"] for point in answer["Datapoints"]))

    def count(self, audience: str, since: datetime) -> tuple[int, int]:
        name = self.topic_arns[audience].rsplit(":", 1)[-1]
        return (
            self._sum("NumberOfMessagesPublished", name, since),
            self._sum("NumberOfNotificationsDelivered", name, since),
        )


@dataclass(frozen=True)
class Route:
    """Where Alertmanager's routing tree sends a set of labels."""

    receiver: str
    audiences: tuple[str, ...]  # SNS topics (by audience) of the receiver
    muted_by: tuple[str, ...]  # the route's mute_time_intervals
    send_resolved: bool


def _matches(matchers: list[dict[str, Any]], labels: Mapping[str, str]) -> bool:
    """Alertmanager's matcher semantics: a missing label is the empty string; regexes are anchored."""
    for matcher in matchers:
        value = labels.get(matcher["name"], "")
        hit = re.fullmatch(matcher["value"], value) is not None if matcher["isRegex"] else value == matcher["value"]
        if hit != matcher["isEqual"]:
            return False
    return True


def _route_matchers(route: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for text in route.get("matchers", []) for m in parse_matchers(text)]


def route_of(config: Mapping[str, Any], labels: Mapping[str, str], topic_arns: Mapping[str, str]) -> Route:
    """The route `labels` end at: the first matching child at each level, depth first (our tree has no `continue`).

    A child inherits its parent's receiver; mute_time_intervals are the matched route's own.
    """
    node: Mapping[str, Any] = config["route"]
    receiver_name: str = node["receiver"]
    muted_by: list[str] = list(node.get("mute_time_intervals", []))
    while True:
        child = next((c for c in node.get("routes", []) if _matches(_route_matchers(c), labels)), None)
        if child is None:
            break
        node = child
        receiver_name = child.get("receiver", receiver_name)
        muted_by = list(child.get("mute_time_intervals", []))
    receiver = next(r for r in config["receivers"] if r["name"] == receiver_name)
    audience_of = {arn: audience for audience, arn in topic_arns.items()}
    sns = receiver.get("sns_configs", [])
    return Route(
        receiver=receiver_name,
        audiences=tuple(audience_of[c["topic_arn"]] for c in sns),
        muted_by=tuple(muted_by),
        send_resolved=all(c.get("send_resolved", True) for c in sns),
    )


def _in_interval(interval: TimeInterval, now: datetime) -> bool:
    minute = now.hour * 60 + now.minute
    return (
        interval.start_minute <= minute < interval.end_minute
        and (not interval.weekdays or WEEKDAYS[now.weekday()] in interval.weekdays)
        and (not interval.days_of_month or str(now.day) in interval.days_of_month)
        and (not interval.months or calendar.month_name[now.month].lower() in interval.months)
        and (not interval.years or str(now.year) in interval.years)
    )


def maintenance_active(settings: StackInput, now: datetime) -> bool:
    """Whether `now` falls in a maintenance window, as AMP's Alertmanager reads them (UTC intervals)."""
    spec = settings.maintenance
    return spec is not None and any(_in_interval(i, now.astimezone(UTC)) for i in utc_intervals(spec))


def drill_runbook_url(settings: StackInput) -> str:
    """Like every alert's: the runbook page's heading of the alert (docs/runbooks.md#screenertestalert)."""
    return f"{settings.rules.runbook_base_url}#{TEST_ALERT_NAME.lower()}"


def drill_labels(settings: StackInput, severity: str, service: str = "") -> dict[str, str]:
    names = [s.name for s in settings.services]
    chosen = service or names[0]
    if chosen not in names:
        raise DrillStoppedError(f"SERVICE={chosen} is not in the service catalog: one of {', '.join(names)}")
    return {
        "alertname": TEST_ALERT_NAME,
        "test": "true",
        "env": settings.environment,
        "service": chosen,
        "severity": severity,
    }


def blockers(
    config: Mapping[str, Any],
    labels: Mapping[str, str],
    route: Route,
    settings: StackInput,
    silences: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """What would keep the test alert from anyone: a maintenance window, a silence, an inhibiting alert."""
    found = []
    if route.muted_by and maintenance_active(settings, now):
        found.append(f"a maintenance window (monitoring:maintenance) is active now: route '{route.receiver}' is muted")
    for silence in silences:
        if silence.get("status", {}).get("state") == "active" and _matches(silence["matchers"], labels):
            found.append(
                f"silence {silence['id']} by {silence.get('createdBy', '?')} until {silence.get('endsAt', '?')} "
                f"matches it ({silence.get('comment', '')})"
            )
    for alert in alerts:
        if alert.get("status", {}).get("state") != "active" or alert["labels"].get("alertname") == TEST_ALERT_NAME:
            continue
        for rule in config.get("inhibit_rules", []):
            source = [m for t in rule.get("source_matchers", []) for m in parse_matchers(t)]
            target = [m for t in rule.get("target_matchers", []) for m in parse_matchers(t)]
            same = all(alert["labels"].get(name, "") == labels.get(name, "") for name in rule.get("equal", []))
            if _matches(source, alert["labels"]) and _matches(target, labels) and same:
                found.append(
                    f"firing {alert['labels'].get('alertname')} ({alert['labels'].get('service', '-')}) inhibits it"
                )
                break
    return found


def recipients(settings: StackInput, route: Route, outputs: Mapping[str, Any]) -> list[str]:
    """Who should have received the alert, by path."""
    spec = settings.notifications
    lines = []
    if "critical" in route.audiences:
        lines.append(f"email (SNS critical): {', '.join([*spec.emails, *spec.paging_emails])}")
    if "warning" in route.audiences:
        lines.append(f"email (SNS warning): {', '.join(spec.emails)}")
    if "chat" in route.audiences and spec.slack is not None:
        lines.append(f"Slack (AWS Chatbot): channel {spec.slack.channel_id} of workspace {spec.slack.team_id}")
    if "critical" in route.audiences and settings.paging is not None:
        lines.append(f"PagerDuty: service {outputs.get('paging_service_url') or settings.paging.service_name}")
    return lines


@dataclass(frozen=True)
class Timing:
    """Bounds of each wait, from the stack's notification timings (seconds)."""

    held_timeout: float
    delivered_timeout: float
    resolved_timeout: float
    poll: float

    @classmethod
    def of(cls, settings: StackInput) -> Timing:
        spec = settings.notifications
        lag = CLOUDWATCH_LAG.total_seconds()
        return cls(
            held_timeout=60,
            delivered_timeout=spec.group_wait_seconds + lag,
            # The resolved message leaves at the group's next flush, one group_interval later at most.
            resolved_timeout=spec.group_interval_minutes * 60 + lag,
            poll=15,
        )


def wait_until(what: str, check: Callable[[], Any], timeout: float, poll: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def grafana_contact_point_test(
    grafana: JsonApi, settings: StackInput, severity: str, labels: Mapping[str, str], annotations: Mapping[str, str]
) -> list[str]:
    """Grafana's own test of the contact point for this severity; one line per integration (raises on failure)."""
    name = (
        oncall_contact_point(settings.name_prefix)
        if severity == "critical"
        else team_contact_point(settings.name_prefix)
    )
    config = grafana.get("api/alertmanager/grafana/config/api/v1/alerts")
    if not config.ok:
        raise RuntimeError(f"cannot read Grafana's alerting configuration: {config.message()}")
    receivers = config.document["alertmanager_config"].get("receivers", [])
    receiver = next((r for r in receivers if r["name"] == name), None)
    if receiver is None:
        raise RuntimeError(f"Grafana has no contact point {name}: `make up` declares it")
    # The stored receiver as Grafana returned it: its integrations' UIDs let Grafana use their stored secrets.
    answer = grafana.post(
        "api/alertmanager/grafana/config/api/v1/receivers/test",
        {"alert": {"labels": dict(labels), "annotations": dict(annotations)}, "receivers": [receiver]},
    )
    if answer.status not in (200, 207) or not isinstance(answer.document, dict):
        raise RuntimeError(f"Grafana's contact-point test of {name} failed: {answer.message()}")
    lines, failures = [], []
    for tested in answer.document.get("receivers", []):
        for integration in tested.get("grafana_managed_receiver_configs", []):
            line = f"{tested['name']}/{integration.get('name', '?')}: {integration.get('status')}"
            if integration.get("error"):
                line += f" ({integration['error']})"
                failures.append(line)
            lines.append(line)
    if failures or answer.status == 207:
        raise RuntimeError(f"Grafana's contact-point test of {name}: {'; '.join(failures) or 'HTTP 207'}")
    return lines


@dataclass
class AlertDrill:
    """One run of the test alert against one stack."""

    settings: StackInput
    topic_arns: Mapping[str, str]
    outputs: Mapping[str, Any]
    alertmanager: AlertmanagerApi
    deliveries: Deliveries
    grafana: JsonApi | None
    timing: Timing
    say: Callable[[str], None] = print
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def _held(self, labels: Mapping[str, str]) -> dict[str, Any] | None:
        return next((a for a in self.alertmanager.alerts() if a["labels"] == dict(labels)), None)

    def _wait_delivered(
        self, route: Route, since: datetime, baseline: dict[str, tuple[int, int]], what: str, timeout: float
    ) -> None:
        def risen() -> bool:
            counts = {a: self.deliveries.count(a, since) for a in route.audiences}
            return all(counts[a][0] > baseline[a][0] and counts[a][1] > baseline[a][1] for a in route.audiences)

        wait_until(
            f"{what} on {', '.join(route.audiences)} (published and delivered)", risen, timeout, self.timing.poll
        )
        self.say(f"{what}: published and delivered on SNS {', '.join(route.audiences)}")

    def run(self, severity: str, duration: timedelta, service: str = "") -> None:
        labels = drill_labels(self.settings, severity, service)
        config = alertmanager_config(self.settings, self.topic_arns)
        route = route_of(config, labels, self.topic_arns)
        self.say(f"test alert {labels}: route '{route.receiver}' -> SNS {', '.join(route.audiences) or 'nothing'}")
        now = self.clock()
        stopping = blockers(
            config, labels, route, self.settings, self.alertmanager.silences(), self.alertmanager.alerts(), now
        )
        if stopping:
            raise DrillStoppedError("not sent, it would reach nobody: " + "; ".join(stopping))
        if not route.audiences:
            raise DrillStoppedError(f"route '{route.receiver}' delivers to no topic: nothing to test")
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        annotations = {
            "summary": f"TEST alert from make test-alert ({who}): no action needed",
            "description": f"A test of the {severity} path of {self.settings.environment}, "
            f"sent {now:%Y-%m-%d %H:%M} UTC; it resolves by itself.",
            "runbook_url": drill_runbook_url(self.settings),
        }
        baseline = {a: self.deliveries.count(a, now) for a in route.audiences}
        starts, ends = now, now + duration
        self.alertmanager.post_alerts(
            [{"labels": labels, "annotations": annotations, "startsAt": starts.isoformat(), "endsAt": ends.isoformat()}]
        )
        self.say(f"posted to Alertmanager, ends at {ends:%H:%M:%S} UTC unless resolved first")
        grafana_failure = ""
        try:
            held = wait_until(
                "Alertmanager to hold the alert",
                lambda: self._held(labels),
                self.timing.held_timeout,
                min(self.timing.poll, 1.0),
            )
            state = held["status"]
            if state["state"] == "suppressed":
                raise DrillStoppedError(
                    f"Alertmanager suppressed it (silenced by {state.get('silencedBy') or '-'}, inhibited by "
                    f"{state.get('inhibitedBy') or '-'}): it reaches nobody"
                )
            self.say(f"Alertmanager holds it: {state['state']}")
            self._wait_delivered(route, now, baseline, "firing notification", self.timing.delivered_timeout)
            if self.grafana is not None:
                try:
                    for line in grafana_contact_point_test(self.grafana, self.settings, severity, labels, annotations):
                        self.say(f"Grafana contact point {line}")
                except RuntimeError as error:
                    # Reported at the end: the AMP path's resolved notification is still worth waiting for.
                    grafana_failure = str(error)
                    self.say(f"Grafana contact point FAILED: {error}")
            else:
                self.say("Grafana contact point: not tested (no GRAFANA_AUTH)")
            for line in recipients(self.settings, route, self.outputs):
                self.say(f"should have received it: {line}")
        finally:
            resolved_at = self.clock()
            before = {a: self.deliveries.count(a, resolved_at) for a in route.audiences}
            self.alertmanager.post_alerts(
                [
                    {
                        "labels": labels,
                        "annotations": annotations,
                        "startsAt": starts.isoformat(),
                        "endsAt": resolved_at.isoformat(),
                    }
                ]
            )
            self.say("resolved (endsAt now)")
        if route.send_resolved:
            self._wait_delivered(route, resolved_at, before, "resolved notification", self.timing.resolved_timeout)
        if grafana_failure:
            raise RuntimeError(grafana_failure)
