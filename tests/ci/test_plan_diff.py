"""plan-diff: what a change does to a stack, from two plans.

Unit tests on crafted plan documents, one test on the real dev plan (secrets),
and one end-to-end run on a temporary git repository (a copy of this project
with a threshold changed in a commit).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.config.stackfile import REPO_ROOT
from planner import plan_diff
from planner.__main__ import plan_document
from planner.diff import (
    GITHUB_COMMENT_LIMIT,
    PlanDiff,
    comment_marker,
    describe_expr_change,
    diff_plans,
    render_markdown,
    render_text,
    summarize_rule_file,
)
from planner.engine import SECRET
from tests.conftest import plan_of

TOPIC = "aws:sns/topic:Topic"
RULES = "aws:amp/ruleGroupNamespace:RuleGroupNamespace"


def resource(name: str, type_: str = TOPIC, inputs: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:dev::monitoring::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": "",
        "protect": options.get("protect", False),
        "aliases": options.get("aliases", []),
        "inputs": inputs or {},
        "outputs": {},
    }


def plan(*resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"stack": "dev", "resources": list(resources), "outputs": outputs or {}}


def diff(base: dict[str, Any], head: dict[str, Any], base_docs=None, head_docs=None) -> PlanDiff:
    return diff_plans("dev", base, head, base_docs or {}, head_docs or {}, "main (abc)", "working tree")


def rule_file(threshold: str = "0.01", for_: str = "5m", extra: str = "") -> str:
    return f"""groups:
- name: api
  interval: 1m
  rules:
  - alert: ApiHighErrorRate
    expr: |-
      service:http_requests:error_ratio_rate5m{{service="api"}} > {threshold}
      and on (service) service:http_requests:rate5m{{service="api"}} >= 0.1
    for: {for_}
    labels: {{service: api, severity: warning}}
    annotations: {{summary: Too many 5xx.}}
  - alert: ApiHighErrorRate
    expr: service:http_requests:error_ratio_rate5m{{service="api"}} > 0.05
    for: 5m
    labels: {{service: api, severity: critical}}
{extra}"""


# --- resources ----------------------------------------------------------------


def test_added_removed_changed_and_unchanged_resources_are_told_apart():
    base = plan(resource("kept"), resource("gone"), resource("edited", inputs={"name": "a"}))
    head = plan(resource("kept"), resource("new"), resource("edited", inputs={"name": "b"}))

    result = diff(base, head)

    assert [r.name for r in result.added] == ["new"]
    assert [r.name for r in result.removed] == ["gone"]
    assert [c.resource.name for c in result.changed] == ["edited"]
    assert result.unchanged == 1
    assert result.counts() == "1 to add, 1 to remove, 1 to change, 1 unchanged"
    text = render_text(result)
    assert f"+ {TOPIC}  new" in text
    assert f"- {TOPIC}  gone" in text
    assert f'~ {TOPIC}  edited\n      inputs.name: "a" → "b"' in text


def test_changed_inputs_are_listed_per_key_path_including_json_policy_documents():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"}]}
    widened = json.loads(json.dumps(policy))
    widened["Statement"][0]["Action"] = ["sns:Publish", "sns:Subscribe"]
    base = plan(resource("t", inputs={"policy": json.dumps(policy), "tags": {"env": "dev", "owner": "a"}}))
    head = plan(resource("t", inputs={"policy": json.dumps(widened), "tags": {"env": "dev", "team": "b"}}))

    changes = [c.describe() for c in diff(base, head).changed[0].changes]

    assert changes == [
        "inputs.policy: statement [0]: Action + sns:Subscribe (grants more)",
        'inputs.tags.owner: "a" → (absent)',
        'inputs.tags.team: (absent) → "b"',
    ]


# --- policy documents: what a reviewer must see (issue 28, review tooling) ------------------------------------------

TOPIC_ARN = "arn:aws:sns:ap-northeast-2:123456789012:screener-prod-alerts-critical"
ACCOUNT_ROOT = {"AWS": "arn:aws:iam::123456789012:root"}


def topic_policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


MANAGES: dict[str, Any] = {
    "Sid": "AccountManagesTheTopic",
    "Effect": "Allow",
    "Principal": ACCOUNT_ROOT,
    "Action": ["sns:GetTopicAttributes", "sns:Subscribe"],
    "Resource": TOPIC_ARN,
}
AMP_PUBLISHES: dict[str, Any] = {
    "Sid": "OnlyThisWorkspacePublishes",
    "Effect": "Allow",
    "Principal": {"Service": "aps.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC_ARN,
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
}


def policy_diff(before: str, after: str, key: str = "policy") -> list[str]:
    base = plan(resource("p", "aws:sns/topicPolicy:TopicPolicy", {key: before}))
    head = plan(resource("p", "aws:sns/topicPolicy:TopicPolicy", {key: after}))
    result = diff(base, head)
    assert result.has_changes
    text = render_text(result)
    lines = [c.describe() for change in result.changed for c in change.changes]
    assert all(line in text for line in lines)
    return lines


def test_a_planted_widening_of_an_action_list_shows_and_says_it_grants_more() -> None:
    """The plant of finding 7 as a reviewer would meet it: sns:Publish slipped into the account's statement."""
    widened = {**MANAGES, "Action": [*MANAGES["Action"], "sns:Publish"]}
    assert policy_diff(topic_policy(MANAGES, AMP_PUBLISHES), topic_policy(widened, AMP_PUBLISHES)) == [
        'inputs.policy: statement "AccountManagesTheTopic": Action + sns:Publish (grants more)'
    ]


