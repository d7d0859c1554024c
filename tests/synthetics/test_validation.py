"""Bad synthetics settings fail the plan with a line naming the setting, the stack file and the fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.components.synthetics_checks import resolve_probes
from infra.config import ConfigError
from infra.config.stackfile import stack_settings
from planner.engine import Plan, run_stack
from planner.fakes.grafana import PUBLIC_PROBES
from planner.policy_check import check_plan
from tests.synthetics.support import CHECK, TOKEN_KEY, checks_by_job, http

DEV_FILE = "stacks/Pulumi.dev.yaml"


def synthetics(stack: str = "dev", **changes: Any) -> dict[str, Any]:
    """The stack's synthetics section as the stack file spells it, with `changes` applied."""
    return {**stack_settings(stack).synthetics.model_dump(mode="json", by_alias=True), **changes}


def refused(stack: str = "dev", **overrides: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        run_stack(stack, overrides={f"monitoring:{key}": value for key, value in overrides.items()})
    return caught.value


def test_an_unknown_probe_name_fails_the_plan_listing_the_valid_names() -> None:
    error = refused(synthetics=synthetics(probes=["Seoul", "Seol"]))
    (problem,) = error.problems
    assert problem.startswith(f"{DEV_FILE}: monitoring:synthetics.probes: unknown probe name(s) 'Seol'; valid names: ")
    assert problem.endswith(", ".join(sorted(PUBLIC_PROBES)))
    # Only the provider that answers the lookup is declared before the error.
    declared = [r.type for r in error.declared_resources]  # type: ignore[attr-defined]
    assert declared == ["pulumi:providers:grafana"]


def test_probe_ids_follow_the_configured_order() -> None:
    assert resolve_probes(["Tokyo", "Seoul"], {"Seoul": 14, "Tokyo": 11, "Paris": 12}, DEV_FILE) == [11, 14]


def test_another_known_probe_is_resolved_through_the_lookup() -> None:
    plan = run_stack("dev", overrides={"monitoring:synthetics": synthetics(probes=["Frankfurt", "Sydney"])})
    for check in plan.of_type(CHECK):
        assert check.inputs["probes"] == [PUBLIC_PROBES["Frankfurt"], PUBLIC_PROBES["Sydney"]]


def test_prod_with_fewer_than_three_probes_is_blocked_by_the_policy_pack() -> None:
    plan = run_stack("prod", overrides={"monitoring:synthetics": synthetics("prod", probes=["Seoul", "Tokyo"])})
    blocking = [v for v in check_plan(plan).blocking if v.policy == "synthetic-check-three-probes-in-prod"]
    assert len(blocking) == len(plan.of_type(CHECK)) == 2
    assert "runs from 2 probe(s)" in blocking[0].message


def test_committed_stacks_pass_every_synthetics_policy(stack_plan: Plan) -> None:
    assert [v for v in check_plan(stack_plan).violations if v.policy.startswith("synthetic-")] == []


def test_the_synthetic_monitoring_token_is_required_and_the_error_says_how_to_set_it() -> None:
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", fill_unset_secrets=False, overrides={"monitoring:grafanaAuth": {"secure": "x"}})
    assert caught.value.problems == [
        f"{DEV_FILE}: {TOKEN_KEY}: required secret is missing (Grafana Synthetic Monitoring access token); "
        f"run `pulumi config set --secret {TOKEN_KEY} <value> --stack dev`"
    ]


def test_a_public_service_without_a_public_url_is_refused() -> None:
    services = [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in stack_settings("dev").services]
    del services[0]["healthUrl"]
    (problem,) = refused(services=services).problems
    assert problem == (
        f"{DEV_FILE}: monitoring:services[0]: service 'api' of kind 'api' is public but nothing probes it from "
        "outside; set its healthUrl or publicUrl (or add a monitoring:synthetics.checks entry for it)"
    )


def test_a_plain_http_extra_check_needs_a_reason() -> None:
    extra = {"name": "status", "service": "api", "url": "http://status.dev.screener.kr/"}
    (problem,) = refused(synthetics=synthetics(checks=[extra])).problems
    assert problem.startswith(f"{DEV_FILE}: monitoring:synthetics.checks[0]: check 'status' probes plain http")
    assert "use https:// or set allowHttpReason" in problem


def test_an_extra_https_check_joins_the_alert_rules_over_every_check() -> None:
    extra = {"name": "search", "service": "frontend", "url": "https://dev.screener.kr/search", "bodyRegexp": "Screener"}
    plan = run_stack("dev", overrides={"monitoring:synthetics": synthetics(checks=[extra])})
    check = checks_by_job(plan)["screener-dev-frontend-search"]
    assert http(check)["failIfNotSsl"] is True
    assert http(check)["failIfBodyNotMatchesRegexps"] == ["Screener"]
    group = next(g for g in plan.of_type("grafana:alerting/ruleGroup:RuleGroup") if g.inputs["name"] == "synthetics")
    expr = json.loads(group.inputs["rules"][0]["datas"][0]["model"])["expr"]
    assert "screener-dev-frontend-home|screener-dev-frontend-search" in expr
    # and its service reads back from its job: `search` is among the check names of the pattern
    assert '"service", "$1", "job", "screener-dev-(.+)-(?:health|home|search)"' in expr


def test_an_http_check_with_a_reason_drops_only_the_tls_requirement_and_is_waived() -> None:
    extra = {
        "name": "legacy",
        "service": "api",
        "url": "http://legacy.dev.screener.kr/ping",
        "allowHttpReason": "the legacy partner endpoint has no certificate until Q3",
    }
    plan = run_stack("dev", overrides={"monitoring:synthetics": synthetics(checks=[extra])})
    settings = http(checks_by_job(plan)["screener-dev-api-legacy"])
    assert "failIfNotSsl" not in settings
    assert settings["tlsConfig"] == {"insecureSkipVerify": False}
    legacy = checks_by_job(plan)["screener-dev-api-legacy"]
    assert legacy.inputs["labels"]["plain_http"] == "waived"
    # The reason travels as the waiver label, so the mandatory policy lets this one check through.
    assert [v for v in check_plan(plan).blocking if v.policy == "synthetic-check-https"] == []


def test_an_extra_check_of_an_unknown_service_is_refused() -> None:
    extra = {"name": "docs", "service": "docs", "url": "https://docs.dev.screener.kr/"}
    (problem,) = refused(synthetics=synthetics(checks=[extra])).problems
    assert problem.startswith(
        f"{DEV_FILE}: monitoring:synthetics.checks[0].service: 'docs' is not in the service catalog"
    )


def test_a_timeout_longer_than_the_period_is_refused() -> None:
    (problem,) = refused(synthetics=synthetics(frequencySeconds=30, timeoutSeconds=45)).problems
    assert problem == (
        f"{DEV_FILE}: monitoring:synthetics: timeoutSeconds 45 exceeds frequencySeconds 30; "
        "a check must finish before the next run"
    )
