"""Grafana-managed alerts on the synthetic checks: an endpoint failing from most probes, a certificate expiring.

The results live in Grafana Cloud's Prometheus, which only Grafana queries,
so these are Grafana rules (not AMP rules). One group per service: every
alert carries its service's `service` label like the AMP alerts do, and the
same two rule names (one runbook section each) serve every service.
Routing is the policy tree's job (see grafana_rules.py): no rule names a
contact point.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.alerting.grafana_rules import GrafanaRule, GrafanaRuleGroupSpec
from infra.alerting.rule_model import matchers, one_of
from infra.components.synthetics_checks import CheckSpec
from infra.config.synthetics import SyntheticsSpec

FAILING = "SyntheticCheckFailing"
CERT_EXPIRING = "SyntheticCertificateExpiring"
SECONDS_PER_DAY = 86400


def job_selector(checks: Sequence[CheckSpec], name_prefix: str) -> str:
    """Matcher of exactly these checks' series, built (and escaped) like every rule's selector."""
    return matchers(job=one_of([check.job(name_prefix) for check in checks]))


def result_window_seconds(frequency_seconds: int) -> int:
    """Long enough to hold every probe's latest result, even one run late."""
    return max(2 * frequency_seconds, 120)


def failing_share_expr(selector: str, window_seconds: int) -> str:
    """Share of probes whose latest result for a check failed, per check."""
    return f"1 - avg by (job, instance) (last_over_time(probe_success{{{selector}}}[{window_seconds}s]))"


def cert_days_left_expr(selector: str) -> str:
    return f"min by (job, instance) (probe_ssl_earliest_cert_expiry{{{selector}}} - time()) / {SECONDS_PER_DAY}"


def uptime_rule_groups(
    checks: Sequence[CheckSpec], spec: SyntheticsSpec, name_prefix: str, datasource_uid: str
) -> tuple[GrafanaRuleGroupSpec, ...]:
    services = sorted({check.service for check in checks})
    window = result_window_seconds(spec.frequency_seconds)
    groups = []
    for service in services:
        selector = job_selector([c for c in checks if c.service == service], name_prefix)
        groups.append(
            GrafanaRuleGroupSpec(
                name=f"synthetics-{service}",
                # Evaluating faster than the probes run would only re-read the same results.
                interval_seconds=max(60, spec.frequency_seconds),
                rules=(
                    GrafanaRule(
                        name=FAILING,
                        expr=failing_share_expr(selector, window),
                        comparison="gt",
                        threshold=spec.failing_probes_percent / 100,
                        for_minutes=spec.failing_for_minutes,
                        severity="critical",
                        service=service,
                        summary=f"The {service} endpoint fails its external check from most probe locations.",
                        description=(
                            "{{ humanizePercentage $values.A.Value }} of the Synthetic Monitoring probes fail "
                            "{{ $labels.instance }} (check {{ $labels.job }}), more than "
                            f"{spec.failing_probes_percent:g} % for {spec.failing_for_minutes} minutes: users "
                            "outside cannot reach it (DNS, TLS, load balancer or the service itself)."
                        ),
                        datasource_uid=datasource_uid,
                        lookback_seconds=window,
                    ),
                    GrafanaRule(
                        name=CERT_EXPIRING,
                        expr=cert_days_left_expr(selector),
                        comparison="lt",
                        threshold=spec.cert_expiry_days,
                        for_minutes=30,
                        severity="warning",
                        service=service,
                        summary=f"A TLS certificate of the {service} endpoint expires soon.",
                        description=(
                            "The certificate served at {{ $labels.instance }} expires in "
                            '{{ printf "%.1f" $values.A.Value }} days (alert below '
                            f"{spec.cert_expiry_days} days); renewal has not happened."
                        ),
                        datasource_uid=datasource_uid,
                        # No series: the check has not completed a TLS handshake yet; the failing alert covers that.
                        no_data_state="OK",
                        lookback_seconds=window,
                    ),
                ),
            )
        )
    return tuple(groups)
