"""bootstrap/: the roles the workflows assume trust exactly the OIDC subjects their jobs present.

The subjects are derived from .github/workflows/ the way GitHub builds them (GitHub's OIDC reference,
https://docs.github.com/en/actions/reference/security/oidc, "Example subject claims"): a job that names
an environment presents `repo:OWNER/REPO:environment:NAME`; one without, `repo:OWNER/REPO:pull_request`
on a pull_request event and `repo:OWNER/REPO:ref:refs/heads/main` on a push to main (or a schedule or
dispatch on main). A job presents a token only with `permissions: id-token: write`. The roles are those
of the offline plan of bootstrap/ (planner.bootstrap, the same mock engine as the stacks).
"""

from __future__ import annotations

import copy
import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bootstrap.program import (
    AUDIENCE,
    DEPLOY_ACTIONS,
    GITHUB_ISSUER,
    GLOBAL_DEPLOY_ACTIONS,
    IAM_ROLE_ACTIONS,
    PREVIEW_ACTIONS,
    VERIFY_ACTIONS,
    read_only,
)
from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT
from planner.bootstrap import BOOTSTRAP_DIR, bootstrap_stacks, load_bootstrap_stack_file, plan_bootstrap
from planner.engine import Plan
from tests.conftest import plan_of, shared_plan

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
STACK = "screener"
ROLE = "aws:iam/role:Role"
# The variable each environment's jobs read their role from (docs/ci.md).
ROLE_VARIABLES = {"pr-preview": "AWS_PREVIEW_ROLE_ARN", "drift": "AWS_DRIFT_ROLE_ARN"}
DEPLOY_ROLE_VARIABLE = "AWS_DEPLOY_ROLE_ARN"


def bootstrap_plan() -> Plan:
    return shared_plan(f"bootstrap-{STACK}", lambda: plan_bootstrap(STACK))


def repository() -> str:
    return load_bootstrap_stack_file(STACK).config["ci-bootstrap:repository"]


def load_workflows() -> dict[str, dict[str, Any]]:
    workflows = {}
    for path in sorted(WORKFLOWS.glob("*.yml")):
        data = yaml.safe_load(path.read_text())
        data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
        workflows[path.name] = data
    return workflows


def presented_subjects(workflows: dict[str, dict[str, Any]], repo: str) -> dict[str, list[str]]:
    """OIDC subject -> the jobs (workflow:job) that present it, for every job that may request a token."""
    found: dict[str, list[str]] = {}
    for name, workflow in workflows.items():
        triggers = set(workflow["on"])
        for job_id, job in workflow["jobs"].items():
            if (job.get("permissions") or {}).get("id-token") != "write":
                continue
            environment = job.get("environment")
            if isinstance(environment, dict):
                environment = environment["name"]
            if environment:
                subject = f"repo:{repo}:environment:{environment}"
            elif "pull_request" in triggers:
                subject = f"repo:{repo}:pull_request"
            else:
                subject = f"repo:{repo}:ref:refs/heads/main"
            found.setdefault(subject, []).append(f"{name}:{job_id}")
    return found