def test_a_statement_gained_or_lost_is_named_with_what_it_allows() -> None:
    assert policy_diff(topic_policy(MANAGES), topic_policy(MANAGES, AMP_PUBLISHES)) == [
        'inputs.policy: statement "OnlyThisWorkspacePublishes" added (grants more): Allow sns:Publish on '
        f"{TOPIC_ARN} to Service:aps.amazonaws.com if StringEquals aws:SourceAccount=123456789012"
    ]
    deny = {"Sid": "DenyPublishWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish"}
    assert policy_diff(topic_policy(MANAGES, deny), topic_policy(MANAGES)) == [
        'inputs.policy: statement "DenyPublishWithoutTls" removed (grants more): Deny sns:Publish to *'
    ]


def test_a_statement_inserted_before_others_does_not_read_as_every_statement_changed() -> None:
    unnamed = {k: v for k, v in MANAGES.items() if k != "Sid"}
    other = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}
    assert policy_diff(topic_policy(unnamed), topic_policy(other, unnamed)) == [
        "inputs.policy: statement [0] added (grants more): Allow sns:Publish to Service:cloudwatch.amazonaws.com"
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"Resource": [TOPIC_ARN, "*"]}, 'statement "OnlyThisWorkspacePublishes": Resource + * (grants more)'),
        (
            {"Principal": {"Service": ["aps.amazonaws.com", "events.amazonaws.com"]}},
            'statement "OnlyThisWorkspacePublishes": Principal + Service:events.amazonaws.com (grants more)',
        ),
        (
            {"Condition": {"StringEquals": {"aws:SourceAccount": ["123456789012", "210987654321"]}}},
            'statement "OnlyThisWorkspacePublishes": Condition StringEquals aws:SourceAccount + 210987654321 '
            "(grants more)",
        ),
        (
            {"Condition": {}},
            'statement "OnlyThisWorkspacePublishes": Condition StringEquals aws:SourceAccount removed '
            "(was 123456789012) (grants more)",
        ),
        (
            {"Condition": {**AMP_PUBLISHES["Condition"], "ArnEquals": {"aws:SourceArn": "arn:ws"}}},
            'statement "OnlyThisWorkspacePublishes": Condition ArnEquals aws:SourceArn added: arn:ws',
        ),
        ({"Action": []}, 'statement "OnlyThisWorkspacePublishes": Action - sns:Publish'),
    ],
)
def test_each_value_a_statement_gains_or_loses_is_named(change: dict[str, Any], expected: str) -> None:
    assert policy_diff(topic_policy(AMP_PUBLISHES), topic_policy({**AMP_PUBLISHES, **change})) == [
        f"inputs.policy: {expected}"
    ]


