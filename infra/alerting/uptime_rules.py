"""Grafana-managed alerts on the synthetic checks: an endpoint failing from most probes, a certificate expiring.

The results live in Grafana Cloud's Prometheus, which only Grafana queries,
so these are Grafana rules (not AMP rules). One rule per alert family over
every check (Grafana Cloud's Free tier allows 100 rules; a rule per URL would
pass it at 50 URLs): every alert instance carries its check's `service`
label like the AMP alerts do, and the two rule names (one runbook section
each) serve every service.
Routing is the policy tree's job (see grafana_rules.py): no rule names a
contact point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from infra.alerting.grafana_rules import GrafanaRule, GrafanaRuleGroupSpec
from infra.alerting.rule_model import matchers, one_of, promql_string, regex_literal
from infra.components.synthetics_checks import CheckSpec
from infra.config.synthetics import SyntheticsSpec

GROUP = "synthetics"
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


def service_from_job(expr: str, checks: Sequence[CheckSpec], name_prefix: str) -> str:
    """`expr` with a `service` label taken from each series' `job` (`<prefix>-<service>-<check name>`).

    Synthetic Monitoring puts a check's custom labels on `sm_check_info` only
    (https://grafana.com/docs/grafana-cloud/testing/synthetic-monitoring/analyze-results/custom-labels/),
    so the one rule over every check reads the service where the job name
    already holds it. The check names are few (health, home, the extra
    checks'), so the pattern does not grow with the catalog; a job the
    pattern would read ambiguously is refused here rather than paging the
    wrong service.
    """
    names = "|".join(regex_literal(name) for name in sorted({check.name for check in checks}))
    pattern = f"{regex_literal(name_prefix)}-(.+)-(?:{names})"
    for check in checks:
        found = re.fullmatch(pattern, check.job(name_prefix))
        if found is None or found.group(1) != check.service:
            raise ValueError(
                f"synthetic check job '{check.job(name_prefix)}' does not read back as service '{check.service}' "
                "with the other checks' names: rename the check (monitoring:synthetics.checks[].name)"
            )
    return f'label_replace(\n  {expr},\n  "service", "$1", "job", {promql_string(pattern)}\n)'


def uptime_rule_groups(
    checks: Sequence[CheckSpec], spec: SyntheticsSpec, name_prefix: str, datasource_uid: str
) -> tuple[GrafanaRuleGroupSpec, ...]:
    """One group of two rules (one per alert family) over every check of the stack; none without checks.

    Grafana evaluates one rule per family whatever the number of URLs: each
    failing check is its own alert instance, labelled with the check's
    `service` (read from its job, see `service_from_job`), `job` and `instance`.
    """
    if not checks:
        return ()
    window = result_window_seconds(spec.frequency_seconds)
    selector = job_selector(checks, name_prefix)
    return (
        GrafanaRuleGroupSpec(
            name=GROUP,
            # Evaluating faster than the probes run would only re-read the same results.
            interval_seconds=max(60, spec.frequency_seconds),
            rules=(
                GrafanaRule(
                    name=FAILING,
                    expr=service_from_job(failing_share_expr(selector, window), checks, name_prefix),
                    comparison="gt",
                    threshold=spec.failing_probes_percent / 100,
                    for_minutes=spec.failing_for_minutes,
                    severity="critical",
                    service=None,
                    summary="An endpoint fails its external check from most probe locations.",
                    description=(
                        "{{ humanizePercentage $values.A.Value }} of the Synthetic Monitoring probes fail "
                        "{{ $labels.instance }} (check {{ $labels.job }}, service {{ $labels.service }}), more than "
                        f"{spec.failing_probes_percent:g} % for {spec.failing_for_minutes} minutes: users "
                        "outside cannot reach it (DNS, TLS, load balancer or the service itself)."
                    ),
                    datasource_uid=datasource_uid,
                    lookback_seconds=window,
                ),
                GrafanaRule(
                    name=CERT_EXPIRING,
                    expr=service_from_job(cert_days_left_expr(selector), checks, name_prefix),
                    comparison="lt",
                    threshold=spec.cert_expiry_days,
                    for_minutes=30,
                    severity="warning",
                    service=None,
                    summary="The TLS certificate of an endpoint expires soon.",
                    description=(
                        "The certificate served at {{ $labels.instance }} (service {{ $labels.service }}) expires in "
                        '{{ printf "%.1f" $values.A.Value }} days (alert below '
                        f"{spec.cert_expiry_days} days); renewal has not happened."
                    ),
                    datasource_uid=datasource_uid,
                    # No series: the check has not completed a TLS handshake yet; the failing alert covers that.
                    no_data_state="OK",
                    lookback_seconds=window,
                ),
            ),
        ),
    )
