"""Example values in the stack files: the offline plan names each as a warning, a real deployment refuses them.

The real entry point (__main__.py, what the Pulumi CLI runs) is run here under the same mock engine as the
planner: it must stop before declaring anything while an example is left, and plan normally once none is.
"""

from __future__ import annotations

import runpy
from typing import Any

import pytest

from infra.config.loader import decode_config_value
from infra.config.model import StackInput
from infra.config.placeholders import PLACEHOLDERS, PlaceholderError, find_placeholders
from infra.config.stackfile import REPO_ROOT, load_stack_file
from planner.engine import PLACEHOLDER_WARNING, run_program
from tests.conftest import plan_of

# What the committed prod file holds (or leaves at an example default), key by key.
PROD_EXAMPLES = {
    "collection.securityGroupIds[0]",
    "collection.subnetIds[0]",
    "collection.subnetIds[1]",
    "grafana.externalId",
    "grafana.stackSlug",
    "grafana.url",
    "notifications.emails[0]",
    "notifications.emails[1]",
    "notifications.slack.channelId",
    "notifications.slack.teamId",
    "rules.runbookBaseUrl",
    "sentry.organization",
    "sentry.slack.workspace",
}

# Real-looking values for every example the dev file holds: with these, nothing is a placeholder.
DEV_REAL_VALUES: dict[str, Any] = {
    "monitoring:grafana": {"url": "https://acme.grafana.net", "externalId": "424242"},
    "monitoring:notifications": {"emails": ["oncall@acme.io"], "repeatIntervalHours": 12},
    "monitoring:rules": {"runbookBaseUrl": "https://github.com/acme/monitoring/blob/main/docs/runbooks.md"},
}


def settings_of(stack: str, overrides: dict[str, Any] | None = None) -> StackInput:
    stack_file = load_stack_file(stack, fill_unset_secrets=False, overrides=overrides)
    raw = {
        key.removeprefix("monitoring:"): decode_config_value(value)
        for key, value in stack_file.config.items()
        if key.startswith("monitoring:") and key not in stack_file.secret_keys
    }
    return StackInput.model_validate(raw)


def run_entry_point(stack: str, overrides: dict[str, Any] | None = None) -> Any:
    """What `pulumi up` runs: __main__.py itself, under the planner's mock engine."""
    stack_file = load_stack_file(stack, overrides=overrides)

    def entry_point() -> None:
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")

    return run_program(stack_file, entry_point)


def test_the_offline_plan_names_every_example_value_of_prod_as_a_warning():
    warnings = [d.message for d in plan_of("prod").diagnostics if d.message.startswith(PLACEHOLDER_WARNING)]
    named = {line.split(": ")[2].removeprefix("monitoring:") for line in warnings}
    assert named == PROD_EXAMPLES and len(warnings) == len(PROD_EXAMPLES)
    grafana_url = next(line for line in warnings if "monitoring:grafana.url:" in line)
    assert grafana_url == (
        "placeholder: stacks/Pulumi.prod.yaml: monitoring:grafana.url: holds the example value "
        "'https://screener.grafana.net'; set it to your Grafana Cloud stack's URL, https://<slug>.grafana.net "
        "(grafana.com → My Account → the stack → Launch)"
    )
    runbook = next(line for line in warnings if "runbookBaseUrl" in line)
    assert "is not set, so it defaults to the example value" in runbook


def test_the_real_entry_point_refuses_the_same_list_before_declaring_anything():
    with pytest.raises(PlaceholderError) as refused:
        run_entry_point("prod")
    planned = sorted(
        d.message.removeprefix(PLACEHOLDER_WARNING)
        for d in plan_of("prod").diagnostics
        if d.message.startswith(PLACEHOLDER_WARNING)
    )
    assert sorted(refused.value.problems) == planned
    assert refused.value.declared_resources == []  # type: ignore[attr-defined]
    message = str(refused.value)
    assert message.startswith("13 example value(s) left in the stack configuration; nothing was deployed.")
    assert all(f"  - {line}" in message for line in planned)


def test_with_real_values_the_real_entry_point_declares_the_stack():
    assert find_placeholders(settings_of("dev", DEV_REAL_VALUES)) == []
    plan = run_entry_point("dev", DEV_REAL_VALUES)
    assert plan.one("pulumi:providers:grafana", "grafana").inputs["url"] == "https://acme.grafana.net"
    assert not [d for d in plan.diagnostics if d.message.startswith(PLACEHOLDER_WARNING)]


def test_a_planted_example_value_is_named_by_key_and_file():
    planted = {**DEV_REAL_VALUES, "monitoring:notifications": {"emails": ["oncall@acme.io", "team@example.com"]}}
    (found,) = find_placeholders(settings_of("dev", planted))
    assert found.path == "notifications.emails[1]" and found.value == "team@example.com"
    assert found.describe("stacks/Pulumi.dev.yaml").startswith(
        "stacks/Pulumi.dev.yaml: monitoring:notifications.emails[1]: holds the example value 'team@example.com'; "
        "set it to a real mailbox"
    )
    with pytest.raises(PlaceholderError, match=r"monitoring:notifications\.emails\[1\]"):
        run_entry_point("dev", planted)


@pytest.mark.parametrize(
    ("address", "example"),
    [
        ("team@example.com", True),
        ("team@EXAMPLE.ORG", True),
        ("team@alerts.example.net", True),
        ("team@corp.example", True),
        ("team@box.test", True),
        ("team@example.co", False),  # a real (Colombian) domain
        ("team@notexample.com", False),
        ("team@example.com.kr", False),
        ("team@examples.com", False),
    ],
)
def test_only_the_documentation_domains_count_as_example_addresses(address, example):
    (rule,) = [p for p in PLACEHOLDERS if p.key == "notifications.emails[]"]
    assert rule.matches(address) is example


def test_a_value_equal_to_an_example_elsewhere_is_not_named():
    # 'screener' is the example Sentry organisation, but as the Sentry team it is a name this stack creates.
    found = {f.path for f in find_placeholders(settings_of("prod"))}
    assert "sentry.team" not in found and "sentry.organization" in found


def test_the_plan_says_that_a_deployment_refuses_them():
    (count,) = [d for d in plan_of("prod").diagnostics if "example value(s) in" in d.message]
    assert (count.severity, count.urn) == ("warning", "")
    assert count.message == (
        "13 example value(s) in stacks/Pulumi.prod.yaml (the 'placeholder: ...' warnings): `pulumi preview` and "
        "`pulumi up` refuse the stack until each is replaced (docs/deploying.md)"
    )
