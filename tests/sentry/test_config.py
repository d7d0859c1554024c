"""The `monitoring:sentry` block is validated like every other section, before anything is declared."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError
from infra.config.stackfile import SecretValue
from planner.engine import run_stack
from tests.conftest import plan_of
from tests.sentry.support import sentry_block

DEV_FILE = "stacks/Pulumi.dev.yaml"


def refused(overrides: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as info:
        run_stack("dev", overrides=overrides, **kwargs)
    assert info.value.declared_resources == []  # type: ignore[attr-defined]
    return info.value.problems


BAD_BLOCKS: list[tuple[str, dict[str, Any], str]] = [
    (
        "unknown-key",
        sentry_block(dsn="https://example"),
        f"{DEV_FILE}: monitoring:sentry.dsn: unknown key; accepted keys here: alerts, apiUrl, backend, frontend, "
        "organization, ownsSharedObjects, projectPerEnvironment, selfHostedReason, slack, team, webUrl",
    ),
    (
        "no-rate-limit",
        sentry_block(backend={"tracesSampleRate": 0.2}),
        f"{DEV_FILE}: monitoring:sentry.backend.rateLimit: required value is missing; set it in the stack file",
    ),
    (
        "zero-rate-limit",
        sentry_block(frontend={"rateLimit": {"count": 0, "windowSeconds": 60}}),
        f"{DEV_FILE}: monitoring:sentry.frontend.rateLimit.count: Input should be greater than or equal to 1 (got 0)",
    ),
    (
        # Sentry's EventFrequencyCondition accepts 1m, 5m, 15m, 1h, 1d, 1w, 30d only.
        "interval-sentry-refuses",
        sentry_block(alerts={"errorSpike": {"events": 10, "interval": "2h"}}),
        f"{DEV_FILE}: monitoring:sentry.alerts.errorSpike.interval: Input should be '1m', '5m', '15m', '1h', '1d', "
        "'1w' or '30d' (got '2h')",
    ),
    (
        "sample-rate-above-one",
        sentry_block(backend={"rateLimit": {"count": 1, "windowSeconds": 60}, "tracesSampleRate": 1.5}),
        f"{DEV_FILE}: monitoring:sentry.backend.tracesSampleRate: Input should be less than or equal to 1 (got 1.5)",
    ),
    (
        "slack-channel-without-hash",
        sentry_block(slack={"workspace": "Screener", "channel": "alerts"}),
        f"{DEV_FILE}: monitoring:sentry.slack.channel: 'alerts' is not a Slack channel name Slack accepts",
    ),
]


@pytest.mark.parametrize(("block", "expected"), [c[1:] for c in BAD_BLOCKS], ids=[c[0] for c in BAD_BLOCKS])
def test_bad_sentry_block_is_refused_naming_the_key_and_file(block: dict[str, Any], expected: str) -> None:
    problems = refused({"monitoring:sentry": block})
    assert any(problem.startswith(expected) for problem in problems), problems


def test_token_in_plain_text_is_refused_with_the_set_secret_command() -> None:
    problems = refused({"monitoring:sentry": sentry_block(), "monitoring:sentryAuthToken": "sntrys_plain"})
    assert problems == [
        f"{DEV_FILE}: monitoring:sentryAuthToken: the Sentry API token of the organisation (Sentry provider) is in "
        "plain text; remove it and run `pulumi config set --secret monitoring:sentryAuthToken <value> --stack dev`"
    ]


def test_token_is_required_with_the_block_and_only_then() -> None:
    secrets = {
        "monitoring:grafanaAuth": SecretValue("g"),
        "monitoring:syntheticMonitoringToken": SecretValue("s"),
    }
    problems = refused({**secrets, "monitoring:sentry": sentry_block()}, fill_unset_secrets=False)
    assert problems == [
        f"{DEV_FILE}: monitoring:sentryAuthToken: monitoring:sentry is set but its secret is missing (Sentry API token "
        "of the organisation "
        "(Sentry provider)); run `pulumi config set --secret monitoring:sentryAuthToken <value> --stack dev`"
    ]
    # The committed stacks take the organisation's token from the shared ESC environment, like Grafana's.
    assert plan_of("prod").stack_file.from_environment["monitoring:sentryAuthToken"] == "screener-shared"
    assert plan_of("prod").stack_file.unset_secrets == []
