"""CloudWatch alarms on AMP's own usage against its quotas, and the cost estimate they guard.

AMP throttles a workspace that exceeds its active-series or ingestion-rate
quota: samples are dropped and every dashboard and alert goes blind at once,
with nothing inside the workspace able to say so. AMP vends its usage to
CloudWatch (`AWS/Usage`, metric `ResourceCount`), where `SERVICE_QUOTA()`
gives the applied quota, so the alarms follow a quota increase without a
code change. They warn (the warning topic) before the limit is reached.

The component also carries the stack's cost estimate (model, bill, budget) as
its input and output, where the policy amp-cost-within-budget reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# (Resource dimension of AMP's usage metric, what it counts, logical-name suffix)
USAGE_QUOTAS: tuple[tuple[str, str, str], ...] = (
    ("ActiveSeries", "active series", "active-series"),
    ("IngestionRate", "ingestion rate (samples per second)", "ingestion-rate"),
)
# Usage metrics are published every minute; five minutes smooths a scrape burst.
USAGE_PERIOD_SECONDS = 300
# Three periods in a row: a sustained approach to the quota, not one spike.
EVALUATION_PERIODS = 3


@dataclass
class AmpUsageAlarmsArgs:
    name_prefix: str
    workspace_id: pulumi.Input[str]
    alarm_topic_arns: Sequence[pulumi.Input[str]]
    threshold_percent: float
    tags: Mapping[str, str]


class AmpUsageAlarms(pulumi.ComponentResource):
    """Quota alarms on AMP's active series and ingestion rate."""

    alarm_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: AmpUsageAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:AmpUsageAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topics = list(args.alarm_topic_arns)
        self.alarm_names = []
        for resource, what, suffix in USAGE_QUOTAS:
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                name=f"{args.name_prefix}-amp-{suffix}-quota",
                alarm_description=f"AMP {what} of this workspace is above {args.threshold_percent:g}% of its service "
                "quota; past 100% AMP throttles ingestion and dashboards and alerts go blind. Find the source with "
                "`make cost STACK=<stack>` and the workspace's label-set limits, or request a quota increase.",
                metric_queries=[
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="usage",
                        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                            namespace="AWS/Usage",
                            metric_name="ResourceCount",
                            dimensions={
                                "Service": "Prometheus",
                                "Type": "Resource",
                                "Resource": resource,
                                "Class": "None",
                                "ResourceId": args.workspace_id,
                            },
                            period=USAGE_PERIOD_SECONDS,
                            stat="Maximum",
                        ),
                        return_data=False,
                    ),
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="utilization",
                        expression="100 * usage / SERVICE_QUOTA(usage)",
                        label=f"{what} (% of quota)",
                        return_data=True,
                    ),
                ],
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=args.threshold_percent,
                evaluation_periods=EVALUATION_PERIODS,
                # No usage datapoint means no ingestion at all, which the Grafana no-data alert covers.
                treat_missing_data="notBreaching",
                alarm_actions=topics,
                ok_actions=topics,
                tags=dict(args.tags),
                opts=child,
            )
            self.alarm_names.append(alarm.name)
        self.register_outputs({"alarm_names": self.alarm_names})
