"""Policies on Grafana resources (dashboards, contact points, synthetic checks) and Helm releases."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, cast

from pulumi_policy import (
    EnforcementLevel,
    ResourceRemediation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
)

from screener_policies.common import (
    PROD,
    as_list,
    dig,
    document_validation,
    environment_of,
    is_mapping,
    validation_of,
    walk_panels,
)

DASHBOARD_TYPES = ("grafana:oss/dashboard:Dashboard", "grafana:index/dashboard:Dashboard")
CONTACT_POINT = "grafana:alerting/contactPoint:ContactPoint"
SYNTHETIC_CHECK = "grafana:syntheticMonitoring/check:Check"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"

DASHBOARD_REFRESH = "30s"
MIN_PROD_PROBES = 3
# Grafana's own limit on dashboard UIDs.
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# Panels that show no query result, so they have no data source to name.
_PANELS_WITHOUT_QUERIES = {"row", "text", "news", "dashlist", "alertlist", "annolist", "welcome"}
_SLACK_CREDENTIALS = ("url", "token")
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$")


def _dashboard(args: ResourceValidationArgs) -> tuple[Mapping[str, Any], str | None]:
    """The dashboard model, or why it can't be read."""
    try:
        model = json.loads(args.props.get("configJson") or "")
    except ValueError as error:
        return {}, f"dashboard '{args.name}': configJson is not JSON ({error}). Fix: encode it with json.dumps."
    if not is_mapping(model):
        return {}, f"dashboard '{args.name}': configJson is not a JSON object. Fix: encode the dashboard model."
    return model, None


@document_validation(*DASHBOARD_TYPES, read=_dashboard, reports_read_error=True)
def dashboard_has_uid(args: ResourceValidationArgs, model: Mapping[str, Any]) -> Iterator[str]:
    uid = model.get("uid")
    if not isinstance(uid, str) or not _UID.match(uid):
        yield (
            f"dashboard '{model.get('title') or args.name}' has uid {uid!r}; without a fixed uid every update "
            "breaks links and alert annotations. Fix: set a stable uid (1-40 letters, digits, '-', '_')."
        )


# grafana-dashboard-uid reports a dashboard whose model does not parse.
@document_validation(*DASHBOARD_TYPES, read=_dashboard)
def dashboard_refreshes_every_30s(args: ResourceValidationArgs, model: Mapping[str, Any]) -> Iterator[str]:
    if model.get("refresh") != DASHBOARD_REFRESH:
        yield (
            f"dashboard '{model.get('title') or args.name}' refreshes every {model.get('refresh')!r}, "
            f"not {DASHBOARD_REFRESH!r} as the spec asks. Fix: set refresh to {DASHBOARD_REFRESH!r}."
        )


def _names_datasource(reference: Any) -> bool:
    if isinstance(reference, str):
        return bool(reference.strip())
    return is_mapping(reference) and bool(str(reference.get("uid") or "").strip())


@document_validation(*DASHBOARD_TYPES, read=_dashboard)
def dashboard_panels_name_a_datasource(args: ResourceValidationArgs, model: Mapping[str, Any]) -> Iterator[str]:
    title = model.get("title") or args.name
    for panel in walk_panels(model.get("panels")):
        if panel.get("type") in _PANELS_WITHOUT_QUERIES:
            continue
        targets = [t for t in as_list(panel.get("targets")) if is_mapping(t)]
        if _names_datasource(panel.get("datasource")):
            continue
        if targets and all(_names_datasource(t.get("datasource")) for t in targets):
            continue
        yield (
            f"dashboard '{title}', panel '{panel.get('title') or panel.get('id')}' has no data source reference, "
            "so Grafana falls back to whatever is default in that org. "
            "Fix: set panel.datasource = {type, uid} (the dashboard's data source variable)."
        )


def _target(value: Any) -> Any:
    """Under the SDK's read-only proxies, the raw value (where secrets are still `Secret`)."""
    for _ in range(4):
        try:
            value = value["__target"]
        except (KeyError, TypeError, IndexError):
            return value
    return value


def plaintext_slack_credentials(props: Any) -> list[str]:
    """Paths like `slacks[0].url` holding a Slack credential that is not a secret."""
    slacks = _target(props).get("slacks")
    if isinstance(slacks, Secret):
        return []
    found: list[str] = []
    for index, entry in enumerate(as_list(_target(slacks))):
        entry = _target(entry)
        if isinstance(entry, Secret) or not is_mapping(entry):
            continue
        for key in _SLACK_CREDENTIALS:
            value = entry.get(key)
            if value and not isinstance(value, Secret):
                found.append(f"slacks[{index}].{key}")
    return found


def slack_credentials_as_secrets(args: ResourceValidationArgs) -> Mapping[str, Any] | None:
    """Remediation: mark a plain Slack webhook URL or token as secret before it reaches state or logs.

    A remediation, not a validation: the Python policy SDK hands `validate`
    secrets already unwrapped, so only the remediation hook can see whether a
    value is secret. `make plan` reports what it would change as a failure.
    """
    if args.resource_type != CONTACT_POINT:
        return None
    paths = plaintext_slack_credentials(args.props)
    if not paths:
        return None
    props: Mapping[str, Any] = _target(args.props)
    slacks = _target(props.get("slacks"))
    for path in paths:
        index, key = int(path[len("slacks[") : path.index("]")]), path.rsplit(".", 1)[1]
        entry = _target(slacks[index])
        entry[key] = Secret(entry[key])
    return props


