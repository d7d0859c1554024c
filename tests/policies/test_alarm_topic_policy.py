"""The stack policy alarms-can-publish-to-their-topics, on the committed plans and on a planted break.

Issue 14, item 2: the quota alarms notified the warning topic, whose policy let only the account and AMP
publish. The policy pack now refuses that in `pulumi preview` and `make plan`, not only in the tests.
"""

from __future__ import annotations

import copy
import json

from pulumi_policy import PolicyResource, StackValidationArgs
from screener_policies.stack import alarms_can_publish_to_their_topics

from infra.config.stackfile import stack_settings
from planner.engine import Plan
from tests.conftest import plan_of
from tests.policies.support import options


def stack_args(plan: Plan) -> StackValidationArgs:
    resources = [
        PolicyResource(r.type, {**r.inputs, **r.outputs}, r.urn, r.name, options(), None, None, [], {})
        for r in plan.resources
        if r.custom
    ]
    return StackValidationArgs(resources, {})


def violations(plan: Plan) -> list[str]:
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    alarms_can_publish_to_their_topics(stack_args(plan), report)
    return found


def test_every_committed_alarm_can_publish_to_its_topics(stack_plan: Plan) -> None:
    assert violations(stack_plan) == []


def test_a_warning_topic_that_refuses_cloudwatch_is_reported_for_every_alarm_on_it() -> None:
    planted = copy.deepcopy(plan_of("prod"))
    policy = planted.one("aws:sns/topicPolicy:TopicPolicy", "notifications-warning-policy")
    document = json.loads(policy.inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "AlarmsOfThisStackPublish"]
    policy.inputs["policy"] = json.dumps(document)
    found = violations(planted)
    # The two quota alarms and the error-burst alarm of each log source notify the warning topic.
    assert len(found) == 2 + len(stack_settings("prod").logs.sources)
    assert all("whose topic policy does not let cloudwatch.amazonaws.com sns:Publish" in m for m in found)
    assert any("screener-prod-amp-active-series-quota" in m for m in found)
    assert any("screener-prod-logs-api-error-burst" in m for m in found)


def test_a_key_without_cloudwatch_is_reported_for_every_alarm_on_its_topics() -> None:
    planted = copy.deepcopy(plan_of("dev"))
    key = planted.one("aws:kms/key:Key", "notifications-pipeline-key")
    document = json.loads(key.inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "AlarmsOfThisStackEncrypt"]
    key.inputs["policy"] = json.dumps(document)
    found = violations(planted)
    # The three pipeline alarms of dev and Grafana's heartbeat alarm (no chat there) notify the pipeline topic.
    assert len(found) == 4 and all("does not let cloudwatch.amazonaws.com encrypt" in m for m in found)
