"""Real paging through PagerDuty: a service, its Events API v2 integration, and the relay from the paging topics.

Everything that reaches the critical SNS topic (AMP's critical alerts) and the
last-resort pipeline topic (the CloudWatch alarms on the alerting path itself:
the Watchdog gone silent, AMP's notifications or rule evaluations failing,
Grafana's heartbeat gone silent) is relayed to PagerDuty by a small Lambda function (infra/paging/relay.py; why not
PagerDuty's CloudWatch-over-SNS integration is said there). Grafana's
critical contact point uses the same Events API v2 integration. The
integration key exists only as a secret: in Pulumi state, the function's
environment (encrypted at rest by Lambda) and Grafana.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_pagerduty as pagerduty

from infra.iam_policy import allow, policy_json

RELAY_SOURCE = Path(__file__).resolve().parent.parent / "paging" / "relay.py"
EVENTS_API_V2 = "events_api_v2_inbound_integration"
RELAY_RUNTIME = "python3.12"
RELAY_TIMEOUT_SECONDS = 30


@dataclass
class PagerDutyPagingArgs:
    name_prefix: str
    service_name: str
    escalation_policy_id: str
    token: pulumi.Output[str]
    # The topics whose messages page: audience (critical, pipeline) -> topic ARN.
    paged_topic_arns: Mapping[str, pulumi.Input[str]]
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
    # Its own log group only: the function needs nothing else from AWS.
    return policy_json(allow(["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:*", sid="WriteOwnLogs"))


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
            description="The PagerDuty relay function (logs only)",
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
        self.relay = aws.lambda_.Function(
            f"{name}-relay",
            name=function_name,
            role=role.arn,
            runtime=RELAY_RUNTIME,
            handler="relay.handler",
            code=pulumi.AssetArchive({"relay.py": pulumi.FileAsset(str(RELAY_SOURCE))}),
            timeout=RELAY_TIMEOUT_SECONDS,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"PAGERDUTY_ROUTING_KEY": self.integration_key}),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[logs, log_policy]),
        )
        for audience, topic_arn in args.paged_topic_arns.items():
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
