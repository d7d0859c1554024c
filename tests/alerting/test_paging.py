"""monitoring:paging (PagerDuty): the relay's events, the resources under mocks, and the delivery graph.

Contracts: PagerDuty Events API v2 (POST https://events.pagerduty.com/v2/enqueue;
routing_key, event_action trigger|resolve, dedup_key; payload summary, source,
severity required for a trigger); pulumi-pagerduty ServiceIntegration
(`events_api_v2_inbound_integration`; the SDK does not flag integrationKey
secret); AWS Cloud Operations blog "Using Amazon Managed Service for
Prometheus Alert Manager to receive alerts with PagerDuty" (SNS -> Lambda ->
Events API v2). The subjects the relay parses are rendered by the real
amtool from infra/alerting/screener.tmpl, so a template change that breaks
the trigger/resolve pairing fails here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT, SecretValue, load_stack_file
from infra.paging import relay
from planner.engine import SECRET, Plan, run_stack
from tests.conftest import plan_of

PAGING = {"provider": "pagerduty", "escalationPolicyId": "PABC123"}
TOKEN = "u+pd-test-only-token"
TOPICS = {
    audience: f"arn:aws:sns:ap-northeast-2:123456789012:screener-prod-alerts-{audience}"
    for audience in ("critical", "pipeline")
}


# --- under mocks -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paged() -> Plan:
    return run_stack("prod", overrides={"monitoring:paging": PAGING, "monitoring:pagerdutyToken": SecretValue(TOKEN)})


def test_pagerduty_service_pages_the_configured_escalation_policy(paged: Plan) -> None:
    service = paged.one("pagerduty:index/service:Service")
    assert service.inputs["escalationPolicy"] == "PABC123"
    assert service.inputs["name"] == "screener-prod monitoring"
    assert service.inputs["autoResolveTimeout"] == "null"
    integration = paged.one("pagerduty:index/serviceIntegration:ServiceIntegration")
    assert integration.inputs["type"] == "events_api_v2_inbound_integration"
    assert integration.inputs["service"] == paged.outputs["paging_service_url"].rsplit("/", 1)[1]


def test_the_routing_key_is_a_secret_the_relay_reads_not_an_environment_variable(paged: Plan) -> None:
    """Issue 28 finding 7: the key in the function's environment was readable with
    lambda:GetFunctionConfiguration. It lives in Secrets Manager (SecretVersion.secretString, which the SDK
    marks secret); the environment names the secret's ARN; the role reads exactly that secret."""
    integration = paged.one("aws:secretsmanager/secretVersion:SecretVersion")
    secret = paged.one("aws:secretsmanager/secret:Secret")
    assert integration.inputs["secretString"] == SECRET
    assert integration.inputs["secretId"] == secret.simulated_id
    assert secret.inputs["name"] == "screener-prod/pagerduty-routing-key"
    # Recreatable after a destroy: a secret in its recovery window keeps the name (0 = delete at once).
    assert secret.inputs["recoveryWindowInDays"] == 0
    key = rpc.unwrap_rpc_secret(integration.raw_inputs["secretString"])
    assert len(key) == 32
    function = paged.one("aws:lambda/function:Function")
    variables = function.inputs["environment"]["variables"]
    assert variables == {
        "PAGERDUTY_ROUTING_KEY_SECRET_ARN": secret.outputs["arn"],
        "AMP_TOPIC_ARNS": TOPICS["critical"],
        "ALARM_TOPIC_ARNS": TOPICS["pipeline"],
        "ALARM_ARN_PREFIX": "arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:screener-prod-",
    }
    # Every name the relay reads is one the component sets.
    assert set(variables) == {
        relay.ENV_SECRET_ARN,
        relay.ENV_AMP_TOPICS,
        relay.ENV_ALARM_TOPICS,
        relay.ENV_ALARM_ARN_PREFIX,
    }
    access = json.loads(paged.one("aws:iam/rolePolicy:RolePolicy", "paging-relay-access").inputs["policy"])
    queue = paged.one("aws:sqs/queue:Queue")
    assert access["Statement"] == [
        {
            "Sid": "ReadTheRoutingKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": secret.outputs["arn"],
        },
        {"Sid": "KeepFailedEvents", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue.outputs["arn"]},
    ]
    # The function starts only once its secret holds a value and its role may read it.
    assert {integration.urn, paged.one("aws:iam/rolePolicy:RolePolicy", "paging-relay-access").urn} <= set(
        function.depends_on
    )
    recorded = json.dumps([repr(r.inputs) + repr(r.outputs) for r in paged.resources]) + repr(paged.outputs)
    assert key not in recorded and TOKEN not in recorded


