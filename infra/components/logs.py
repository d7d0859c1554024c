"""Container logs in CloudWatch Logs: encrypted groups, the collector and its identity, error alarms, saved queries.

Everything stays in the environment's own account, beside its metrics. The
groups are declared here, before the collector runs: a collector that
created them would leave them unencrypted and kept forever.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from infra.alerting.conventions import runbook_link
from infra.components.cluster_pieces import irsa_role, pinned_release
from infra.components.notifications import account_administers_key
from infra.config.logs import ErrorBurstSpec
from infra.iam_policy import allow, policy_document, policy_json
from infra.logs import fluent_bit
from infra.logs.fluent_bit import GROUP_KINDS, GROUP_OF_FORMAT, LogSource
from infra.logs.queries import ERRORS, QUERIES, error_filter_pattern, saved_query_name

# Only CloudWatch Logs encrypts with the logs key. The user guide's statement also lists kms:Describe*,
# but DescribeKey carries no encryption context, so under the group condition it was never granted
# (IAM reference: kms:EncryptionContext keys apply to the encrypt/decrypt/data-key actions only).
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*")
# What Fluent Bit's cloudwatch_logs output calls with auto_create_group off.
COLLECTOR_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
ERROR_METRIC = "ErrorLines"
ERROR_BURST_SEVERITY = "warning"
ERROR_BURST_ALERT = "LogErrorBurst"


def log_group_name(name_prefix: str, kind: str) -> str:
    return f"/{name_prefix}/{kind}"


def log_group_arn(partition: str, region: str, account_id: str, name: str) -> str:
    """The ARN CloudWatch Logs puts in the KMS encryption context (no trailing `:*`)."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{name}"


def logs_key_policy(account_id: str, partition: str, region: str, group_arns: Sequence[str]) -> dict[str, Any]:
    """The account administers the key; CloudWatch Logs of this region uses it, for these groups only."""
    return policy_document(
        account_administers_key(account_id, partition),
        {
            "Sid": "CloudWatchLogsEncryptsTheseGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": list(LOGS_KEY_ACTIONS),
            "Resource": "*",
            # CloudWatch Logs names the group in the encryption context of every call.
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": list(group_arns)}},
        },
    )


def collector_policy(group_arns: Sequence[str]) -> str:
    """The collector creates streams and puts events in this stack's groups, nothing else."""
    return policy_json(
        allow(COLLECTOR_ACTIONS, [f"{arn}:log-stream:*" for arn in group_arns], sid="WriteTheseGroupsOnly")
    )


def alarm_description(service: str, environment: str, name_prefix: str, burst: ErrorBurstSpec, runbook_url: str) -> str:
    """What a person reads in the notification, ending with the labels every alert carries."""
    return (
        f"{service} wrote at least {burst.errors_per_period} error lines in {burst.bad_periods} of the last "
        f"{burst.evaluation_periods} {burst.period_minutes}-minute periods. Look at them with the saved Logs "
        f"Insights query {name_prefix}/{ERRORS.slug} or the Logs dashboard.\n"
        f"severity={ERROR_BURST_SEVERITY} service={service} env={environment} runbook={runbook_url}"
    )


@dataclass
class CollectorArgs:
    """Where the collector runs: the cluster, its Kubernetes provider and the namespace the collection creates.

    The Namespace object itself, not its name: the Helm release does not create its namespace (the
    provider's `createNamespace` is off), so it must be installed after the collection's Namespace exists.
    """

    cluster_name: str
    namespace: k8s.core.v1.Namespace
    provider: k8s.Provider


@dataclass
class CentralLogsArgs:
    name_prefix: str
    environment: str
    region: str
    retention_days: int
    sources: Sequence[LogSource]
    error_burst: ErrorBurstSpec
    alarm_topic_arns: Sequence[pulumi.Input[str]]
    runbook_base_url: str
    tags: Mapping[str, str]
    collector: CollectorArgs | None
    # Why there is nothing to collect (no cluster): shown in the plan instead of the resources.
    skipped: str | None = None
    protect: bool = False


