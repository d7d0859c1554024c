"""Notification plumbing under mocks: key and topic policies, encryption, subscribers, Slack, alarms on AMP."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from typing import Any

import pytest

from infra.config import ConfigError
from planner.engine import Plan, PlannedResource
from tests.conftest import STACKS, plan_of

ACCOUNT = "123456789012"
REGION = "ap-northeast-2"
KEY = "aws:kms/key:Key"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
CHATBOT = "aws:chatbot/slackChannelConfiguration:SlackChannelConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def statements(document: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in json.loads(document)["Statement"]}


def workspace(plan: Plan) -> tuple[str, str]:
    return plan.outputs["amp_workspace_id"], plan.outputs["amp_workspace_arn"]


def test_key_rotates_and_is_administered_by_the_account_root(stack_plan: Plan) -> None:
    key = stack_plan.one(KEY, "notifications-key")
    assert key.inputs["enableKeyRotation"] is True
    admin = statements(key.inputs["policy"])["AccountAdministersTheKey"]
    assert admin["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert (admin["Effect"], admin["Action"]) == ("Allow", "kms:*")


def test_key_lets_this_workspace_and_this_stacks_alarms_encrypt_and_nothing_more(stack_plan: Plan) -> None:
    """Confused-deputy guard on the key: each service only on behalf of this stack's sources."""
    policy = statements(stack_plan.one(KEY, "notifications-key").inputs["policy"])
    assert set(policy) == {"AccountAdministersTheKey", "ThisWorkspaceEncrypts", "AlarmsOfThisStackEncrypt"}
    _, workspace_arn = workspace(stack_plan)
    amp, alarms = policy["ThisWorkspaceEncrypts"], policy["AlarmsOfThisStackEncrypt"]
    assert amp["Principal"] == {"Service": "aps.amazonaws.com"}
    assert amp["Condition"] == {
        "ArnEquals": {"aws:SourceArn": workspace_arn},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:screener-{stack_plan.stack}-*"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    for statement in (amp, alarms):
        assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_the_pipeline_topic_has_a_key_of_its_own_that_only_alarms_use(stack_plan: Plan) -> None:
    """The last resort must not depend on the shared key: its own CMK, CloudWatch only."""
    shared = stack_plan.one(KEY, "notifications-key").outputs["arn"]
    own = stack_plan.one(KEY, "notifications-pipeline-key")
    topic = stack_plan.one(TOPIC, "notifications-pipeline")
    assert topic.inputs["kmsMasterKeyId"] == own.outputs["arn"] != shared
    assert own.inputs["enableKeyRotation"] is True
    policy = statements(own.inputs["policy"])
    assert set(policy) == {"AccountAdministersTheKey", "AlarmsOfThisStackEncrypt"}
    assert stack_plan.outputs["alert_pipeline_key_arn"] == own.outputs["arn"]


def test_every_alertmanager_topic_is_standard_and_encrypted_with_the_alert_key(stack_plan: Plan) -> None:
    key_arn = stack_plan.one(KEY, "notifications-key").outputs["arn"]
    topics = [t for t in stack_plan.of_type(TOPIC) if t.name != "notifications-pipeline"]
    audiences = {"critical", "warning", "watchdog"} | ({"chat"} if stack_plan.stack != "dev" else set())
    assert {topic.name for topic in topics} == {f"notifications-{audience}" for audience in audiences}
    for topic in topics:
        assert topic.inputs["kmsMasterKeyId"] == key_arn, topic.name
        assert not topic.inputs.get("fifoTopic"), topic.name
        assert topic.inputs["name"] == f"screener-{stack_plan.stack}-alerts-{topic.name.removeprefix('notifications-')}"


def _topic_policy(plan: Plan, audience: str) -> tuple[PlannedResource, dict[str, dict[str, Any]]]:
    topic = plan.one(TOPIC, f"notifications-{audience}")
    policy = plan.one(TOPIC_POLICY, f"notifications-{audience}-policy")
    assert policy.inputs["arn"] == topic.outputs["arn"]
    return topic, statements(policy.inputs["policy"])


@pytest.mark.parametrize("audience", ["critical", "warning", "watchdog"])
def test_only_this_workspace_of_this_account_may_publish(stack_plan: Plan, audience: str) -> None:
    topic, policy = _topic_policy(stack_plan, audience)
    _, workspace_arn = workspace(stack_plan)
    amp = policy["OnlyThisWorkspacePublishes"]
    assert amp["Principal"] == {"Service": "aps.amazonaws.com"}
    assert sorted(amp["Action"]) == ["sns:GetTopicAttributes", "sns:Publish"]
    assert amp["Resource"] == topic.outputs["arn"]
    assert amp["Condition"] == {
        "ArnEquals": {"aws:SourceArn": workspace_arn},
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
    }
    assert workspace_arn.startswith(f"arn:aws:aps:{REGION}:{ACCOUNT}:workspace/ws-")


@pytest.mark.parametrize("audience", ["critical", "warning", "watchdog", "pipeline"])
def test_no_statement_allows_anyone_without_conditions(stack_plan: Plan, audience: str) -> None:
    _, policy = _topic_policy(stack_plan, audience)
    for sid, statement in policy.items():
        if statement["Effect"] == "Allow" and "Service" in statement["Principal"]:
            assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}, sid
        assert statement["Principal"] != "*" or statement["Effect"] == "Deny", sid
    assert policy["DenyPublishWithoutTls"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def publishers(policy: dict[str, Any]) -> list[str]:
    """Who an SNS topic policy lets publish: each Allow statement whose actions match sns:Publish (wildcards
    included, case-insensitive as IAM matches actions), as its principal; a non-service principal is a finding."""
    found = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Effect"] == "Allow" and any(fnmatch.fnmatch("sns:publish", a.lower()) for a in actions):
            principal = statement["Principal"]
            found.append(principal["Service"] if isinstance(principal, dict) and "Service" in principal else "ACCOUNT")
    return found


def test_the_publisher_check_finds_a_planted_account_publish() -> None:
    # The plant of issue 28 finding 7: the account statement with sns:Publish again (or sns:*).
    for planted in ("sns:Publish", "SNS:*", "*"):
        policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": [planted]}]}
        assert publishers(policy) == ["ACCOUNT"]


@pytest.mark.parametrize("audience", ["critical", "warning", "watchdog", "pipeline"])
def test_no_principal_of_the_account_may_publish_only_amp_and_this_stacks_alarms(
    stack_plan: Plan, audience: str
) -> None:
    """Issue 28 finding 7: a `[RESOLVED]` subject or an `OK` alarm payload published by anyone in the account
    would close a live PagerDuty incident through the relay. The account keeps managing the topic, not publishing;
    an explicit Deny refuses every caller but the allowed service principals, because within one account an
    identity policy's sns:Publish suffices without the topic's Allow (IAM user guide, policy evaluation logic)."""
    _, policy = _topic_policy(stack_plan, audience)
    document = {"Statement": list(policy.values())}
    expected = {"pipeline": ["cloudwatch.amazonaws.com"], "warning": ["aps.amazonaws.com", "cloudwatch.amazonaws.com"]}
    allowed = expected.get(audience, ["aps.amazonaws.com"])
    assert sorted(publishers(document)) == allowed
    account = policy["AccountManagesTheTopic"]
    assert "sns:Subscribe" in account["Action"] and "sns:GetTopicAttributes" in account["Action"]
    deny = policy["OnlyTheseServicesPublish"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == ("Deny", "*", "sns:Publish")
    assert deny["Condition"] == {"StringNotEquals": {"aws:PrincipalServiceName": allowed}}


@pytest.mark.parametrize("audience", ["critical", "warning", "watchdog", "pipeline"])
def test_an_administrator_of_the_account_is_denied_publish_and_the_services_are_not(
    stack_plan: Plan, audience: str
) -> None:
    """Within one account an identity policy's sns:Publish would suffice (IAM evaluation logic), so the topic
    policy's explicit Deny must match every caller that is not an allowed service principal: a role, a user,
    the root (no aws:PrincipalServiceName in their requests), another service; and not AMP or CloudWatch."""
    from tests.contracts.delivery import _statement_matches, allows

    topic, policy = _topic_policy(stack_plan, audience)
    document = json.dumps({"Statement": list(policy.values())})
    denies = [s for s in policy.values() if s["Effect"] == "Deny"]
    arn = topic.outputs["arn"]

    def denied(principal: dict[str, str], context: dict[str, str]) -> bool:
        context = {"aws:SecureTransport": "true", **context}
        return any(_statement_matches(s, principal, "sns:Publish", arn, context) for s in denies)

    for principal in (f"arn:aws:iam::{ACCOUNT}:role/admin", f"arn:aws:iam::{ACCOUNT}:root"):
        assert denied({"AWS": principal}, {}), principal
    assert denied({"Service": "events.amazonaws.com"}, {"aws:PrincipalServiceName": "events.amazonaws.com"})
    _, workspace_arn = workspace(stack_plan)
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:screener-{stack_plan.stack}-x"
    publishers = {
        "aps.amazonaws.com": workspace_arn,
        "cloudwatch.amazonaws.com": alarm_arn,
    }
    by_audience = {"pipeline": {"cloudwatch.amazonaws.com"}, "warning": set(publishers)}
    allowed = by_audience.get(audience, {"aps.amazonaws.com"})
    for service, source in publishers.items():
        context = {"aws:SourceArn": source, "aws:SourceAccount": ACCOUNT, "aws:PrincipalServiceName": service}
        assert allows(document, {"Service": service}, "sns:Publish", arn, context) == (service in allowed), service


def test_exactly_the_topics_that_alarms_publish_to_take_this_stacks_alarms(stack_plan: Plan) -> None:
    """Issue 14 item 2: the quota alarms publish to `warning`, whose policy used to refuse CloudWatch."""
    takes_alarms = {
        topic.name.removeprefix("notifications-")
        for topic in stack_plan.of_type(TOPIC)
        if "AlarmsOfThisStackPublish" in _topic_policy(stack_plan, topic.name.removeprefix("notifications-"))[1]
    }
    arn_to_audience = {arn: audience for audience, arn in stack_plan.outputs["alert_topic_arns"].items()}
    alarm_targets = {
        arn_to_audience[arn]
        for alarm in stack_plan.of_type(ALARM)
        for arn in alarm.inputs["alarmActions"] + alarm.inputs["okActions"]
    }
    assert takes_alarms == alarm_targets
    assert alarm_targets == ({"warning", "pipeline", "chat"} if stack_plan.stack != "dev" else {"warning", "pipeline"})
    alarms = _topic_policy(stack_plan, "warning")[1]["AlarmsOfThisStackPublish"]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:screener-{stack_plan.stack}-*"
    }
    for alarm in stack_plan.of_type(ALARM):
        assert alarm.inputs["name"].startswith(f"screener-{stack_plan.stack}-"), alarm.name


def subscriptions(plan: Plan) -> set[tuple[str, str, str]]:
    topic_names = {t.outputs["arn"]: t.name.removeprefix("notifications-") for t in plan.of_type(TOPIC)}
    return {
        (topic_names[s.inputs["topic"]], s.inputs["protocol"], s.inputs["endpoint"]) for s in plan.of_type(SUBSCRIPTION)
    }


@pytest.mark.parametrize(
    ("stack", "emails"),
    [
        ("dev", ["screener-dev-alerts@example.com"]),
        ("staging", ["screener-staging-alerts@example.com"]),
        ("prod", ["screener-oncall@example.com", "platform-team@example.com"]),
    ],
)
def test_configured_emails_hear_critical_warning_and_the_pipeline_but_never_the_watchdog(
    stack: str, emails: list[str]
) -> None:
    assert subscriptions(plan_of(stack)) == {
        (topic, "email", email) for email in emails for topic in ("critical", "warning", "pipeline")
    }


def test_paging_emails_subscribe_to_the_critical_topic_only(plan_with: Callable[..., Plan]) -> None:
    plan = plan_with(
        "dev",
        {"monitoring:notifications": {"emails": ["team@example.com"], "pagingEmails": ["pager@example.com"]}},
    )
    assert subscriptions(plan) == {
        ("critical", "email", "team@example.com"),
        ("warning", "email", "team@example.com"),
        ("pipeline", "email", "team@example.com"),
        ("critical", "email", "pager@example.com"),
        ("pipeline", "email", "pager@example.com"),
    }
    names = {s.name for s in plan.of_type(SUBSCRIPTION)}
    assert "notifications-critical-email-pager-example-com" in names


def test_an_address_in_both_lists_is_refused_naming_the_setting_and_file() -> None:
    from planner.engine import run_stack

    with pytest.raises(ConfigError) as info:
        run_stack(
            "dev",
            overrides={"monitoring:notifications": {"emails": ["a@example.com"], "pagingEmails": ["a@example.com"]}},
        )
    assert (
        "stacks/Pulumi.dev.yaml: monitoring:notifications: a@example.com listed in both emails and pagingEmails"
        in str(info.value)
    )


def test_repeat_interval_above_amps_cap_is_refused() -> None:
    from planner.engine import run_stack

    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides={"monitoring:notifications": {"repeatIntervalHours": 121}})
    assert (
        "stacks/Pulumi.dev.yaml: monitoring:notifications.repeatIntervalHours: "
        "Input should be less than or equal to 120" in str(info.value)
    )


