"""`python -m infra.cost STACK [--top N]` (`make cost STACK=...`): the cost breakdown of a stack and its AMP quotas.

Offline and pure: the stack file's settings, the rule files and dashboards
rendered from them, the cardinality model and the stack's price table.
"""

from __future__ import annotations

import argparse
import sys

from infra.alerting.quotas import quota_usage, report_lines
from infra.alerting.rules import render_rule_files
from infra.config.stackfile import load_stack_file, stack_settings
from infra.cost.assumptions import HOURS_PER_MONTH
from infra.cost.limits import workspace_label_set_limits
from infra.cost.logs import LogsBill
from infra.cost.model import Cardinality
from infra.cost.pricing import CostEstimate, estimate, stand_in_note
from infra.cost.stack import stack_cardinality
from infra.stack_name import stack_argument


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "    -"


def report(stack: str, model: Cardinality, cost: CostEstimate | None, top: int, limits: dict[str, int]) -> str:
    lines = [
        f"{stack}: {model.active_series:,} active series ({model.scraped_series:,} scraped, "
        f"{model.recorded_series:,} recorded), scrape interval {model.scrape_interval_seconds}s, "
        f"{HOURS_PER_MONTH} h/month",
        f"  ingested  {model.ingested_samples_per_month:>20,.0f} samples/month "
        f"(rules record {model.recorded_samples_per_month:,.0f})",
        f"  queried   {model.query_samples_per_month:>20,.0f} samples/month "
        f"(rules {model.rule_query_samples_per_month:,.0f}, dashboards {model.dashboard_query_samples_per_month:,.0f} "
        f"at {model.dashboard_viewing_hours_per_day:g} h/day on screen)",
    ]
    if cost is not None:
        bill = cost.bill
        verdict = "within" if cost.within_budget else "OVER"
        lines += [
            f"  cost      ${bill.total_usd:,.2f}/month = ingestion ${bill.ingestion_usd:,.2f} + storage "
            f"${bill.storage_usd:,.2f} ({bill.stored_gb:,.1f} GB) + query ${bill.query_usd:,.2f}; "
            f"budget ${cost.budget_usd_per_month:,.2f}{' (AMP and logs together)' if cost.logs else ''}: {verdict}",
            f"  prices    {cost.pricing.region} as of {cost.pricing.as_of}, {cost.pricing.source}"
            + (f"\n            {note}" if (note := stand_in_note(cost.pricing, cost.region)) else ""),
        ]
        if cost.logs is not None:
            lines += logs_report(cost.logs, cost)
    by_service = model.series_by_service()
    lines.append("\nby service (series, share, label-set limit):")
    for service, series in sorted(by_service.items(), key=lambda item: (-item[1], item[0])):
        limit = f"{limits[service]:>9,}" if service in limits else ""
        lines.append(f"  {service:28} {series:>9,} {_share(series, model.active_series)} {limit}")
    lines.append(f"\ntop {top} metrics (series, share):")
    by_metric = model.series_by_metric()
    for metric, series in sorted(by_metric.items(), key=lambda item: (-item[1], item[0]))[:top]:
        lines.append(f"  {metric:60} {series:>9,} {_share(series, model.active_series)}")
    return "\n".join(lines)


def logs_report(logs: LogsBill, cost: CostEstimate) -> list[str]:
    lines = [
        f"\nCloudWatch Logs: ${logs.total_usd:,.2f}/month = ingestion ${logs.ingestion_usd:,.2f} "
        f"({logs.ingested_gb_per_month:,.1f} GB) + storage ${logs.storage_usd:,.2f} ({logs.stored_gb:,.1f} GB stored); "
        f"AMP ${cost.bill.total_usd:,.2f}; together ${cost.total_usd:,.2f} against the budget "
        f"${cost.budget_usd_per_month:,.2f}",
        f"  prices    {logs.pricing.region} as of {logs.pricing.as_of}, {logs.pricing.source}",
        f"  volumes   {logs.volume_source}",
        "by log group (GB/day):",
    ]
    lines += [f"  {group:28} {gb:>9,.3f}" for group, gb in sorted(logs.gb_per_day_by_group.items())]
    lines.append("by service (GB/day):")
    lines += [f"  {service:28} {gb:>9,.3f}" for service, gb in sorted(logs.gb_per_day_by_service.items())]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.cost", description=__doc__)
    parser.add_argument(
        "stack", nargs="?", default="dev", type=stack_argument, help="<stack> or <org>/<stack> (default dev)"
    )
    parser.add_argument("--top", type=int, default=15, help="how many metrics to list (default 15)")
    args = parser.parse_args(argv)
    stack = args.stack.stack
    settings = stack_settings(stack)
    region = load_stack_file(stack, fill_unset_secrets=False).region or ""
    rule_files = render_rule_files(settings)
    model = stack_cardinality(settings, rule_files.documents)
    cost = estimate(settings, model, region)
    # The per-service limits the workspace gets (a stack file's own limit on a service wins).
    limits = {
        label_set["service"]: max_series
        for label_set, max_series in workspace_label_set_limits(settings, model)
        if set(label_set) == {"service"}
    }
    print(report(stack, model, cost, args.top, limits))
    # What the policies amp-rule-quotas and amp-alertmanager-outage-quotas check before upload.
    print("\n".join(report_lines(quota_usage(settings, rule_files))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
