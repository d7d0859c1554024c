"""Every edge an alert travels is allowed by the policies at both ends; the graph comes from the plan.

Contract sources and the evaluator: tests/contracts/delivery.py. The planted
tests break one edge each in a copy of a committed plan and show the check
name it; the committed plans must have no broken edge.
"""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from infra.config.stackfile import stack_settings
from planner.engine import Plan
from tests.conftest import plan_of
from tests.contracts.delivery import AMP, CLOUDWATCH, allows, delivery_graph

TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
KEY = "aws:kms/key:Key"


def test_no_edge_of_the_committed_plans_is_broken(stack_plan: Plan) -> None:
    assert delivery_graph(stack_plan).broken == []


def test_the_graph_holds_every_kind_of_edge_the_plan_has(stack_plan: Plan) -> None:
    kinds = Counter(edge.kind for edge in delivery_graph(stack_plan).edges)
    topics = len(stack_plan.of_type("aws:sns/topic:Topic"))
    assert kinds["topic->key"] == topics
    # AMP publishes to critical, warning, watchdog (and chat); every alarm to at least one topic.
    assert kinds["amp->topic"] == topics - 1
    assert kinds["alarm->topic"] >= len(stack_plan.of_type(ALARM))
    assert kinds["topic->subscriber"] >= topics - (1 if stack_plan.stack != "dev" else 0)


def _copy_with(plan: Plan, type_token: str, name: str) -> tuple[Plan, dict[str, object]]:
    planted = copy.deepcopy(plan)
    return planted, planted.one(type_token, name).inputs


def test_a_topic_policy_without_cloudwatch_breaks_the_quota_alarms_edge() -> None:
    """Issue 14, item 2 as it was: the quota alarms published to a topic that refused CloudWatch."""
    planted, inputs = _copy_with(plan_of("prod"), TOPIC_POLICY, "notifications-warning-policy")
    document = json.loads(str(inputs["policy"]))
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "AlarmsOfThisStackPublish"]
    inputs["policy"] = json.dumps(document)
    broken = {(b.edge.kind, b.edge.source) for b in delivery_graph(planted).broken}
    # The error-burst alarm of each log source notifies the warning topic too.
    log_alarms = {
        ("alarm->topic", f"logs-{source.service}-error-burst") for source in stack_settings("prod").logs.sources
    }
    assert broken == {("alarm->topic", "amp-usage-active-series"), ("alarm->topic", "amp-usage-ingestion-rate")} | (
        log_alarms
    )


def test_a_key_policy_without_the_workspace_breaks_every_amp_edge() -> None:
    planted, inputs = _copy_with(plan_of("staging"), KEY, "notifications-key")
    document = json.loads(str(inputs["policy"]))
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "ThisWorkspaceEncrypts"]
    inputs["policy"] = json.dumps(document)
    broken = delivery_graph(planted).broken
    assert {b.edge.kind for b in broken} == {"amp->topic"}
    assert len(broken) == 2 * 4  # GenerateDataKey and Decrypt, for critical, warning, watchdog and chat


def test_an_alarm_on_a_topic_that_refuses_alarms_is_caught() -> None:
    planted, inputs = _copy_with(plan_of("dev"), ALARM, "notifications-watchdog-silent")
    watchdog = planted.outputs["alert_topic_arns"]["watchdog"]
    inputs["alarmActions"] = [watchdog]
    (broken,) = delivery_graph(planted).broken
    assert broken.edge.target == watchdog
    assert broken.problem.startswith("the topic policy does not let cloudwatch.amazonaws.com sns:Publish")


def test_an_alarm_outside_the_stacks_name_prefix_is_refused_by_topic_and_key() -> None:
    """The source conditions bite: another stack's (or account's) alarm cannot use this stack's path."""
    planted = copy.deepcopy(plan_of("prod"))
    alarm = planted.one(ALARM, "amp-usage-active-series")
    alarm.outputs["arn"] = alarm.outputs["arn"].replace(":alarm:screener-prod-", ":alarm:screener-staging-")
    problems = sorted(b.problem.split(" for ")[0].split(" from ")[0] for b in delivery_graph(planted).broken)
    assert problems == [
        "the topic policy does not let cloudwatch.amazonaws.com sns:Publish",
        "the topic's KMS key policy does not let cloudwatch.amazonaws.com kms:Decrypt",
        "the topic's KMS key policy does not let cloudwatch.amazonaws.com kms:GenerateDataKey",
    ]


def test_a_topic_nobody_reads_is_a_broken_edge() -> None:
    planted = copy.deepcopy(plan_of("dev"))
    pipeline = planted.outputs["alert_topic_arns"]["pipeline"]
    planted.resources = [
        r
        for r in planted.resources
        if not (r.type == "aws:sns/topicSubscription:TopicSubscription" and r.inputs["topic"] == pipeline)
    ]
    (broken,) = delivery_graph(planted).broken
    assert (broken.edge.source, broken.problem) == (pipeline, "alerts reach the topic and stop")


@pytest.mark.parametrize(
    ("condition", "allowed"),
    [
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:aps:r:111111111111:workspace/ws-1"}}, True),
        ({"ArnEquals": {"aws:SourceArn": "arn:aws:aps:r:111111111111:workspace/ws-2"}}, False),
        ({"StringEquals": {"aws:SourceAccount": "222222222222"}}, False),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:aps:r:111111111111:workspace/*"}}, True),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, False),  # a key the request does not carry
        ({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, True),
    ],
)
def test_the_evaluator_honours_source_conditions(condition: dict[str, object], allowed: bool) -> None:
    document = json.dumps(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": AMP},
                    "Action": "sns:Publish",
                    "Resource": "*",
                    "Condition": condition,
                }
            ]
        }
    )
    context = {"aws:SourceArn": "arn:aws:aps:r:111111111111:workspace/ws-1", "aws:SourceAccount": "111111111111"}
    assert allows(document, {"Service": AMP}, "sns:Publish", "arn:aws:sns:r:1:t", context) is allowed
    assert allows(document, {"Service": CLOUDWATCH}, "sns:Publish", "arn:aws:sns:r:1:t", context) is False
