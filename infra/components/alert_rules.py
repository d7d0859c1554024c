"""Alert and recording rules uploaded to the AMP workspace, one rule groups namespace per rule file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass
class AlertRulesArgs:
    workspace_id: pulumi.Input[str]
    # Namespace name -> rule-file YAML, exactly as `render_rule_files` wrote it
    # (the text promtool tested is the text AMP evaluates).
    rule_files: Mapping[str, str]
    tags: Mapping[str, str]
    # infra.alerting.quotas.QuotaUsage.summary(): what the rules use of AMP's quotas and the account's limits,
    # the component's inputs, which the policies amp-rule-quotas and amp-alertmanager-outage-quotas read.
    quotas: Mapping[str, Any] = field(default_factory=dict)


class AlertRules(pulumi.ComponentResource):
    """The rendered rule files as AMP rule groups namespaces."""

    namespace_names: list[str]
    namespace_arns: pulumi.Output[list[str]]

    def __init__(self, name: str, args: AlertRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:AlertRules", name, {"quotas": dict(args.quotas)}, opts)
        # Each namespace is keyed by its own name, so adding or removing one
        # never renames (and so never replaces) another.
        self.namespaces = {
            namespace: aws.amp.RuleGroupNamespace(
                f"{name}-{namespace}",
                name=namespace,
                workspace_id=args.workspace_id,
                data=text,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for namespace, text in args.rule_files.items()
        }
        self.namespace_names = list(self.namespaces)
        self.namespace_arns = pulumi.Output.all(*(ns.arn for ns in self.namespaces.values()))
        self.register_outputs({"namespace_names": self.namespace_names, "namespace_arns": self.namespace_arns})
