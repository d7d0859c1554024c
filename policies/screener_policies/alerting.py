"""Policies on what AMP evaluates and routes: rule group namespaces and the Alertmanager definition."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from screener_policies.common import as_list, dig, document_validation, duration_seconds, is_list, is_mapping

RULE_GROUP_NAMESPACE = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"
ALERT_MANAGER_DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"

# The levels Alertmanager routes on; `none` marks the always-firing Watchdog
# (dead man's switch), which pages nobody. Kept equal to SEVERITIES in
# infra/alerting/rule_model.py by a test (the pack cannot import infra).
DEFAULT_SEVERITIES = ("critical", "warning", "info", "none")
REQUIRED_ANNOTATIONS = ("summary", "description", "runbook_url")
# AMP treats a longer repeat_interval as five days (AMP user guide, "Create an
# alert manager configuration"); anything above that is a silent surprise.
AMP_MAX_REPEAT_INTERVAL_SECONDS = 5 * 24 * 3600
# AMP's Alertmanager delivers to SNS only; other receiver kinds are rejected.
_RECEIVER_CONFIG_SUFFIX = "_configs"


def _rule_groups(args: ResourceValidationArgs) -> tuple[list[Mapping[str, Any]], str | None]:
    """The groups of a rule namespace, or why they can't be read."""
    namespace = args.props.get("name") or args.name
    try:
        document = yaml.safe_load(args.props.get("data") or "")
    except yaml.YAMLError as error:
        return [], (
            f"rule namespace '{namespace}': `data` is not valid YAML ({str(error).splitlines()[0]}). "
            "Fix: render the rules with the alerting module and check them with `promtool check rules`."
        )
    groups = document.get("groups") if is_mapping(document) else None
    if not is_list(groups) or not groups:
        return [], (
            f"rule namespace '{namespace}': `data` has no `groups:` list. "
            "Fix: upload a Prometheus rule file (`groups: [{name, rules: [...]}]`)."
        )
    return [g for g in groups if is_mapping(g)], None


