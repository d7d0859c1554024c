"""External uptime checks: Synthetic Monitoring HTTP checks, their Grafana alerts and the public status page.

A probe outside our network sees what internal metrics cannot (DNS, TLS,
load balancer, CDN). Each public endpoint of the catalog gets one HTTP check
run from the configured probe locations; two Grafana rules per service alert
when most locations fail or a certificate nears expiry, through the same
policy tree as every other Grafana alert; in prod the uptime panels are
published as the public status page.

Synthetic Monitoring has its own API and token, so its resources use a
provider of their own that can do nothing else (`synthetics_provider`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumiverse_grafana as grafana

from infra.alerting.grafana_rules import GrafanaRuleGroupSpec
from infra.components.grafana_rules import GrafanaRuleGroup, GrafanaRuleGroupArgs, RuleContext
from infra.components.synthetics_checks import CheckSpec, check_arguments, resolve_probes
from infra.config.synthetics import SyntheticsSpec


def synthetics_provider(name: str, api_url: str, access_token: pulumi.Output[str]) -> grafana.Provider:
    """A Grafana provider holding only the Synthetic Monitoring API URL and token."""
    return grafana.Provider(name, sm_url=api_url, sm_access_token=access_token)


def lookup_probe_ids(provider: grafana.Provider, names: Sequence[str], stack_file: str) -> list[int]:
    """IDs of the named public probes, asked of Synthetic Monitoring; an unknown name fails the plan."""
    # Deprecated probes stay listed for old checks but accept no new ones.
    found = grafana.syntheticmonitoring.get_probes(filter_deprecated=True, opts=pulumi.InvokeOptions(provider=provider))
    return resolve_probes(names, dict(found.probes), stack_file)


@dataclass
class StatusPageArgs:
    """The public rendering of the uptime panels (prod)."""

    dashboard_json: str
    grafana_url: str
    # A replaced public dashboard gets a new access token, so a new public URL: protect it in prod.
    protect: bool


@dataclass
class SyntheticChecksArgs:
    name_prefix: str
    environment: str
    spec: SyntheticsSpec
    checks: Sequence[CheckSpec]
    probe_ids: Sequence[int]
    synthetics_provider: grafana.Provider
    # Rules and the status page live in the environment's Grafana folder.
    grafana_provider: grafana.Provider
    folder_uid: pulumi.Input[str]
    rule_groups: Sequence[GrafanaRuleGroupSpec]
    rule_context: RuleContext
    status_page: StatusPageArgs | None = None
    # What rules must wait for: the policy tree and contact points that route them.
    rule_dependencies: Sequence[pulumi.Resource] = field(default_factory=list)


class SyntheticChecks(pulumi.ComponentResource):
    """One HTTP check per public endpoint, the uptime rule groups and (prod) the public status page."""

    check_ids: dict[str, pulumi.Output[str]]
    status_page_url: pulumi.Output[str] | None

    def __init__(self, name: str, args: SyntheticChecksArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        arguments: dict[str, dict[str, Any]] = {
            check.logical_name: check_arguments(
                check,
                name_prefix=args.name_prefix,
                environment=args.environment,
                probe_ids=args.probe_ids,
                spec=args.spec,
            )
            for check in args.checks
        }
        super().__init__("monitoring:index:SyntheticChecks", name, None, opts)

        on_sm = pulumi.ResourceOptions(parent=self, provider=args.synthetics_provider)
        self.checks = {
            logical: grafana.syntheticmonitoring.Check(f"{name}-{logical}", **kwargs, opts=on_sm)
            for logical, kwargs in arguments.items()
        }

        for group in args.rule_groups:
            GrafanaRuleGroup(
                f"{name}-rules-{group.name.removeprefix('synthetics-')}",
                GrafanaRuleGroupArgs(
                    folder_uid=args.folder_uid,
                    group=group,
                    context=args.rule_context,
                    provider=args.grafana_provider,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.rule_dependencies)),
            )

        self.status_page_url = None
        if args.status_page is not None:
            self.status_page_url = self._status_page(name, args, args.status_page)

        self.check_ids = {arguments[logical]["job"]: check.id for logical, check in self.checks.items()}
        outputs: dict[str, Any] = {"check_ids": self.check_ids}
        if self.status_page_url is not None:
            outputs["status_page_url"] = self.status_page_url
        self.register_outputs(outputs)

    def _status_page(self, name: str, args: SyntheticChecksArgs, page: StatusPageArgs) -> pulumi.Output[str]:
        on_grafana = pulumi.ResourceOptions(parent=self, provider=args.grafana_provider)
        self.status_dashboard = grafana.oss.Dashboard(
            f"{name}-status",
            folder=args.folder_uid,
            config_json=page.dashboard_json,
            message="Deployed by Pulumi (monitoring project)",
            overwrite=True,
            opts=on_grafana,
        )
        self.status_public = grafana.oss.DashboardPublic(
            f"{name}-status-public",
            dashboard_uid=self.status_dashboard.uid,
            is_enabled=True,
            share="public",
            # Visitors may widen the latency graphs; the availability windows are fixed in the queries.
            time_selection_enabled=True,
            annotations_enabled=False,
            opts=pulumi.ResourceOptions.merge(on_grafana, pulumi.ResourceOptions(protect=page.protect)),
        )
        return pulumi.Output.concat(
            page.grafana_url.rstrip("/"), "/public-dashboards/", self.status_public.access_token
        )
