"""AMP: the workspace, its rule namespaces and Alertmanager definition ACTIVE, and samples from every job.

Contract: botocore's `amp` service model (DescribeWorkspace -> workspace.status.statusCode;
ListRuleGroupsNamespaces -> ruleGroupsNamespaces[].status.{statusCode,statusReason}, paged by nextToken;
DescribeAlertManagerDefinition -> alertManagerDefinition.status), and the Prometheus HTTP API's instant
query (`/api/v1/query`, data.result[].metric/value) that AMP serves under the workspace, signed for `aps`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.collection.scrape_config import scrape_jobs
from verify.report import Result, failed, passed, skipped, warned
from verify.target import Target

ACTIVE = "ACTIVE"
# A status a deploy may leave behind for a minute: not yet a failure.
SETTLING = frozenset({"CREATING", "UPDATING"})

# An instant query against the workspace: the expression -> the vector's series.
Query = Callable[[str], list[dict[str, Any]]]


def _status(check: str, what: str, status: dict[str, Any], fix: str) -> Result:
    code = status.get("statusCode", "?")
    reason = status.get("statusReason")
    evidence = f"{what} is {code}" + (f" ({reason})" if reason else "")
    if code == ACTIVE:
        return passed(check, evidence)
    if code in SETTLING:
        return warned(check, evidence, "still applying the last change: run `make verify` again in a few minutes")
    return failed(check, evidence, fix)


def check_workspace(amp: Any, target: Target) -> Result:
    workspace_id = target.output("amp_workspace_id")
    if not workspace_id:
        return failed("amp.workspace", "no amp_workspace_id output", f"run `make up STACK={target.stack}`")
    workspace = amp.describe_workspace(workspaceId=workspace_id)["workspace"]
    return _status(
        "amp.workspace",
        f"workspace {workspace_id}",
        workspace["status"],
        "see the workspace in the AMP console; a CREATION_FAILED workspace must be replaced (`pulumi up --replace`)",
    )


def check_rule_namespaces(amp: Any, target: Target) -> Result:
    check = "amp.rule-namespaces"
    workspace_id = target.output("amp_workspace_id")
    expected = list(target.output("amp_rule_namespaces") or [])
    if not workspace_id or not expected:
        return failed(check, "no amp_workspace_id or amp_rule_namespaces output", f"run `make up STACK={target.stack}`")
    found: dict[str, dict[str, Any]] = {}
    token: str | None = None
    while True:
        page = amp.list_rule_groups_namespaces(workspaceId=workspace_id, **({"nextToken": token} if token else {}))
        for namespace in page["ruleGroupsNamespaces"]:
            found[namespace["name"]] = namespace["status"]
        token = page.get("nextToken")
        if not token:
            break
    missing = [name for name in expected if name not in found]
    broken = [
        f"{name} {found[name]['statusCode']}"
        + (f" ({found[name]['statusReason']})" if found[name].get("statusReason") else "")
        for name in expected
        if name in found and found[name]["statusCode"] != ACTIVE
    ]
    if missing or broken:
        not_active = [found[n]["statusCode"] for n in expected if n in found and found[n]["statusCode"] != ACTIVE]
        settling = not missing and all(code in SETTLING for code in not_active)
        evidence = "; ".join([*(f"{name} missing" for name in missing), *broken])
        if settling:
            return warned(check, evidence, "still applying the last change: run `make verify` again in a few minutes")
        return failed(
            check,
            evidence,
            "a *_FAILED namespace names its rule error in statusReason: fix the rule (`make test` runs promtool on "
            "every rule file) and `make up`; a missing one: `make up`",
        )
    return passed(check, f"{len(expected)} namespaces ACTIVE: {', '.join(expected)}")


def check_alertmanager_definition(amp: Any, target: Target) -> Result:
    check = "amp.alertmanager-definition"
    workspace_id = target.output("amp_workspace_id")
    try:
        definition = amp.describe_alert_manager_definition(workspaceId=workspace_id)["alertManagerDefinition"]
    except amp.exceptions.ResourceNotFoundException:
        return failed(check, f"workspace {workspace_id} has no Alertmanager definition", "`make up` uploads it")
    return _status(
        check,
        "the Alertmanager definition",
        definition["status"],
        "statusReason names what AMP refused; `make test` checks the rendered definition with amtool; then `make up`",
    )


def expected_jobs(target: Target) -> list[str]:
    """Every scrape job the stack's collector runs (the scrape config's own list)."""
    settings = target.settings
    return [job.name for job in scrape_jobs(settings, settings.collection.cluster_name)]


def check_samples(query: Query | None, target: Target) -> Result:
    check = "amp.samples"
    collection = target.settings.collection
    if collection.mode == "none":
        return skipped(check, f"monitoring:collection.mode is 'none' in {target.stack_file}: nothing sends samples")
    if query is None:
        return failed(check, "no amp_query_url output", f"run `make up STACK={target.stack}`")
    series = query("up")
    targets: dict[str, list[float]] = {}
    for sample in series:
        targets.setdefault(sample["metric"].get("job", ""), []).append(float(sample["value"][1]))
    jobs = expected_jobs(target)
    silent = [job for job in jobs if job not in targets]
    down = [job for job in jobs if job in targets and max(targets[job]) < 1]
    if silent or down:
        evidence = "; ".join(
            [
                *(f"no samples from job {job}" for job in silent),
                *(f"job {job}: all {len(targets[job])} targets down (up=0)" for job in down),
            ]
        )
        collector = (
            "the managed scraper in the AMP console"
            if collection.mode == "managed-scraper"
            else "the collector pods and their logs"
        )
        return failed(
            check,
            evidence,
            f"collection mode {collection.mode}: check {collector}, then the exporter of each job named",
        )
    return passed(check, f"up=1 from every expected job ({len(jobs)}): {', '.join(jobs)}")
