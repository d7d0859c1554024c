"""Under mocks: one HTTP check per public endpoint, with the stack's probes, period, TLS rules and labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from infra.components.synthetics_checks import CACHE_BUSTING_PARAM
from infra.config.stackfile import stack_settings
from planner.artifacts import write_artifacts
from planner.engine import SECRET, Plan
from planner.fakes.grafana import PUBLIC_PROBES
from tests.conftest import STACKS, plan_of
from tests.synthetics.support import CHECK, PROVIDER, checks_by_job, http

# What the committed stack files ask for: period and timeout (s), probes and alert sensitivity.
EXPECTED = {
    "dev": (300, 10, ["Seoul"], "low"),
    "staging": (120, 10, ["Seoul", "Tokyo"], "medium"),
    "prod": (60, 5, ["Seoul", "Tokyo", "Singapore"], "high"),
}


def test_every_public_endpoint_of_the_catalog_gets_exactly_one_check(stack_plan: Plan) -> None:
    stack = stack_plan.stack
    endpoints = {(service.name, url) for service in stack_settings(stack).services for url in service.public_endpoints}
    checks = checks_by_job(stack_plan)
    assert {(c.inputs["labels"]["service"], c.inputs["target"]) for c in checks.values()} == endpoints
    assert set(checks) == {f"screener-{stack}-api-health", f"screener-{stack}-frontend-home"}
    assert (
        checks[f"screener-{stack}-api-health"].inputs["target"]
        == {
            "dev": "https://api.dev.screener.kr/health",
            "staging": "https://api.staging.screener.kr/health",
            "prod": "https://api.screener.kr/health",
        }[stack]
    )


@pytest.mark.parametrize("stack", STACKS)
def test_checks_run_at_the_stacks_period_and_timeout_in_milliseconds(stack: str) -> None:
    period, timeout, _, sensitivity = EXPECTED[stack]
    for check in plan_of(stack).of_type(CHECK):
        # The API counts milliseconds: 60 would mean a check every 60 ms.
        assert check.inputs["frequency"] == period * 1000
        assert check.inputs["timeout"] == timeout * 1000
        assert check.inputs["alertSensitivity"] == sensitivity
        assert check.inputs["enabled"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_checks_run_from_the_configured_probes_resolved_to_their_ids(stack: str) -> None:
    names = EXPECTED[stack][2]
    for check in plan_of(stack).of_type(CHECK):
        assert check.inputs["probes"] == [PUBLIC_PROBES[name] for name in names]


def test_checks_carry_env_and_service_labels(stack_plan: Plan) -> None:
    for job, check in checks_by_job(stack_plan).items():
        service = job.removeprefix(f"screener-{stack_plan.stack}-").split("-")[0]
        assert check.inputs["labels"] == {"env": stack_plan.stack, "service": service}


def test_every_check_requires_tls_and_verifies_the_certificate(stack_plan: Plan) -> None:
    for check in stack_plan.of_type(CHECK):
        settings = http(check)
        assert check.inputs["target"].startswith("https://")
        assert settings["failIfNotSsl"] is True
        assert settings["tlsConfig"] == {"insecureSkipVerify": False}
        assert settings["validStatusCodes"] == [200]


def test_api_health_check_asserts_the_status_field_of_its_json_body(stack_plan: Plan) -> None:
    check = checks_by_job(stack_plan)[f"screener-{stack_plan.stack}-api-health"]
    (pattern,) = http(check)["failIfBodyNotMatchesRegexps"]
    assert re.search(pattern, '{"status": "ok", "version": "1.4.2"}')
    assert re.search(pattern, '{"db":"up","status":"healthy"}')
    assert not re.search(pattern, '{"status": "degraded"}')
    assert not re.search(pattern, "<html>502 Bad Gateway</html>")
    assert "cacheBustingQueryParamName" not in http(check)


def test_frontend_check_defeats_caches_and_asserts_no_body(stack_plan: Plan) -> None:
    check = checks_by_job(stack_plan)[f"screener-{stack_plan.stack}-frontend-home"]
    assert http(check)["cacheBustingQueryParamName"] == CACHE_BUSTING_PARAM
    assert "failIfBodyNotMatchesRegexps" not in http(check)


def test_checks_use_a_provider_that_holds_only_the_synthetic_monitoring_url_and_token(stack_plan: Plan) -> None:
    provider = stack_plan.one(PROVIDER, "grafana-synthetics")
    assert provider.inputs["smUrl"] == "https://synthetic-monitoring-api.grafana.net"
    assert provider.inputs["smAccessToken"] == SECRET
    assert rpc.is_rpc_secret(provider.raw_inputs["smAccessToken"])
    assert not {"auth", "url", "cloudAccessPolicyToken"} & set(provider.inputs)
    for check in stack_plan.of_type(CHECK):
        assert check.provider.startswith(provider.urn + "::"), check.name


def test_check_ids_are_a_stack_output_by_job(stack_plan: Plan) -> None:
    ids = stack_plan.outputs["synthetic_check_ids"]
    assert set(ids) == set(checks_by_job(stack_plan))
    assert all(value.isdigit() for value in ids.values())


def test_make_plan_writes_every_checks_arguments_under_build(tmp_path: Path) -> None:
    plan = plan_of("prod")
    written = write_artifacts(plan, tmp_path)
    checks = checks_by_job(plan)
    assert {path.name for path in written if path.parent.name == "synthetics"} == {f"{job}.json" for job in checks}
    for job, check in checks.items():
        document = json.loads((tmp_path / "synthetics" / f"{job}.json").read_text())
        assert document["target"] == check.inputs["target"]
        assert document["probes"] == check.inputs["probes"] == [14, 11, 9]  # Seoul, Tokyo, Singapore
        assert document["settings"]["http"]["failIfNotSsl"] is True
