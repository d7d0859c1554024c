"""promtool unit tests of the SLO burn-rate alerts, generated from a stack's objectives.

The expectations are worked out here from the objectives and the multi-window,
multi-burn-rate scheme of the Google SRE workbook (chapter "Alerting on SLOs",
table 5-8), not from the rule builders in `infra.alerting.slo`: a page when
1h and 5m burn faster than 14.4x or 6h and 30m faster than 6x; a ticket when
1d and 2h burn faster than 3x or 3d and 6h faster than 1x (the budget of a
30-day period). Each case serves a chosen multiple of the error budget
(`bad share = multiple x (1 - objective)`) at 1000 requests a minute, so the
same cases hold for any objective a stack sets; a stack whose budget is so
large that a case would need more than every request to be bad fails here
loudly rather than testing less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.config import StackInput

REQUESTS_PER_MINUTE = 1000
SERVICE = "api"
LABELS = 'service="api",method="GET",endpoint="/api/v1/screen"'
PAGE = "more than 14.4x (1h and 5m) or 6x (6h and 30m)"
TICKET = "more than 3x (1d and 2h) or 1x (3d and 6h)"
# A burst after three clean hours, evaluated 65 minutes in: 1h and 5m see only the burst,
# 6h (and 3d) see the burst diluted by 180 clean minutes.
CLEAN_MINUTES, BURST_MINUTES = 180, 65


def num(value: float) -> str:
    """A number as the YAML of a promtool series: no float noise."""
    text = f"{round(value, 6) + 0.0:.6f}".rstrip("0").rstrip(".")  # + 0.0: no "-0" from float noise
    return text or "0"


def percentage(ratio: float) -> str:
    """Prometheus's `humanizePercentage`: `%.4g` of the ratio x 100, then `%`."""
    return f"{ratio * 100:.4g}%"


@dataclass(frozen=True)
class Sli:
    name: str  # availability | latency
    alert: str
    objective_percent: float
    what: str  # how the description names a bad event

    @property
    def budget(self) -> float:
        return 1 - self.objective_percent / 100

    def series(self, total: str, good: str, bad: str) -> list[dict[str, str]]:
        """Input series serving `total` requests of which `good` are good (promtool expanding notation)."""
        if self.name == "availability":
            return [
                {"series": f'http_requests_total{{{LABELS},status_code="200"}}', "values": good},
                {"series": f'http_requests_total{{{LABELS},status_code="500"}}', "values": bad},
            ]
        return [
            {"series": f'http_requests_total{{{LABELS},status_code="200"}}', "values": total},
            {"series": f'http_request_duration_seconds_bucket{{{LABELS},le="0.5"}}', "values": good},
            {"series": f"http_request_duration_seconds_count{{{LABELS}}}", "values": total},
        ]


def slis(settings: StackInput) -> list[Sli]:
    slo = settings.slo
    return [
        Sli(
            "availability", "ApiAvailabilityBudgetBurn", slo.availability_percent, "requests failing with a 5xx status"
        ),
        Sli(
            "latency",
            "ApiLatencyBudgetBurn",
            slo.latency_percent,
            f"requests slower than {slo.latency_threshold_ms}ms",
        ),
    ]


def _alert(sli: Sli, settings: StackInput, severity: str, branches: str, bad_ratio: float) -> dict[str, Any]:
    return {
        "exp_labels": {"severity": severity, "service": SERVICE, "slo": sli.name},
        "exp_annotations": {
            "summary": f"The API is spending its {sli.name} error budget too fast.",
            "description": f"{SERVICE} burns its {sli.name} error budget {branches} faster than a 30-day "
            f"period allows; {percentage(bad_ratio)} of {sli.what} over the long window.",
            "runbook_url": f"{settings.rules.runbook_base_url}#{sli.alert.lower()}",
        },
    }


def _steady(sli: Sli, multiple: float, minutes: int) -> list[dict[str, str]]:
    bad_share = multiple * sli.budget
    if bad_share > 1:
        raise ValueError(f"{sli.name} budget {sli.budget:.4f} x {multiple} is more than every request")
    bad = REQUESTS_PER_MINUTE * bad_share
    good = REQUESTS_PER_MINUTE - bad
    return sli.series(f"0+{REQUESTS_PER_MINUTE}x{minutes}", f"0+{num(good)}x{minutes}", f"0+{num(bad)}x{minutes}")


def _burst(sli: Sli, multiple: float) -> list[dict[str, str]]:
    bad = REQUESTS_PER_MINUTE * multiple * sli.budget
    good = REQUESTS_PER_MINUTE - bad
    clean_total = REQUESTS_PER_MINUTE * CLEAN_MINUTES
    steps = BURST_MINUTES - 1
    return sli.series(
        f"0+{REQUESTS_PER_MINUTE}x{CLEAN_MINUTES + BURST_MINUTES}",
        f"0+{REQUESTS_PER_MINUTE}x{CLEAN_MINUTES} {num(clean_total + good)}+{num(good)}x{steps}",
        f"0x{CLEAN_MINUTES} {num(bad)}+{num(bad)}x{steps}",
    )


