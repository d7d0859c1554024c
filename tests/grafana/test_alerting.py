"""Under mocks: Grafana-managed rules, contact points, the maintenance mute timing and the policy tree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from pulumi.runtime import rpc

from infra.config.stackfile import SecretValue, stack_settings
from infra.metrics import known_series_names
from infra.promql import series_names
from planner.engine import SECRET, Plan
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
        # Only the heartbeat, which no person receives, has no audience (as AMP's Watchdog).
        expected = {"none"} if rule["name"] == "GrafanaHeartbeat" else {"critical", "warning"}
        assert rule["labels"]["severity"] in expected, rule["name"]
        # A static service, or (one rule over every synthetic check) each series' own, read from its job.
        expr = json.loads(rule["datas"][0]["model"])["expr"]
        assert rule["labels"].get("service") or '"service", "$1", "job"' in expr, rule["name"]
        assert rule["labels"]["env"] == stack, rule["name"]
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert rule["annotations"]["runbook_url"] == f"{settings.rules.runbook_base_url}#{rule['name'].lower()}"


HEARTBEAT_ROUTE = {
    "groupBies": ["alertname", "grafana_folder"],
    "groupWait": "0s",
    "groupInterval": "1m",
    # Often enough for the 15-minute silence alarm to see three in a window.
    "repeatInterval": "5m",
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_grafana_rule_routes_itself_to_its_own_stacks_contact_points(stack: str) -> None:
    """Simplified routing (the rule's notification_settings; grafana/grafana pkg/services/ngalert/models/
    notifications.go ContactPointRouting): critical to the stack's on-call contact point, the rest to its team,
    grouped and timed as the stack's notifications say, muted by its own maintenance window only."""
    settings = stack_settings(stack)
    notifications = settings.notifications
    muted = {"muteTimings": [f"screener-{stack}-maintenance"]} if settings.maintenance is not None else {}
    rules = list(grafana_rules(plan_of(stack)))
    assert len(rules) > 1
    for rule in rules:
        if rule["name"] == "GrafanaHeartbeat":
            assert rule["notificationSettings"] == {"contactPoint": f"screener-{stack}-heartbeat", **HEARTBEAT_ROUTE}
            continue
        audience = "oncall" if rule["labels"]["severity"] == "critical" else "team"
        assert rule["notificationSettings"] == {
            "contactPoint": f"screener-{stack}-{audience}",
            # Grafana always groups a rule's own notifications by folder and alert name (and requires both).
            "groupBies": ["alertname", "grafana_folder", "service", "severity"],
            "groupWait": f"{notifications.group_wait_seconds}s",
            "groupInterval": f"{notifications.group_interval_minutes}m",
            "repeatInterval": f"{notifications.repeat_interval_hours}h",
            **muted,
        }, rule["name"]


def test_only_prod_mutes_its_rules_in_its_maintenance_window() -> None:
    assert stack_settings("prod").maintenance is not None
    for stack in STACKS:
        muted = {
            tuple(rule["notificationSettings"].get("muteTimings", ()))
            for rule in grafana_rules(plan_of(stack))
            if rule["name"] != "GrafanaHeartbeat"
        }
        assert muted == ({("screener-prod-maintenance",)} if stack == "prod" else {()}), stack


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_group_is_created_after_and_deleted_before_what_it_routes_to(stack: str) -> None:
    """Grafana refuses to delete a contact point or mute timing a rule still names (409; grafana/grafana#111921,
    terraform-provider-grafana#1806): each rule group depends on every one its rules name."""
    plan = plan_of(stack)
    by_name = {r.inputs["name"]: r.urn for r in (*plan.of_type(CONTACT_POINT), *plan.of_type(MUTE_TIMING))}
    for group in plan.of_type(RULE_GROUP):
        for rule in group.inputs["rules"]:
            route = rule["notificationSettings"]
            for name in (route["contactPoint"], *route.get("muteTimings", ())):
                assert by_name[name] in group.depends_on, (group.name, name)


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


def test_a_stack_that_collects_nothing_uploads_no_amp_no_data_alert() -> None:
    # dev's workspace is empty by design (collection.mode none): GrafanaAmpNoData would fire for ever.
    assert stack_settings("dev").collection.mode == "none"
    names = {rule["name"] for rule in grafana_rules(plan_of("dev"))}
    assert "GrafanaAmpNoData" not in names and "GrafanaHeartbeat" in names
    for stack in ("staging", "prod"):
        assert "GrafanaAmpNoData" in {rule["name"] for rule in grafana_rules(plan_of(stack))}


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


SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CONTACT_POINT_ARGS = "pulumiverse_grafana.alerting.ContactPointArgs"