def test_failed_events_go_to_a_queue_and_failures_drops_and_the_queue_page_the_pipeline(paged: Plan) -> None:
    """Lambda's asynchronous invocation config (0-2 retries, 60-21600 s: the provider's documented bounds)
    sends what still fails to the SQS queue; four alarms of this stack reach the pipeline topic and chat."""
    function = paged.one("aws:lambda/function:Function")
    queue = paged.one("aws:sqs/queue:Queue")
    assert queue.inputs["name"] == "screener-prod-pagerduty-relay-failed"
    assert queue.inputs["sqsManagedSseEnabled"] is True and queue.inputs["messageRetentionSeconds"] == 1209600
    config = paged.one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["functionName"] == function.inputs["name"]
    assert config.inputs["destinationConfig"] == {"onFailure": {"destination": queue.outputs["arn"]}}
    assert 0 <= config.inputs["maximumRetryAttempts"] <= 2
    assert 60 <= config.inputs["maximumEventAgeInSeconds"] <= 21600
    alarms = {
        a.inputs["name"]: a
        for a in paged.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if "pagerduty-relay" in a.inputs["name"]
    }
    watched = {
        name.removeprefix("screener-prod-pagerduty-relay-"): (
            a.inputs["namespace"],
            a.inputs["metricName"],
            a.inputs["dimensions"],
        )
        for name, a in alarms.items()
    }
    assert watched == {
        "errors": ("AWS/Lambda", "Errors", {"FunctionName": function.inputs["name"]}),
        "destination-failures": (
            "AWS/Lambda",
            "DestinationDeliveryFailures",
            {"FunctionName": function.inputs["name"]},
        ),
        "dropped": ("Screener/PagingRelay", "DroppedMessages", {"FunctionName": function.inputs["name"]}),
        "failed-queue": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue.inputs["name"]}),
    }
    # The metric the alarm watches is the one the relay's log lines emit.
    assert (relay.METRIC_NAMESPACE, relay.DROPPED_METRIC) == ("Screener/PagingRelay", "DroppedMessages")
    chat = "arn:aws:sns:ap-northeast-2:123456789012:screener-prod-alerts-chat"
    for alarm in alarms.values():
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [TOPICS["pipeline"], chat]
        assert (alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == ("GreaterThanThreshold", 0)


def test_the_relay_hangs_off_the_critical_and_pipeline_topics_only(paged: Plan) -> None:
    topics = TOPICS
    topic = topics["critical"]
    function = paged.one("aws:lambda/function:Function")
    subscriptions = paged.of_type("aws:sns/topicSubscription:TopicSubscription")
    to_relay = [s for s in subscriptions if s.inputs["protocol"] == "lambda"]
    assert sorted((s.inputs["topic"], s.inputs["endpoint"]) for s in to_relay) == sorted(
        (arn, function.outputs["arn"]) for arn in topics.values()
    )
    permissions = paged.of_type("aws:lambda/permission:Permission")
    assert [p.inputs for p in sorted(permissions, key=lambda p: p.inputs["sourceArn"])] == [
        {
            "action": "lambda:InvokeFunction",
            "function": function.inputs["name"],
            "principal": "sns.amazonaws.com",
            "sourceArn": arn,
        }
        for arn in sorted(topics.values())
    ]
    assert function.inputs["runtime"] == "python3.12" and function.inputs["handler"] == "relay.handler"
    policy = json.loads(paged.one("aws:iam/rolePolicy:RolePolicy", "paging-relay-logs").inputs["policy"])
    assert [s["Action"] for s in policy["Statement"]] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    # The paging emails stay subscribed: PagerDuty adds a path, it removes none.
    emails = [s for s in subscriptions if s.inputs["protocol"] == "email" and s.inputs["topic"] == topic]
    assert emails


def test_grafanas_critical_contact_point_pages_and_the_team_one_does_not(paged: Plan) -> None:
    oncall = paged.one("grafana:alerting/contactPoint:ContactPoint", "grafana-alerting-oncall")
    (pagerduty,) = rpc.unwrap_rpc_secret(oncall.raw_inputs["pagerduties"])
    assert pagerduty["severity"] == "critical" and len(pagerduty["integrationKey"]) == 32
    team = paged.one("grafana:alerting/contactPoint:ContactPoint", "grafana-alerting-team")
    assert "pagerduties" not in team.inputs


def test_without_paging_nothing_of_pagerduty_is_declared() -> None:
    plan = plan_of("prod")
    assert [r for r in plan.resources if r.type.startswith("pagerduty:") or "lambda" in r.type] == []
    assert "pagerduties" not in plan.one("grafana:alerting/contactPoint:ContactPoint", "grafana-alerting-oncall").inputs


def test_paging_without_its_token_names_the_command() -> None:
    with pytest.raises(ConfigError) as info:
        run_stack("prod", fill_unset_secrets=False, overrides={"monitoring:paging": PAGING})
    assert (
        "stacks/Pulumi.prod.yaml: monitoring:pagerdutyToken: monitoring:paging is set but its secret is missing "
        "(PagerDuty API token (REST API key) for monitoring:paging); run "
        "`pulumi config set --secret monitoring:pagerdutyToken <value> --stack prod`"
    ) in info.value.problems


def test_the_offline_plan_shows_paging_from_the_stack_file_with_a_placeholder_token() -> None:
    # As for every required secret: `make plan` shows where it flows and says which command sets it.
    # (The paged plan itself, with its PagerDuty service, is the `paged` fixture's.)
    stack_file = load_stack_file("prod", overrides={"monitoring:paging": PAGING})
    assert "monitoring:pagerdutyToken" in stack_file.unset_secrets
    assert "monitoring:pagerdutyToken" not in plan_of("prod").stack_file.unset_secrets


def test_a_bad_escalation_policy_id_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        run_stack(
            "prod",
            overrides={
                "monitoring:paging": {**PAGING, "escalationPolicyId": "oncall"},
                "monitoring:pagerdutyToken": SecretValue(TOKEN),
            },
        )
    assert any(
        p.startswith("stacks/Pulumi.prod.yaml: monitoring:paging.escalationPolicyId:") for p in info.value.problems
    )


def test_the_paged_stack_passes_every_policy(paged: Plan) -> None:
    from planner.policy_check import check_plan

    assert check_plan(paged).violations == []


def test_make_plan_of_a_stack_with_paging_writes_its_plan_and_checks_its_policies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 25 item 5: `make plan` of a stack with monitoring:paging crashed on the relay's code archive
    (`TypeError: Object of type AssetArchive is not JSON serializable`), so the relay was never policy-checked."""
    from infra.components.paging import RELAY_SOURCE
    from planner.__main__ import main

    draft = tmp_path / "Pulumi.prod.yaml"
    committed = (REPO_ROOT / "stacks" / "Pulumi.prod.yaml").read_text()
    draft.write_text(committed + "  monitoring:paging: {provider: pagerduty, escalationPolicyId: PABC123}\n")
    assert main(["prod", "--stack-file", str(draft), "--out", str(tmp_path / "build"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "0 mandatory violation(s)" in printed
    plan = json.loads((tmp_path / "build" / "prod" / "plan.json").read_text())
    (function,) = [r for r in plan["resources"] if r["type"] == "aws:lambda/function:Function"]
    # The code is recorded by path and content hash, so a change to the relay shows in `make plan-diff`.
    (member,) = function["inputs"]["code"]["archive"].items()
    assert member[0] == "relay.py" and member[1]["file"] == "infra/paging/relay.py"
    assert member[1]["sha256"] == hashlib.sha256(RELAY_SOURCE.read_bytes()).hexdigest()
