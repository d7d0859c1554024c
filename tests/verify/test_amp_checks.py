"""AMP checks against botocore's Stubber (requests and answers validated against the `amp` service model):
each check passes on the healthy answer and reports its planted failure by name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.verify.support import CREATED, namespace, status, stubbed, target_of
from verify.amp_checks import (
    check_alertmanager_definition,
    check_rule_namespaces,
    check_samples,
    check_workspace,
    expected_jobs,
)
from verify.report import Status


def workspace(target: Any, code: str, reason: str | None = None) -> dict[str, Any]:
    workspace_id = target.output("amp_workspace_id")
    return {
        "workspace": {
            "workspaceId": workspace_id,
            "arn": target.output("amp_workspace_arn"),
            "status": status(code, reason),
            "createdAt": CREATED,
        }
    }


@pytest.mark.parametrize(("code", "expected"), [("ACTIVE", Status.PASS), ("CREATION_FAILED", Status.FAIL)])
def test_workspace_passes_only_when_active(code: str, expected: Status) -> None:
    target = target_of("staging")
    with stubbed("amp") as (amp, stubber):
        stubber.add_response(
            "describe_workspace", workspace(target, code), {"workspaceId": target.output("amp_workspace_id")}
        )
        result = check_workspace(amp, target)
    assert result.status is expected
    assert code in result.evidence


def test_a_failed_rule_namespace_is_named_with_its_status_reason_across_pages() -> None:
    target = target_of("staging")
    workspace_id = target.output("amp_workspace_id")
    names = target.output("amp_rule_namespaces")
    reason = "group 'api': parse error at line 3: unknown function rate2"
    first = [namespace(workspace_id, name) for name in names[:3]]
    rest = [namespace(workspace_id, name) for name in names[3:] if name != "api"]
    with stubbed("amp") as (amp, stubber):
        # The planted defect sits on the second page: the check must follow nextToken.
        stubber.add_response(
            "list_rule_groups_namespaces",
            {"ruleGroupsNamespaces": [n for n in first if n["name"] != "api"], "nextToken": "page-2"},
            {"workspaceId": workspace_id},
        )
        stubber.add_response(
            "list_rule_groups_namespaces",
            {"ruleGroupsNamespaces": [*rest, namespace(workspace_id, "api", "UPDATE_FAILED", reason)]},
            {"workspaceId": workspace_id, "nextToken": "page-2"},
        )
        result = check_rule_namespaces(amp, target)
    assert result.status is Status.FAIL
    assert result.evidence == f"api UPDATE_FAILED ({reason})"


def test_a_missing_rule_namespace_fails_and_all_active_pass() -> None:
    target = target_of("staging")
    workspace_id = target.output("amp_workspace_id")
    names = target.output("amp_rule_namespaces")
    with stubbed("amp") as (amp, stubber):
        stubber.add_response(
            "list_rule_groups_namespaces",
            {"ruleGroupsNamespaces": [namespace(workspace_id, n) for n in names if n != "meta"]},
            {"workspaceId": workspace_id},
        )
        stubber.add_response(
            "list_rule_groups_namespaces",
            {"ruleGroupsNamespaces": [namespace(workspace_id, n) for n in names]},
            {"workspaceId": workspace_id},
        )
        missing = check_rule_namespaces(amp, target)
        healthy = check_rule_namespaces(amp, target)
    assert (missing.status, missing.evidence) == (Status.FAIL, "meta missing")
    assert healthy.status is Status.PASS


def test_a_namespace_still_updating_warns_rather_than_fails() -> None:
    target = target_of("staging")
    workspace_id = target.output("amp_workspace_id")
    names = target.output("amp_rule_namespaces")
    with stubbed("amp") as (amp, stubber):
        stubber.add_response(
            "list_rule_groups_namespaces",
            {
                "ruleGroupsNamespaces": [
                    namespace(workspace_id, n, "UPDATING" if n == "slo" else "ACTIVE") for n in names
                ]
            },
            {"workspaceId": workspace_id},
        )
        result = check_rule_namespaces(amp, target)
    assert (result.status, result.evidence) == (Status.WARN, "slo UPDATING")


def test_the_alertmanager_definition_reports_amps_status_reason() -> None:
    target = target_of("staging")
    workspace_id = target.output("amp_workspace_id")
    reason = 'template: screener.tmpl:4: function "title2" not defined'
    with stubbed("amp") as (amp, stubber):
        stubber.add_response(
            "describe_alert_manager_definition",
            {
                "alertManagerDefinition": {
                    "status": status("UPDATE_FAILED", reason),
                    "data": b"alertmanager_config: ''",
                    "createdAt": CREATED,
                    "modifiedAt": CREATED,
                }
            },
            {"workspaceId": workspace_id},
        )
        stubber.add_client_error(
            "describe_alert_manager_definition",
            service_error_code="ResourceNotFoundException",
            http_status_code=404,
            expected_params={"workspaceId": workspace_id},
        )
        failed_update = check_alertmanager_definition(amp, target)
        absent = check_alertmanager_definition(amp, target)
    assert failed_update.status is Status.FAIL
    assert failed_update.evidence == f"the Alertmanager definition is UPDATE_FAILED ({reason})"
    assert (absent.status, absent.evidence) == (Status.FAIL, f"workspace {workspace_id} has no Alertmanager definition")


def up(job: str, value: str, instance: str = "a") -> dict[str, Any]:
    return {"metric": {"__name__": "up", "job": job, "instance": instance}, "value": [1733486400, value]}


def test_samples_name_the_silent_job_and_the_job_whose_targets_are_all_down() -> None:
    target = target_of("staging")
    jobs = expected_jobs(target)
    assert "api" in jobs and "kube-state-metrics" in jobs  # the catalog's jobs and the cluster's
    series = [up(job, "1") for job in jobs if job not in ("api", "redis")]
    series += [up("redis", "0", "r0"), up("redis", "0", "r1"), up("celery", "0", "c9")]  # one of celery's two down
    queries: list[str] = []

    def query(expr: str) -> list[dict[str, Any]]:
        queries.append(expr)
        return series

    result = check_samples(query, target)
    assert queries == ["up"]
    assert result.status is Status.FAIL
    assert result.evidence == "no samples from job api; job redis: all 2 targets down (up=0)"


def test_samples_are_skipped_on_a_stack_that_collects_nothing() -> None:
    result = check_samples(None, target_of("dev"))
    assert result.status is Status.SKIP
    assert "monitoring:collection.mode is 'none' in stacks/Pulumi.dev.yaml" in result.evidence