def test_a_trust_policy_inside_a_role_is_read_the_same_way() -> None:
    trust = {"Effect": "Allow", "Principal": {"Federated": "arn:oidc"}, "Action": "sts:AssumeRoleWithWebIdentity"}
    scoped = {**trust, "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:o/r:ref:x"}}}
    wider = {**trust, "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": ["repo:o/r:ref:x", "*"]}}}
    assert policy_diff(topic_policy(scoped), topic_policy(wider), key="assumeRolePolicy") == [
        "inputs.assumeRolePolicy: statement [0]: Condition StringLike token.actions.githubusercontent.com:sub + * "
        "(grants more)"
    ]


def test_a_reordered_or_respelled_policy_says_the_permissions_are_the_same() -> None:
    one = {**MANAGES, "Action": ["sns:Subscribe", "sns:GetTopicAttributes"]}
    assert policy_diff(topic_policy(MANAGES, AMP_PUBLISHES), topic_policy(AMP_PUBLISHES, one)) == [
        "inputs.policy: rewritten, the same permissions (order or spelling only)"
    ]


def test_a_secret_input_shows_as_secret_and_equal_secrets_are_no_change():
    base = plan(resource("p", "pulumi:providers:grafana", {"auth": "[secret]", "url": "https://a"}))
    head = plan(
        resource("p", "pulumi:providers:grafana", {"auth": "[secret]", "url": "https://b", "smToken": "[secret]"})
    )

    changes = [c.describe() for c in diff(base, head).changed[0].changes]

    assert changes == ["inputs.smToken: (absent) → [secret]", 'inputs.url: "https://a" → "https://b"']


def test_secrets_of_the_real_dev_plan_never_reach_the_diff():
    dev = plan_of("dev")
    document = json.loads(json.dumps(plan_document(dev)))
    # A base where every resource had no inputs: every input of the plan is reported.
    bare = json.loads(json.dumps(document))
    for r in bare["resources"]:
        r["inputs"] = {}
    result = diff(bare, document)
    text = render_text(result) + render_markdown(result, limit=10**7)

    secret_inputs = [(r.name, k) for r in dev.resources for k, v in r.inputs.items() if v == SECRET]
    assert secret_inputs, "the dev plan has secret inputs (Grafana auth, SM token)"
    for name, key in secret_inputs:
        assert re.search(rf"inputs\.{re.escape(key)}: \(absent\) → \[secret\]", text), (name, key)
    assert "<secret " not in text  # the placeholder values the plan ran with


def test_protect_and_alias_changes_are_reported():
    base = plan(resource("workspace", "aws:amp/workspace:Workspace"))
    head = plan(resource("workspace", "aws:amp/workspace:Workspace", protect=True, aliases=["screener-dev"]))

    changes = [c.describe() for c in diff(base, head).changed[0].changes]

    assert changes == ["protect: false → true", 'aliases: [] → ["screener-dev"]']


def test_stack_output_changes_are_listed():
    base = plan(outputs={"urls": {"api": "https://a"}, "gone": 1})
    head = plan(outputs={"urls": {"api": "https://b"}})

    result = diff(base, head)

    assert [c.describe() for c in result.outputs] == ["gone: 1 → (absent)", 'urls.api: "https://a" → "https://b"']
    assert result.has_changes


def test_identical_plans_report_no_changes():
    same = plan(resource("a"), resource("b", inputs={"x": 1}), outputs={"o": "v"})

    result = diff(same, same, {"rules/api.yaml": rule_file()}, {"rules/api.yaml": rule_file()})

    assert not result.has_changes
    assert "No changes" in render_text(result)
    assert "**No changes** (2 resources unchanged)." in render_markdown(result)


# --- documents and rules ------------------------------------------------------