def test_slack_goes_through_chatbot_only_where_configured() -> None:
    assert plan_of("dev").of_type(CHATBOT) == []
    assert [r.name for r in plan_of("dev").of_type(ROLE) if r.name.startswith("notifications-")] == []
    for stack, channel in (("staging", "C0STAGING01"), ("prod", "C0PRODALRT1")):
        plan = plan_of(stack)
        chatbot = plan.one(CHATBOT, "notifications-slack")
        chat_topic = plan.one(TOPIC, "notifications-chat").outputs["arn"]
        assert (chatbot.inputs["slackTeamId"], chatbot.inputs["slackChannelId"]) == ("T0SCREENER", channel)
        assert chatbot.inputs["snsTopicArns"] == [chat_topic]
        assert chatbot.inputs["configurationName"] == f"screener-{stack}-alerts"


def test_chatbot_role_is_least_privilege() -> None:
    plan = plan_of("prod")
    chatbot = plan.one(CHATBOT, "notifications-slack")
    role = plan.one(ROLE, "notifications-chatbot-role")
    assert chatbot.inputs["iamRoleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "chatbot.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    actions = [
        a
        for s in json.loads(plan.one(ROLE_POLICY, "notifications-chatbot-policy").inputs["policy"])["Statement"]
        for a in s["Action"]
    ]
    assert actions and all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in actions)
    # Guardrails cap the channel to read-only whatever a user's own role allows.
    assert chatbot.inputs["guardrailPolicyArns"] == ["arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess"]
    assert chatbot.inputs["userAuthorizationRequired"] is True


