"""What the program sends to Sentry, checked against the provider's SDK and Sentry's own source.

Mocks accept anything, so these read the contracts themselves:
- the installed SDK, pulumiverse-sentry 0.0.9 (`pulumiverse_sentry/sentry_issue_alert.py`,
  `sentry_key.py`, `sentry_project.py`, `sentry_team.py`): argument names and their Python types. The
  issue-alert schema is the older one, where conditions, filters and actions are lists of
  string-to-string maps (`Sequence[Mapping[str, Input[str]]]`), so a number must be sent as a string;
- getsentry/sentry, the rule registry the ids name: `src/sentry/rules/conditions/first_seen_event.py`,
  `regression_event.py`, `event_frequency.py` (STANDARD_INTERVALS 1m 5m 15m 1h 1d 1w 30d; comparisonType
  count|percent), `src/sentry/mail/actions.py` (NotifyEmailAction: targetType IssueOwners|Team|Member,
  targetIdentifier), `src/sentry/integrations/slack/notify_action.py` (SlackNotifyServiceForm: workspace,
  channel, channel_id, tags), `src/sentry/models/rule.py` (Rule.label, the name: max_length=64) and
  `src/sentry/api/serializers/rest_framework/rule.py` (RuleSerializer.frequency: 5 to 60 * 24 * 30 minutes).
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
from typing import Any, ForwardRef

import pulumiverse_sentry as sentry
import pytest
from pulumi._types import input_type_py_to_pulumi_names

from infra.alerting.sentry_alerts import IssueAlertDefinition, issue_alert_definitions
from infra.config.sentry import SentryAlertsSpec
from planner.engine import PlannedResource
from tests.conftest import plan_of
from tests.sentry.support import ALERT, KEY, PROJECT, TEAM

ARGS_OF = {
    ALERT: sentry.SentryIssueAlertArgs,
    KEY: sentry.SentryKeyArgs,
    PROJECT: sentry.SentryProjectArgs,
    TEAM: sentry.SentryTeamArgs,
}

# getsentry/sentry: the rule classes this program names, and the fields each one's form reads.
SENTRY_RULES: dict[str, set[str]] = {
    "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition": {"id"},
    "sentry.rules.conditions.regression_event.RegressionEventCondition": {"id"},
    "sentry.rules.conditions.event_frequency.EventFrequencyCondition": {"id", "value", "interval", "comparisonType"},
    "sentry.mail.actions.NotifyEmailAction": {"id", "targetType", "targetIdentifier"},
    "sentry.integrations.slack.notify_action.SlackNotifyServiceAction": {
        "id",
        "workspace",
        "channel",
        "channel_id",
        "tags",
    },
}
STANDARD_INTERVALS = {"1m", "5m", "15m", "1h", "1d", "1w", "30d"}
RULE_LABEL_MAX = 64


def conforms(value: Any, hint: Any) -> bool:
    """Whether a plain value fits an SDK annotation (Input[T] = T | Awaitable[T] | Output[T])."""
    if isinstance(hint, ForwardRef):  # 'Output[T]': a plain value is never one
        return False
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        return any(conforms(value, arm) for arm in args)
    if origin is collections.abc.Awaitable:
        return False
    if origin is collections.abc.Sequence:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is collections.abc.Mapping:
        return isinstance(value, dict) and all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is type(None):
        return value is None
    if isinstance(hint, type):
        return isinstance(value, hint)
    raise AssertionError(f"no rule for annotation {hint!r}")


def sdk_contract(args_class: type) -> tuple[dict[str, Any], set[str]]:
    """{input name as the engine sees it: annotation}, and the names the SDK requires."""
    names = input_type_py_to_pulumi_names(args_class)
    parameters = inspect.signature(args_class.__init__).parameters  # type: ignore[misc]
    annotations = {names[p]: parameters[p].annotation for p in names}
    required = {names[p] for p in names if parameters[p].default is inspect.Parameter.empty}
    return annotations, required


def test_conforms_tells_strings_from_numbers_as_the_old_schema_needs() -> None:
    conditions = inspect.signature(sentry.SentryIssueAlertArgs.__init__).parameters["conditions"].annotation
    assert conforms([{"id": "x", "value": "100"}], conditions)
    assert not conforms([{"id": "x", "value": 100}], conditions)


def check_against_sdk(resource: PlannedResource) -> None:
    annotations, required = sdk_contract(ARGS_OF[resource.type])
    # As recorded: numbers crossed the engine as doubles and whole ones are ints again, as the provider reads them.
    inputs = {k: v for k, v in resource.inputs.items() if not k.startswith("__")}
    assert required <= set(inputs), f"{resource.name} misses required {required - set(inputs)}"
    for name, value in inputs.items():
        assert name in annotations, f"{resource.type} has no argument {name}"
        assert conforms(value, annotations[name]), f"{resource.name}.{name}={value!r} is not {annotations[name]}"


@pytest.mark.parametrize("stack", ["staging", "prod"])
@pytest.mark.parametrize("type_token", list(ARGS_OF), ids=lambda t: t.rsplit(":", 1)[-1])
def test_every_input_is_an_argument_of_the_sdk_with_its_type(stack: str, type_token: str) -> None:
    for resource in plan_of(stack).of_type(type_token):
        check_against_sdk(resource)


def test_the_sdk_check_refuses_a_number_where_the_old_schema_wants_a_string() -> None:
    spike = plan_of("prod").one(ALERT, "error-tracking-backend-error-spike")
    planted = PlannedResource(**{**vars(spike), "inputs": {**spike.inputs, "conditions": [{"id": "x", "value": 100}]}})
    with pytest.raises(AssertionError, match="conditions"):
        check_against_sdk(planted)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_alerts_name_only_sentry_rules_with_their_fields_and_allowed_values(stack: str) -> None:
    for alert in plan_of(stack).of_type(ALERT):
        assert alert.inputs["actionMatch"] in {"all", "any"}
        assert alert.inputs["filterMatch"] in {"all", "any", "none"}
        assert len(alert.inputs["name"]) <= RULE_LABEL_MAX
        for rule in [*alert.inputs["conditions"], *alert.inputs["filters"], *alert.inputs["actions"]]:
            assert rule["id"] in SENTRY_RULES, rule["id"]
            assert set(rule) <= SENTRY_RULES[rule["id"]], (
                f"{rule['id']} has no field(s) {set(rule) - SENTRY_RULES[rule['id']]}"
            )
            if "interval" in rule:
                assert rule["interval"] in STANDARD_INTERVALS
                assert rule["comparisonType"] in {"count", "percent"}
                assert int(rule["value"]) >= 1
            if rule["id"] == "sentry.mail.actions.NotifyEmailAction":
                assert rule["targetType"] in {"IssueOwners", "Team", "Member"}


def test_a_name_longer_than_sentry_stores_is_refused_before_deploying() -> None:
    definition = IssueAlertDefinition("SentryErrorSpike", "critical", [], 30)
    assert len(definition.name("backend", "staging")) <= RULE_LABEL_MAX
    with pytest.raises(ValueError, match="exceeds Sentry's 64 characters"):
        definition.name("backend", "an-environment-name-long-enough-to-overflow")


def test_the_longest_environment_the_config_allows_still_fits_every_alert_name() -> None:
    longest = "e" * 16  # monitoring:environment: ^[a-z][a-z0-9-]{1,15}$
    spec = SentryAlertsSpec.model_validate({"errorSpike": {"events": 1}})
    for definition in issue_alert_definitions(spec):
        for role in ("backend", "frontend"):
            assert len(definition.name(role, longest)) <= RULE_LABEL_MAX


def test_the_action_interval_the_config_allows_is_the_one_sentry_accepts() -> None:
    field = SentryAlertsSpec.model_fields["action_interval_minutes"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == (5, 60 * 24 * 30)