@validation_of(SYNTHETIC_CHECK)
def synthetic_check_uses_https(args: ResourceValidationArgs) -> Iterator[str]:
    settings = args.props.get("settings")
    job = args.props.get("job") or args.name
    # The program sets this label only for a check whose stack file gives an allowHttpReason.
    waived = dig(args.props.get("labels"), "plain_http") == "waived"
    target = str(args.props.get("target") or "")
    if is_mapping(dig(settings, "http")) and not target.startswith("https://") and not waived:
        yield (
            f"synthetic check '{job}' probes {args.props.get('target')!r} over plain HTTP. "
            "Fix: probe the https:// URL from the service catalog, or give the check an "
            "allowHttpReason in monitoring:synthetics.checks (it labels the check plain_http=waived)."
        )
    for index, entry in enumerate(as_list(dig(settings, "multihttp", "entries"))):
        url = dig(entry, "request", "url")
        if not str(url or "").startswith("https://"):
            yield (f"synthetic check '{job}' multihttp entry {index} requests {url!r}, not https. Fix: use https://.")


@validation_of(SYNTHETIC_CHECK)
def synthetic_check_verifies_tls(args: ResourceValidationArgs) -> Iterator[str]:
    settings = args.props.get("settings")
    for kind in ("http", "tcp", "grpc"):
        if dig(settings, kind, "tlsConfig", "insecureSkipVerify") is True:
            yield (
                f"synthetic check '{args.props.get('job') or args.name}' skips TLS verification ({kind}), so an "
                "expired or wrong certificate passes. Fix: drop tls_config.insecure_skip_verify."
            )


@validation_of(SYNTHETIC_CHECK)
def synthetic_check_probes_in_prod(args: ResourceValidationArgs) -> Iterator[str]:
    if environment_of(args.props, args.urn) != PROD:
        return
    probes = as_list(args.props.get("probes"))
    if len(probes) < MIN_PROD_PROBES:
        yield (
            f"prod synthetic check '{args.props.get('job') or args.name}' runs from {len(probes)} probe(s); one "
            f"probe's network trouble then looks like an outage. Fix: list at least {MIN_PROD_PROBES} probes in "
            "synthetics.probes of stacks/Pulumi.prod.yaml."
        )


@validation_of(HELM_RELEASE)
def helm_chart_version_pinned(args: ResourceValidationArgs) -> Iterator[str]:
    chart = str(args.props.get("chart") or "")
    if chart.startswith((".", "/")):
        return  # a chart in this repository is pinned by the commit
    version = str(args.props.get("version") or "")
    if not _EXACT_VERSION.match(version):
        yield (
            f"Helm release '{args.props.get('name') or args.name}' installs chart '{chart}' at version "
            f"{version or '(latest)'}; an unpinned chart changes under the same preview. "
            "Fix: set version to an exact chart version."
        )


POLICIES = [
    ResourceValidationPolicy(
        name="grafana-dashboard-uid",
        description="Every dashboard has a stable uid.",
        validate=dashboard_has_uid,
    ),
    ResourceValidationPolicy(
        name="grafana-dashboard-refresh-30s",
        description="Every dashboard refreshes every 30s.",
        validate=dashboard_refreshes_every_30s,
    ),
    ResourceValidationPolicy(
        name="grafana-dashboard-panel-datasource",
        description="Every query panel names its data source.",
        validate=dashboard_panels_name_a_datasource,
    ),
    ResourceValidationPolicy(
        name="grafana-contact-point-slack-secret",
        description="Slack webhook URLs and tokens of contact points are secrets.",
        # The SDK types a remediation as async, yet its runner accepts a plain return value.
        remediate=cast(ResourceRemediation, slack_credentials_as_secrets),
        # See slack_credentials_as_secrets: only a remediation can see secrecy.
        enforcement_level=EnforcementLevel.REMEDIATE,
        remediation_steps="Pass config.secrets.slack_webhook_url (`pulumi config set --secret "
        "monitoring:slackWebhookUrl`), never a plain string.",
    ),
    ResourceValidationPolicy(
        name="synthetic-check-https",
        description="Synthetic HTTP checks probe https:// URLs.",
        validate=synthetic_check_uses_https,
    ),
    ResourceValidationPolicy(
        name="synthetic-check-tls-verified",
        description="Synthetic checks verify TLS certificates.",
        validate=synthetic_check_verifies_tls,
    ),
    ResourceValidationPolicy(
        name="synthetic-check-three-probes-in-prod",
        description="Prod synthetic checks run from at least three probes.",
        validate=synthetic_check_probes_in_prod,
    ),
    ResourceValidationPolicy(
        name="helm-chart-version-pinned",
        description="Helm releases pin an exact chart version.",
        validate=helm_chart_version_pinned,
    ),
]