def topic_subscribers(plan: Plan, audience: str) -> set[str]:
    """The email addresses subscribed to one of the plan's alert topics (what AMP's alerts reach)."""
    arn = plan.outputs["alert_topic_arns"][audience]
    return {
        sub.inputs["endpoint"]
        for sub in plan.of_type(SUBSCRIPTION)
        if sub.inputs["topic"] == arn and sub.inputs["protocol"] == "email"
    }


def mailed(plan: Plan, name: str) -> set[str]:
    (email,) = plan.one(CONTACT_POINT, name).inputs["emails"]
    return set(email["addresses"])


@pytest.mark.parametrize("stack", STACKS)
def test_grafanas_contact_points_mail_the_people_the_critical_and_warning_topics_reach(stack: str) -> None:
    plan = plan_of(stack)
    critical, warning = topic_subscribers(plan, "critical"), topic_subscribers(plan, "warning")
    assert warning, "the warning topic has no email subscriber to compare with"
    assert mailed(plan, "grafana-alerting-oncall") == critical
    assert mailed(plan, "grafana-alerting-team") == warning


def test_paging_emails_hear_only_critical_alerts_as_on_the_topics() -> None:
    from infra.components.grafana_alerting import Recipients

    recipients = Recipients(emails=["team@example.com"], paging_emails=["pager@example.com"])
    assert recipients.critical == ["team@example.com", "pager@example.com"]
    assert recipients.warning == ["team@example.com"]


def _integrations_requiring_amazon_managed_grafana() -> set[str]:
    """Contact-point integrations whose SDK docstring says they need Amazon Managed Grafana.

    Read from the installed pulumiverse_grafana (alerting/contact_point.py,
    `ContactPointArgs.__init__`): the `sns` block "Requires Amazon Managed
    Grafana", and Grafana Cloud rejects it with `400 ... must specify
    topicArn, targetArn, or phone number`
    (https://github.com/grafana/terraform-provider-grafana/issues/1672, /2266).
    """
    import pulumiverse_grafana as grafana

    doc = grafana.alerting.ContactPointArgs.__init__.__doc__ or ""
    found = re.findall(r":param [^\n]*?\] (\w+): [^\n]*Requires Amazon Managed Grafana", doc)
    return {re.sub(r"_(\w)", lambda m: m.group(1).upper(), name) for name in found}


def grafana_cloud_rejects(plan: Plan) -> list[str]:
    """Contact points that use an integration Grafana Cloud cannot create."""
    amg_only = _integrations_requiring_amazon_managed_grafana()
    return [
        f"{contact.name}: {key}"
        for contact in plan.of_type(CONTACT_POINT)
        for key in sorted(amg_only & set(contact.inputs))
    ]


def test_the_sdk_still_marks_sns_as_amazon_managed_grafana_only() -> None:
    # If a provider release drops the sentence, this contract must be re-read, not silently pass.
    assert _integrations_requiring_amazon_managed_grafana() == {"sns"}


@pytest.mark.parametrize("stack", STACKS)
def test_no_contact_point_uses_an_integration_grafana_cloud_rejects(stack: str) -> None:
    plan = plan_of(stack)
    assert plan.of_type(CONTACT_POINT)
    assert grafana_cloud_rejects(plan) == []


def test_a_planted_sns_contact_point_is_caught() -> None:
    plan = plan_of("prod")
    oncall = plan.one(CONTACT_POINT, "grafana-alerting-oncall")
    sns_oncall = replace(oncall, inputs={**oncall.inputs, "sns": [{"topic": "arn:aws:sns:ap-northeast-2:1:x"}]})
    planted = replace(plan, resources=[sns_oncall if r is oncall else r for r in plan.resources])
    assert grafana_cloud_rejects(planted) == ["grafana-alerting-oncall: sns"]


@pytest.mark.parametrize("stack", STACKS)
def test_grafana_needs_no_aws_identity_for_notifications(stack: str) -> None:
    """No IAM user or access key: nothing long-lived to leak or rotate."""
    plan = plan_of(stack)
    assert plan.of_type("aws:iam/user:User") == [] and plan.of_type(ACCESS_KEY) == []
    assert plan.of_type(USER_POLICY) == []


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


def test_the_policy_tree_names_only_its_owners_contact_points_and_mute_timing() -> None:
    policy = plan_of("prod").one(POLICY).inputs
    notifications = stack_settings("prod").notifications
    assert policy["contactPoint"] == "screener-prod-team"
    assert policy["groupBies"] == ["alertname", "service", "severity"]
    assert policy["groupWait"] == f"{notifications.group_wait_seconds}s"
    assert policy["groupInterval"] == f"{notifications.group_interval_minutes}m"
    assert policy["repeatInterval"] == f"{notifications.repeat_interval_hours}h"
    muted = ["screener-prod-maintenance"]
    assert policy["policies"] == [
        {
            "matchers": [{"label": "severity", "match": "=", "value": "critical"}],
            "contactPoint": "screener-prod-oncall",
            "muteTimings": muted,
        },
        {"contactPoint": "screener-prod-team", "muteTimings": muted},
    ]


