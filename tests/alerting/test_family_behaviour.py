"""Behaviour that only the golden files used to protect, and the family rules' per-service data.

Each case renders a stack's rule files exactly as AMP gets them (`render_rule_files`),
sometimes with one setting changed, and runs a real `promtool test rules` on them:

- an SLO whose long window still burns after the short window has recovered stays quiet
  (the page stops soon after the problem does: the reason for the short window);
- traffic exactly at `slo.minRequestsPerSecond` is enough to page (the guard is `>=`),
  just below it is not;
- a service's own objective (`services[].slo`) is data the one burn-rate rule joins
  against: the same error share pages the service with the tighter objective only.

And from the Alertmanager definition, routed by the real amtool: the Watchdog's receiver
never sends "resolved" (its topic's CloudWatch alarm counts notifications; a resolved one
would look like a heartbeat), while every receiver a person reads does.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting.rules import render_rule_files
from infra.config import StackInput
from infra.config.core import ScrapeSpec, ServiceSloOverride, ServiceSpec
from infra.config.stackfile import stack_settings
from tests.alerting.test_alertmanager import config_of, extracted, routed_to
from tests.alerting.test_rules_promtool import PROMTOOL, PROMTOOL_TEST_ENV
from tests.conftest import STACKS, plan_of

STACK = "staging"
LABELS = 'method="GET",endpoint="/api/v1/screen"'


def run_promtool(
    settings: StackInput, tests: list[dict[str, Any]], directory: Path
) -> subprocess.CompletedProcess[str]:
    files = render_rule_files(settings)
    (directory / "rules").mkdir()
    for namespace, text in files.items():
        (directory / "rules" / f"{namespace}.yaml").write_text(text)
    document = {"rule_files": ["rules/slo.yaml"], "evaluation_interval": "1m", "tests": tests}
    (directory / "behaviour.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run(
        [PROMTOOL, "test", "rules", "behaviour.yaml"],
        cwd=directory,
        env=PROMTOOL_TEST_ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def alerts(name: str, *labels: str) -> str:
    return f'ALERTS{{alertname="{name}",alertstate="firing"{"".join("," + label for label in labels)}}}'


def firing(name: str, severity: str, service: str, slo: str) -> dict[str, Any]:
    labels = f'alertname="{name}",alertstate="firing",service="{service}",severity="{severity}",slo="{slo}"'
    return {"labels": f"ALERTS{{{labels}}}", "value": 1}


# --- the short window recovers: quiet although the long window still burns ---------------------------------


def test_the_page_stops_when_the_short_window_recovers_although_the_long_one_still_burns(tmp_path: Path) -> None:
    settings = stack_settings(STACK)
    budget = 1 - settings.slo.availability_percent / 100
    bad = round(40 * budget * 1000)  # 40x the budget for an hour, at 1000 requests a minute
    good = 1000 - bad
    case = {
        "interval": "1m",
        "input_series": [
            # An hour at 40x, then 35 clean minutes.
            {
                "series": f'http_requests_total{{service="api",{LABELS},status_code="200"}}',
                "values": f"0+{good}x60 {60 * good + 1000}+1000x34",
            },
            {
                "series": f'http_requests_total{{service="api",{LABELS},status_code="500"}}',
                "values": f"0+{bad}x60 {60 * bad}x34",
            },
        ],
        "promql_expr_test": [
            # It paged while the burn went on.
            {
                "expr": alerts("ApiAvailabilityBudgetBurn", 'severity="critical"'),
                "eval_time": "30m",
                "exp_samples": [firing("ApiAvailabilityBudgetBurn", "critical", "api", "availability")],
            },
            # 95 minutes in: the 1h window still burns faster than 14.4x ...
            {
                "expr": f'count(service:http_requests:error_ratio_rate1h{{service="api"}} > 14.4 * {budget:.10f})',
                "eval_time": "95m",
                "exp_samples": [{"labels": "{}", "value": 1}],
            },
            # ... while the 5m window reads no error at all ...
            {
                "expr": 'service:http_requests:error_ratio_rate5m{service="api"}',
                "eval_time": "95m",
                "exp_samples": [{"labels": 'service:http_requests:error_ratio_rate5m{service="api"}', "value": 0}],
            },
            # ... and the 30m window none either: no page.
            {
                "expr": alerts("ApiAvailabilityBudgetBurn", 'severity="critical"'),
                "eval_time": "95m",
                "exp_samples": [],
            },
        ],
    }
    result = run_promtool(settings, [case], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the traffic guard: exactly minRequestsPerSecond pages ----------------------------------------------


@pytest.mark.parametrize(("requests_per_minute", "pages"), [(15, True), (14, False)])
def test_traffic_exactly_at_min_requests_per_second_pages_and_just_below_does_not(
    requests_per_minute: int, pages: bool, tmp_path: Path
) -> None:
    """0.25 requests/s (15 a minute) is exact in binary, so `>=` meets it exactly; 14 a minute is below."""
    base = stack_settings(STACK)
    settings = base.model_copy(update={"slo": base.slo.model_copy(update={"min_requests_per_second": 0.25})})
    fast_per_minute = requests_per_minute - 2  # 2 slow requests a minute: over 13x a 99% latency budget
    labels = f'service="api",{LABELS}'
    case = {
        "interval": "1m",
        "input_series": [
            {
                "series": f'http_requests_total{{{labels},status_code="200"}}',
                "values": f"0+{requests_per_minute}x80",
            },
            {
                "series": f'http_request_duration_seconds_bucket{{{labels},le="0.5"}}',
                "values": f"0+{fast_per_minute}x80",
            },
            {"series": f"http_request_duration_seconds_count{{{labels}}}", "values": f"0+{requests_per_minute}x80"},
        ],
        "promql_expr_test": [
            # The guard reads exactly the setting: 0.25 >= 0.25; 14 a minute is 0.2333 < 0.25.
            {
                "expr": 'service:http_requests:rate1h{service="api"} >= 0.25',
                "eval_time": "75m",
                "exp_samples": [{"labels": 'service:http_requests:rate1h{service="api"}', "value": 0.25}]
                if pages
                else [],
            },
            {
                "expr": alerts("ApiLatencyBudgetBurn", 'severity="critical"'),
                "eval_time": "75m",
                "exp_samples": [firing("ApiLatencyBudgetBurn", "critical", "api", "latency")] if pages else [],
            },
        ],
    }
    result = run_promtool(settings, [case], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- a per-service objective --------------------------------------------------------------------------------


def with_payments_override(objective_percent: float | None) -> StackInput:
    """Staging plus an API service `payments` whose availability objective is `objective_percent` (None: default)."""
    base = stack_settings(STACK)
    payments = ServiceSpec(
        name="payments",
        kind="api",
        scrape=ScrapeSpec(port=8000),
        slo=ServiceSloOverride(availability_percent=objective_percent) if objective_percent else None,
    )
    return base.model_copy(update={"services": (*base.services, payments)})


def test_a_services_own_objective_adds_no_rule() -> None:
    def rules(settings: StackInput) -> int:
        return sum(len(g["rules"]) for d in render_rule_files(settings).documents.values() for g in d["groups"])

    assert rules(with_payments_override(99.95)) == rules(with_payments_override(None))


@pytest.mark.parametrize(("objective", "payments_pages"), [(99.95, True), (None, False)])
def test_a_services_own_objective_pages_it_where_the_stack_objective_would_not(
    objective: float | None, payments_pages: bool, tmp_path: Path
) -> None:
    """0.45 % errors on both: 0.9x the stack's 99.5 % budget (quiet), 9x a 99.95 % budget (the 6h/30m page)."""
    settings = with_payments_override(objective)
    series = [
        {"series": f'http_requests_total{{service="{service}",{LABELS},status_code="{status}"}}', "values": values}
        for service in ("api", "payments")
        for status, values in (("200", "0+995.5x40"), ("500", "0+4.5x40"))
    ]
    expected_objectives = [
        {"labels": 'slo:objective:ratio{service="api",slo="availability"}', "value": 0.995},
        {
            "labels": 'slo:objective:ratio{service="payments",slo="availability"}',
            "value": 0.9995 if objective else 0.995,
        },
    ]
    case = {
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [
            {"expr": 'slo:objective:ratio{slo="availability"}', "eval_time": "10m", "exp_samples": expected_objectives},
            {
                "expr": alerts("ApiAvailabilityBudgetBurn"),
                "eval_time": "40m",
                "exp_samples": [
                    firing("ApiAvailabilityBudgetBurn", "critical", "payments", "availability"),
                    firing("ApiAvailabilityBudgetBurn", "warning", "payments", "availability"),
                ]
                if payments_pages
                else [],
            },
        ],
    }
    result = run_promtool(settings, [case], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the Watchdog never sends "resolved"; people's receivers do ----------------------------------------------


@pytest.fixture(scope="module")
def alertmanager_configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {stack: extracted(plan_of(stack), tmp_path_factory.mktemp(stack)) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_the_watchdog_route_never_sends_resolved_and_every_other_receiver_does(
    stack: str, alertmanager_configs: dict[str, Path]
) -> None:
    configs = alertmanager_configs
    config = config_of(configs[stack])
    receivers = {receiver["name"]: receiver for receiver in config["receivers"]}

    def sends_resolved(receiver: str) -> set[bool]:
        return {sns["send_resolved"] for sns in receivers[receiver].get("sns_configs", [])}

    watchdog = routed_to(configs[stack], alertname="Watchdog", severity="none", service="monitoring")
    assert sends_resolved(watchdog) == {False}, watchdog
    for severity in ("critical", "warning"):
        receiver = routed_to(configs[stack], alertname="ServiceDown", severity=severity, service="api")
        assert sends_resolved(receiver) == {True}, receiver


def test_an_slo_block_on_a_service_without_slos_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="only api services have SLOs: remove it"):
        ServiceSpec(
            name="redis",
            kind="redis",
            scrape=ScrapeSpec(port=9121),
            slo=ServiceSloOverride(availability_percent=99.9),
        )
