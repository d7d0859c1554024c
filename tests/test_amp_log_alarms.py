"""AMP's own drops are alarmed: metric filters on the workspace's vended log group, alarms to the pipeline topic.

The sample events are AWS's own, from the AMP user guide's troubleshooting pages
(https://docs.aws.amazon.com/prometheus/latest/userguide/Troubleshooting-alerting.html,
Troubleshooting-alerting-no-policy.html, Troubleshooting-rule-fail-error.html); the patterns are
evaluated on them with the CloudWatch JSON filter-pattern semantics the component uses (`=` on a
string selector, a trailing `*` wildcard, `&&`:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from infra.components.amp_log_alarms import DROPS
from infra.config.stackfile import stack_settings
from planner.engine import Plan
from tests.conftest import STACKS, plan_of

FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
TOPIC = "aws:sns/topic:Topic"
WORKSPACE_ID = "ws-efdc5b42-b051-11ec-b123-4567ac120002"

# What AMP writes, as AWS documents it, and which drop each one is.
DOCUMENTED = {
    "AmpAlertmanagerTooManyAlerts": {
        "workspaceId": WORKSPACE_ID,
        "message": {"log": "too many alerts, limit: 1000", "level": "WARN"},
        "component": "alertmanager",
    },
    "AmpAlertmanagerAggregationGroups": {
        "workspaceId": WORKSPACE_ID,
        "message": {
            "log": "Too many aggregation groups, cannot create new group for alert, groups=1000, limit=1000, "
            "alert=sample-alert",
            "level": "WARN",
        },
        "component": "alertmanager",
    },
    "AmpAlertmanagerAlertsTooBig": {
        "workspaceId": WORKSPACE_ID,
        "message": {"log": "alerts too big, total size limit: 20000000 bytes", "level": "WARN"},
        "component": "alertmanager",
    },
    "AmpAlertmanagerNotifyFailed": {
        "workspaceId": WORKSPACE_ID,
        "message": {
            "log": "Notify for alerts failed, AMP is not authorized to perform: SNS:Publish on resource: "
            "arn:aws:sns:us-west-2:12345:testSnsReceiver because no resource-based policy allows the SNS:Publish "
            "action",
            "level": "ERROR",
        },
        "component": "alertmanager",
    },
    "AmpRuleEvaluationFailed": {
        "workspaceId": WORKSPACE_ID,
        "message": {
            "log": "Evaluating rule failed, name=failure, group=canary_long_running_vl_namespace, "
            "namespace=canary_long_running_vl_namespace, err=found duplicate series for the match group",
            "level": "ERROR",
            "name": "failure",
            "group": "canary_long_running_vl_namespace",
            "namespace": "canary_long_running_vl_namespace",
        },
        "component": "ruler",
    },
}
_CONDITION = re.compile(r'\$\.([\w.]+) = "([^"]*)"')


def matches(pattern: str, event: dict[str, Any]) -> bool:
    """A CloudWatch JSON filter pattern of `&&`-joined `$.a.b = "text"` conditions (`*` at the end: a prefix)."""
    body = pattern.strip()
    assert body.startswith("{") and body.endswith("}"), pattern
    conditions = [part.strip() for part in body[1:-1].split("&&")]
    for condition in conditions:
        found = _CONDITION.fullmatch(condition)
        assert found, f"not a condition this test reads: {condition!r}"
        value: Any = event
        for key in found.group(1).split("."):
            value = value.get(key) if isinstance(value, dict) else None
        expected = found.group(2)
        if not isinstance(value, str):
            return False
        if expected.endswith("*") and not value.startswith(expected[:-1]):
            return False
        if not expected.endswith("*") and value != expected:
            return False
    return True


def test_each_documented_message_matches_its_own_filter_and_no_other() -> None:
    assert {drop.alarm for drop in DROPS} == set(DOCUMENTED)
    for drop in DROPS:
        for alarm, event in DOCUMENTED.items():
            assert matches(drop.pattern, event) is (alarm == drop.alarm), (drop.alarm, alarm)


def test_a_message_from_the_other_component_or_with_other_text_does_not_match() -> None:
    too_many = next(drop for drop in DROPS if drop.alarm == "AmpAlertmanagerTooManyAlerts")
    event = DOCUMENTED["AmpAlertmanagerTooManyAlerts"]
    assert not matches(too_many.pattern, {**event, "component": "ruler"})
    assert not matches(too_many.pattern, {**event, "message": {"log": "Too Many Alerts", "level": "WARN"}})


def test_patterns_fit_cloudwatchs_limit() -> None:
    # PutMetricFilter: filterPattern at most 1024 characters.
    assert all(len(drop.pattern) <= 1024 for drop in DROPS)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_filters_the_workspaces_own_vended_log_group(stack: str) -> None:
    plan = plan_of(stack)
    log_group = plan.one(LOG_GROUP, "amp-logs")
    workspace = plan.one("aws:amp/workspace:Workspace")
    # The group the workspace's logging configuration writes to.
    assert workspace.inputs["loggingConfiguration"]["logGroupArn"] == f"{log_group.outputs['arn']}:*"
    filters = [f for f in plan.of_type(FILTER) if f.name.startswith("amp-log-alarms-")]
    assert sorted(f.inputs["pattern"] for f in filters) == sorted(drop.pattern for drop in DROPS)
    for metric_filter in filters:
        assert metric_filter.inputs["logGroupName"] == log_group.inputs["name"]


def _pipeline_topic_arn(plan: Plan) -> str:
    return str(plan.one(TOPIC, "notifications-pipeline").outputs["arn"])


def test_prod_alarms_each_drop_to_the_pipeline_topic_on_the_metric_its_filter_writes() -> None:
    plan = plan_of("prod")
    filters = {f.inputs["name"]: f for f in plan.of_type(FILTER) if f.name.startswith("amp-log-alarms-")}
    alarms = {a.inputs["name"]: a for a in plan.of_type(ALARM) if a.name.startswith("amp-log-alarms-")}
    assert set(alarms) == set(filters) == {f"screener-prod-amp-{drop.suffix}" for drop in DROPS}
    pipeline = _pipeline_topic_arn(plan)
    runbooks = stack_settings("prod").rules.runbook_base_url
    drop_of = {f"screener-prod-amp-{drop.suffix}": drop for drop in DROPS}
    for name, alarm in alarms.items():
        transformation = filters[name].inputs["metricTransformation"]
        # An alarm on another metric than its filter writes would never fire.
        assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == (
            transformation["namespace"],
            transformation["name"],
        )
        assert transformation["value"] == "1"
        assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold" and alarm.inputs["threshold"] == 0
        assert alarm.inputs["statistic"] == "Sum" and alarm.inputs["treatMissingData"] == "notBreaching"
        assert alarm.inputs["alarmActions"] == [pipeline] == alarm.inputs["okActions"]
        assert alarm.inputs["alarmDescription"].endswith(
            f"\nseverity=critical service=monitoring env=prod runbook={runbooks}#{drop_of[name].alarm.lower()}"
        )
