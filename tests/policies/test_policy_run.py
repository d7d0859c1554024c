"""The offline policy run of `make plan`: committed stacks pass, violations fail the plan, and the
offline runner sees resources exactly as the policy SDK's own analyzer does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import proto
from pulumi.runtime.rpc import UNKNOWN, wrap_rpc_secret
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer
from screener_policies import DEFAULT_ENFORCEMENT, PACK_NAME, POLICIES

import planner.__main__ as plan_command
from infra.config.stackfile import StackFile
from planner.engine import Plan, PlannedResource, run_stack
from planner.policy_check import check_plan, format_report
from tests.conftest import plan_of

LOW_RETENTION = {"monitoring:amp": {"retentionDays": 7}}


def test_every_committed_stack_passes_every_mandatory_policy(stack_plan: Plan) -> None:
    report = check_plan(stack_plan)
    assert report.policies == len(POLICIES) >= 21
    assert report.resources == len(stack_plan.resources) > 0
    assert report.not_run == []
    assert report.blocking == [], format_report(stack_plan, report)


def test_make_plan_exits_3_naming_the_resource_the_policy_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(
        plan_command, "run_stack", lambda stack, **options: run_stack(stack, overrides=LOW_RETENTION, **options)
    )
    assert plan_command.main(["dev", "--quiet", "--out", str(tmp_path)]) == 3
    out, err = capsys.readouterr()
    assert (
        "[mandatory] amp-retention-at-least-15-days: "
        "aws:amp/workspaceConfiguration:WorkspaceConfiguration 'amp-configuration'"
    ) in out
    assert "AMP retention is 7 days, below the 15 days the spec requires. Fix: set amp.retentionDays" in out
    assert "error: 1 mandatory policy violation(s) in stack dev" in err


def _analyze_with_the_sdk(plan: Plan) -> list[tuple[str, str]]:
    """Run the pack through the policy SDK's own gRPC servicer, request by request, as the CLI does."""
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", POLICIES, DEFAULT_ENFORCEMENT)
    found: list[tuple[str, str]] = []
    for resource in plan.resources:
        request = proto.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            options=proto.AnalyzerResourceOptions(protect=resource.protect),
        )
        request.properties.update({k: v for k, v in resource.raw_inputs.items() if not k.startswith("__")})
        response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]
        found += [(d.policyName, d.urn or resource.urn) for d in response.diagnostics]
    return found


def test_offline_runner_reports_what_the_sdk_analyzer_reports() -> None:
    violating = run_stack("dev", overrides=LOW_RETENTION)
    sdk = _analyze_with_the_sdk(violating)
    offline = [(v.policy, v.urn) for v in check_plan(violating).violations]
    assert sdk == offline
    assert [policy for policy, _ in sdk] == ["amp-retention-at-least-15-days"]


def test_sdk_analyzer_finds_nothing_in_the_committed_prod_stack() -> None:
    assert _analyze_with_the_sdk(plan_of("prod")) == []


def test_sdk_accepts_the_pack_and_its_enforcement_levels() -> None:
    servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.1.0", POLICIES, DEFAULT_ENFORCEMENT)
    info = servicer.GetAnalyzerInfo(None, None)  # type: ignore[no-untyped-call]
    levels = {p.name: p.enforcementLevel for p in info.policies}
    assert info.name == "screener-monitoring-conventions"
    assert levels["grafana-contact-point-slack-secret"] == proto.REMEDIATE
    # An estimate of what a catastrophe would drop warns; it does not block a deploy.
    assert levels["amp-alertmanager-outage-quotas"] == proto.ADVISORY
    assert {n for n, level in levels.items() if level != proto.MANDATORY} == {
        "grafana-contact-point-slack-secret",
        "amp-alertmanager-outage-quotas",
    }
    assert DEFAULT_ENFORCEMENT == EnforcementLevel.MANDATORY


def _plan(*resources: PlannedResource) -> Plan:
    return Plan("dev", StackFile("dev", "stacks/Pulumi.dev.yaml", {}, []), list(resources), {})


def _resource(type_token: str, name: str, raw_inputs: dict[str, Any]) -> PlannedResource:
    urn = f"urn:pulumi:dev::monitoring::{type_token}::{name}"
    return PlannedResource(urn, type_token, name, "", True, {}, {}, raw_inputs=raw_inputs)


def test_plain_slack_url_fails_the_plan_although_the_engine_would_remediate_it() -> None:
    contact_point = _resource(
        "grafana:alerting/contactPoint:ContactPoint", "chat", {"name": "chat", "slacks": [{"url": "https://hooks.x"}]}
    )
    (violation,) = check_plan(_plan(contact_point)).violations
    assert violation.policy == "grafana-contact-point-slack-secret"
    assert violation.enforcement == "remediate" and violation.blocking
    assert "The engine would rewrite slacks of this resource." in violation.message
    assert "Fix: Pass config.secrets.slack_webhook_url" in violation.message


def test_secret_slack_url_passes() -> None:
    contact_point = _resource(
        "grafana:alerting/contactPoint:ContactPoint",
        "chat",
        {"name": "chat", "slacks": [{"url": wrap_rpc_secret("https://hooks.x")}]},
    )
    assert check_plan(_plan(contact_point)).violations == []


def test_a_value_unknown_during_preview_is_reported_as_not_run_not_as_a_verdict() -> None:
    tags = {"environment": "dev", "service": "screener-monitoring", "owner": "platform-team"}
    topic = _resource("aws:sns/topic:Topic", "alerts", {"name": "alerts", "kmsMasterKeyId": UNKNOWN, "tags": tags})
    report = check_plan(_plan(topic))
    assert report.violations == []
    assert report.not_run == [
        "sns-topic-customer-managed-key on alerts: string value at .kmsMasterKeyId can't be known during preview"
    ]