class CentralLogs(pulumi.ComponentResource):
    """Log groups (KMS, retention), the Fluent Bit collector with IRSA, error-burst alarms and saved queries."""

    group_names: dict[str, pulumi.Output[str]]
    group_arns: pulumi.Output[list[str]]
    key_arn: pulumi.Output[str] | None = None
    collector_role_arn: pulumi.Output[str] | None = None
    alarm_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: CentralLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:CentralLogs", name, {"skipped": args.skipped or ""}, opts)
        self.group_names = {}
        self.alarm_names = []
        if args.skipped is not None:
            pulumi.log.info(f"logs skipped: {args.skipped}", resource=self)
            self.group_arns = pulumi.Output.from_input([])
            self.register_outputs({"group_names": {}, "skipped": args.skipped})
            return
        child = pulumi.ResourceOptions(parent=self)
        # Deleting a group deletes its lines, and deleting the key makes them unreadable: prod protects both,
        # and retains them in AWS should they ever leave the program.
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        tags = dict(args.tags)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition
        names = {kind: log_group_name(args.name_prefix, kind) for kind in GROUP_KINDS}
        arns = pulumi.Output.all(identity.account_id, partition).apply(
            lambda ap: [log_group_arn(ap[1], args.region, ap[0], names[kind]) for kind in GROUP_KINDS]
        )

        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {args.name_prefix} log groups",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=pulumi.Output.all(identity.account_id, partition, arns).apply(
                lambda parts: json.dumps(logs_key_policy(parts[0], parts[1], args.region, parts[2]))
            ),
            tags=tags,
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{args.name_prefix}-logs", target_key_id=self.key.key_id, opts=child
        )

        self.groups: dict[str, aws.cloudwatch.LogGroup] = {}
        for kind in GROUP_KINDS:
            self.groups[kind] = aws.cloudwatch.LogGroup(
                f"{name}-{kind}",
                name=names[kind],
                retention_in_days=args.retention_days,
                kms_key_id=self.key.arn,
                deletion_protection_enabled=args.protect,
                tags=tags,
                opts=stateful,
            )
        self.group_names = {kind: group.name for kind, group in self.groups.items()}

        if args.collector is not None:
            self._collector(name, args, args.collector, names, arns, tags)

        topics = list(args.alarm_topic_arns)
        metric_namespace = f"{args.name_prefix}/logs"
        period_seconds = args.error_burst.period_minutes * 60
        runbook = runbook_link(args.runbook_base_url, ERROR_BURST_ALERT)
        for source in args.sources:
            group = self.groups[GROUP_OF_FORMAT[source.format]]
            aws.cloudwatch.LogMetricFilter(
                f"{name}-{source.service}-errors",
                name=f"{args.name_prefix}-{source.service}-error-lines",
                log_group_name=group.name,
                pattern=error_filter_pattern(source.format, source.service),
                metric_transformation=aws.cloudwatch.LogMetricFilterMetricTransformationArgs(
                    name=ERROR_METRIC,
                    namespace=metric_namespace,
                    value="1",
                    # A dimension excludes a default value: a minute without errors publishes nothing.
                    dimensions={"service": "$.service"},
                    unit="Count",
                ),
                opts=child,
            )
            alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-{source.service}-error-burst",
                name=f"{args.name_prefix}-logs-{source.service}-error-burst",
                alarm_description=alarm_description(
                    source.service, args.environment, args.name_prefix, args.error_burst, runbook
                ),
                namespace=metric_namespace,
                metric_name=ERROR_METRIC,
                dimensions={"service": source.service},
                statistic="Sum",
                period=period_seconds,
                evaluation_periods=args.error_burst.evaluation_periods,
                datapoints_to_alarm=args.error_burst.bad_periods,
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=args.error_burst.errors_per_period,
                # No datapoint means no error line was written in that period.
                treat_missing_data="notBreaching",
                alarm_actions=topics,
                ok_actions=topics,
                tags=tags,
                opts=child,
            )
            self.alarm_names.append(alarm.name)

        self.query_ids: dict[str, pulumi.Output[str]] = {}
        for query in QUERIES:
            definition = aws.cloudwatch.QueryDefinition(
                f"{name}-query-{query.slug}",
                name=saved_query_name(args.name_prefix, query),
                query_string=query.text,
                log_group_names=[self.groups[kind].name for kind in query.group_kinds],
                opts=child,
            )
            self.query_ids[query.slug] = definition.query_definition_id

        self.group_arns = arns
        self.key_arn = self.key.arn
        self.register_outputs(
            {
                "group_names": self.group_names,
                "group_arns": self.group_arns,
                "key_arn": self.key_arn,
                "collector_role_arn": self.collector_role_arn,
                "alarm_names": self.alarm_names,
            }
        )

    def _collector(
        self,
        name: str,
        args: CentralLogsArgs,
        collector: CollectorArgs,
        names: Mapping[str, str],
        arns: pulumi.Output[list[str]],
        tags: Mapping[str, str],
    ) -> None:
        cluster = aws.eks.get_cluster_output(name=collector.cluster_name, opts=pulumi.InvokeOutputOptions(parent=self))
        issuer = cluster.identities[0].oidcs[0].issuer
        # Read from the Namespace resource: the release and the role's trust name it once it exists.
        namespace: pulumi.Output[str] = collector.namespace.metadata.name
        self.collector_role, self.collector_policy = irsa_role(
            (f"{name}-collector-role", f"{name}-collector-write"),
            f"{args.name_prefix}-logs-collector",
            "Fluent Bit: write container logs to this stack's log groups (IRSA)",
            issuer,
            (namespace, fluent_bit.SERVICE_ACCOUNT),
            arns.apply(collector_policy),
            tags,
            self,
        )
        self.release = pinned_release(
            f"{name}-collector",
            fluent_bit.RELEASE,
            fluent_bit.FLUENT_BIT,
            namespace,
            fluent_bit.chart_values(args.sources, names, args.region, self.collector_role.arn),
            # Lines are written from the first start: the role's permission and the groups exist before,
            # and so does the namespace the release is installed into.
            pulumi.ResourceOptions(
                parent=self,
                provider=collector.provider,
                depends_on=[collector.namespace, self.collector_policy, *self.groups.values()],
            ),
        )
        self.collector_role_arn = self.collector_role.arn
