"""The Pulumi component that uploads one group of Grafana-managed rules (the rules themselves are data:
`infra.alerting.grafana_rules`)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

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


@dataclass(frozen=True)
class RuleContext:
    """What every Grafana rule of a stack is stamped with: its UID prefix, the `env` label, the runbooks' base URL."""

    name_prefix: str
    environment: str
    runbook_base_url: str


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
        # Only the heartbeat routes itself: any other rule with its own contact
        # point would bypass the policy tree, its grouping and the maintenance mute timing.
        notification_settings=_direct_route(rule.direct_route),
    )


def _direct_route(route: DirectRoute | None) -> grafana.alerting.RuleGroupRuleNotificationSettingsArgs | None:
    if route is None:
        return None
    return grafana.alerting.RuleGroupRuleNotificationSettingsArgs(
        contact_point=route.contact_point,
        # Grafana requires these two whenever a rule groups its own notifications.
        group_bies=["alertname", "grafana_folder"],
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
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.register_outputs({"name": self.group.name})
