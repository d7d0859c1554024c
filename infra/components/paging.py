"""Real paging through PagerDuty: a service, its Events API v2 integration, and the relay from the paging topics.

Everything that reaches the critical SNS topic (AMP's critical alerts) and the
last-resort pipeline topic (the CloudWatch alarms on the alerting path itself:
the Watchdog gone silent, AMP's notifications or rule evaluations failing,
Grafana's heartbeat gone silent) is relayed to PagerDuty by a small Lambda function (infra/paging/relay.py; why not
PagerDuty's CloudWatch-over-SNS integration is said there). Grafana's
critical contact point uses the same Events API v2 integration. The
integration key exists only as a secret: in Pulumi state, a Secrets Manager
secret that only the relay's role may read (the function's environment names
it; `lambda:GetFunctionConfiguration` would show a key kept there) and Grafana.

What the relay cannot deliver is not lost silently (issue 28 finding 7): a
message that is not a valid alert is logged and counted (`DroppedMessages`,
relay.py); an event PagerDuty refuses or never answers goes, after Lambda's
retries, to an SQS queue (the asynchronous invocation's on-failure
destination, https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html:
the execution role needs sqs:SendMessage on it; SNS invokes a subscribed
function asynchronously, https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html);
and four alarms (errors, failures to reach that queue, drops, queue depth)
reach the last-resort pipeline topic, whose email subscribers hear them even
when the relay is what is broken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_pagerduty as pagerduty

from infra.components.notifications import alarm_source_arn
from infra.iam_policy import allow, policy_json
from infra.paging import relay as relay_code

RELAY_SOURCE = Path(__file__).resolve().parent.parent / "paging" / "relay.py"
EVENTS_API_V2 = "events_api_v2_inbound_integration"
RELAY_RUNTIME = "python3.12"
RELAY_TIMEOUT_SECONDS = 30
# Lambda's own bounds for asynchronous invocations (0-2 retries, 60-21600 s of age): an alert older than
# an hour is better found in the failure queue than paged late.
RELAY_RETRIES = 2
RELAY_MAX_EVENT_AGE_SECONDS = 3600
# SQS's maximum retention: what failed stays two weeks for someone to read (and redrive by hand).
FAILED_RETENTION_SECONDS = 14 * 24 * 3600
RELAY_ALARM_PERIOD_SECONDS = 300


@dataclass
class PagerDutyPagingArgs:
    name_prefix: str
    service_name: str
    escalation_policy_id: str
    token: pulumi.Output[str]
    region: str
    # The topics whose messages page, audience -> topic ARN: those only AMP's Alertmanager publishes to
    # (critical) and those only this stack's CloudWatch alarms publish to (pipeline). The relay accepts
    # each kind of message from its own topics only.
    amp_topic_arns: Mapping[str, pulumi.Input[str]]
    alarm_topic_arns: Mapping[str, pulumi.Input[str]]
    # Where the relay's own alarms go (the pipeline topic, and chat).
    alarm_actions: Sequence[pulumi.Input[str]]
    log_retention_days: int
    tags: Mapping[str, str]


def relay_trust_policy(account_id: str) -> str:
    # Lambda of this account only (confused deputy); AWS's own samples condition a function role so
    # (aws/agent-toolkit-for-aws, serverless-skills lambda-trust-policy.json).
    return policy_json(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def relay_log_policy(log_group_arn: str) -> str:
    # Its own log group only.
    return policy_json(allow(["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:*", sid="WriteOwnLogs"))


def relay_secret_policy(secret_arn: str, failed_queue_arn: str) -> str:
    """Read exactly the routing key's secret; send failed events to exactly its own queue.

    The secret uses Secrets Manager's AWS-managed key (aws/secretsmanager), whose key policy admits the
    account's principals through Secrets Manager: no kms: action is needed (Secrets Manager user guide,
    "Secret encryption and decryption").
    """
    return policy_json(
        allow(["secretsmanager:GetSecretValue"], secret_arn, sid="ReadTheRoutingKey"),
        allow(["sqs:SendMessage"], failed_queue_arn, sid="KeepFailedEvents"),
    )


def relay_environment(
    secret_arn: str, amp_topics: Sequence[str], alarm_topics: Sequence[str], alarm_arn_prefix: str
) -> dict[str, str]:
    """The relay's environment: names and ARNs only, never the routing key itself."""
    return {
        relay_code.ENV_SECRET_ARN: secret_arn,
        relay_code.ENV_AMP_TOPICS: ",".join(amp_topics),
        relay_code.ENV_ALARM_TOPICS: ",".join(alarm_topics),
        relay_code.ENV_ALARM_ARN_PREFIX: alarm_arn_prefix,
    }


