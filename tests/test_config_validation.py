"""Bad stack configuration is refused before any resource is declared, one line per problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT, SecretValue
from planner.engine import SECRET, run_stack

DEV_FILE = "stacks/Pulumi.dev.yaml"


def dev_value(key: str) -> Any:
    document = yaml.safe_load((REPO_ROOT / DEV_FILE).read_text())
    return copy.deepcopy(document["config"][key])


def with_first_service(**changes: Any) -> list[dict[str, Any]]:
    services = dev_value("monitoring:services")
    services[0].update(changes)
    return list(services)


def refused(overrides: dict[str, Any], **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides=overrides, **kwargs)
    assert info.value.declared_resources == []  # type: ignore[attr-defined]
    return info.value


# (case id, overrides, exact start of the expected problem line)
BAD_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown-top-level-key",
        {"monitoring:retention": 15},
        f"{DEV_FILE}: monitoring:retention: unknown key; accepted keys: amp, celeryBrokerUrl, collection,",
    ),
    (
        "unknown-nested-key",
        {"monitoring:amp": {"retentionDay": 15}},
        f"{DEV_FILE}: monitoring:amp.retentionDay: unknown key; accepted keys here: "
        "labelSetLimits, logRetentionDays, protect, quotas, retentionDays",
    ),
    (
        "wrong-type",
        {"monitoring:amp": {"retentionDays": "fifteen"}},
        f"{DEV_FILE}: monitoring:amp.retentionDays: Input should be a valid integer, unable to parse string "
        "as an integer (got 'fifteen')",
    ),
    (
        "threshold-out-of-range",
        {"monitoring:thresholds": {"errorRatioPercent": 150}},
        f"{DEV_FILE}: monitoring:thresholds.errorRatioPercent: Input should be less than or equal to 100 (got 150)",
    ),
    (
        "negative-latency-threshold",
        {"monitoring:thresholds": {"p95LatencyMs": -5}},
        f"{DEV_FILE}: monitoring:thresholds.p95LatencyMs: Input should be greater than or equal to 10 (got -5)",
    ),
    (
        "malformed-url",
        {"monitoring:services": with_first_service(healthUrl="api.screener.kr/health")},
        f"{DEV_FILE}: monitoring:services[0].healthUrl: 'api.screener.kr/health' is not an http(s) URL",
    ),
    (
        "plain-http-url",
        {"monitoring:services": with_first_service(healthUrl="http://api.screener.kr/health")},
        f"{DEV_FILE}: monitoring:services[0].healthUrl: 'http://api.screener.kr/health' must use https://",
    ),
    (
        "malformed-email",
        {"monitoring:notifications": {"emails": ["oncall-at-example.com"]}},
        f"{DEV_FILE}: monitoring:notifications.emails[0]: 'oncall-at-example.com' is not an email address",
    ),
    (
        "same-subscriber-twice",
        {"monitoring:notifications": {"emails": ["oncall@example.com", "OnCall@example.com"]}},
        f"{DEV_FILE}: monitoring:notifications: 'oncall@example.com' and 'OnCall@example.com' are the same "
        "subscriber (SNS ignores case; the logical name drops punctuation); keep one of them",
    ),
    (
        "duplicate-service-name",
        {
            "monitoring:services": [
                *dev_value("monitoring:services"),
                {"name": "api", "kind": "api", "scrape": {"port": 1}},
            ]
        },
        f"{DEV_FILE}: monitoring:services: duplicate service name 'api'; every name must be unique",
    ),
    (
        "two-services-on-one-kubernetes-service",
        {
            "monitoring:services": [
                *dev_value("monitoring:services"),
                {
                    "name": "api-2",
                    "kind": "api",
                    "scrape": {"port": 8000, "k8sService": "api", "staticTargets": ["b:1"]},
                    "healthUrl": "https://api2.dev.screener.kr/health",
                },
            ]
        },
        f"{DEV_FILE}: monitoring:services: services 'api' and 'api-2' both scrape Kubernetes Service screener/api",
    ),
    (
        "unknown-service-kind",
        {"monitoring:services": with_first_service(kind="mongodb")},
        f"{DEV_FILE}: monitoring:services[0].kind: Input should be 'api', 'frontend', 'postgres', 'redis', "
        "'nginx', 'celery' or 'airflow' (got 'mongodb')",
    ),
    (
        "missing-required-value",
        {"monitoring:owner": None},
        f"{DEV_FILE}: monitoring:owner: required value is missing; set it in the stack file",
    ),
    (
        "missing-region",
        {"aws:region": None},
        f"{DEV_FILE}: aws:region: required value is missing",
    ),
    (
        "retention-not-a-cloudwatch-period",
        {"monitoring:amp": {"logRetentionDays": 10}},
        f"{DEV_FILE}: monitoring:amp.logRetentionDays: 10 is not a CloudWatch retention period; one of 1, 3, 5,",
    ),
    (
        "repeat-interval-over-amp-cap",
        {"monitoring:notifications": {"repeatIntervalHours": 200}},
        f"{DEV_FILE}: monitoring:notifications.repeatIntervalHours: Input should be less than or equal to 120",
    ),
    (
        "static-discovery-without-targets",
        {"monitoring:services": with_first_service(scrape={"port": 8000})},
        f"{DEV_FILE}: monitoring:collection: discovery is 'static' but service(s) 'api' have no scrape.staticTargets",
    ),
    (
        "public-service-without-a-url-to-probe",
        {"monitoring:services": with_first_service(healthUrl=None)},
        f"{DEV_FILE}: monitoring:services[0]: service 'api' of kind 'api' is public but nothing probes it",
    ),
    (
        "plain-text-secret",
        {"monitoring:slackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX"},
        f"{DEV_FILE}: monitoring:slackWebhookUrl: the Slack incoming-webhook URL for the Grafana contact point is "
        "in plain text; remove it and run `pulumi config set --secret monitoring:slackWebhookUrl <value> --stack dev`",
    ),
    (
        "scraped-kind-without-scrape",
        {"monitoring:services": with_first_service(scrape=None)},
        f"{DEV_FILE}: monitoring:services[0]: service 'api' of kind 'api' needs a 'scrape' block",
    ),
    (
        "workload-mapped-to-an-unknown-service",
        {"monitoring:kubernetes": {"workloadServices": {"backend-worker": "worker"}}},
        f"{DEV_FILE}: monitoring:kubernetes: workloadServices maps to 'worker', which monitoring:services does not "
        "list; use one of airflow, api, celery, frontend, nginx, postgres, redis",
    ),
    (
        "kubernetes-namespace-not-a-name",
        {"monitoring:kubernetes": {"namespaces": ["Screener"]}},
        f"{DEV_FILE}: monitoring:kubernetes.namespaces: 'Screener' is not a Kubernetes namespace name",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_with_a_line_naming_key_file_and_fix(overrides: dict[str, Any], expected: str) -> None:
    error = refused(overrides)
    assert any(problem.startswith(expected) for problem in error.problems), error.problems


def test_missing_required_secret_names_the_set_secret_command() -> None:
    error = refused({}, fill_unset_secrets=False)
    assert error.problems == [
        f"{DEV_FILE}: monitoring:grafanaAuth: required secret is missing (Grafana service-account token); "
        "run `pulumi config set --secret monitoring:grafanaAuth <value> --stack dev`",
        f"{DEV_FILE}: monitoring:syntheticMonitoringToken: required secret is missing (Grafana Synthetic "
        "Monitoring access token); run `pulumi config set --secret monitoring:syntheticMonitoringToken <value> "
        "--stack dev`",
    ]


def test_every_problem_is_reported_at_once() -> None:
    error = refused(
        {"monitoring:owner": None, "monitoring:thresholds": {"errorRatioPercent": 0}, "monitoring:bogus": 1}
    )
    assert len(error.problems) == 3
    assert str(error).count("\n  - ") == 3


def test_secret_given_as_secret_is_accepted_and_stays_secret() -> None:
    url = "https://hooks.slack.com/services/T000/B000/accepted"
    plan = run_stack("dev", overrides={"monitoring:slackWebhookUrl": SecretValue(url)})
    oncall = plan.one("grafana:alerting/contactPoint:ContactPoint", "grafana-alerting-oncall")
    assert oncall.inputs["slacks"] == SECRET
    assert url not in repr([(r.inputs, r.outputs) for r in plan.resources])
