"""The Pulumi component that uploads one group of Grafana-managed rules (the rules themselves are data:
`infra.alerting.grafana_rules`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from infra.alerting.conventions import GROUP_BY
from infra.alerting.grafana_rules import (
    EXPRESSION_DATASOURCE,
    DirectRoute,
    GrafanaRule,
    GrafanaRuleGroupSpec,
    query_model,
    rule_annotations,
    rule_labels,
    rule_uid,
    threshold_model,
)

# Rule-level grouping always includes these two (grafana/grafana pkg/services/ngalert/models/notifications.go,
# DefaultNotificationSettingsGroupBy); the provider's notification_settings.group_by requires them when set.
RULE_GROUP_BY_REQUIRED = ("alertname", "grafana_folder")


@dataclass(frozen=True)
class RuleRouting:
    """Where this stack's rules notify: its own contact points and mute timing, with its grouping and timings.

    Each rule carries these in its `notification_settings` (Grafana's simplified routing, GA and on by
    default since Grafana 11, grafana/grafana#84856): the rule goes to the contact point it names, not
    through the organisation's single policy tree, so no stack needs a tree that names another stack's
    contact points, and each stack can be created and destroyed on its own. The names are the resources'
    outputs: a rule group is created after, and deleted before, what it names.
    """

    critical_contact_point: pulumi.Input[str]
    warning_contact_point: pulumi.Input[str]
    mute_timings: Sequence[pulumi.Input[str]]
    group_wait: str
    group_interval: str
    repeat_interval: str


@dataclass(frozen=True)
class RuleContext:
    """What every Grafana rule of a stack is stamped with: its UID prefix, the `env` label, the runbooks' base URL,
    and the stack's own routing."""

    name_prefix: str
    environment: str
    runbook_base_url: str
    routing: RuleRouting


def rule_args(rule: GrafanaRule, context: RuleContext) -> grafana.alerting.RuleGroupRuleArgs:
    return grafana.alerting.RuleGroupRuleArgs(
        name=rule.name,
        uid=rule_uid(context.name_prefix, rule),
        condition="B",
        for_=f"{rule.for_minutes}m",
        no_data_state=rule.no_data_state,
        exec_err_state=rule.exec_err_state,
        labels=rule_labels(rule, context.environment),
        annotations=rule_annotations(rule, context.runbook_base_url),
        datas=[
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id="A",
                datasource_uid=rule.datasource_uid,
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(
                    from_=rule.lookback_seconds, to=0
                ),
                model=query_model(rule),
            ),
            grafana.alerting.RuleGroupRuleDataArgs(
                ref_id="B",
                datasource_uid=EXPRESSION_DATASOURCE,
                relative_time_range=grafana.alerting.RuleGroupRuleDataRelativeTimeRangeArgs(from_=0, to=0),
                model=threshold_model(rule),
            ),
        ],
        notification_settings=(
            _direct_route(rule.direct_route) if rule.direct_route is not None else _stack_route(rule, context.routing)
        ),
    )


def _stack_route(rule: GrafanaRule, routing: RuleRouting) -> grafana.alerting.RuleGroupRuleNotificationSettingsArgs:
    """Critical to the stack's on-call contact point, anything else to its team; muted in its maintenance."""
    return grafana.alerting.RuleGroupRuleNotificationSettingsArgs(
        contact_point=routing.critical_contact_point if rule.severity == "critical" else routing.warning_contact_point,
        group_bies=[*RULE_GROUP_BY_REQUIRED, *(label for label in GROUP_BY if label not in RULE_GROUP_BY_REQUIRED)],
        group_wait=routing.group_wait,
        group_interval=routing.group_interval,
        repeat_interval=routing.repeat_interval,
        mute_timings=list(routing.mute_timings) or None,
    )


def _direct_route(route: DirectRoute) -> grafana.alerting.RuleGroupRuleNotificationSettingsArgs:
    """The heartbeat's own route: its contact point, never muted, repeating as its alarm expects."""
    return grafana.alerting.RuleGroupRuleNotificationSettingsArgs(
        contact_point=route.contact_point,
        group_bies=list(RULE_GROUP_BY_REQUIRED),
        group_wait=route.group_wait,
        group_interval=route.group_interval,
        repeat_interval=route.repeat_interval,
    )


@dataclass
class GrafanaRuleGroupArgs:
    folder_uid: pulumi.Input[str]
    group: GrafanaRuleGroupSpec
    context: RuleContext
    provider: grafana.Provider


class GrafanaRuleGroup(pulumi.ComponentResource):
    """One Grafana rule group in the environment's folder."""

    def __init__(self, name: str, args: GrafanaRuleGroupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaRuleGroup", name, None, opts)
        names = [rule.name for rule in args.group.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"Grafana rule group '{args.group.name}' repeats a rule name: {names}")
        self.group = grafana.alerting.RuleGroup(
            f"{name}-group",
            name=args.group.name,
            folder_uid=args.folder_uid,
            interval_seconds=args.group.interval_seconds,
            rules=[rule_args(rule, args.context) for rule in args.group.rules],
            # What the component was told to wait for (the heartbeat's own contact point, a data source),
            # recorded on the rule group itself: a component's dependencies are not its children's, and
            # Pulumi deletes a resource only after what depends on it (Grafana answers 409 otherwise).
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.provider, depends_on=opts.depends_on if opts is not None else None
            ),
        )
        self.register_outputs({"name": self.group.name})
