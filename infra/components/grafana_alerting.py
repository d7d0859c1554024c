"""Where Grafana-managed alerts go: contact points, the maintenance mute timing and the policy tree.

Two contact points per environment, mirroring the AMP Alertmanager's
audiences: `<prefix>-oncall` (critical: everyone the critical SNS topic
reaches, i.e. `emails` and `pagingEmails`, plus Slack) and `<prefix>-team`
(warning: `emails`, the warning topic's subscribers, plus Slack).

They use Grafana Cloud's own email and Slack integrations, not SNS: the
provider's `sns` block is for Amazon Managed Grafana only (its docstring says
"Requires Amazon Managed Grafana"), and Grafana Cloud answers it with
`400 ... must specify topicArn, targetArn, or phone number`
(grafana/terraform-provider-grafana#1672, #2266). Email needs no AWS
identity, so no IAM user or access key exists for Grafana.

Every Grafana-managed rule routes itself to these contact points (`RuleRouting`,
the rule's `notification_settings`), so no stack names another stack's contact
point or mute timing: each stack can be created and destroyed on its own. The
organisation's one policy tree (a singleton: writing it replaces it whole) is
written by the single stack that declares `grafana.notificationPolicy`, and names
only that stack's own contact points: it catches alerts of rules made by hand,
which route nowhere else. Deleting a contact point still named by a policy or a
rule fails with 409 (terraform-provider-grafana #769, #1806; grafana/grafana
#111921): here only the stack's own tree and rules name them, and Pulumi deletes
those first because they take the names from the contact points' outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana

from infra.alerting.conventions import GROUP_BY
from infra.components.grafana_maintenance import mute_timing_intervals
from infra.components.grafana_paging import pagerduty_integrations
from infra.components.grafana_rules import RuleRouting
from infra.config.maintenance import MaintenanceSpec


def oncall_contact_point(name_prefix: str) -> str:
    return f"{name_prefix}-oncall"


def team_contact_point(name_prefix: str) -> str:
    return f"{name_prefix}-team"


def maintenance_mute_timing(name_prefix: str) -> str:
    return f"{name_prefix}-maintenance"


@dataclass(frozen=True)
class Recipients:
    """Who hears Grafana's alerts: the people the AMP path's critical and warning topics deliver to.

    `emails` are subscribed to both topics, `paging_emails` to the critical
    one only (NotificationSpec), so the on-call contact point mails both lists
    and the team contact point `emails` alone.
    """

    emails: Sequence[str]
    paging_emails: Sequence[str] = ()

    @property
    def critical(self) -> list[str]:
        return [*self.emails, *self.paging_emails]

    @property
    def warning(self) -> list[str]:
        return list(self.emails)


@dataclass(frozen=True)
class NotificationTimings:
    """How notifications of one group are batched and repeated (monitoring:notifications)."""

    group_wait_seconds: int
    group_interval_minutes: int
    repeat_interval_hours: int


@dataclass
class GrafanaAlertingArgs:
    name_prefix: str
    environment: str
    provider: grafana.Provider
    # The same people as AMP's Alertmanager reaches through SNS.
    recipients: Recipients
    timings: NotificationTimings
    page_on_warning: bool = False
    slack_webhook_url: pulumi.Output[str] | None = None
    maintenance: MaintenanceSpec | None = None
    # This stack owns the organisation's policy tree (grafana.notificationPolicy; one stack per instance).
    owns_policy_tree: bool = False
    # monitoring:paging: the on-call contact point also pages through PagerDuty (Events API v2).
    pagerduty_integration_key: pulumi.Output[str] | None = None


@dataclass
class _Integrations:
    slacks: list[grafana.alerting.ContactPointSlackArgs] | None
    emails: list[grafana.alerting.ContactPointEmailArgs]


class GrafanaAlerting(pulumi.ComponentResource):
    """Contact points, the maintenance mute timing, the routing of the stack's rules and (for its owner) the tree."""

    oncall_contact_point: pulumi.Output[str]
    team_contact_point: pulumi.Output[str]
    routing: RuleRouting

    def __init__(self, name: str, args: GrafanaAlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaAlerting", name, None, opts)
        on_grafana = pulumi.ResourceOptions(parent=self, provider=args.provider)

        def integrations(addresses: list[str]) -> _Integrations:
            slacks = None
            if args.slack_webhook_url is not None:
                slacks = [
                    grafana.alerting.ContactPointSlackArgs(
                        url=pulumi.Output.secret(args.slack_webhook_url),
                        title='{{ template "default.title" . }}',
                        text='{{ template "default.message" . }}',
                    )
                ]
            # One email per address (single_email off), as each SNS subscriber got its own.
            emails = [
                grafana.alerting.ContactPointEmailArgs(
                    addresses=addresses,
                    single_email=False,
                    subject='{{ template "default.title" . }}',
                )
            ]
            return _Integrations(slacks=slacks, emails=emails)

        oncall = integrations(args.recipients.critical)
        self.oncall = grafana.alerting.ContactPoint(
            f"{name}-oncall",
            name=oncall_contact_point(args.name_prefix),
            slacks=oncall.slacks,
            emails=oncall.emails,
            pagerduties=pagerduty_integrations(args.pagerduty_integration_key),
            opts=on_grafana,
        )
        # page_on_warning is settled here, so the shared policy tree needs no per-environment switch.
        team = oncall if args.page_on_warning else integrations(args.recipients.warning)
        self.team = grafana.alerting.ContactPoint(
            f"{name}-team",
            name=team_contact_point(args.name_prefix),
            slacks=team.slacks,
            emails=team.emails,
            pagerduties=pagerduty_integrations(args.pagerduty_integration_key) if args.page_on_warning else None,
            opts=on_grafana,
        )

        self.mute_timing: grafana.alerting.MuteTiming | None = None
        if args.maintenance is not None:
            self.mute_timing = grafana.alerting.MuteTiming(
                f"{name}-maintenance",
                name=maintenance_mute_timing(args.name_prefix),
                intervals=mute_timing_intervals(args.maintenance),
                opts=on_grafana,
            )

        timings = args.timings
        mute_timings = [self.mute_timing.name] if self.mute_timing is not None else []
        self.routing = RuleRouting(
            critical_contact_point=self.oncall.name,
            warning_contact_point=self.team.name,
            mute_timings=mute_timings,
            group_wait=f"{timings.group_wait_seconds}s",
            group_interval=f"{timings.group_interval_minutes}m",
            repeat_interval=f"{timings.repeat_interval_hours}h",
        )

        self.policy: grafana.alerting.NotificationPolicy | None = None
        if args.owns_policy_tree:
            # Only this stack's own objects, by their outputs: the tree is written after them and
            # removed before them, and no other stack's destroy is blocked by it.
            self.policy = grafana.alerting.NotificationPolicy(
                f"{name}-policy",
                contact_point=self.team.name,
                group_bies=list(GROUP_BY),
                group_wait=self.routing.group_wait,
                group_interval=self.routing.group_interval,
                repeat_interval=self.routing.repeat_interval,
                # Mute timings are not inherited and the root may have none: each route names them.
                policies=[
                    grafana.alerting.NotificationPolicyPolicyArgs(
                        matchers=[
                            grafana.alerting.NotificationPolicyPolicyMatcherArgs(
                                label="severity", match="=", value="critical"
                            )
                        ],
                        contact_point=self.oncall.name,
                        mute_timings=mute_timings or None,
                    ),
                    # No matcher: everything else.
                    grafana.alerting.NotificationPolicyPolicyArgs(
                        contact_point=self.team.name, mute_timings=mute_timings or None
                    ),
                ],
                opts=on_grafana,
            )

        self.oncall_contact_point = self.oncall.name
        self.team_contact_point = self.team.name
        self.register_outputs(
            {"oncall_contact_point": self.oncall_contact_point, "team_contact_point": self.team_contact_point}
        )
