"""Logs: every configured source has recent events in its CloudWatch Logs group.

Contract: botocore's `logs` model (FilterLogEvents: logGroupName, logStreamNamePrefix, startTime in ms,
limit -> events[]). Fluent Bit names each stream `<log_stream_prefix><tag>`; this stack's prefix is
`<group kind>.` and a source's tag `src.<service>.<file>` (infra/logs/fluent_bit.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from infra.logs.fluent_bit import GROUP_OF_FORMAT, log_sources
from verify.report import Result, failed, passed, skipped
from verify.target import Target

RECENT = timedelta(hours=1)


def check_log_sources(logs: Any, target: Target, now: datetime) -> Result:
    check = "logs.sources"
    groups: dict[str, str] | None = target.output("log_group_names")
    if not groups:
        why = target.output("logs_collection") or "no log_group_names output"
        return skipped(check, f"no log collection: {why}")
    sources = log_sources(target.settings.logs)
    if not sources:
        return skipped(check, f"monitoring:logs.sources is empty in {target.stack_file}")
    since = int((now - RECENT).timestamp() * 1000)
    quiet = []
    for source in sources:
        kind = GROUP_OF_FORMAT[source.format]
        events = logs.filter_log_events(
            logGroupName=groups[kind], logStreamNamePrefix=f"{kind}.{source.tag}.", startTime=since, limit=1
        )["events"]
        if not events:
            quiet.append(
                f"{source.service} (namespace {source.namespace}, container {source.container}) in {groups[kind]}"
            )
    if quiet:
        return failed(
            check,
            f"no event in the last {RECENT.total_seconds() / 3600:g} h from: {'; '.join(quiet)}",
            "check the logs-collector DaemonSet's pods and their logs "
            "(`kubectl -n <namespace> logs ds/logs-collector`); "
            "a wrong namespace or container name in monitoring:logs.sources matches no file",
        )
    return passed(check, f"{len(sources)} sources wrote within {RECENT.total_seconds() / 3600:g} h")