def test_rule_evaluation_failures_alarm_sums_every_rule_group_of_this_workspace(stack_plan: Plan) -> None:
    alarm = stack_plan.one(ALARM, "notifications-rule-evaluation-failures")
    workspace_id, _ = workspace(stack_plan)
    (query,) = alarm.inputs["metricQueries"]
    assert query["expression"] == (
        f"SELECT SUM(RuleEvaluationFailures) FROM \"AWS/Prometheus\" WHERE Workspace = '{workspace_id}'"
    )
    assert (alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm.inputs["treatMissingData"] == "notBreaching"


def test_notification_failures_alarm_watches_this_workspace(stack_plan: Plan) -> None:
    alarm = stack_plan.one(ALARM, "notifications-notifications-failed")
    workspace_id, _ = workspace(stack_plan)
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == (
        "AWS/Prometheus",
        "AlertManagerNotificationsFailed",
    )
    assert alarm.inputs["dimensions"] == {"Workspace": workspace_id}


def test_watchdog_silence_pages_through_cloudwatch(stack_plan: Plan) -> None:
    alarm = stack_plan.one(ALARM, "notifications-watchdog-silent")
    watchdog_topic = stack_plan.one(TOPIC, "notifications-watchdog")
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"]) == ("AWS/SNS", "NumberOfMessagesPublished")
    assert alarm.inputs["dimensions"] == {"TopicName": watchdog_topic.inputs["name"]}
    assert (alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == ("LessThanThreshold", 1)
    # 15 minutes covers three Watchdog repeats (every 5 minutes) plus slack.
    assert alarm.inputs["period"] * alarm.inputs["evaluationPeriods"] == 900
    assert alarm.inputs["treatMissingData"] == "breaching"


def test_pipeline_alarms_reach_the_last_resort_topic_and_chat(stack_plan: Plan) -> None:
    topics = stack_plan.outputs["alert_topic_arns"]
    expected = [topics["pipeline"]] + ([topics["chat"]] if "chat" in topics else [])
    for alarm in stack_plan.of_type(ALARM):
        if alarm.name.startswith("notifications-"):
            assert alarm.inputs["alarmActions"] == expected, alarm.name
            assert alarm.inputs["okActions"] == expected, alarm.name


def test_only_prod_protects_and_retains_the_keys_and_topics() -> None:
    for stack in STACKS:
        plan = plan_of(stack)
        protected = {r.name for r in plan.of_type(KEY) + plan.of_type(TOPIC) if r.protect}
        retained = {r.name for r in plan.of_type(KEY) + plan.of_type(TOPIC) if r.retain_on_delete}
        everything = {r.name for r in plan.of_type(KEY) + plan.of_type(TOPIC)}
        assert protected == retained == (everything if stack == "prod" else set()), stack


def test_taggable_resources_carry_the_required_tags(stack_plan: Plan) -> None:
    for resource in stack_plan.of_type(KEY) + stack_plan.of_type(TOPIC) + stack_plan.of_type(ALARM):
        if resource.name.startswith("notifications-"):
            tags = resource.inputs["tags"]
            assert tags["environment"] == stack_plan.stack, resource.name
            assert tags["component"] == "notifications", resource.name
            assert tags["owner"] == "platform-team", resource.name
            assert tags["service"] == "screener-monitoring", resource.name


def test_topic_arns_are_exported_by_audience(stack_plan: Plan) -> None:
    topics = stack_plan.outputs["alert_topic_arns"]
    expected = {"critical", "warning", "watchdog", "pipeline"} | ({"chat"} if stack_plan.stack != "dev" else set())
    assert set(topics) == expected
    for audience, arn in topics.items():
        assert arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:screener-{stack_plan.stack}-alerts-{audience}"


def test_alertmanager_definition_is_uploaded_after_the_topic_policies(stack_plan: Plan) -> None:
    definition = stack_plan.one("aws:amp/alertManagerDefinition:AlertManagerDefinition", "alertmanager-definition")
    workspace_id, _ = workspace(stack_plan)
    assert definition.inputs["workspaceId"] == workspace_id
    policies = {p.urn for p in stack_plan.of_type(TOPIC_POLICY)}
    assert policies <= set(definition.depends_on)
