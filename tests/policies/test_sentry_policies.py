"""Sentry policies: each against a violating and a compliant resource, and over the committed plans."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime.rpc import UNKNOWN
from screener_policies.sentry import sentry_dsn_not_in_plain_text, sentry_key_rate_limited

from planner.engine import PlannedResource
from planner.policy_check import resource_args
from tests.conftest import plan_of
from tests.policies.support import args, messages

KEY = "sentry:index/sentryKey:SentryKey"
PUBLIC = "0123456789abcdef0123456789abcdef"
SECRET_HALF = "fedcba9876543210fedcba9876543210"
# The forms sentry.io shows on a project's Client Keys page.
DSNS = [
    f"https://{PUBLIC}@o4504.ingest.sentry.io/4505",
    f"https://{PUBLIC}:{SECRET_HALF}@o4504.ingest.us.sentry.io/4505",
    f"https://o4504.ingest.sentry.io/api/4505/security/?sentry_key={PUBLIC}",
    f"http://{PUBLIC}@sentry.internal:9000/sub/path/17",
]


def planned(type_token: str, name: str, raw_inputs: dict[str, Any]) -> PlannedResource:
    urn = f"urn:pulumi:dev::monitoring::{type_token}::{name}"
    return PlannedResource(urn, type_token, name, "", True, {}, {}, raw_inputs=raw_inputs)


def key(**props: object) -> object:
    return args(KEY, {"organization": "screener", "project": "screener-backend", **props}, name="backend-key")


def test_key_with_a_count_and_a_window_passes() -> None:
    assert messages(sentry_key_rate_limited, key(rateLimitCount=1000.0, rateLimitWindow=60.0)) == []


@pytest.mark.parametrize(
    "limits",
    [{}, {"rateLimitCount": 1000.0}, {"rateLimitWindow": 60.0}, {"rateLimitCount": 0.0, "rateLimitWindow": 60.0}],
)
def test_key_without_a_full_rate_limit_is_refused_with_the_fix(limits: dict[str, float]) -> None:
    (message,) = messages(sentry_key_rate_limited, key(**limits))
    assert message.startswith("Sentry client key 'backend-key' has no rate limit")
    assert message.endswith(
        "Fix: set monitoring:sentry.backend/frontend.rateLimit {count, windowSeconds} in the stack file."
    )


@pytest.mark.parametrize("dsn", DSNS)
def test_dsn_in_a_config_map_or_a_document_is_refused_naming_where(dsn: str) -> None:
    config_map = args("kubernetes:core/v1:ConfigMap", {"data": {"SENTRY_DSN": dsn}}, name="backend-env")
    (message,) = messages(sentry_dsn_not_in_plain_text, config_map)
    assert message.startswith("ConfigMap 'backend-env' has a Sentry DSN in plain text at data.SENTRY_DSN")
    dashboard = args("grafana:oss/dashboard:Dashboard", {"configJson": json.dumps({"links": [{"url": dsn}]})})
    assert len(messages(sentry_dsn_not_in_plain_text, dashboard)) == 1
    helm = args("kubernetes:helm.sh/v3:Release", {"values": {"env": [{"name": "SENTRY_DSN", "value": dsn}]}})
    assert "at values.env[0].value" in messages(sentry_dsn_not_in_plain_text, helm)[0]


def test_dsn_in_a_kubernetes_secrets_data_passes_and_elsewhere_in_it_does_not() -> None:
    secret = {"metadata": {"name": "sentry-backend"}, "stringData": {"SENTRY_DSN": DSNS[0]}}
    assert messages(sentry_dsn_not_in_plain_text, args("kubernetes:core/v1:Secret", secret)) == []
    labelled = {**secret, "metadata": {"annotations": {"dsn": DSNS[0]}}}
    assert len(messages(sentry_dsn_not_in_plain_text, args("kubernetes:core/v1:Secret", labelled))) == 1


def test_urls_that_are_not_dsns_pass() -> None:
    props = {
        "url": "https://sentry.io/organizations/screener/projects/screener-backend/?environment=prod",
        "baseUrl": "https://sentry.io/api/",
        "remoteWrite": "https://aps-workspaces.ap-northeast-2.amazonaws.com/workspaces/ws-1/api/v1/remote_write",
    }
    assert messages(sentry_dsn_not_in_plain_text, args("grafana:oss/dashboard:Dashboard", props)) == []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_dsn_a_key_gives_is_recognised_and_allowed_only_in_the_backend_secret(stack: str) -> None:
    secret = plan_of(stack).one("kubernetes:core/v1:Secret", "error-tracking-backend-secret")
    assert messages(sentry_dsn_not_in_plain_text, resource_args(secret)) == []
    dsn = secret.raw_inputs["stringData"]["value"]["SENTRY_DSN"]
    leaked = args("kubernetes:core/v1:ConfigMap", {"data": {"SENTRY_DSN": dsn}}, name="backend-env")
    assert len(messages(sentry_dsn_not_in_plain_text, leaked)) == 1


def test_a_value_unknown_during_preview_is_skipped_and_the_known_ones_still_checked() -> None:
    props = {"arn": UNKNOWN, "data": {"later": UNKNOWN, "SENTRY_DSN": DSNS[0]}, "list": [UNKNOWN, "x"]}
    validation = resource_args(planned("kubernetes:core/v1:ConfigMap", "backend-env", props))
    (message,) = messages(sentry_dsn_not_in_plain_text, validation)
    assert "at data.SENTRY_DSN" in message
