"""The stack policy alarms-can-publish-to-their-topics on planted breaks, as the engine hands it a plan.

An alarm whose topic policy or key refuses CloudWatch fires into nothing; the pack refuses that in
`pulumi preview` and `make plan`, not only in the tests.
"""

from __future__ import annotations

import copy
import json

from screener_policies.stack import alarms_can_publish_to_their_topics

from infra.components.amp_log_alarms import DROPS
from infra.config.stackfile import stack_settings
from planner.engine import Plan, PlannedResource
from planner.policy_check import stack_args
from tests.conftest import plan_of
from tests.policies.support import messages

# Every committed stack passes this policy: tests/policies/test_policy_run.py runs the whole pack on each.


def violations(plan: Plan) -> list[str]:
    return messages(alarms_can_publish_to_their_topics, stack_args(plan))


def without_statement(resource: PlannedResource, sid: str) -> None:
    """Drop statement `sid` from the resource's policy, where the engine hands it to policies and the plan shows it."""
    document = json.loads(resource.inputs["policy"])
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
    resource.inputs["policy"] = resource.raw_inputs["policy"] = json.dumps(document)


def test_a_warning_topic_that_refuses_cloudwatch_is_reported_for_every_alarm_on_it() -> None:
    planted = copy.deepcopy(plan_of("prod"))
    without_statement(
        planted.one("aws:sns/topicPolicy:TopicPolicy", "notifications-warning-policy"), "AlarmsOfThisStackPublish"
    )
    found = violations(planted)
    # The two quota alarms and the error-burst alarm of each log source notify the warning topic.
    assert len(found) == 2 + len(stack_settings("prod").logs.sources)
    assert all("whose topic policy does not let cloudwatch.amazonaws.com sns:Publish" in m for m in found)
    assert any("screener-prod-amp-active-series-quota" in m for m in found)
    assert any("screener-prod-logs-api-error-burst" in m for m in found)


def test_a_key_without_cloudwatch_is_reported_for_every_alarm_on_its_topics() -> None:
    planted = copy.deepcopy(plan_of("dev"))
    without_statement(planted.one("aws:kms/key:Key", "notifications-pipeline-key"), "AlarmsOfThisStackEncrypt")
    found = violations(planted)
    # The three pipeline alarms of dev, Grafana's heartbeat alarm (no chat there) and the alarms on AMP's
    # vended-log drops (infra/components/amp_log_alarms.py) notify the pipeline topic.
    assert len(found) == 4 + len(DROPS) and all("does not let cloudwatch.amazonaws.com encrypt" in m for m in found)
