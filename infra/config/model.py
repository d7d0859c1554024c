"""The whole stack configuration as one typed, frozen object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pydantic import Field, ValidationInfo, field_validator, model_validator

from infra.config.alerting import KubernetesAlertSpec, RulesSpec, SloSpec, Thresholds
from infra.config.base import MAX_CATALOG_SERVICES, PlainText, Section, error_at
from infra.config.collection import CollectionSpec
from infra.config.core import AmpSpec, ServiceSpec
from infra.config.cost import CostSpec
from infra.config.grafana import GrafanaSpec
from infra.config.logs import LogsSpec
from infra.config.maintenance import MaintenanceSpec
from infra.config.names import longest_prefix, name_prefix_of, names_too_long
from infra.config.notifications import NotificationSpec
from infra.config.paging import PagingSpec
from infra.config.sentry import SentrySpec
from infra.config.synthetics import HEALTH_CHECK, HOME_CHECK, PUBLIC_KINDS, SyntheticsSpec

_TAG_KEY = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,128}$")
# A stack file's `environment: null` (or true, no, ...) reaches the program as that word, and
# every name would carry it (`screener-null-alerts-critical`).
_ENVIRONMENT = re.compile(r"^[a-z][a-z0-9-]{1,15}$")
_YAML_LITERALS = frozenset({"null", "none", "nil", "true", "false", "yes", "no", "on", "off", "undefined"})
# The stack files sit next to the program: <project>/stacks/Pulumi.<stack>.yaml.
STACKS_DIR = Path(__file__).resolve().parents[2] / "stacks"


# AWS allows 50 tags per resource; these are the ones `StackConfig.tags` adds to every resource.
PROGRAM_TAGS = ("environment", "service", "owner", "component", "managed-by")
MAX_USER_TAGS = 50 - len(PROGRAM_TAGS)
MAX_TAG_VALUE = 256
_TAG_VALUE_PUNCTUATION = frozenset(" _.:/=+-@")


def _committed_settings(path: Path) -> dict[str, Any]:
    """The `monitoring:` settings of a committed stack file, camelCase as written, read by the one stack-file
    reader (empty if it refuses the file: that file's own plan reports why)."""
    # Imported here: the reader imports the configuration package this module belongs to.
    from infra.config.loader import ConfigError
    from infra.config.stackfile import decode_stack_file, read_stack_document

    relative = str(path.relative_to(STACKS_DIR.parent))
    try:
        _, config = read_stack_document(decode_stack_file(path.read_bytes(), relative), relative)
    except (OSError, ConfigError):
        return {}
    return {str(key).removeprefix("monitoring:"): value for key, value in config.items()}


def other_stack_files(environment: str) -> list[tuple[Path, dict[str, Any]]]:
    """The committed stack files of the other environments, with their `monitoring:` settings."""
    others = []
    for path in sorted(STACKS_DIR.glob("Pulumi.*.yaml")):
        settings = _committed_settings(path)
        if settings.get("environment") not in (None, environment):
            others.append((path, settings))
    return others


def _same_url(left: Any, right: Any) -> bool:
    return isinstance(left, str) and isinstance(right, str) and left.rstrip("/").lower() == right.rstrip("/").lower()


def shared_object_claims(mine: StackInput, theirs: dict[str, Any]) -> list[tuple[tuple[str, ...], bool, bool, str]]:
    """(where, this stack claims it, the other claims it, what it is) for each object one stack owns."""
    claims: list[tuple[tuple[str, ...], bool, bool, str]] = []
    grafana: dict[str, Any] = theirs["grafana"] if isinstance(theirs.get("grafana"), dict) else {}
    if _same_url(mine.grafana.url, grafana.get("url")):
        claims += [
            (
                ("grafana", "notificationPolicy"),
                mine.grafana.notification_policy is not None,
                grafana.get("notificationPolicy") is not None,
                f"notificationPolicy writes the one policy tree of {mine.grafana.url}",
            ),
            (
                ("grafana", "stackSlug"),
                mine.grafana.stack_slug is not None,
                grafana.get("stackSlug") is not None,
                f"stackSlug installs the AMP plugin on {mine.grafana.url}",
            ),
            (
                ("grafana", "dashboardPreviews"),
                mine.grafana.dashboard_previews,
                grafana.get("dashboardPreviews") is True,
                f"dashboardPreviews owns the previews folder and upload account of {mine.grafana.url}",
            ),
        ]
    sentry: dict[str, Any] = theirs["sentry"] if isinstance(theirs.get("sentry"), dict) else {}
    if mine.sentry is not None and sentry.get("organization") == mine.sentry.organization:
        claims.append(
            (
                ("sentry", "ownsSharedObjects"),
                mine.sentry.owns_shared_objects,
                sentry.get("ownsSharedObjects") is True,
                f"ownsSharedObjects creates the team and shared projects of Sentry organisation "
                f"'{mine.sentry.organization}'",
            )
        )
    return claims


class StackInput(Section):
    """Everything under the `monitoring:` namespace of a stack file, secrets excepted."""

    environment: str = Field(description="dev, staging, prod, ...: 2-16 lower-case letters, digits and '-'")
    owner: PlainText = Field(min_length=1, max_length=64, description="team that owns the alerts (tag `owner`)")
    platform: str = Field(
        default="screener", pattern=r"^[a-z][a-z0-9-]{1,30}$", description="prefix of every physical name"
    )
    tags: dict[str, str] = Field(default_factory=dict, description="extra tags on every taggable AWS resource")
    services: tuple[ServiceSpec, ...] = Field(
        min_length=1,
        max_length=MAX_CATALOG_SERVICES,
        description="the service catalog: what is scraped, probed and alerted on",
    )
    amp: AmpSpec = AmpSpec()
    thresholds: Thresholds = Thresholds()
    slo: SloSpec = SloSpec()
    rules: RulesSpec = RulesSpec()
    kubernetes: KubernetesAlertSpec = KubernetesAlertSpec()
    notifications: NotificationSpec = Field(default=NotificationSpec(), validate_default=True)
    paging: PagingSpec | None = Field(
        default=None,
        description="a paging service for the critical path (PagerDuty); without it the paging emails stay",
    )
    # Before `grafana`: its validator checks the policy tree against it.
    maintenance: MaintenanceSpec | None = Field(
        default=None, description="windows in which neither AMP's Alertmanager nor Grafana notifies anyone"
    )
    grafana: GrafanaSpec = Field(description="the Grafana Cloud stack: data source, dashboards, alerting")
    synthetics: SyntheticsSpec = Field(
        default=SyntheticsSpec(), description="Synthetic Monitoring checks of every public endpoint"
    )
    collection: CollectionSpec = Field(
        default=CollectionSpec(), description="how metrics reach AMP: managed scraper, in-cluster agent or none"
    )
    logs: LogsSpec = Field(
        default_factory=LogsSpec,
        description="container logs to CloudWatch Logs (staging, prod); nothing without collection.clusterName",
    )
    cost: CostSpec | None = Field(
        default=None, description="AMP prices, budget and cardinality assumptions; no estimate or budget check without"
    )
    sentry: SentrySpec | None = Field(
        default=None, description="error tracking with Sentry (projects, client keys, alerts); off when absent"
    )

    @property
    def name_prefix(self) -> str:
        """Prefix of this stack's physical names."""
        return name_prefix_of(self.platform, self.environment)

    @field_validator("services")
    @classmethod
    def _names_are_unique(cls, services: tuple[ServiceSpec, ...]) -> tuple[ServiceSpec, ...]:
        seen: set[str] = set()
        for service in services:
            if service.name in seen:
                raise ValueError(f"duplicate service name '{service.name}'; every name must be unique")
            seen.add(service.name)
        # Two entries on one Kubernetes Service would scrape it twice under two names
        # and install its exporter twice.
        targets: dict[tuple[str, str], str] = {}
        for service in services:
            if service.scrape is None:
                continue
            target = (service.scrape.k8s_namespace, service.scrape.k8s_service or service.name)
            if target in targets:
                raise ValueError(
                    f"services '{targets[target]}' and '{service.name}' both scrape Kubernetes Service "
                    f"{target[0]}/{target[1]}; give each its own scrape.k8sService"
                )
            targets[target] = service.name
        return services

    @field_validator("environment")
    @classmethod
    def _environment_is_a_name(cls, environment: str) -> str:
        if not _ENVIRONMENT.match(environment):
            raise ValueError(
                f"{environment!r} is not an environment name: 2-16 lower-case letters, digits and '-', starting "
                "with a letter (it starts every physical name); set it, e.g. dev, staging or prod"
            )
        if environment in _YAML_LITERALS:
            raise ValueError(
                f"'{environment}' is a YAML literal, not an environment name (every physical name would carry it); "
                "set the environment's name, e.g. dev, staging or prod"
            )
        return environment

    @field_validator("platform")
    @classmethod
    def _names_fit_every_service_limit(cls, platform: str, info: ValidationInfo) -> str:
        environment = info.data.get("environment")
        if environment is None:
            return platform
        prefix = name_prefix_of(platform, environment)
        too_long = names_too_long(prefix)
        if too_long:
            raise ValueError(
                f"platform '{platform}' and environment '{environment}' make physical names too long: "
                f"{'; '.join(too_long)}; shorten them to at most {longest_prefix()} characters together "
                f"('<platform>-<environment>' is {len(prefix)})"
            )
        return platform

    @field_validator("synthetics")
    @classmethod
    def _checks_cover_the_public_catalog(cls, synthetics: SyntheticsSpec, info: ValidationInfo) -> SyntheticsSpec:
        services: tuple[ServiceSpec, ...] | None = info.data.get("services")
        if services is None:
            return synthetics
        catalog = {service.name: index for index, service in enumerate(services)}
        for index, extra in enumerate(synthetics.checks):
            if extra.service not in catalog:
                raise error_at(
                    ("synthetics", "checks", index, "service"),
                    f"'{extra.service}' is not in the service catalog; one of {', '.join(catalog)}",
                )
        # (service, check name) of every check: the catalog's URLs first, then the extra ones.
        named = [(s.name, HEALTH_CHECK) for s in services if s.health_url]
        named += [(s.name, HOME_CHECK) for s in services if s.public_url]
        named += [(extra.service, extra.name) for extra in synthetics.checks]
        seen: set[tuple[str, str]] = set()
        for service_name, check_name in named:
            if (service_name, check_name) in seen:
                raise error_at(
                    ("synthetics", "checks"),
                    f"service '{service_name}' has two checks named '{check_name}' ('{HEALTH_CHECK}' and "
                    f"'{HOME_CHECK}' are taken by the catalog's URLs); rename one",
                )
            seen.add((service_name, check_name))
        probed = {service_name for service_name, _ in named}
        for service in services:
            if service.kind in PUBLIC_KINDS and service.name not in probed:
                raise error_at(
                    ("services", catalog[service.name]),
                    f"service '{service.name}' of kind '{service.kind}' is public but nothing probes it from "
                    "outside; set its healthUrl or publicUrl (or add a monitoring:synthetics.checks entry for it)",
                )
        return synthetics

    @field_validator("notifications")
    @classmethod
    def _someone_hears_warnings(cls, notifications: NotificationSpec) -> NotificationSpec:
        # Grafana's team contact point mails `emails`, and Grafana refuses an email integration without addresses.
        if not notifications.emails:
            raise ValueError(
                "emails is empty: warnings (the warning topic and Grafana's team contact point) would reach "
                "nobody; list at least one address in monitoring:notifications, e.g. emails: [team@example.com]"
            )
        return notifications

    @field_validator("collection")
    @classmethod
    def _static_discovery_has_targets(cls, collection: CollectionSpec, info: ValidationInfo) -> CollectionSpec:
        # With static discovery the targets are the only way to reach a service.
        if collection.discovery != "static":
            return collection
        missing = [
            service.name
            for service in info.data.get("services") or ()
            if service.scrape is not None and not service.scrape.static_targets
        ]
        if missing:
            raise ValueError(
                f"discovery is 'static' but service(s) {', '.join(repr(name) for name in missing)} have no "
                "scrape.staticTargets; add host:port targets to each in monitoring:services, or use discovery "
                "'kubernetes'"
            )
        return collection

    @field_validator("collection")
    @classmethod
    def _one_celery_exporter_per_broker(cls, collection: CollectionSpec, info: ValidationInfo) -> CollectionSpec:
        # The exporter deployment is one per stack: one broker Secret, one Kubernetes Service to scrape.
        exporters = collection.exporters
        if exporters is None or not exporters.celery.enabled or collection.discovery != "kubernetes":
            return collection
        scraped = [s.name for s in info.data.get("services") or () if s.kind == "celery" and s.scrape is not None]
        if len(scraped) > 1:
            raise ValueError(
                f"celery services {', '.join(scraped)} each need an exporter, but exporters.celery deploys one "
                "with one broker Secret; keep one scraped celery service in monitoring:services or set "
                "exporters.celery.enabled to false and deploy the others yourself"
            )
        return collection

    @field_validator("logs")
    @classmethod
    def _log_sources_are_catalog_services(cls, logs: LogsSpec, info: ValidationInfo) -> LogsSpec:
        # A source's name becomes the `service` field that queries, filters and alarms select on.
        known = {service.name for service in info.data.get("services") or ()}
        unknown = [source.service for source in logs.sources if source.service not in known]
        if unknown:
            raise ValueError(
                f"sources name service(s) {', '.join(repr(name) for name in unknown)} that monitoring:services lacks; "
                "use a catalog service name"
            )
        return logs

    @field_validator("kubernetes")
    @classmethod
    def _workloads_map_to_catalog_services(
        cls, kubernetes: KubernetesAlertSpec, info: ValidationInfo
    ) -> KubernetesAlertSpec:
        # A `service` label no catalog entry has would route, group and inhibit with nothing.
        known = {service.name for service in info.data.get("services") or ()}
        unknown = sorted({service for service in kubernetes.workload_services.values() if service not in known})
        if known and unknown:
            raise ValueError(
                f"workloadServices maps to {', '.join(repr(name) for name in unknown)}, which monitoring:services "
                f"does not list; use one of {', '.join(sorted(known))}"
            )
        return kubernetes

    @field_validator("tags")
    @classmethod
    def _tags_are_valid(cls, tags: dict[str, str]) -> dict[str, str]:
        # AWS tag rules (AWS General Reference, "Tagging AWS resources", tag naming limits and requirements):
        # keys 1-128 and values 0-256 Unicode characters of letters, digits, spaces and _.:/=+-@; the `aws:`
        # prefix is reserved for AWS; at most 50 user tags per resource.
        if len(tags) > MAX_USER_TAGS:
            raise ValueError(
                f"{len(tags)} tags; AWS allows 50 per resource and the program adds {len(PROGRAM_TAGS)} "
                f"({', '.join(PROGRAM_TAGS)}), so at most {MAX_USER_TAGS}"
            )
        for key, value in tags.items():
            if not _TAG_KEY.match(key) or key.lower().startswith("aws:"):
                raise ValueError(
                    f"tag key '{key}' is not allowed: 1-128 letters, digits, spaces and _.:/=+@-, and the prefix "
                    "'aws:' is reserved for AWS; rename it"
                )
            if key in PROGRAM_TAGS:
                raise ValueError(f"tag key '{key}' is set by the program on every resource; remove it from tags")
            if len(value) > MAX_TAG_VALUE:
                raise ValueError(
                    f"tag '{key}' value is {len(value)} characters; AWS allows at most {MAX_TAG_VALUE}: shorten it"
                )
            if not all(char.isalnum() or char in _TAG_VALUE_PUNCTUATION for char in value):
                raise ValueError(
                    f"tag '{key}' value {value!r} has characters AWS refuses in tags: letters, digits, spaces and "
                    "_.:/=+-@ only"
                )
        return tags

    @model_validator(mode="after")
    def _one_stack_owns_each_shared_object(self) -> StackInput:
        # Objects of a whole Grafana instance or Sentry organisation belong to one stack: a second owner would
        # overwrite the first one's on every deploy, and destroying either would delete them under the other.
        # The other owners are the committed stack files of other environments.
        for other_file, other in other_stack_files(self.environment):
            for loc, mine, theirs, what in shared_object_claims(self, other):
                if mine and theirs:
                    raise error_at(
                        loc,
                        f"{what}, and {other_file.relative_to(STACKS_DIR.parent)} already owns it; one stack owns "
                        "each shared object: remove it here (or move it: remove it there first)",
                    )
        return self


@dataclass(frozen=True)
class StackSecrets:
    """Secret settings, only ever held as secret Outputs."""

    grafana_auth: pulumi.Output[str]
    grafana_cloud_access_policy_token: pulumi.Output[str] | None
    synthetic_monitoring_token: pulumi.Output[str]
    slack_webhook_url: pulumi.Output[str] | None
    kubeconfig: pulumi.Output[str] | None
    postgres_dsn: pulumi.Output[str] | None
    redis_password: pulumi.Output[str] | None
    celery_broker_url: pulumi.Output[str] | None
    sentry_auth_token: pulumi.Output[str] | None = None
    pagerduty_token: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class StackConfig:
    """What the program knows about one stack; built once by `load_stack_config`."""

    stack: str
    stack_file: str
    aws_region: str
    settings: StackInput
    secrets: StackSecrets

    # Shortcuts for the settings every component needs.
    @property
    def environment(self) -> str:
        return self.settings.environment

    @property
    def name_prefix(self) -> str:
        return self.settings.name_prefix

    @property
    def services(self) -> tuple[ServiceSpec, ...]:
        return self.settings.services

    def tags(self, component: str) -> dict[str, str]:
        """Tags for a taggable AWS resource of `component` (the policy pack requires the first three)."""
        return {
            **self.settings.tags,
            "environment": self.settings.environment,
            "service": f"{self.settings.platform}-monitoring",
            "owner": self.settings.owner,
            "component": component,
            "managed-by": "pulumi",
        }
