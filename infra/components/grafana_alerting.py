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

The policy tree is one per Grafana organisation. Only the stack that owns it
(`grafana.notificationPolicy`) writes it; it routes every environment by the
`env` label to that environment's contact points, by fixed names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumiverse_grafana as grafana

from infra.alerting.conventions import GROUP_BY
from infra.components.grafana_maintenance import mute_timing_intervals
from infra.components.grafana_paging import pagerduty_integrations
from infra.config import name_prefix_of
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


@dataclass
class PolicyTreeArgs:
    """The org-wide policy tree: environments it routes and which of them have a maintenance mute timing."""

    platform: str
    environments: Sequence[str]
    maintenance_environments: Sequence[str]
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
    page_on_warning: bool = False
    slack_webhook_url: pulumi.Output[str] | None = None
    maintenance: MaintenanceSpec | None = None
    policy_tree: PolicyTreeArgs | None = None
    # monitoring:paging: the on-call contact point also pages through PagerDuty (Events API v2).
    pagerduty_integration_key: pulumi.Output[str] | None = None
    # Resources the policy tree must wait for (other stacks' or components' contact points).
    extra_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)


@dataclass
class _Integrations:
    slacks: list[grafana.alerting.ContactPointSlackArgs] | None
    emails: list[grafana.alerting.ContactPointEmailArgs]


class GrafanaAlerting(pulumi.ComponentResource):
    """Contact points, the maintenance mute timing and (for the owning stack) the policy tree."""

    oncall_contact_point: pulumi.Output[str]
    team_contact_point: pulumi.Output[str]

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

        self.policy: grafana.alerting.NotificationPolicy | None = None
        if args.policy_tree is not None:
            own = [self.oncall, self.team, *([self.mute_timing] if self.mute_timing else [])]
            tree = policy_tree(args.policy_tree, args.environment)
            self.policy = grafana.alerting.NotificationPolicy(
                f"{name}-policy",
                contact_point=tree.contact_point,
                group_bies=list(GROUP_BY),
                group_wait=f"{args.policy_tree.group_wait_seconds}s",
                group_interval=f"{args.policy_tree.group_interval_minutes}m",
                repeat_interval=f"{args.policy_tree.repeat_interval_hours}h",
                policies=tree.routes,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, depends_on=[*own, *args.extra_dependencies]
                ),
            )

        self.oncall_contact_point = self.oncall.name
        self.team_contact_point = self.team.name
        self.register_outputs(
            {"oncall_contact_point": self.oncall_contact_point, "team_contact_point": self.team_contact_point}
        )


def _severity_routes(name_prefix: str, muted: bool) -> list[grafana.alerting.NotificationPolicyPolicyPolicyArgs]:
    mute = [maintenance_mute_timing(name_prefix)] if muted else None
    return [
        grafana.alerting.NotificationPolicyPolicyPolicyArgs(
            matchers=[
                grafana.alerting.NotificationPolicyPolicyPolicyMatcherArgs(label="severity", match="=", value=severity)
            ],
            contact_point=contact_point,
            # Mute timings are not inherited: each route that can match names it.
            mute_timings=mute,
        )
        for severity, contact_point in (
            ("critical", oncall_contact_point(name_prefix)),
            ("warning", team_contact_point(name_prefix)),
        )
    ]


@dataclass(frozen=True)
class PolicyTree:
    contact_point: str
    routes: list[grafana.alerting.NotificationPolicyPolicyArgs]


def policy_tree(tree: PolicyTreeArgs, own_environment: str) -> PolicyTree:
    """The whole tree: per environment (by `env`), critical to on-call and the rest to the team.

    That the tree routes its own stack's environment is checked by the config model.
    """
    routes = []
    for environment in tree.environments:
        prefix = name_prefix_of(tree.platform, environment)
        muted = environment in tree.maintenance_environments
        routes.append(
            grafana.alerting.NotificationPolicyPolicyArgs(
                matchers=[
                    grafana.alerting.NotificationPolicyPolicyMatcherArgs(label="env", match="=", value=environment)
                ],
                # Anything of this environment without a known severity still reaches its team.
                contact_point=team_contact_point(prefix),
                mute_timings=[maintenance_mute_timing(prefix)] if muted else None,
                policies=_severity_routes(prefix, muted),
            )
        )
    # An alert without an `env` label is a mistake in a rule: it still reaches a person.
    return PolicyTree(contact_point=team_contact_point(name_prefix_of(tree.platform, own_environment)), routes=routes)