def test_exactly_one_stack_per_grafana_instance_owns_the_tree() -> None:
    by_url: dict[str, list[str]] = {}
    for stack in STACKS:
        by_url.setdefault(stack_settings(stack).grafana.url, []).append(stack)
    for url, stacks in by_url.items():
        owners = [s for s in stacks if stack_settings(s).grafana.notification_policy is not None]
        assert len(owners) == 1, f"{url} is shared by {stacks}; exactly one must set grafana.notificationPolicy"
    assert plan_of("dev").of_type(POLICY) == [] and plan_of("staging").of_type(POLICY) == []


def test_policy_tree_waits_for_this_stacks_contact_points_and_mute_timing() -> None:
    plan = plan_of("prod")
    policy = plan.one(POLICY)
    # The heartbeat's contact point is not in the tree (the rule routes itself), so the tree need not wait for it.
    routed = [r for r in plan.of_type(CONTACT_POINT) if r.name != "grafana-heartbeat-contact-point"]
    assert len(routed) == 2
    for resource in (*routed, plan.one(MUTE_TIMING)):
        assert resource.urn in policy.depends_on, resource.name


def test_page_on_warning_sends_warnings_to_the_paging_path(plan_with: Any) -> None:
    plan = plan_with(
        "dev",
        overrides={
            "monitoring:notifications": {
                "emails": ["team@example.com"],
                "pagingEmails": ["pager@example.com"],
                "pageOnWarning": True,
            }
        },
    )
    # The on-call contact point mails the critical topic's subscribers, pagers included ...
    assert mailed(plan, "grafana-alerting-oncall") == topic_subscribers(plan, "critical")
    assert topic_subscribers(plan, "critical") == {"team@example.com", "pager@example.com"}
    # ... and with pageOnWarning the team contact point is the same paging path.
    assert mailed(plan, "grafana-alerting-team") == {"team@example.com", "pager@example.com"}


# Grafana's UID rule (grafana/grafana pkg/util/shortid_generator.go): at most 40 of letters, digits, '-', '_'.
GRAFANA_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def test_every_grafana_rule_has_an_explicit_uid_grafana_accepts_unique_across_the_shared_org() -> None:
    uids = [rule.get("uid") for stack in STACKS for rule in grafana_rules(plan_of(stack))]
    assert uids and all(isinstance(uid, str) and GRAFANA_UID.match(uid) for uid in uids), uids
    assert len(set(uids)) == len(uids)


def _uptime_uids(services: dict[str, str]) -> dict[tuple[str | None, str], str]:
    """(service, rule) -> UID of prod's uptime rules, with services renamed {old: new}, as the program sets them."""
    from infra.alerting.uptime_rules import uptime_rule_groups
    from infra.components.grafana_rules import RuleContext, RuleRouting, rule_args
    from infra.components.synthetics_checks import plan_checks
    from infra.config.synthetics import SM_DATASOURCE_UID

    settings = stack_settings("prod")
    renamed = tuple(s.model_copy(update={"name": services.get(s.name, s.name)}) for s in settings.services)
    settings = settings.model_copy(update={"services": renamed})
    checks = plan_checks(settings)
    routing = RuleRouting("screener-prod-oncall", "screener-prod-team", [], "30s", "5m", "4h")
    uids: dict[tuple[str | None, str], str] = {}
    for group in uptime_rule_groups(checks, settings.synthetics, "screener-prod", SM_DATASOURCE_UID):
        for rule in group.rules:
            uids[(rule.service, rule.name)] = str(
                rule_args(rule, RuleContext("screener-prod", "prod", "https://x", routing)).uid
            )
    return uids


def test_renaming_a_service_keeps_every_uptime_rule_uid() -> None:
    """The uptime rules are one per family over every check: a service's name is not part of their identity."""
    before, after = _uptime_uids({}), _uptime_uids({"frontend": "web"})
    assert before and after == before
    assert {service for service, _ in before} == {None}


def test_long_names_still_give_distinct_uids_within_the_limit() -> None:
    from infra.alerting.grafana_rules import GrafanaRule, rule_uid

    def rule(service: str) -> GrafanaRule:
        return GrafanaRule(
            name="SyntheticCertificateExpiring", expr="vector(1)", comparison="gt", threshold=0, for_minutes=1,
            severity="warning", service=service, summary="s", description="d", datasource_uid="x",
        )  # fmt: skip

    long_a, long_b = rule("a" * 60 + "-one"), rule("a" * 60 + "-two")
    uids = {rule_uid("screener-prod", long_a), rule_uid("screener-prod", long_b), rule_uid("screener-dev", long_a)}
    assert len(uids) == 3 and all(GRAFANA_UID.match(uid) for uid in uids)
