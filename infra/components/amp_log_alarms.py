"""CloudWatch alarms on what AMP writes to the workspace's vended log group when it drops alerts or fails rules.

AMP's alert manager and ruler report their own failures only there (the
workspace's logging configuration, infra/components/amp.py): nothing inside
the workspace, and no metric for an alert dropped over a quota. Each drop gets
a metric filter on that log group and an alarm to the pipeline topic, which
reaches people without going through the alert manager that is dropping.

The messages, as AWS documents them (JSON events: `component`, `message.log`, `message.level`):
- "too many alerts, limit: 1000" (alertmanager, WARN): the active-alerts quota is full, new alerts are dropped;
- "Too many aggregation groups, cannot create new group for alert, groups=1000, limit=1000, alert=..."
  (alertmanager, WARN): the aggregation-group quota is full;
- "alerts too big, total size limit: 20000000 bytes" (alertmanager, WARN): the active-alert payload quota;
  all three: https://docs.aws.amazon.com/prometheus/latest/userguide/Troubleshooting-alerting.html
- "Notify for alerts failed, ..." (alertmanager, ERROR): a notification was not delivered to SNS,
  https://docs.aws.amazon.com/prometheus/latest/userguide/Troubleshooting-alerting-no-policy.html
- "Evaluating rule failed, name=..., group=..., namespace=..., err=..." (ruler, ERROR): a rule was not evaluated,
  https://docs.aws.amazon.com/prometheus/latest/userguide/Troubleshooting-rule-fail-error.html
The patterns are CloudWatch JSON filter patterns with a trailing wildcard on the documented text
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.alerting.conventions import runbook_link


@dataclass(frozen=True)
class AmpLogDrop:
    """One thing AMP logs when it drops alerts or fails a rule: how to find it, what it means, its runbook anchor."""

    alarm: str  # CamelCase, the runbook heading and the metric name
    suffix: str  # logical-name and alarm-name suffix
    component: str  # `component` of AMP's log event
    message_prefix: str  # the start of `message.log`, as AWS documents it
    meaning: str

    @property
    def pattern(self) -> str:
        return f'{{ $.component = "{self.component}" && $.message.log = "{self.message_prefix}*" }}'


DROPS: tuple[AmpLogDrop, ...] = (
    AmpLogDrop(
        "AmpAlertmanagerTooManyAlerts",
        "too-many-alerts",
        "alertmanager",
        "too many alerts",
        "AMP's alert manager holds its quota of active alerts and drops new ones",
    ),
    AmpLogDrop(
        "AmpAlertmanagerAggregationGroups",
        "aggregation-groups",
        "alertmanager",
        "Too many aggregation groups",
        "AMP's alert manager holds its quota of aggregation groups and cannot group (notify) new alerts",
    ),
    AmpLogDrop(
        "AmpAlertmanagerAlertsTooBig",
        "alerts-too-big",
        "alertmanager",
        "alerts too big",
        "the active alerts' labels and annotations passed AMP's 20 MB payload quota; new alerts are dropped",
    ),
    AmpLogDrop(
        "AmpAlertmanagerNotifyFailed",
        "notify-failed",
        "alertmanager",
        "Notify for alerts failed",
        "AMP's alert manager could not deliver notifications to SNS",
    ),
    AmpLogDrop(
        "AmpRuleEvaluationFailed",
        "rule-evaluation-failed",
        "ruler",
        "Evaluating rule failed",
        "AMP could not evaluate a rule: its alerts cannot fire and its recordings have gaps",
    ),
)
# AMP logs a drop each time it happens; five minutes gathers a burst into one datapoint.
PERIOD_SECONDS = 300


@dataclass
class AmpLogAlarmsArgs:
    name_prefix: str
    environment: str
    log_group_name: pulumi.Input[str]  # the workspace's vended log group (its logging configuration's)
    alarm_topic_arns: Sequence[pulumi.Input[str]]
    runbook_base_url: str
    tags: Mapping[str, str]


def alarm_description(drop: AmpLogDrop, environment: str, runbook_url: str) -> str:
    """What a person reads in the notification, ending with the labels every alert carries."""
    return (
        f"{drop.meaning}. AMP logged '{drop.message_prefix} ...' ({drop.component}) to the workspace's vended log "
        "group /aws/vendedlogs/prometheus/<workspace alias>; read the events there for the details.\n"
        f"severity=critical service=monitoring env={environment} runbook={runbook_url}"
    )


class AmpLogAlarms(pulumi.ComponentResource):
    """A metric filter and an alarm per AMP drop, on the workspace's vended log group."""

    alarm_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: AmpLogAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:AmpLogAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = f"{args.name_prefix}/amp"
        topics = list(args.alarm_topic_arns)
        self.alarm_names = []
        for drop in DROPS:
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{drop.suffix}",
                name=f"{args.name_prefix}-amp-{drop.suffix}",
                log_group_name=args.log_group_name,
                pattern=drop.pattern,
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=drop.alarm, namespace=namespace, value="1", unit="Count"
                ),
                opts=child,
            )
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-{drop.suffix}-alarm",
                name=f"{args.name_prefix}-amp-{drop.suffix}",
                alarm_description=alarm_description(
                    drop, args.environment, runbook_link(args.runbook_base_url, drop.alarm)
                ),
                namespace=namespace,
                metric_name=drop.alarm,
                statistic="Sum",
                period=PERIOD_SECONDS,
                evaluation_periods=1,
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                # A filter publishes only when a line matches: no datapoint means nothing was dropped.
                treat_missing_data="notBreaching",
                alarm_actions=topics,
                ok_actions=topics,
                tags=dict(args.tags),
                opts=child,
            )
            self.alarm_names.append(alarm.name)
        self.register_outputs({"alarm_names": self.alarm_names})
