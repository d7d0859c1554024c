"""Under mocks: Grafana-managed rules, contact points, the maintenance mute timing and the policy tree."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime import rpc

from infra.metrics import known_series_names
from infra.promql import series_names
from planner.engine import SECRET, Plan
from planner.stackfile import SecretValue, stack_settings
from tests.conftest import STACKS, plan_of

RULE_GROUP = "grafana:alerting/ruleGroup:RuleGroup"
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
POLICY = "grafana:alerting/notificationPolicy:NotificationPolicy"
MUTE_TIMING = "grafana:alerting/muteTiming:MuteTiming"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
ACCESS_KEY = "aws:iam/accessKey:AccessKey"
SLACK_KEY = "monitoring:slackWebhookUrl"
SLACK_URL = "https://hooks.slack.com/services/T000/B000/not-a-real-secret"


def grafana_rules(plan: Plan) -> Iterator[dict[str, Any]]:
    for group in plan.of_type(RULE_GROUP):
        yield from group.inputs["rules"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_grafana_rule_carries_the_amp_label_and_annotation_conventions(stack: str) -> None:
    settings = stack_settings(stack)
    rules = list(grafana_rules(plan_of(stack)))
    assert rules
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["name"]
        assert rule["labels"]["service"], rule["name"]
        assert rule["labels"]["env"] == stack, rule["name"]
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert rule["annotations"]["runbook_url"] == f"{settings.rules.runbook_base_url}#{rule['name'].lower()}"


@pytest.mark.parametrize("stack", STACKS)
def test_no_grafana_rule_bypasses_the_policy_tree(stack: str) -> None:
    for rule in grafana_rules(plan_of(stack)):
        assert "notificationSettings" not in rule, rule["name"]


def test_amp_no_data_rule_alerts_when_the_data_source_returns_nothing_or_fails() -> None:
    plan = plan_of("prod")
    group = plan.one(RULE_GROUP, "grafana-rules-amp-data-source-group")
    assert group.inputs["folderUid"] == "screener-prod"
    (rule,) = group.inputs["rules"]
    assert rule["name"] == "GrafanaAmpNoData"
    assert rule["noDataState"] == "Alerting" and rule["execErrState"] == "Alerting"
    assert rule["for"] == f"{stack_settings('prod').grafana.no_data_for_minutes}m"
    assert rule["condition"] == "B"
    query, threshold = rule["datas"]
    assert query["datasourceUid"] == "screener-prod-amp"
    assert json.loads(query["model"])["instant"] is True
    assert series_names(json.loads(query["model"])["expr"]) <= known_series_names()
    assert threshold["datasourceUid"] == "__expr__"
    evaluator = json.loads(threshold["model"])["conditions"][0]["evaluator"]
    assert evaluator == {"type": "lt", "params": [1]}


@pytest.fixture(scope="module")
def plan_with_slack() -> Plan:
    from planner.engine import run_stack

    return run_stack("staging", overrides={SLACK_KEY: SecretValue(SLACK_URL)})


def test_slack_webhook_reaches_both_contact_points_only_as_a_secret(plan_with_slack: Plan) -> None:
    for name in ("grafana-alerting-oncall", "grafana-alerting-team"):
        contact = plan_with_slack.one(CONTACT_POINT, name)
        # The engine keeps the whole block secret once any of its fields is.
        assert contact.inputs["slacks"] == SECRET
        assert rpc.is_rpc_secret(contact.raw_inputs["slacks"])
        (slack,) = rpc.unwrap_rpc_secret(contact.raw_inputs["slacks"])
        assert slack["url"] == SLACK_URL
    everything = json.dumps([repr(r.inputs) + repr(r.outputs) for r in plan_with_slack.resources])
    assert SLACK_URL not in everything and SLACK_URL not in repr(plan_with_slack.outputs)


@pytest.fixture(scope="module")
def plan_with_topics() -> Plan:
    return plan_of("prod")


def test_oncall_publishes_to_the_critical_topic_and_the_team_to_the_warning_topic(plan_with_topics: Plan) -> None:
    arns = plan_with_topics.outputs["alert_topic_arns"]
    for name, topic in (("grafana-alerting-oncall", "critical"), ("grafana-alerting-team", "warning")):
        contact = plan_with_topics.one(CONTACT_POINT, name)
        # The access key's secret half makes the whole block secret.
        assert contact.inputs["sns"] == SECRET
        assert rpc.is_rpc_secret(contact.raw_inputs["sns"])
        (sns,) = rpc.unwrap_rpc_secret(contact.raw_inputs["sns"])
        assert sns["topic"] == arns[topic]
        assert sns["authProvider"] == "keys"
        assert sns["accessKey"].startswith("AKIA") and len(sns["secretKey"]) == 40
        assert "emails" not in contact.inputs  # the topic's subscribers get it


def test_sns_publisher_may_only_publish_to_the_two_topics_with_their_key(plan_with_topics: Plan) -> None:
    arns = plan_with_topics.outputs["alert_topic_arns"]
    policy = json.loads(plan_with_topics.one(USER_POLICY).inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "PublishToAlertTopics",
            "Effect": "Allow",
            "Action": ["sns:Publish"],
            "Resource": [arns["critical"], arns["warning"]],
        },
        {
            "Sid": "EncryptForTheTopics",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": plan_with_topics.outputs["alert_key_arn"],
        },
    ]


def test_the_access_keys_secret_is_never_in_the_plan_in_plain_text(plan_with_topics: Plan) -> None:
    key = plan_with_topics.one(ACCESS_KEY)
    assert key.outputs["secret"] == SECRET
    (sns,) = rpc.unwrap_rpc_secret(plan_with_topics.one(CONTACT_POINT, "grafana-alerting-oncall").raw_inputs["sns"])
    recorded = json.dumps([repr(r.inputs) + repr(r.outputs) for r in plan_with_topics.resources])
    assert sns["secretKey"] not in recorded and sns["secretKey"] not in repr(plan_with_topics.outputs)


def test_only_prod_has_a_maintenance_mute_timing_and_it_follows_the_stack_file() -> None:
    assert plan_of("dev").of_type(MUTE_TIMING) == [] and plan_of("staging").of_type(MUTE_TIMING) == []
    # Pulumi.prod.yaml: Asia/Seoul, every Sunday 18:00-19:00 and once 2026-12-13 02:00-04:00. Grafana applies
    # `location`, so the times stay as written.
    mute = plan_of("prod").one(MUTE_TIMING)
    assert mute.inputs == {
        "name": "screener-prod-maintenance",
        "intervals": [
            {"weekdays": ["sunday"], "times": [{"start": "18:00", "end": "19:00"}], "location": "Asia/Seoul"},
            {
                "daysOfMonths": ["13"],
                "months": ["december"],
                "years": ["2026"],
                "times": [{"start": "02:00", "end": "04:00"}],
                "location": "Asia/Seoul",
            },
        ],
    }


def _routes(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {route["matchers"][0]["value"]: route for route in policy["policies"]}


def test_policy_tree_routes_each_environment_by_severity_to_its_contact_points() -> None:
    policy = plan_of("prod").one(POLICY).inputs
    notifications = stack_settings("prod").notifications
    assert policy["groupBies"] == ["alertname", "service", "severity"]
    assert policy["groupWait"] == f"{notifications.group_wait_seconds}s"
    assert policy["groupInterval"] == f"{notifications.group_interval_minutes}m"
    assert policy["repeatInterval"] == f"{notifications.repeat_interval_hours}h"
    routes = _routes(policy)
    assert set(routes) == {"dev", "staging", "prod"}
    for env, route in routes.items():
        assert route["matchers"] == [{"label": "env", "match": "=", "value": env}]
        by_severity = {child["matchers"][0]["value"]: child["contactPoint"] for child in route["policies"]}
        assert by_severity == {"critical": f"screener-{env}-oncall", "warning": f"screener-{env}-team"}


def test_maintenance_mutes_every_route_of_its_environment_and_nothing_else() -> None:
    routes = _routes(plan_of("prod").one(POLICY).inputs)
    prod = routes["prod"]
    assert prod["muteTimings"] == ["screener-prod-maintenance"]
    assert all(child["muteTimings"] == ["screener-prod-maintenance"] for child in prod["policies"])
    for env in ("dev", "staging"):
        assert "muteTimings" not in routes[env]
        assert all("muteTimings" not in child for child in routes[env]["policies"])


def test_exactly_one_stack_per_grafana_instance_owns_a_tree_that_matches_the_other_stacks() -> None:
    by_url: dict[str, list[str]] = {}
    for stack in STACKS:
        by_url.setdefault(stack_settings(stack).grafana.url, []).append(stack)
    for url, stacks in by_url.items():
        owners = [s for s in stacks if stack_settings(s).grafana.notification_policy is not None]
        assert len(owners) == 1, f"{url} is shared by {stacks}; exactly one must set grafana.notificationPolicy"
        tree = stack_settings(owners[0]).grafana.notification_policy
        assert tree is not None
        assert set(tree.environments) == {stack_settings(s).environment for s in stacks}
        muted = {stack_settings(s).environment for s in stacks if stack_settings(s).maintenance is not None}
        assert set(tree.maintenance_environments) == muted
    assert plan_of("dev").of_type(POLICY) == [] and plan_of("staging").of_type(POLICY) == []


def test_policy_tree_waits_for_this_stacks_contact_points_and_mute_timing() -> None:
    plan = plan_of("prod")
    policy = plan.one(POLICY)
    for resource in (*plan.of_type(CONTACT_POINT), plan.one(MUTE_TIMING)):
        assert resource.urn in policy.depends_on, resource.name


def test_page_on_warning_sends_warnings_to_the_paging_path() -> None:
    from planner.engine import run_stack

    plan = run_stack(
        "dev", overrides={"monitoring:notifications": {"emails": ["team@example.com"], "pageOnWarning": True}}
    )
    critical = plan.outputs["alert_topic_arns"]["critical"]
    team = plan.one(CONTACT_POINT, "grafana-alerting-team")
    (sns,) = rpc.unwrap_rpc_secret(team.raw_inputs["sns"])
    assert sns["topic"] == critical
