"""Where alerts go after Alertmanager: encrypted SNS topics, their subscribers, Slack, and alarms on AMP itself.

One topic per audience (critical, warning, watchdog, and chat when Slack is
configured); `infra/alerting/alertmanager.py` explains why. Those topics are
encrypted with one customer-managed key that only this stack's workspace and
this stack's alarms may use, and only they may publish: no principal of the
account may (see `topic_policy`).

The `pipeline` topic is the last resort: the alarms that say the alerting
path itself is broken (Watchdog silent, notifications failing, rules failing)
publish there, encrypted with a key of its own, so a disabled or broken
shared key cannot silence the alarm that reports it. It needs a
customer-managed key too: CloudWatch alarms cannot publish to a topic
encrypted with the AWS-managed `aws/sns` key, whose policy AWS owns and does
not grant cloudwatch.amazonaws.com (AWS re:Post knowledge center,
"cloudwatch-configure-alarm-sns").
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.alerting.conventions import HEARTBEAT_SILENCE_SECONDS
from infra.config.notifications import email_slug
from infra.iam_policy import allow, policy_document

AUDIENCES = ("critical", "warning", "watchdog")
CHAT = "chat"
PIPELINE = "pipeline"
# The topics CloudWatch alarms publish to (quota warnings; the pipeline's own
# alarms and their chat copy); only their policies and keys admit CloudWatch.
ALARM_AUDIENCES = frozenset({"warning", PIPELINE, CHAT})
# Who may send to the key and topics: AMP's Alertmanager and CloudWatch alarms.
AMP_PRINCIPAL = "aps.amazonaws.com"
CLOUDWATCH_PRINCIPAL = "cloudwatch.amazonaws.com"
CHATBOT_PRINCIPAL = "chatbot.amazonaws.com"
# Publishing to an encrypted topic needs exactly these two on the key.
KMS_PUBLISH_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
AMP_ALARM_PERIOD_SECONDS = 300


@dataclass
class SlackChannelArgs:
    team_id: str
    channel_id: str


@dataclass
class NotificationsArgs:
    name_prefix: str
    region: str
    workspace_id: pulumi.Input[str]
    workspace_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    emails: Sequence[str] = field(default_factory=list)
    paging_emails: Sequence[str] = field(default_factory=list)
    slack: SlackChannelArgs | None = None
    protect: bool = False


def account_administers_key(account_id: str, partition: str) -> dict[str, Any]:
    """The key-policy statement every customer-managed key of the stack starts with (the logs key's too)."""
    return {
        # Without this statement nobody, not even an administrator,
        # could change the key again.
        "Sid": "AccountAdministersTheKey",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _service_encrypts(sid: str, principal: str, source_arn: tuple[str, str], account_id: str) -> dict[str, Any]:
    """A service may encrypt for a topic only on behalf of `source_arn` (operator, ARN) of this account.

    The confused-deputy guard on the key, as on the topic policies: without it
    any workspace or alarm of any account could use the key through SNS.
    """
    operator, arn = source_arn
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": list(KMS_PUBLISH_ACTIONS),
        "Resource": "*",
        "Condition": {operator: {"aws:SourceArn": arn}, "StringEquals": {"aws:SourceAccount": account_id}},
    }


def alarm_source_arn(partition: str, region: str, account_id: str, name_prefix: str) -> str:
    """Every CloudWatch alarm of this stack: their names all start with the stack's name prefix."""
    return f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:{name_prefix}-*"


def key_policy(account_id: str, partition: str, workspace_arn: str, alarm_arn_pattern: str) -> dict[str, Any]:
    """The shared alert key: the account administers it; this workspace and this stack's alarms encrypt with it."""
    return policy_document(
        account_administers_key(account_id, partition),
        _service_encrypts("ThisWorkspaceEncrypts", AMP_PRINCIPAL, ("ArnEquals", workspace_arn), account_id),
        _service_encrypts("AlarmsOfThisStackEncrypt", CLOUDWATCH_PRINCIPAL, ("ArnLike", alarm_arn_pattern), account_id),
    )


def pipeline_key_policy(account_id: str, partition: str, alarm_arn_pattern: str) -> dict[str, Any]:
    """The last-resort topic's own key: only this stack's alarms encrypt with it (AMP never publishes there)."""
    return policy_document(
        account_administers_key(account_id, partition),
        _service_encrypts("AlarmsOfThisStackEncrypt", CLOUDWATCH_PRINCIPAL, ("ArnLike", alarm_arn_pattern), account_id),
    )


# What the account's own principals may do with a topic: manage it and read it, never publish to it.
ACCOUNT_TOPIC_ACTIONS = (
    "sns:GetTopicAttributes",
    "sns:SetTopicAttributes",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:DeleteTopic",
    "sns:Subscribe",
    "sns:ListSubscriptionsByTopic",
)


def topic_policy(
    topic_arn: str, account_id: str, partition: str, workspace_arn: str | None, alarm_arn_pattern: str | None
) -> dict[str, Any]:
    """A topic's policy: only this workspace's Alertmanager and (where alarms publish) this stack's alarms publish.

    Issue 28 finding 7: with `sns:Publish` granted to the account, any principal of the account could publish
    a `[RESOLVED] ...` subject or an `OK` alarm payload and close a live PagerDuty incident through the relay.
    Dropping it from the account statement is not enough: within one account an identity policy's
    `sns:Publish` (an administrator's `sns:*`) suffices on its own (IAM user guide, "Policy evaluation logic",
    same-account requests). So an explicit Deny refuses Publish to every caller that is not one of the service
    principals allowed below (`aws:PrincipalServiceName` is present only when a service principal calls, IAM
    user guide, global condition keys, https://docs.aws.amazon.com/IAM/latest/UserGuide/
    reference_policies_condition-keys.html#condition-keys-principalservicename; and under a negated operator
    an absent key makes the condition true, IAM user guide, "Condition operators", so every IAM user and role
    of the account, and its root, is refused).
    The Allow statements are AWS's documented ones: AMP user guide, "Giving Amazon Managed Service for
    Prometheus permission to send alert messages to your Amazon SNS topic"
    (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-alertmanager-receiver-AMPpermission.html:
    aps.amazonaws.com, sns:Publish + sns:GetTopicAttributes, ArnEquals aws:SourceArn = the workspace,
    StringEquals AWS:SourceAccount); CloudWatch user guide, "Using Amazon SNS to notify users / confused deputy"
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html and SNS
    developer guide sns-access-policy-use-cases, "Prevent cross-service confused deputy": ArnLike aws:SourceArn
    on the alarms, StringEquals aws:SourceAccount). Nothing else publishes: Grafana mails and pages directly
    (grafana_alerting.py), AWS Chatbot and the PagerDuty relay are subscribers, and no EventBridge rule targets
    these topics.
    """
    statements: list[dict[str, Any]] = [
        {
            # Replaces SNS's default policy, so the account keeps its rights to manage the topic.
            "Sid": "AccountManagesTheTopic",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
            "Action": list(ACCOUNT_TOPIC_ACTIONS),
            "Resource": topic_arn,
        }
    ]
    publishers: list[str] = []
    if workspace_arn is not None:
        publishers.append(AMP_PRINCIPAL)
        statements.append(
            {
                # The confused-deputy guard: another account's workspace, or another
                # workspace of ours, cannot use this topic.
                "Sid": "OnlyThisWorkspacePublishes",
                "Effect": "Allow",
                "Principal": {"Service": AMP_PRINCIPAL},
                "Action": ["sns:Publish", "sns:GetTopicAttributes"],
                "Resource": topic_arn,
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": workspace_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        )
    if alarm_arn_pattern is not None:
        # What CloudWatch needs to publish an alarm's notification, narrowed to
        # this stack's alarms (AWS re:Post knowledge center,
        # "cloudwatch-receive-sns-for-alarm-trigger": ArnLike aws:SourceArn).
        publishers.append(CLOUDWATCH_PRINCIPAL)
        statements.append(
            {
                "Sid": "AlarmsOfThisStackPublish",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH_PRINCIPAL},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": alarm_arn_pattern},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        )
    statements.append(
        {
            "Sid": "OnlyTheseServicesPublish",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": publishers}},
        }
    )
    statements.append(
        {
            "Sid": "DenyPublishWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    return policy_document(*statements)


def chatbot_channel_policy() -> dict[str, Any]:
    """What the Slack channel may do: read CloudWatch to render alarm charts, nothing else."""
    return policy_document(
        allow(["cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*"], "*", sid="RenderAlarmNotifications")
    )


def _topic_policy_json(values: list[str], amp_publishes: bool, alarms_publish: bool) -> str:
    topic_arn, account_id, partition, workspace_arn, alarm_arn_pattern = values
    return json.dumps(
        topic_policy(
            topic_arn,
            account_id,
            partition,
            workspace_arn if amp_publishes else None,
            alarm_arn_pattern if alarms_publish else None,
        )
    )


class Notifications(pulumi.ComponentResource):
    """Encrypted alert topics with their subscribers, Slack through AWS Chatbot, and alarms on AMP itself."""

    topic_arns: pulumi.Output[dict[str, str]]
    key_arn: pulumi.Output[str]
    pipeline_key_arn: pulumi.Output[str]
    chatbot_configuration_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: NotificationsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:Notifications", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # Deleting a topic drops every confirmed email subscription (people
        # must confirm again) and deleting a key loses it for good: prod
        # protects both, and keeps them in AWS if they ever leave the program
        # (a rename without an alias, a `pulumi destroy` after unprotecting).
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        tags = dict(args.tags)

        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        account_id = identity.account_id
        alarms_arn = pulumi.Output.all(partition, account_id).apply(
            lambda pa: alarm_source_arn(pa[0], args.region, pa[1], args.name_prefix)
        )

        def alert_key(suffix: str, alias: str, description: str, policy: pulumi.Output[str]) -> aws.kms.Key:
            key = aws.kms.Key(
                f"{name}-{suffix}",
                description=description,
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=policy,
                tags=tags,
                opts=stateful,
            )
            aws.kms.Alias(f"{name}-{suffix}-alias", name=f"alias/{alias}", target_key_id=key.key_id, opts=child)
            return key

        self.key = alert_key(
            "key",
            f"{args.name_prefix}-alerts",
            f"Encrypts the {args.name_prefix} alert topics",
            pulumi.Output.all(account_id, partition, args.workspace_arn, alarms_arn).apply(
                lambda v: json.dumps(key_policy(v[0], v[1], v[2], v[3]))
            ),
        )
        # The last resort's own key: the alarm that says the shared key (or
        # anything else on the alert path) is broken must not need it.
        self.pipeline_key = alert_key(
            "pipeline-key",
            f"{args.name_prefix}-alerts-pipeline",
            f"Encrypts the {args.name_prefix} alerting-pipeline topic (last resort, apart from the shared alert key)",
            pulumi.Output.all(account_id, partition, alarms_arn).apply(
                lambda v: json.dumps(pipeline_key_policy(v[0], v[1], v[2]))
            ),
        )

        # AMP's Alertmanager publishes to every audience topic; the pipeline topic is CloudWatch's alone.
        amp_audiences = [*AUDIENCES, CHAT] if args.slack else list(AUDIENCES)
        self.topics: dict[str, aws.sns.Topic] = {}
        for audience in [*amp_audiences, PIPELINE]:
            key = self.pipeline_key if audience == PIPELINE else self.key
            topic = aws.sns.Topic(
                f"{name}-{audience}",
                name=f"{args.name_prefix}-alerts-{audience}",
                display_name=f"{args.name_prefix} {audience} alerts",
                kms_master_key_id=key.arn,
                tags=tags,
                opts=stateful,
            )
            aws.sns.TopicPolicy(
                f"{name}-{audience}-policy",
                arn=topic.arn,
                policy=pulumi.Output.all(topic.arn, account_id, partition, args.workspace_arn, alarms_arn).apply(
                    functools.partial(
                        _topic_policy_json,
                        amp_publishes=audience in amp_audiences,
                        alarms_publish=audience in ALARM_AUDIENCES,
                    )
                ),
                opts=child,
            )
            self.topics[audience] = topic

        # The pipeline topic reaches everyone the critical topic reaches.
        subscribers = [(email, ("critical", "warning", PIPELINE)) for email in args.emails] + [
            (email, ("critical", PIPELINE)) for email in args.paging_emails
        ]
        # The configuration refuses two addresses with one slug (NotificationSpec).
        for email, topics in subscribers:
            slug = email_slug(email)
            for audience in topics:
                aws.sns.TopicSubscription(
                    f"{name}-{audience}-email-{slug}",
                    topic=self.topics[audience].arn,
                    protocol="email",
                    endpoint=email,
                    opts=child,
                )

        self.chatbot_configuration_arn = None
        if args.slack:
            self.chatbot_role = aws.iam.Role(
                f"{name}-chatbot-role",
                assume_role_policy=account_id.apply(
                    lambda account: json.dumps(
                        policy_document(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": CHATBOT_PRINCIPAL},
                                "Action": "sts:AssumeRole",
                                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                            }
                        )
                    )
                ),
                tags=tags,
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-chatbot-policy",
                role=self.chatbot_role.id,
                policy=json.dumps(chatbot_channel_policy()),
                opts=child,
            )
            self.chatbot = aws.chatbot.SlackChannelConfiguration(
                f"{name}-slack",
                configuration_name=f"{args.name_prefix}-alerts",
                iam_role_arn=self.chatbot_role.arn,
                slack_team_id=args.slack.team_id,
                slack_channel_id=args.slack.channel_id,
                sns_topic_arns=[self.topics[CHAT].arn],
                # Guardrails cap what anyone in the channel can do whatever
                # their own role allows; the default would be admin.
                guardrail_policy_arns=[partition.apply(lambda p: f"arn:{p}:iam::aws:policy/CloudWatchReadOnlyAccess")],
                user_authorization_required=True,
                logging_level="ERROR",
                tags=tags,
                opts=child,
            )
            self.chatbot_configuration_arn = self.chatbot.chat_configuration_arn

        # AMP does not expose prometheus_* self-metrics inside the workspace,
        # so the pipeline's own health is watched from CloudWatch, which
        # reaches people through the last-resort topic (its own key) without
        # going through Alertmanager or the shared key; chat gets a copy.
        alarm_topics = [self.alarm_topic(PIPELINE)] + ([self.alarm_topic(CHAT)] if args.slack else [])

        def alarm(suffix: str, **specific: Any) -> None:
            # One evaluation period: each alarm's period is already the window that matters.
            aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                evaluation_periods=1,
                alarm_actions=alarm_topics,
                ok_actions=alarm_topics,
                tags=tags,
                opts=child,
                **specific,
            )

        alarm(
            "rule-evaluation-failures",
            name=f"{args.name_prefix}-amp-rule-evaluation-failures",
            alarm_description="AMP failed to evaluate alerting or recording rules: some alerts cannot fire. "
            "See the workspace's rule logs (/aws/vendedlogs/prometheus/).",
            # The metric is split by RuleGroup; one query sums every group of
            # this workspace, present and future.
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="failures",
                    expression=pulumi.Output.from_input(args.workspace_id).apply(
                        lambda ws: (
                            f"SELECT SUM(RuleEvaluationFailures) FROM \"AWS/Prometheus\" WHERE Workspace = '{ws}'"
                        )
                    ),
                    period=AMP_ALARM_PERIOD_SECONDS,
                    return_data=True,
                    label="Rule evaluation failures",
                )
            ],
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            treat_missing_data="notBreaching",  # no datapoint means no failure
        )
        alarm(
            "notifications-failed",
            name=f"{args.name_prefix}-amp-notifications-failed",
            alarm_description="AMP Alertmanager failed to deliver notifications to SNS (topic policy, KMS key "
            "or subject/message rejected). See the workspace's Alertmanager logs.",
            namespace="AWS/Prometheus",
            metric_name="AlertManagerNotificationsFailed",
            dimensions={"Workspace": args.workspace_id},
            statistic="Sum",
            period=AMP_ALARM_PERIOD_SECONDS,
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            treat_missing_data="notBreaching",
        )
        alarm(
            "watchdog-silent",
            name=f"{args.name_prefix}-alerting-watchdog-silent",
            alarm_description="No Watchdog heartbeat reached SNS for 15 minutes: rule evaluation, Alertmanager "
            "or its SNS permissions are broken, and real alerts may not be delivered.",
            namespace="AWS/SNS",
            metric_name="NumberOfMessagesPublished",
            dimensions={"TopicName": self.topics["watchdog"].name},
            statistic="Sum",
            period=HEARTBEAT_SILENCE_SECONDS,
            comparison_operator="LessThanThreshold",
            threshold=1,
            # Silence is the failure being watched for.
            treat_missing_data="breaching",
        )

        self.topic_arns = pulumi.Output.all(**{audience: topic.arn for audience, topic in self.topics.items()})
        self.key_arn = self.key.arn
        self.pipeline_key_arn = self.pipeline_key.arn
        self.register_outputs(
            {
                "topic_arns": self.topic_arns,
                "key_arn": self.key_arn,
                "pipeline_key_arn": self.pipeline_key_arn,
                "chatbot_configuration_arn": self.chatbot_configuration_arn,
            }
        )

    def alarm_topic(self, audience: str) -> pulumi.Output[str]:
        """The ARN of a topic that CloudWatch alarms may publish to; refuses a topic whose policy would deny them."""
        if audience not in ALARM_AUDIENCES or audience not in self.topics:
            raise ValueError(
                f"CloudWatch alarms cannot publish to the '{audience}' topic: only {sorted(ALARM_AUDIENCES)} "
                "admit cloudwatch.amazonaws.com (notifications.ALARM_AUDIENCES)"
            )
        return self.topics[audience].arn
