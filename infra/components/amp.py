"""The AMP workspace: retention, limits and logging of rule and Alertmanager errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

# An AMP managed scraper tags its destination workspace with this key (empty
# value). Declaring it keeps `pulumi preview --refresh` from seeing drift and
# `pulumi up --refresh` from stripping it; the provider documents declaring it
# as the preferred fix (pulumi_aws/amp/scraper.py, "Ignoring changes to
# Prometheus Workspace destination"; terraform-provider-aws
# website/docs/r/prometheus_scraper.html.markdown).
MANAGED_SCRAPER_TAG = "AMPAgentlessScraper"


@dataclass
class LabelSetLimitArgs:
    label_set: Mapping[str, str]
    max_series: int


@dataclass
class AmpWorkspaceArgs:
    alias: pulumi.Input[str]
    retention_days: pulumi.Input[int]
    log_retention_days: pulumi.Input[int]
    tags: Mapping[str, str]
    label_set_limits: Sequence[LabelSetLimitArgs] = field(default_factory=list)
    protect: bool = False
    # A managed scraper writes here (collection.mode managed-scraper) and tags the workspace.
    managed_scraper: bool = False


class AmpWorkspace(pulumi.ComponentResource):
    """An AMP workspace with its configuration and a CloudWatch log group for its errors."""

    workspace_id: pulumi.Output[str]
    arn: pulumi.Output[str]
    prometheus_endpoint: pulumi.Output[str]
    remote_write_url: pulumi.Output[str]
    query_url: pulumi.Output[str]
    log_group_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AmpWorkspaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:AmpWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # The workspace holds all history: prod protects it so that neither a
        # refactor nor a `pulumi destroy` can drop it by accident, and retains
        # it in AWS should it ever leave the program (a rename without an
        # alias, a destroy after unprotecting): the same switch does both.
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        workspace_tags = {**args.tags, MANAGED_SCRAPER_TAG: ""} if args.managed_scraper else dict(args.tags)

        # AMP delivers logs as "vended logs"; a log group under
        # /aws/vendedlogs/ avoids the CloudWatch resource-policy size limit.
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=pulumi.Output.concat("/aws/vendedlogs/prometheus/", args.alias),
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=stateful,
        )

        self.workspace = aws.amp.Workspace(
            f"{name}-workspace",
            alias=args.alias,
            logging_configuration=aws.amp.WorkspaceLoggingConfigurationArgs(
                # AMP wants the log-stream wildcard form of the ARN.
                log_group_arn=self.log_group.arn.apply(lambda arn: f"{arn}:*"),
            ),
            tags=workspace_tags,
            opts=stateful,
        )

        self.configuration = aws.amp.WorkspaceConfiguration(
            f"{name}-configuration",
            workspace_id=self.workspace.id,
            retention_period_in_days=args.retention_days,
            limits_per_label_sets=[
                aws.amp.WorkspaceConfigurationLimitsPerLabelSetArgs(
                    label_set=dict(limit.label_set),
                    limits=aws.amp.WorkspaceConfigurationLimitsPerLabelSetLimitsArgs(max_series=limit.max_series),
                )
                for limit in args.label_set_limits
            ]
            or None,
            opts=child,
        )

        self.workspace_id = self.workspace.id
        self.arn = self.workspace.arn
        self.prometheus_endpoint = self.workspace.prometheus_endpoint
        self.remote_write_url = self.prometheus_endpoint.apply(lambda url: f"{url.rstrip('/')}/api/v1/remote_write")
        self.query_url = self.prometheus_endpoint.apply(lambda url: f"{url.rstrip('/')}/api/v1/query")
        self.log_group_arn = self.log_group.arn
        self.register_outputs(
            {
                "workspace_id": self.workspace_id,
                "arn": self.arn,
                "prometheus_endpoint": self.prometheus_endpoint,
                "remote_write_url": self.remote_write_url,
                "query_url": self.query_url,
                "log_group_arn": self.log_group_arn,
            }
        )