def _cases(sli: Sli, settings: StackInput) -> list[dict[str, Any]]:
    def page(ratio: float) -> dict[str, Any]:
        return _alert(sli, settings, "critical", PAGE, ratio)

    def ticket(ratio: float) -> dict[str, Any]:
        return _alert(sli, settings, "warning", TICKET, ratio)

    share = sli.budget
    # Over 3d (which holds all 245 minutes), the burst's bad share is diluted by the clean hours.
    diluted = BURST_MINUTES / (CLEAN_MINUTES + BURST_MINUTES)
    # 3 requests a minute, half of them bad.
    guard = sli.series("0+3x30", "0+1.5x30", "0+1.5x30")
    near_miss_bad = 5 * REQUESTS_PER_MINUTE * 0.9 * share  # per 5-minute step
    near_miss = sli.series(
        f"0+{5 * REQUESTS_PER_MINUTE}x24",
        f"0+{num(5 * REQUESTS_PER_MINUTE - near_miss_bad)}x24",
        f"0+{num(near_miss_bad)}x24",
    )
    return [
        # 16x the budget: pages after 2m (1h and 5m); the ticket follows after 15m
        {
            "interval": "1m",
            "input_series": _steady(sli, 16, 40),
            "alert_rule_test": [
                {"eval_time": "1m", "alertname": sli.alert, "exp_alerts": []},
                {"eval_time": "10m", "alertname": sli.alert, "exp_alerts": [page(16 * share)]},
                {"eval_time": "30m", "alertname": sli.alert, "exp_alerts": [page(16 * share), ticket(16 * share)]},
            ],
        },
        # 10x: below 14.4x on 1h, above 6x on 6h and 30m: the slow page branch
        {
            "interval": "1m",
            "input_series": _steady(sli, 10, 30),
            "alert_rule_test": [{"eval_time": "10m", "alertname": sli.alert, "exp_alerts": [page(10 * share)]}],
        },
        # 5x: no page (below 6x), a ticket (above 3x on 1d and 2h)
        {
            "interval": "1m",
            "input_series": _steady(sli, 5, 30),
            "alert_rule_test": [{"eval_time": "30m", "alertname": sli.alert, "exp_alerts": [ticket(5 * share)]}],
        },
        # near miss: 0.9x the budget for 2 hours: neither page nor ticket
        {
            "interval": "5m",
            "input_series": near_miss,
            "alert_rule_test": [{"eval_time": "2h", "alertname": sli.alert, "exp_alerts": []}],
        },
        # traffic guard: half of 3 requests a minute is bad, but 0.05 requests/s pages no one
        {
            "interval": "1m",
            "input_series": guard,
            "alert_rule_test": [{"eval_time": "30m", "alertname": sli.alert, "exp_alerts": []}],
        },
        # 20x burst after three clean hours: only the fast page branch; the ticket on 3d and 6h
        {
            "interval": "1m",
            "input_series": _burst(sli, 20),
            "alert_rule_test": [
                {
                    "eval_time": "4h5m",
                    "alertname": sli.alert,
                    "exp_alerts": [page(20 * share), ticket(20 * share * diluted)],
                }
            ],
        },
        # near miss of the fast branch: the same burst at 13x: no page; the ticket still fires
        {
            "interval": "1m",
            "input_series": _burst(sli, 13),
            "alert_rule_test": [
                {"eval_time": "4h5m", "alertname": sli.alert, "exp_alerts": [ticket(13 * share * diluted)]}
            ],
        },
    ]


def slo_test_document(settings: StackInput) -> dict[str, Any]:
    """The promtool test file of the SLO burn-rate alerts of one stack."""
    tests: list[dict[str, Any]] = []
    for sli in slis(settings):
        tests.extend(_cases(sli, settings))
    tests.append(
        {
            # The stack's objective, recorded for every service with traffic (no per-service override here).
            "interval": "1m",
            "input_series": [{"series": f'http_requests_total{{{LABELS},status_code="200"}}', "values": "0+60x10"}],
            "promql_expr_test": [
                {
                    "expr": "slo:objective:ratio",
                    "eval_time": "5m",
                    "exp_samples": [
                        {
                            "labels": f'slo:objective:ratio{{service="{SERVICE}",slo="{sli.name}"}}',
                            "value": round(sli.objective_percent / 100, 10),
                        }
                        for sli in slis(settings)
                    ],
                }
            ],
        }
    )
    return {"rule_files": ["rules/slo.yaml"], "evaluation_interval": "5m", "tests": tests}