def test_a_rule_threshold_change_is_summarised_in_words_and_shown_as_a_line_diff():
    base_docs = {"rules/api.yaml": rule_file(threshold="0.01")}
    head_docs = {"rules/api.yaml": rule_file(threshold="0.02")}
    rules = resource("alert-rules-api", RULES, {"name": "api", "data": base_docs["rules/api.yaml"]})
    changed = resource("alert-rules-api", RULES, {"name": "api", "data": head_docs["rules/api.yaml"]})

    result = diff(plan(rules), plan(changed), base_docs, head_docs)

    assert result.rules == (("rules/api.yaml", ("ApiHighErrorRate (warning): threshold 0.01 → 0.02",)),)
    assert [c.describe() for c in result.changed[0].changes] == ["data: changed (15 → 15 lines) (see rules/api.yaml)"]
    (document,) = result.documents
    assert document.path == "rules/api.yaml" and document.counts == (1, 1)
    assert '-      service:http_requests:error_ratio_rate5m{service="api"} > 0.01' in document.lines
    assert '+      service:http_requests:error_ratio_rate5m{service="api"} > 0.02' in document.lines


def test_rule_summary_names_for_added_removed_and_changed_expressions():
    extra = '  - alert: ApiDown\n    expr: up{service="api"} == 0\n    labels: {severity: critical}\n'
    before = rule_file()
    after = rule_file(for_="10m", extra=extra).replace("summary: Too many 5xx.", "summary: Errors.")
    after = after.replace("> 0.05", "> 0.05 unless on () vector(1)")

    sentences = summarize_rule_file(before, after)

    assert sentences == [
        "ApiHighErrorRate (warning): for 5m → 10m",
        "ApiHighErrorRate (warning): annotation summary changed",
        "ApiHighErrorRate (critical): expression changed",
        "ApiDown (critical) added",
    ]
    assert "ApiDown (critical) removed" in summarize_rule_file(after, before)


def test_numbers_inside_label_matchers_are_not_thresholds():
    assert describe_expr_change('x{le="0.5"} > 1', 'x{le="0.5"} > 2') == ["threshold 1 → 2"]
    assert describe_expr_change('x{le="0.5"} > 1', 'x{le="1"} > 1') == ["expression changed"]
    assert describe_expr_change("rate(x[5m]) * 100 < 3", "rate(x[5m]) * 50 < 3") == ["constant 100 → 50"]
    assert describe_expr_change("rate(x[5m]) > 1", "rate(x[30m]) > 1") == ["window 5m → 30m"]
    assert describe_expr_change("rate(x_5m[5m]) > 1", "rate(x_30m[5m]) > 1") == ["expression changed"]


def test_markdown_is_a_comment_with_one_collapsible_diff_per_document():
    base_docs = {"rules/api.yaml": rule_file(), "alertmanager/am.yaml": "route:\n  receiver: a\n"}
    head_docs = {"rules/api.yaml": rule_file(threshold="0.02"), "alertmanager/am.yaml": "route:\n  receiver: b\n"}

    text = render_markdown(diff(plan(), plan(), base_docs, head_docs))

    assert text.startswith(comment_marker("dev") + "\n### Offline plan diff: `dev`")
    assert "- `ApiHighErrorRate (warning): threshold 0.01 → 0.02`" in text
    assert "<details><summary>alertmanager/am.yaml (changed, +1 −1)</summary>" in text
    assert "<details><summary>rules/api.yaml (changed, +1 −1)</summary>" in text
    assert text.count("```diff") == 2 and "Truncated" not in text


def test_markdown_stays_under_githubs_comment_limit_and_says_what_it_left_out():
    big = {f"dashboards/d{i}.json": "\n".join(f'  "panel{n}": {i}' for n in range(3000)) for i in range(4)}
    result = diff(plan(), plan(), {}, big)

    text = render_markdown(result, rerun_hint="Run `make plan-diff STACK=dev BASE=main`.")

    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "<details><summary>dashboards/d0.json (added, +3000 −0)</summary>" in text
    assert re.search(r"> \*\*Truncated:\*\* \d part\(s\) of this diff were left out", text)
    assert "Run `make plan-diff STACK=dev BASE=main`." in text


# --- command line -------------------------------------------------------------


