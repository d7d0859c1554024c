"""Logs check against botocore's Stubber (`logs` model): each configured source's stream prefix in its group."""

from __future__ import annotations

from datetime import timedelta

from infra.logs.fluent_bit import GROUP_OF_FORMAT, log_sources
from tests.verify.support import NOW, stubbed, target_of
from verify.logs_checks import check_log_sources
from verify.report import Status


def test_a_source_without_recent_events_fails_by_service_and_the_others_pass() -> None:
    target = target_of("staging")
    sources = log_sources(target.settings.logs)
    groups = target.output("log_group_names")
    quiet = sources[-1]
    since = int((NOW - timedelta(hours=1)).timestamp() * 1000)
    with stubbed("logs") as (logs, stubber):
        for source in sources:
            kind = GROUP_OF_FORMAT[source.format]
            events = [] if source is quiet else [{"logStreamName": f"{kind}.src.{source.service}.x", "message": "{}"}]
            stubber.add_response(
                "filter_log_events",
                {"events": events},
                {
                    "logGroupName": groups[kind],
                    "logStreamNamePrefix": f"{kind}.src.{source.service}.",
                    "startTime": since,
                    "limit": 1,
                },
            )
        result = check_log_sources(logs, target, NOW)
    assert result.status is Status.FAIL
    assert result.evidence.startswith(f"no event in the last 1 h from: {quiet.service} (namespace {quiet.namespace}")
    assert result.evidence.count(";") == 0  # only the quiet one


def test_logs_are_skipped_on_a_stack_without_a_cluster_and_say_why() -> None:
    target = target_of("dev")
    result = check_log_sources(None, target, NOW)
    assert result.status is Status.SKIP
    assert "monitoring:collection.clusterName is not set in stacks/Pulumi.dev.yaml" in result.evidence
