"""Which synthetic checks a stack needs, and the exact arguments each check is created with.

Pure functions of the validated settings: the component turns their output
into resources, `make plan` writes it under build/<stack>/synthetics/, and the
tests read it. Every public endpoint of the service catalog gets one HTTP
check; `synthetics.checks` adds more.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.config import ConfigError
from infra.config.model import StackInput
from infra.config.synthetics import HEALTH_CHECK, HOME_CHECK, SyntheticsSpec

# A random value per request under this name defeats CDN and browser caches,
# so the probe sees the origin answering rather than a cached copy.
CACHE_BUSTING_PARAM = "sm-cache-bust"
PROBES_SETTING = "monitoring:synthetics.probes"
# Synthetic Monitoring's limits on custom labels.
MAX_LABELS = 5
MAX_LABEL_BYTES = 32


@dataclass(frozen=True)
class CheckSpec:
    """One HTTP check of one endpoint."""

    service: str
    name: str  # HEALTH_CHECK, HOME_CHECK or the extra check's name
    target: str
    body_regexp: str | None = None
    cache_busting: bool = False
    allow_http_reason: str | None = None

    def job(self, name_prefix: str) -> str:
        """The `job` label of the check's metrics: `<platform>-<env>-<service>-<name>`."""
        return f"{name_prefix}-{self.service}-{self.name}"

    @property
    def logical_name(self) -> str:
        return f"{self.service}-{self.name}"


def plan_checks(settings: StackInput) -> tuple[CheckSpec, ...]:
    """Every check of the stack: one per public URL of the catalog, then `synthetics.checks`.

    The configuration model has checked that every extra check names a catalog
    service, that no service has two checks of one name, and that every public
    service is probed.
    """
    spec = settings.synthetics
    checks: list[CheckSpec] = []
    for service in settings.services:
        if service.health_url:
            body = spec.health_body_regexp if service.kind == "api" else None
            checks.append(CheckSpec(service.name, HEALTH_CHECK, service.health_url, body_regexp=body))
        if service.public_url:
            checks.append(CheckSpec(service.name, HOME_CHECK, service.public_url, cache_busting=True))
    checks += [
        CheckSpec(
            extra.service,
            extra.name,
            extra.url,
            body_regexp=extra.body_regexp,
            allow_http_reason=extra.allow_http_reason,
        )
        for extra in spec.checks
    ]
    return tuple(checks)


def resolve_probes(wanted: Sequence[str], available: Mapping[str, int], stack_file: str) -> list[int]:
    """Probe IDs of the configured names, in order; an unknown name lists the valid ones."""
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise ConfigError(
            [
                f"{stack_file}: {PROBES_SETTING}: unknown probe name(s) {', '.join(map(repr, unknown))}; "
                f"valid names: {', '.join(sorted(available))}"
            ]
        )
    return [available[name] for name in wanted]


# The policy pack refuses plain-http checks unless they carry this label, which
# only a reviewed `allowHttpReason` in the stack file puts there (the reason is
# too long for a label value; the stack file keeps it).
PLAIN_HTTP_WAIVER_LABEL = ("plain_http", "waived")


def check_labels(check: CheckSpec, environment: str) -> dict[str, str]:
    labels = {"env": environment, "service": check.service}
    if check.allow_http_reason is not None:
        labels[PLAIN_HTTP_WAIVER_LABEL[0]] = PLAIN_HTTP_WAIVER_LABEL[1]
    too_long = [
        f"{k}={v}" for k, v in labels.items() if len(k.encode()) > MAX_LABEL_BYTES or len(v.encode()) > MAX_LABEL_BYTES
    ]
    if too_long or len(labels) > MAX_LABELS:
        raise ValueError(f"synthetic check labels {too_long or labels} exceed Synthetic Monitoring's label limits")
    return labels


def http_settings(check: CheckSpec) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "method": "GET",
        "ip_version": "V4",
        "valid_status_codes": [200],
        # Verify the certificate (chain, host name, expiry) on every run.
        "tls_config": {"insecure_skip_verify": False},
    }
    if check.allow_http_reason is None:
        # A redirect down to http:// or a TLS-less answer fails the check.
        settings["fail_if_not_ssl"] = True
    if check.body_regexp is not None:
        settings["fail_if_body_not_matches_regexps"] = [check.body_regexp]
    if check.cache_busting:
        settings["cache_busting_query_param_name"] = CACHE_BUSTING_PARAM
    return settings


def check_arguments(
    check: CheckSpec,
    *,
    name_prefix: str,
    environment: str,
    probe_ids: Sequence[int],
    spec: SyntheticsSpec,
) -> dict[str, Any]:
    """Keyword arguments of `syntheticmonitoring.Check`, also written out by `make plan`; how often, how
    patiently and how sensitively every check probes is the stack's `monitoring:synthetics` setting."""
    return {
        "job": check.job(name_prefix),
        "target": check.target,
        "enabled": True,
        "probes": list(probe_ids),
        # The API counts milliseconds for both.
        "frequency": spec.frequency_seconds * 1000,
        "timeout": spec.timeout_seconds * 1000,
        "alert_sensitivity": spec.alert_sensitivity,
        "labels": check_labels(check, environment),
        "settings": {"http": http_settings(check)},
    }