def test_exit_code_is_zero_with_or_without_changes_unless_asked(monkeypatch, capsys):
    changed = diff(plan(), plan(resource("new")))
    same = diff(plan(), plan())
    for result, flags, expected in [
        (changed, [], 0),
        (same, [], 0),
        (changed, ["--exit-code"], 1),
        (same, ["--exit-code"], 0),
    ]:
        monkeypatch.setattr(plan_diff, "compute", lambda stack, base, repo, r=result: (r, False))
        assert plan_diff.main(["dev", "--base", "main", *flags]) == expected
    assert "new" in capsys.readouterr().out


def test_a_policy_violation_in_the_new_plan_exits_3_after_printing_the_diff(monkeypatch, capsys):
    result = diff(plan(), plan(resource("new")))
    monkeypatch.setattr(plan_diff, "compute", lambda stack, base, repo: (result, True))

    assert plan_diff.main(["dev", "--base", "main", "--format", "markdown"]) == 3
    assert f"- ➕ `{TOPIC}  new`" in capsys.readouterr().out


def test_a_base_that_is_not_a_commit_exits_2_with_the_fix(capsys):
    assert plan_diff.main(["dev", "--base", "no-such-branch-xyz"]) == 2
    assert "BASE='no-such-branch-xyz' is not a commit" in capsys.readouterr().err


# --- end to end ---------------------------------------------------------------


def _git(repo: Path, *args: str) -> str:
    identity = [
        "-c",
        "user.name=plan-diff test",
        "-c",
        "user.email=plan-diff@example.com",
        "-c",
        "commit.gpgsign=false",
    ]
    return subprocess.run(["git", "-C", str(repo), *identity, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def project_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new git repository holding this project's files as the working tree has
    them (tracked and untracked, .gitignore respected), committed once."""
    repo = tmp_path_factory.mktemp("plan-diff-repo")
    listed = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for relative in filter(None, listed.split("\0")):
        source = REPO_ROOT / relative
        if source.is_file():
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / relative)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "project as it is")
    return repo


def test_plan_diff_against_the_parent_commit_names_the_changed_threshold(project_repo, monkeypatch):
    stack_file = project_repo / "stacks" / "Pulumi.dev.yaml"
    stack_file.write_text(stack_file.read_text() + "  monitoring:thresholds:\n    errorRatioPercent: 2\n")
    _git(project_repo, "commit", "-q", "-am", "dev: 5xx warning at 2 %")

    result, policy_blocked = plan_diff.compute("dev", "HEAD~1", repo=project_repo)

    assert not policy_blocked
    sentences = dict(result.rules)["rules/api.yaml"]
    assert "ApiHighErrorRate (warning): threshold 0.01 → 0.02" in sentences
    assert "ApiHighErrorRate (warning): annotation description changed" in sentences  # "(threshold 2%)"
    # The API dashboard draws the threshold too; nothing else moves.
    assert [c.resource.name for c in result.changed] == ["alert-rules-api", "grafana-dashboards-api"]
    assert not result.added and not result.removed
    assert "rules/api.yaml" in [d.path for d in result.documents]
    # The temporary worktree is gone and the checkout is untouched.
    assert _git(project_repo, "worktree", "list").count("\n") == 1
    assert _git(project_repo, "status", "--porcelain") == ""


def test_a_configuration_error_keeps_the_planners_exit_code_and_message(project_repo, monkeypatch, capsys):
    # A stack that the base commit lacks: only the working tree is planned.
    broken = project_repo / "stacks" / "Pulumi.broken.yaml"
    broken.write_text(
        (project_repo / "stacks" / "Pulumi.dev.yaml").read_text().replace("retentionDays: 15", "retentionDays: -1")
    )
    monkeypatch.setattr(plan_diff, "REPO_ROOT", project_repo)
    try:
        code = plan_diff.main(["broken", "--base", "HEAD"])
    finally:
        broken.unlink()

    err = capsys.readouterr().err
    assert code == 2
    assert "plan-diff: the plan of the working tree failed:" in err
    assert "error: invalid stack configuration:" in err
    assert "stacks/Pulumi.broken.yaml: monitoring:amp.retentionDays" in err