class PagerDutyPaging(pulumi.ComponentResource):
    """PagerDuty service + Events API v2 integration, and the paging topics' relay to it."""

    integration_key: pulumi.Output[str]
    service_url: pulumi.Output[str]

    def __init__(self, name: str, args: PagerDutyPagingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:PagerDutyPaging", name, None, opts)
        provider = pagerduty.Provider(f"{name}-provider", token=args.token, opts=pulumi.ResourceOptions(parent=self))
        on_pagerduty = pulumi.ResourceOptions(parent=self, provider=provider)
        self.service = pagerduty.Service(
            f"{name}-service",
            name=args.service_name,
            description="Critical alerts of the screener monitoring stack (AMP Alertmanager and Grafana)",
            escalation_policy=args.escalation_policy_id,
            # Alertmanager and Grafana send the resolve themselves; nothing closes on a timer.
            auto_resolve_timeout="null",
            acknowledgement_timeout="1800",
            opts=on_pagerduty,
        )
        integration = pagerduty.ServiceIntegration(
            f"{name}-events",
            name="Events API v2 (AMP relay, Grafana)",
            service=self.service.id,
            type=EVENTS_API_V2,
            # The SDK does not flag the routing key as secret; whoever holds it can page the on-call.
            opts=pulumi.ResourceOptions.merge(
                on_pagerduty, pulumi.ResourceOptions(additional_secret_outputs=["integrationKey"])
            ),
        )
        self.integration_key = pulumi.Output.secret(integration.integration_key)

        child = pulumi.ResourceOptions(parent=self)
        function_name = f"{args.name_prefix}-pagerduty-relay"
        role = aws.iam.Role(
            f"{name}-relay-role",
            name=function_name,
            description="The PagerDuty relay function (its logs, its secret, its failure queue)",
            assume_role_policy=aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).apply(
                lambda identity: relay_trust_policy(identity.account_id)
            ),
            tags=dict(args.tags),
            opts=child,
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-relay-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=child,
        )
        log_policy = aws.iam.RolePolicy(
            f"{name}-relay-logs", role=role.id, policy=logs.arn.apply(relay_log_policy), opts=child
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-routing-key",
            name=f"{args.name_prefix}/pagerduty-routing-key",
            description="PagerDuty Events API v2 routing key of the paging service (read by the relay)",
            # Deleted at once: the key is PagerDuty's (the integration above), nothing is lost, and a secret
            # waiting out the default 30-day recovery window keeps its name, so the next `pulumi up` after a
            # destroy could not create it again (pulumi-aws secretsmanager.Secret, recovery_window_in_days:
            # "0 to force deletion without recovery or range from 7 to 30 days. The default value is 30").
            recovery_window_in_days=0,
            tags=dict(args.tags),
            opts=child,
        )
        # The SDK marks secretString secret (additional_secret_outputs); the input is a secret Output too.
        secret_version = aws.secretsmanager.SecretVersion(
            f"{name}-routing-key-version", secret_id=secret.id, secret_string=self.integration_key, opts=child
        )
        failed = aws.sqs.Queue(
            f"{name}-relay-failed",
            name=f"{function_name}-failed",
            message_retention_seconds=FAILED_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=dict(args.tags),
            opts=child,
        )
        access_policy = aws.iam.RolePolicy(
            f"{name}-relay-access",
            role=role.id,
            policy=pulumi.Output.all(secret.arn, failed.arn).apply(lambda arns: relay_secret_policy(*arns)),
            opts=child,
        )
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        amp_topics, alarm_topics = list(args.amp_topic_arns.values()), list(args.alarm_topic_arns.values())
        environment = pulumi.Output.all(
            secret.arn, partition, identity.account_id, pulumi.Output.all(*amp_topics), pulumi.Output.all(*alarm_topics)
        ).apply(
            lambda v: relay_environment(
                v[0], v[3], v[4], alarm_source_arn(v[1], args.region, v[2], args.name_prefix).removesuffix("*")
            )
        )
        self.relay = aws.lambda_.Function(
            f"{name}-relay",
            name=function_name,
            role=role.arn,
            runtime=RELAY_RUNTIME,
            handler="relay.handler",
            code=pulumi.AssetArchive({"relay.py": pulumi.FileAsset(str(RELAY_SOURCE))}),
            timeout=RELAY_TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            tags=dict(args.tags),
            # The secret's value and the role's rights exist before the first message arrives.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, log_policy, access_policy, secret_version]),
        )
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-relay-on-failure",
            function_name=self.relay.name,
            maximum_retry_attempts=RELAY_RETRIES,
            maximum_event_age_in_seconds=RELAY_MAX_EVENT_AGE_SECONDS,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=failed.arn)
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_policy]),
        )
        self._alarms(name, args, function_name, failed)
        for audience, topic_arn in {**args.amp_topic_arns, **args.alarm_topic_arns}.items():
            invoke = aws.lambda_.Permission(
                f"{name}-relay-invoke-{audience}",
                action="lambda:InvokeFunction",
                function=self.relay.name,
                principal="sns.amazonaws.com",
                # Only the paging topics may invoke it.
                source_arn=topic_arn,
                opts=child,
            )
            aws.sns.TopicSubscription(
                f"{name}-relay-subscription-{audience}",
                topic=topic_arn,
                protocol="lambda",
                endpoint=self.relay.arn,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[invoke]),
            )
        self.service_url = self.service.html_url
        self.register_outputs({"service_url": self.service_url})

    def _alarms(self, name: str, args: PagerDutyPagingArgs, function_name: str, failed: aws.sqs.Queue) -> None:
        """The relay failing, dropping or parking events pages through the pipeline topic (names under the
        stack's prefix: the topic admits this stack's alarms only)."""
        actions = list(args.alarm_actions)

        def alarm(suffix: str, description: str, **metric: Any) -> None:
            aws.cloudwatch.MetricAlarm(
                f"{name}-relay-{suffix}",
                name=f"{function_name}-{suffix}",
                alarm_description=description,
                statistic="Sum" if "statistic" not in metric else metric.pop("statistic"),
                period=RELAY_ALARM_PERIOD_SECONDS,
                evaluation_periods=1,
                comparison_operator="GreaterThanThreshold",
                threshold=0,
                treat_missing_data="notBreaching",  # no datapoint: nothing failed, nothing dropped
                alarm_actions=actions,
                ok_actions=actions,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
                **metric,
            )

        alarm(
            "errors",
            "The PagerDuty relay failed (PagerDuty unreachable or refusing, or its secret unreadable): critical "
            "alerts may not page. See its log group; failed events land in its -failed queue.",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function_name},
        )
        alarm(
            "destination-failures",
            "Lambda could not put a failed PagerDuty relay event into its -failed queue (queue gone or the role "
            "lost sqs:SendMessage): that event is lost. See the relay's log group for the alert.",
            namespace="AWS/Lambda",
            metric_name="DestinationDeliveryFailures",
            dimensions={"FunctionName": function_name},
        )
        alarm(
            "dropped",
            "The PagerDuty relay dropped messages that are not alerts of this stack (wrong topic or shape): "
            "see its log lines with event=dropped for the reason.",
            namespace=relay_code.METRIC_NAMESPACE,
            metric_name=relay_code.DROPPED_METRIC,
            dimensions={"FunctionName": function_name},
        )
        alarm(
            "failed-queue",
            "Events the PagerDuty relay could not deliver after Lambda's retries wait in its -failed queue: "
            "page by hand, then purge or redrive.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": failed.name},
            statistic="Maximum",
        )
