"""Where Grafana-managed alerts go: contact points, the maintenance mute timing and the policy tree.

Two contact points per environment, mirroring the AMP Alertmanager's
audiences: `<prefix>-oncall` (critical: Slack and the critical SNS topic,
which pages) and `<prefix>-team` (warning: Slack and the warning topic, which
never pages). Without the alerting issue's topics they fall back to email.

Grafana Cloud's Alertmanager has no AWS identity of its own, so its SNS
integration signs with an access key (Grafana documents that setup): a
dedicated IAM user that may only publish to these two topics and use their
KMS key. The key exists only in Pulumi state (encrypted) and in Grafana, and
reaches Grafana as a secret.

The policy tree is one per Grafana organisation. Only the stack that owns it
(`grafana.notificationPolicy`) writes it; it routes every environment by the
`env` label to that environment's contact points, by fixed names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumiverse_grafana as grafana

from infra.components.grafana_maintenance import mute_timing_intervals
from infra.components.grafana_paging import pagerduty_integrations
from infra.config import name_prefix_of
from infra.config.maintenance import MaintenanceSpec

# Grouping as in the AMP Alertmanager: one notification per alert, service and severity.
GROUP_BY = ("alertname", "service", "severity")
SNS_PUBLISH_ACTIONS = ("sns:Publish",)
# What SNS asks of a publisher to a topic encrypted with a customer-managed key.
KMS_PUBLISH_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def oncall_contact_point(name_prefix: str) -> str:
    return f"{name_prefix}-oncall"


def team_contact_point(name_prefix: str) -> str:
    return f"{name_prefix}-team"


def maintenance_mute_timing(name_prefix: str) -> str:
    return f"{name_prefix}-maintenance"


@dataclass
class SnsTopicsArgs:
    """The alerting issue's SNS topics that Grafana publishes to, and their KMS key."""

    critical_topic_arn: pulumi.Input[str]
    warning_topic_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]


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
    tags: Mapping[str, str]
    # The same topics as AMP's Alertmanager, so one set of subscribers hears every alert.
    sns: SnsTopicsArgs
    page_on_warning: bool = False
    slack_webhook_url: pulumi.Output[str] | None = None
    maintenance: MaintenanceSpec | None = None
    policy_tree: PolicyTreeArgs | None = None
    # monitoring:paging: the on-call contact point also pages through PagerDuty (Events API v2).
    pagerduty_integration_key: pulumi.Output[str] | None = None
    # Resources the policy tree must wait for (other contact points, e.g. issue 5's).
    extra_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)


def publisher_policy(topic_arns: Sequence[str], key_arn: str) -> str:
    statements = [
        {"Sid": "PublishToAlertTopics", "Effect": "Allow", "Action": list(SNS_PUBLISH_ACTIONS), "Resource": topic_arns},
        {"Sid": "EncryptForTheTopics", "Effect": "Allow", "Action": list(KMS_PUBLISH_ACTIONS), "Resource": key_arn},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


@dataclass
class _Integrations:
    slacks: list[grafana.alerting.ContactPointSlackArgs] | None
    sns: list[grafana.alerting.ContactPointSnArgs]


class GrafanaAlerting(pulumi.ComponentResource):
    """Contact points, the maintenance mute timing and (for the owning stack) the policy tree."""

    oncall_contact_point: pulumi.Output[str]
    team_contact_point: pulumi.Output[str]

    def __init__(self, name: str, args: GrafanaAlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:GrafanaAlerting", name, None, opts)
        on_grafana = pulumi.ResourceOptions(parent=self, provider=args.provider)

        publisher = self._sns_publisher(name, args)

        def integrations(topic_arn: pulumi.Input[str]) -> _Integrations:
            slacks = None
            if args.slack_webhook_url is not None:
                slacks = [
                    grafana.alerting.ContactPointSlackArgs(
                        url=pulumi.Output.secret(args.slack_webhook_url),
                        title='{{ template "default.title" . }}',
                        text='{{ template "default.message" . }}',
                    )
                ]
            # The topic's subscribers (emails, pagers, Chatbot) are the recipients.
            sns = [
                grafana.alerting.ContactPointSnArgs(
                    topic=topic_arn,
                    auth_provider="keys",
                    access_key=publisher.id,
                    secret_key=pulumi.Output.secret(publisher.secret),
                    subject='{{ template "default.title" . }}',
                    message_format="text",
                )
            ]
            return _Integrations(slacks=slacks, sns=sns)

        oncall = integrations(args.sns.critical_topic_arn)
        self.oncall = grafana.alerting.ContactPoint(
            f"{name}-oncall",
            name=oncall_contact_point(args.name_prefix),
            slacks=oncall.slacks,
            sns=oncall.sns,
            pagerduties=pagerduty_integrations(args.pagerduty_integration_key),
            opts=on_grafana,
        )
        # page_on_warning is settled here, so the shared policy tree needs no per-environment switch.
        team = oncall if args.page_on_warning else integrations(args.sns.warning_topic_arn)
        self.team = grafana.alerting.ContactPoint(
            f"{name}-team",
            name=team_contact_point(args.name_prefix),
            slacks=team.slacks,
            sns=team.sns,
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

    def _sns_publisher(self, name: str, args: GrafanaAlertingArgs) -> aws.iam.AccessKey:
        child = pulumi.ResourceOptions(parent=self)
        user = aws.iam.User(
            f"{name}-sns-publisher",
            name=f"{args.name_prefix}-grafana-sns-publisher",
            tags=dict(args.tags),
            opts=child,
        )
        aws.iam.UserPolicy(
            f"{name}-sns-publish",
            user=user.name,
            policy=pulumi.Output.all(args.sns.critical_topic_arn, args.sns.warning_topic_arn, args.sns.key_arn).apply(
                lambda values: publisher_policy(list(values[:2]), values[2])
            ),
            opts=child,
        )
        # Rotating: `pulumi up --replace` on this resource; Grafana gets the new key in the same run.
        return aws.iam.AccessKey(f"{name}-sns-key", user=user.name, opts=child)


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
