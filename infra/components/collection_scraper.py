"""The AMP managed scraper: agentless collection from an EKS cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

# Clusters whose API accepts access entries: AMP then creates the scraper's
# access entry and access policy itself (current AWS guidance), so the
# program creates none, which would collide with AMP's own.
ACCESS_ENTRY_MODES = ("API", "API_AND_CONFIG_MAP")


def require_access_entries(cluster_name: str, authentication_mode: str | None) -> None:
    if authentication_mode not in ACCESS_ENTRY_MODES:
        raise ValueError(
            f"EKS cluster '{cluster_name}' has authenticationMode {authentication_mode!r}; the AMP managed scraper "
            "gets cluster access through an EKS access entry, which needs API or API_AND_CONFIG_MAP. Run "
            f"`aws eks update-cluster-config --name {cluster_name} --access-config "
            "authenticationMode=API_AND_CONFIG_MAP`, or use monitoring:collection.mode 'in-cluster'"
        )


@dataclass
class AmpManagedScraperArgs:
    alias: pulumi.Input[str]
    cluster_name: str
    cluster_arn: pulumi.Input[str]
    authentication_mode: pulumi.Input[str]
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    workspace_arn: pulumi.Input[str]
    scrape_config: str
    tags: Mapping[str, str]


class AmpManagedScraper(pulumi.ComponentResource):
    """An `aws.amp.Scraper` reading the EKS cluster and writing to this stack's workspace."""

    arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AmpManagedScraperArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("monitoring:index:AmpManagedScraper", name, None, opts)

        def checked_arn(parts: list[str]) -> str:
            require_access_entries(args.cluster_name, parts[1])
            return parts[0]

        self.scraper = aws.amp.Scraper(
            f"{name}-scraper",
            alias=args.alias,
            source=aws.amp.ScraperSourceArgs(
                eks=aws.amp.ScraperSourceEksArgs(
                    cluster_arn=pulumi.Output.all(args.cluster_arn, args.authentication_mode).apply(checked_arn),
                    subnet_ids=list(args.subnet_ids),
                    security_group_ids=list(args.security_group_ids) or None,
                )
            ),
            destination=aws.amp.ScraperDestinationArgs(
                amp=aws.amp.ScraperDestinationAmpArgs(workspace_arn=args.workspace_arn)
            ),
            # Plain YAML: the provider base64-encodes it into the API's configurationBlob.
            scrape_configuration=args.scrape_config,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.scraper.arn
        self.role_arn = self.scraper.role_arn
        self.register_outputs({"arn": self.arn, "role_arn": self.role_arn})
