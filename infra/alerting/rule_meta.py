"""Meta: the alerting pipeline watches itself.

- Watchdog always fires; Alertmanager routes it to its own receiver and a
  CloudWatch alarm on that receiver's topic fires when it goes quiet (a dead
  man's switch for the rule engine, Alertmanager and SNS together).
- MetricsNotArriving: no `up` series at all means no collector writes here
  (only where a collector is configured to write: an empty workspace is what
  a stack without collection expects).
- RecordingRulesMissing: raw API series arrive but their recording does not:
  the rule engine is failing. AMP's own rule-evaluation failures are not
  series in the workspace (`prometheus_rule_evaluation_failures_total` never
  exists there); AMP vends them to CloudWatch (`AWS/Prometheus`,
  `RuleEvaluationFailures`), where the notifications component alarms on them.
- The in-cluster collector's remote write falling behind or failing.
"""

from __future__ import annotations

from infra.alerting.rule_availability import COLLECTOR_SERVICE
from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    dur,
    expects_series,
    one_group_namespace,
    scraped_services,
    secs,
    sel,
)
from infra.alerting.slo import REQUEST_RATE_5M
from infra.config import StackInput

NAMESPACE = "meta"
WATCHDOG = "Watchdog"
_PIPELINE_SERVICE = "monitoring"


def _pipeline(expect_series: bool) -> list[Rule]:
    rules: list[Rule] = [
        Alert(
            name=WATCHDOG,
            expr="vector(1)",
            for_="0",
            severity="none",
            service=_PIPELINE_SERVICE,
            summary="Always firing: proves that rules are evaluated and alerts are delivered.",
            # Nothing varies to describe: vector(1) has no labels and no meaningful value.
            description="The dead man's switch: it fires all the time; its absence at the Watchdog receiver "
            "means the alerting pipeline is broken.",
        ),
    ]
    if not expect_series:
        return rules
    return [
        *rules,
        Alert(
            name="MetricsNotArriving",
            expr="absent(up)",  # no labels to describe: there is nothing at all
            # Staleness already takes 5 minutes to remove the last series; five more rule out a restart.
            for_="5m",
            severity="critical",
            service=COLLECTOR_SERVICE,
            summary="No scraped series reach the workspace at all.",
            description="No `up` series has arrived for 10 minutes: every collector writing to this "
            "workspace is down or cannot write.",
        ),
    ]


def _recordings_missing() -> list[Rule]:
    return [
        Alert(
            name="RecordingRulesMissing",
            # Every service whose raw series arrive but whose recording does not, in one rule.
            expr=f"group by (service) ({sel('http_requests_total', service='!')})\n"
            f"unless on (service) {REQUEST_RATE_5M}",
            for_="10m",
            severity="warning",
            service=None,
            summary="Raw series arrive but their recording rules produce nothing.",
            description=f"http_requests_total of {{{{ $labels.service }}}} arrives but {REQUEST_RATE_5M} has not "
            "been recorded for 10 minutes: rule evaluation is failing. Dashboards and SLO alerts are blind.",
        )
    ]


def _collector() -> list[Rule]:
    highest = sel("prometheus_remote_storage_highest_timestamp_in_seconds", service=COLLECTOR_SERVICE)
    sent = sel("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", service=COLLECTOR_SERVICE)
    failed = sel("prometheus_remote_storage_samples_failed_total", service=COLLECTOR_SERVICE)
    return [
        Alert(
            name="CollectorRemoteWriteBehind",
            expr=f"max_over_time({highest}[{dur('5m')}])\n- ignoring (remote_name, url) group_right\n"
            # Seconds between the newest sample and the newest sent: an age on the alerting clock.
            f"max_over_time({sent}[{dur('5m')}])\n> {secs(120)}",
            for_="15m",
            severity="warning",
            service=COLLECTOR_SERVICE,
            summary="The collector's remote write to AMP falls behind.",
            description="Collector {{ $labels.instance }} is {{ $value | humanizeDuration }} behind in writing "
            "to {{ $labels.remote_name }}; dashboards and alerts see old data.",
        ),
        Alert(
            name="CollectorRemoteWriteFailing",
            expr=f"sum by (service, instance) (rate({failed}[{dur('5m')}])) > 0",
            for_="15m",
            severity="warning",
            service=COLLECTOR_SERVICE,
            summary="The collector drops samples it cannot write to AMP.",
            description="Collector {{ $labels.instance }} fails to write {{ $value | humanize }} samples per second.",
        ),
    ]


def meta_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    rules = _pipeline(expects_series(settings))
    if scraped_services(settings, "api"):
        rules += _recordings_missing()
    if settings.collection.mode == "in-cluster":
        rules += _collector()
    return one_group_namespace(NAMESPACE, rules)
