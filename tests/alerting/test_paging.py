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
from typing import Any

import pytest
from pulumi.runtime import rpc

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT, SecretValue, load_stack_file
from infra.paging import relay
from planner.engine import SECRET, Plan, run_stack
from tests.alerting.test_alertmanager import LONG_NAME, alert, configs, render  # noqa: F401 (configs is a fixture)
from tests.conftest import plan_of

PAGING = {"provider": "pagerduty", "escalationPolicyId": "PABC123"}
TOKEN = "u+pd-test-only-token"
KEY = "R0UT1NGKEY0000000000000000000000"


# --- the relay ---------------------------------------------------------------------------------------------------


def test_a_firing_and_its_resolve_share_the_dedup_key(configs: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    firing = render(
        "prod", configs, "screener.subject", [alert("ApiHighErrorRate"), alert("ApiHighErrorRate")], tmp_path
    )
    resolved = render("prod", configs, "screener.subject", [alert("ApiHighErrorRate", "resolved")], tmp_path)
    assert firing.startswith("[FIRING:2] ") and resolved.startswith("[RESOLVED] ")
    trigger = relay.event_for(firing, "body", KEY)
    resolve = relay.event_for(resolved, "body", KEY)
    assert trigger is not None and resolve is not None
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == "amp:CRITICAL ApiHighErrorRate api (prod)"
    assert trigger["routing_key"] == KEY
    assert trigger["payload"] == {
        "summary": "CRITICAL ApiHighErrorRate api (prod)",
        "source": "amp-alertmanager",
        "severity": "critical",
        "custom_details": {"message": "body"},
    }
    assert "payload" not in resolve


def test_a_long_groups_trigger_and_resolve_still_pair_up(configs: dict[str, Path], tmp_path: Path) -> None:  # noqa: F811
    # The template cuts the subject at 96 characters: "[FIRING:12] " and "[RESOLVED] " leave
    # different lengths of the group.
    firing = render("prod", configs, "screener.subject", [alert(LONG_NAME)] * 12, tmp_path)
    resolved = render("prod", configs, "screener.subject", [alert(LONG_NAME, "resolved")], tmp_path)
    assert firing.endswith("...") and resolved.endswith("...") and firing[12:] != resolved[11:]
    trigger, resolve = relay.event_for(firing, "", KEY), relay.event_for(resolved, "", KEY)
    assert trigger is not None and resolve is not None
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert trigger["dedup_key"] != relay.event_for("[FIRING:1] CRITICAL Other api (prod)", "", KEY)["dedup_key"]  # type: ignore[index]


def test_cloudwatch_alarms_on_amp_trigger_and_resolve_by_alarm_name() -> None:
    alarm = {"AlarmName": "screener-prod-watchdog-silent", "NewStateValue": "ALARM", "NewStateReason": "no messages"}
    trigger = relay.event_for('ALARM: "screener-prod-watchdog-silent" in Asia Pacific (Seoul)', json.dumps(alarm), KEY)
    ok = relay.event_for("OK: ...", json.dumps({**alarm, "NewStateValue": "OK"}), KEY)
    assert trigger is not None and ok is not None
    assert (trigger["event_action"], ok["event_action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == ok["dedup_key"] == "cloudwatch:screener-prod-watchdog-silent"
    assert trigger["payload"]["summary"] == "screener-prod-watchdog-silent: no messages"


def test_messages_that_are_not_alerts_are_not_relayed() -> None:
    assert relay.event_for(None, "hello", KEY) is None
    assert (
        relay.event_for(
            "Subscription confirmed", json.dumps({"AlarmName": "x", "NewStateValue": "INSUFFICIENT_DATA"}), KEY
        )
        is None
    )


def test_the_handler_posts_each_alert_to_the_events_api(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *args: object) -> None:
            pass

        def read(self) -> bytes:
            return b'{"status":"success"}'

    def urlopen(request: Any, timeout: float) -> Response:
        sent.append((request.full_url, json.loads(request.data)))
        return Response()

    monkeypatch.setenv("PAGERDUTY_ROUTING_KEY", KEY)
    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    records = [
        {"Sns": {"Subject": "[FIRING:1] CRITICAL PostgresDown postgres (prod)", "Message": "down"}},
        {"Sns": {"Subject": None, "Message": "not an alert"}},
    ]
    assert relay.handler({"Records": records}, None) == {"sent": 1}
    ((url, event),) = sent
    assert url == "https://events.pagerduty.com/v2/enqueue"
    assert event["routing_key"] == KEY and event["dedup_key"] == "amp:CRITICAL PostgresDown postgres (prod)"


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


def test_the_integration_key_and_the_token_stay_secret(paged: Plan) -> None:
    integration = paged.one("pagerduty:index/serviceIntegration:ServiceIntegration")
    assert integration.outputs["integrationKey"] == SECRET
    function = paged.one("aws:lambda/function:Function")
    assert function.inputs["environment"] == SECRET
    (variables,) = [rpc.unwrap_rpc_secret(function.raw_inputs["environment"])["variables"]]
    assert set(variables) == {"PAGERDUTY_ROUTING_KEY"}
    # The relay's copy of the integration's key (the plan records outputs redacted only).
    key = variables["PAGERDUTY_ROUTING_KEY"]
    assert len(key) == 32
    recorded = json.dumps([repr(r.inputs) + repr(r.outputs) for r in paged.resources]) + repr(paged.outputs)
    assert key not in recorded and TOKEN not in recorded


def test_the_relay_hangs_off_the_critical_and_pipeline_topics_only(paged: Plan) -> None:
    topics = {
        audience: f"arn:aws:sns:ap-northeast-2:123456789012:screener-prod-alerts-{audience}"
        for audience in ("critical", "pipeline")
    }
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