def trust_conditions(plan: Plan) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Role logical name -> claim (sub, aud) -> every (operator, value) its trust policy sets on it."""
    roles: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for role in plan.of_type(ROLE):
        claims: dict[str, list[tuple[str, str]]] = {"sub": [], "aud": []}
        for statement in json.loads(str(role.inputs["assumeRolePolicy"]))["Statement"]:
            for operator, clauses in (statement.get("Condition") or {}).items():
                for key, values in clauses.items():
                    issuer, _, claim = key.rpartition(":")
                    if issuer == GITHUB_ISSUER and claim in claims:
                        claims[claim] += [(operator, v) for v in (values if isinstance(values, list) else [values])]
        roles[role.name] = claims
    return roles


def trust_differences(presented: dict[str, list[str]], roles: dict[str, dict[str, list[tuple[str, str]]]]) -> list[str]:
    """Every way the planned trust differs from what the workflows present."""
    problems = []
    trusted = {value for claims in roles.values() for _, value in claims["sub"]}
    for subject, jobs in sorted(presented.items()):
        if subject not in trusted:
            problems.append(f"no role trusts {subject} ({', '.join(jobs)})")
    for role, claims in sorted(roles.items()):
        for operator, value in claims["sub"]:
            if "*" in value or "?" in value or operator != "StringEquals":
                problems.append(f"{role} trusts the pattern {operator} {value}")
            elif value not in presented:
                problems.append(f"{role} trusts {value}, which no job presents")
        if len(claims["sub"]) != 1:
            problems.append(f"{role} trusts {len(claims['sub'])} subjects; one environment per role")
        if claims["aud"] != [("StringEquals", AUDIENCE)]:
            problems.append(f"{role} checks the audience as {claims['aud']}, not StringEquals {AUDIENCE}")
    return problems


def test_every_bootstrap_stack_plans() -> None:
    assert bootstrap_stacks() == [STACK]
    assert (BOOTSTRAP_DIR / "Pulumi.yaml").is_file()
    assert {r.type for r in bootstrap_plan().resources} == {
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        ROLE,
        "aws:iam/rolePolicy:RolePolicy",
    }


def test_the_jobs_that_assume_roles_all_name_an_environment() -> None:
    presented = presented_subjects(load_workflows(), "o/r")
    assert presented == {
        "repo:o/r:environment:pr-preview": ["pr.yml:preview"],
        "repo:o/r:environment:drift": ["drift.yml:drift"],
        "repo:o/r:environment:dev": ["deploy.yml:dev"],
        "repo:o/r:environment:staging": ["deploy.yml:staging"],
        "repo:o/r:environment:prod": ["deploy.yml:prod"],
    }


def test_each_role_trusts_exactly_the_subjects_the_workflows_present() -> None:
    presented = presented_subjects(load_workflows(), repository())
    assert trust_differences(presented, trust_conditions(bootstrap_plan())) == []


def test_the_oidc_provider_is_githubs_for_the_sts_audience_and_every_role_trusts_it() -> None:
    plan = bootstrap_plan()
    provider = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert provider.inputs["url"] == f"https://{GITHUB_ISSUER}"
    assert provider.inputs["clientIdLists"] == [AUDIENCE]
    assert provider.protect
    for role in plan.of_type(ROLE):
        (statement,) = json.loads(str(role.inputs["assumeRolePolicy"]))["Statement"]
        assert statement["Principal"] == {"Federated": provider.outputs["arn"]}
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"


def _with(roles: dict[str, dict[str, list[tuple[str, str]]]], role: str, claim: str, value: Any) -> Any:
    planted = copy.deepcopy(roles)
    planted[role][claim] = value
    return planted


def test_the_trust_comparison_catches_each_planted_difference() -> None:
    repo = repository()
    presented = presented_subjects(load_workflows(), repo)
    roles = trust_conditions(bootstrap_plan())
    prod = [("StringEquals", f"repo:{repo}:environment:prod")]

    extra = _with(roles, "github-prod", "sub", [*prod, ("StringEquals", f"repo:{repo}:pull_request")])
    assert trust_differences(presented, extra) == [
        f"github-prod trusts repo:{repo}:pull_request, which no job presents",
        "github-prod trusts 2 subjects; one environment per role",
    ]
    missing = {name: claims for name, claims in roles.items() if name != "github-staging"}
    assert trust_differences(presented, missing) == [
        f"no role trusts repo:{repo}:environment:staging (deploy.yml:staging)"
    ]
    wildcard = _with(roles, "github-prod", "sub", [("StringLike", f"repo:{repo}:*")])
    assert trust_differences(presented, wildcard) == [
        f"no role trusts repo:{repo}:environment:prod (deploy.yml:prod)",
        f"github-prod trusts the pattern StringLike repo:{repo}:*",
    ]
    no_audience = _with(roles, "github-drift", "aud", [])
    assert trust_differences(presented, no_audience) == [
        f"github-drift checks the audience as [], not StringEquals {AUDIENCE}"
    ]


def test_a_workflow_job_in_a_new_environment_needs_a_role(tmp_path: Path) -> None:
    """A planted workflow change: a deploy job for `qa` presents a subject no planned role trusts."""
    workflows = load_workflows()
    workflows["deploy.yml"]["jobs"]["qa"] = {**workflows["deploy.yml"]["jobs"]["dev"], "environment": "qa"}
    presented = presented_subjects(workflows, repository())
    assert trust_differences(presented, trust_conditions(bootstrap_plan())) == [
        f"no role trusts repo:{repository()}:environment:qa (deploy.yml:qa)"
    ]


def test_each_job_reads_the_role_variable_of_its_environment() -> None:
    found = {}
    for name, workflow in load_workflows().items():
        for job_id, job in workflow["jobs"].items():
            for step in job.get("steps", []):
                role = (step.get("with") or {}).get("role-to-assume")
                if role:
                    found[f"{name}:{job_id}"] = (job.get("environment"), role)
    assert found
    for job, (environment, role) in found.items():
        variable = ROLE_VARIABLES.get(environment, DEPLOY_ROLE_VARIABLE)
        assert role == f"${{{{ vars.{variable} }}}}", job


def _policy(plan: Plan, environment: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = json.loads(
        str(plan.one("aws:iam/rolePolicy:RolePolicy", f"github-{environment}-permissions").inputs["policy"])
    )["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in statement["Action"]}


def test_the_preview_and_drift_roles_only_read() -> None:
    plan = bootstrap_plan()
    assert _actions(_policy(plan, "pr-preview")) == set(PREVIEW_ACTIONS)
    drift = _actions(_policy(plan, "drift"))
    writes = drift - set(read_only(sorted(drift))) - set(VERIFY_ACTIONS)
    assert writes == set()
    assert read_only(["aps:CreateWorkspace", "iam:PassRole", "apigateway:POST", "sns:Subscribe"]) == []


def test_the_deploy_roles_cover_every_aws_resource_type_the_stacks_declare() -> None:
    """A new resource type in a stack needs its service in bootstrap/'s deploy permissions (or `pulumi up` fails)."""
    covered = set(DEPLOY_ACTIONS) | set(GLOBAL_DEPLOY_ACTIONS) | {"iam"}
    aws_modules = {
        r.type.split(":")[1].split("/")[0]
        for s in ("dev", "staging", "prod")
        for r in plan_of(s).resources
        if r.type.startswith("aws:")
    }
    assert aws_modules and aws_modules - covered == set()
    iam_types = {
        r.type for s in ("dev", "staging", "prod") for r in plan_of(s).resources if r.type.startswith("aws:iam/")
    }
    assert iam_types <= {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"}  # what IAM_ROLE_ACTIONS manage
    assert "iam:PutRolePolicy" in IAM_ROLE_ACTIONS and "iam:CreateRole" in IAM_ROLE_ACTIONS


def test_the_deploy_roles_may_manage_every_role_the_stacks_declare_and_no_other() -> None:
    plan = bootstrap_plan()
    (manage,) = [s for s in _policy(plan, "prod") if s["Sid"] == "ManageStackRoles"]
    patterns = [arn.split(":role/", 1)[1] for arn in manage["Resource"]]
    names = [
        r.outputs.get("name") or r.inputs.get("name")
        for s in ("dev", "staging", "prod")
        for r in plan_of(s).of_type(ROLE)
    ]
    assert names and [n for n in names if not any(fnmatch.fnmatchcase(str(n), p) for p in patterns)] == []
    assert not any(fnmatch.fnmatchcase("github-actions-prod", p) for p in patterns)  # not its own role
    assert not any(fnmatch.fnmatchcase("OrganizationAccountAccessRole", p) for p in patterns)


def test_every_planned_trust_passes_the_policy_packs_trust_policies() -> None:
    from planner.policy_check import check_plan

    report = check_plan(bootstrap_plan())
    assert report.not_run == []
    # The deploy and drift roles grant AMP and SNS actions in the stacks' region on "*": they cannot know
    # the workspace and topic ARNs before the stacks exist (docs/ci.md). Every other policy passes,
    # the trust policy and the required tags among them.
    assert {v.policy for v in report.violations} == {"iam-no-wildcard-resource-for-known-arns"}
    assert {v.urn.rsplit("::", 1)[1] for v in report.violations} == {
        f"github-{environment}-permissions" for environment in ("drift", "dev", "staging", "prod")
    }


def _stack_file(tmp_path: Path, **config: Any) -> Path:
    document = yaml.safe_load((BOOTSTRAP_DIR / f"Pulumi.{STACK}.yaml").read_text())
    document["config"].update({f"ci-bootstrap:{k}": v for k, v in config.items()})
    (tmp_path / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(document))
    return tmp_path


@pytest.mark.parametrize("value", ["screener-kr/*", "*/screener-monitoring", "screener-kr", ""])
def test_a_wildcard_or_malformed_repository_is_refused_naming_the_key_and_the_file(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_bootstrap(STACK, root=_stack_file(tmp_path, repository=value))
    (problem,) = raised.value.problems
    assert problem.startswith(f"bootstrap/Pulumi.{STACK}.yaml: ci-bootstrap:repository is {value!r}; set it to")
    assert getattr(raised.value, "declared_resources", []) == []  # refused before any resource


def test_the_immutable_subject_form_is_what_the_roles_trust_when_set(tmp_path: Path) -> None:
    plan = plan_bootstrap(
        STACK, root=_stack_file(tmp_path, subjectRepository="screener-kr@1234/screener-monitoring@5678")
    )
    subjects = {v for claims in trust_conditions(plan).values() for _, v in claims["sub"]}
    assert "repo:screener-kr@1234/screener-monitoring@5678:environment:prod" in subjects
    assert not any("repo:screener-kr/" in s for s in subjects)


def test_an_existing_provider_is_looked_up_instead_of_created(tmp_path: Path) -> None:
    plan = plan_bootstrap(STACK, root=_stack_file(tmp_path, createOidcProvider=False))
    assert plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert plan.outputs["oidc_provider_arn"].endswith(f":oidc-provider/{GITHUB_ISSUER}")


def test_the_planner_writes_the_bootstrap_plan_and_names_a_missing_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from planner.bootstrap import main

    assert main(["--out", str(tmp_path), "--quiet"]) == 0
    document = json.loads((tmp_path / STACK / "plan.json").read_text())
    assert document["stack"] == STACK and document["metadata"]["offline"] is True
    assert sorted(r["name"] for r in document["resources"] if r["type"] == ROLE) == [
        "github-dev",
        "github-drift",
        "github-pr-preview",
        "github-prod",
        "github-staging",
    ]
    assert main(["nope", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: no stack file bootstrap/Pulumi.nope.yaml; bootstrap stacks here: {STACK}\n"
    )