def _rules(groups: list[Mapping[str, Any]]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for group in groups:
        for rule in as_list(group.get("rules")):
            if is_mapping(rule):
                yield str(group.get("name", "?")), rule


@document_validation(RULE_GROUP_NAMESPACE, read=_rule_groups, reports_read_error=True)
def rule_data_parses(args: ResourceValidationArgs, groups: list[Mapping[str, Any]]) -> Iterator[str]:
    namespace = args.props.get("name") or args.name
    names: set[str] = set()
    for group in groups:
        name = group.get("name")
        if not isinstance(name, str) or not name:
            yield (f"rule namespace '{namespace}': a group has no name. Fix: give every group a name.")
        elif name in names:
            yield (f"rule namespace '{namespace}': group '{name}' appears twice. Fix: make names unique.")
        names.add(str(name))
        if not is_list(group.get("rules")) or not group.get("rules"):
            yield (f"rule namespace '{namespace}': group '{name}' has no rules. Fix: drop the group.")
        if "interval" in group:
            yield from _duration_errors(f"rule namespace '{namespace}', group '{name}' interval", group["interval"])
    for group_name, rule in _rules(groups):
        label = rule.get("alert") or rule.get("record")
        where = f"rule namespace '{namespace}', group '{group_name}', rule '{label}'"
        if ("alert" in rule) == ("record" in rule):
            yield (f"{where}: a rule needs exactly one of `alert` or `record`. Fix: set one.")
        expr = rule.get("expr")
        if not isinstance(expr, str | int | float) or (isinstance(expr, str) and not expr.strip()):
            yield (f"{where}: `expr` is missing or empty. Fix: give the rule a PromQL expression.")
        for key in ("for", "keep_firing_for"):
            if key in rule:
                yield from _duration_errors(f"{where} `{key}`", rule[key])


def _duration_errors(what: str, value: Any) -> Iterator[str]:
    try:
        duration_seconds(value)
    except ValueError as error:
        yield f"{what}: {error}. Fix: use a Prometheus duration."


# amp-rule-data-parses reports a namespace whose data does not parse.
@document_validation(RULE_GROUP_NAMESPACE, read=_rule_groups)
def alerts_are_labelled_and_annotated(args: ResourceValidationArgs, groups: list[Mapping[str, Any]]) -> Iterator[str]:
    allowed = tuple(args.get_config().get("allowedSeverities") or DEFAULT_SEVERITIES)
    namespace = args.props.get("name") or args.name
    for group_name, rule in _rules(groups):
        if "alert" not in rule:
            continue
        where = f"alert '{rule['alert']}' (namespace '{namespace}', group '{group_name}')"
        severity = dig(rule, "labels", "severity")
        if severity not in allowed:
            yield (
                f"{where}: severity {severity!r} is not one of {', '.join(allowed)}. "
                "Fix: set labels.severity; Alertmanager routes on it."
            )
        annotations = rule.get("annotations")
        missing = [
            key
            for key in REQUIRED_ANNOTATIONS
            if not is_mapping(annotations) or not str(annotations.get(key) or "").strip()
        ]
        if missing:
            yield (
                f"{where}: missing annotation(s) {', '.join(missing)}. "
                "Fix: every alert carries summary, description and runbook_url (the rules module adds them)."
            )
        runbook = dig(rule, "annotations", "runbook_url")
        if isinstance(runbook, str) and runbook.strip() and not runbook.startswith("https://"):
            yield (f"{where}: runbook_url '{runbook}' is not an https:// link. Fix: link the runbook page.")


def _alertmanager_config(args: ResourceValidationArgs) -> tuple[Mapping[str, Any], str | None]:
    """The parsed `alertmanager_config` of a definition, or why it can't be read."""
    try:
        definition = yaml.safe_load(args.props.get("definition") or "")
    except yaml.YAMLError as error:
        return {}, (
            f"Alertmanager definition is not valid YAML ({str(error).splitlines()[0]}). "
            "Fix: render it with the notifications module and check it with `amtool check-config`."
        )
    inner = definition.get("alertmanager_config") if is_mapping(definition) else None
    if not isinstance(inner, str):
        return {}, (
            "Alertmanager definition has no `alertmanager_config: |` string. "
            "Fix: AMP wants `template_files:` and `alertmanager_config:` (a YAML string) at the top level."
        )
    try:
        config = yaml.safe_load(inner)
    except yaml.YAMLError as error:
        return {}, (
            f"`alertmanager_config` is not valid YAML ({str(error).splitlines()[0]}). Fix: check it with amtool."
        )
    if not is_mapping(config) or not is_mapping(config.get("route")):
        return {}, "`alertmanager_config` has no `route:`. Fix: add a root route with a receiver."
    return config, None


def _routes(route: Mapping[str, Any], path: str = "route") -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, route
    for index, child in enumerate(as_list(route.get("routes"))):
        if is_mapping(child):
            yield from _routes(child, f"{path}.routes[{index}]")


def _receivers(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in as_list(config.get("receivers")) if is_mapping(r)]


@document_validation(ALERT_MANAGER_DEFINITION, read=_alertmanager_config, reports_read_error=True)
def alertmanager_routes_resolve(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    names = [str(r.get("name")) for r in _receivers(config)]
    for name in {n for n in names if names.count(n) > 1}:
        yield (f"receiver '{name}' is defined more than once. Fix: give every receiver a unique name.")
    root = config["route"]
    if not root.get("receiver"):
        yield ("the root route has no receiver. Fix: set route.receiver (the default destination).")
    for path, route in _routes(root):
        receiver = route.get("receiver")
        if receiver is not None and receiver not in names:
            yield (
                f"{path} sends to receiver '{receiver}', which is not defined "
                f"(receivers: {', '.join(names) or 'none'}). "
                "Fix: add the receiver or route to an existing one."
            )


# amp-alertmanager-routes-resolve reports a definition that does not parse.
@document_validation(ALERT_MANAGER_DEFINITION, read=_alertmanager_config)
def alertmanager_sns_receivers_signed(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    for receiver in _receivers(config):
        name = receiver.get("name")
        for key in receiver:
            if str(key).endswith(_RECEIVER_CONFIG_SUFFIX) and key != "sns_configs":
                yield (
                    f"receiver '{name}' uses {key}; AMP's Alertmanager delivers to SNS only. "
                    "Fix: publish to the alert SNS topic and fan out from there (email, Chatbot)."
                )
        for index, sns in enumerate(as_list(receiver.get("sns_configs"))):
            where = f"receiver '{name}' sns_configs[{index}]"
            if not is_mapping(sns) or not str(sns.get("topic_arn") or "").startswith("arn:"):
                yield (f"{where} has no topic_arn. Fix: set the ARN of the alert topic.")
            for unsupported in ("api_url", "http_config"):
                if is_mapping(sns) and unsupported in sns:
                    yield (
                        f"{where} sets {unsupported}, which AMP does not allow (it sets the SNS endpoint itself). "
                        f"Fix: drop {unsupported}."
                    )
            if not str(dig(sns, "sigv4", "region") or "").strip():
                yield (
                    f"{where} has no sigv4.region, so AMP cannot sign the publish call. "
                    "Fix: set sigv4: {region: <the topic's region>}."
                )


# amp-alertmanager-routes-resolve reports a definition that does not parse.
@document_validation(ALERT_MANAGER_DEFINITION, read=_alertmanager_config)
def alertmanager_repeat_interval_capped(args: ResourceValidationArgs, config: Mapping[str, Any]) -> Iterator[str]:
    for path, route in _routes(config["route"]):
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key not in route:
                continue
            try:
                seconds = duration_seconds(route[key])
            except ValueError as error:
                yield (f"{path}.{key}: {error}. Fix: use an Alertmanager duration.")
                continue
            if key == "repeat_interval" and seconds > AMP_MAX_REPEAT_INTERVAL_SECONDS:
                yield (
                    f"{path}.repeat_interval is {route[key]}, above AMP's cap of 5 days (120h), which AMP "
                    "silently applies instead. Fix: set notifications.repeatIntervalHours to 120 or less."
                )


POLICIES = [
    ResourceValidationPolicy(
        name="amp-rule-data-parses",
        description="Every AMP rule group namespace holds a Prometheus rule file with named groups and valid rules.",
        validate=rule_data_parses,
    ),
    ResourceValidationPolicy(
        name="amp-alerts-labelled-and-annotated",
        description="Every alert has an allowed severity and summary, description and an https runbook_url.",
        validate=alerts_are_labelled_and_annotated,
        config_schema=PolicyConfigSchema(
            properties={
                "allowedSeverities": {
                    "type": "array",
                    "items": {"type": "string"},
                    "default": list(DEFAULT_SEVERITIES),
                }
            }
        ),
    ),
    ResourceValidationPolicy(
        name="amp-alertmanager-routes-resolve",
        description="The Alertmanager definition parses and every route's receiver exists.",
        validate=alertmanager_routes_resolve,
    ),
    ResourceValidationPolicy(
        name="amp-alertmanager-sns-signed",
        description="AMP receivers are SNS receivers with a topic ARN and sigv4.region.",
        validate=alertmanager_sns_receivers_signed,
    ),
    ResourceValidationPolicy(
        name="amp-alertmanager-repeat-interval-capped",
        description="Alertmanager durations parse and repeat_interval stays within AMP's 5-day cap.",
        validate=alertmanager_repeat_interval_capped,
    ),
]
