"""`make preflight STACK=...` end to end: the stack named as Pulumi names it, one line per check, the exit code."""

from __future__ import annotations

import subprocess
from typing import Any

from infra.config.stackfile import REPO_ROOT
from preflight.__main__ import main, placeholder_checks, report, run_checks
from preflight.target import Target, load_target
from tests.preflight.test_aws_checks import ACCOUNT, DEPLOYER, StubbedAws, topic_arn
from tests.preflight.test_http_checks import GRAFANA_TOKEN, FakeApi, at_grafana
from tests.test_placeholders import DEV_REAL_VALUES, settings_of
from verify.report import Status, failed, noted, passed, text_lines, warned


def test_a_fully_qualified_stack_reads_the_stack_file_of_its_last_part():
    target = load_target("acme/monitoring/prod")
    assert (target.stack, target.stack_file, target.region) == (
        "acme/monitoring/prod",
        "stacks/Pulumi.prod.yaml",
        "ap-northeast-2",
    )
    assert target.cluster_name == "screener-prod"


def test_every_example_value_is_a_failing_line_and_real_values_pass():
    lines = placeholder_checks(load_target("prod"))
    assert len(lines) == 13 and {line.status for line in lines} == {Status.FAIL}
    url = next(line for line in lines if "monitoring:grafana.url" in line.evidence)
    assert text_lines([url]) == [
        "FAIL  placeholders: stacks/Pulumi.prod.yaml: monitoring:grafana.url: holds the example value "
        "'https://screener.grafana.net'",
        "      fix: set it to your Grafana Cloud stack's URL, https://<slug>.grafana.net "
        "(grafana.com → My Account → the stack → Launch)",
    ]
    real = Target("dev", "stacks/Pulumi.dev.yaml", "ap-northeast-2", settings_of("dev", DEV_REAL_VALUES))
    (clean,) = placeholder_checks(real)
    assert clean.status is Status.PASS


def test_the_exit_code_is_one_exactly_when_a_check_fails():
    printed: list[str] = []
    after_deploy = noted("sns-critical", "topic not deployed yet")
    assert report("prod", [passed("a", "fine"), warned("b", "maybe"), after_deploy], printed.append) == 0
    assert printed == [
        "PASS  a: fine",
        "WARN  b: maybe",
        "INFO  sns-critical: topic not deployed yet",
        "prod: 1 PASS, 0 FAIL, 1 WARN, 1 INFO, 0 SKIP",
    ]
    printed.clear()
    assert report("prod", [passed("a", "fine"), failed("c", "missing", "add it")], printed.append) == 1
    assert printed == [
        "PASS  a: fine",
        "FAIL  c: missing",
        "      fix: add it",
        "prod: 1 PASS, 1 FAIL, 0 WARN, 0 SKIP",
        "fix each FAIL above, then run `make preflight` again, before `pulumi up`",
    ]


def test_dev_end_to_end_checks_aws_and_grafana_and_skips_the_cluster(monkeypatch):
    aws = StubbedAws()
    aws["sts"].add_response("get_caller_identity", {"UserId": "AIDAEXAMPLE", "Account": ACCOUNT, "Arn": DEPLOYER.arn})
    email = "screener-dev-alerts@example.com"
    for topic in ("critical", "warning", "pipeline"):
        aws["sns"].add_response(
            "list_subscriptions_by_topic",
            {"Subscriptions": [{"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": email}]},
            {"TopicArn": topic_arn(topic)},
        )
    api = FakeApi(
        GRAFANA_TOKEN,
        {
            "/api/health": (200, {"database": "ok", "version": "12.1.0"}),
            "/api/access-control/user/permissions": (200, {}),
            "/api/plugins/grafana-amazonprometheus-datasource/settings": (200, {"info": {"version": "3.2.0"}}),
        },
        public=frozenset({"/api/health"}),
    )
    from tests.http_stub import serving

    with serving(api.handler()) as base:
        findings = run_checks(at_grafana("dev", base), aws.clients, {"GRAFANA_AUTH": GRAFANA_TOKEN})
    aws.verify()
    statuses: dict[str, list[Status]] = {}
    for finding in findings:
        statuses.setdefault(finding.check, []).append(finding.status)
    assert statuses == {
        "placeholders": [Status.FAIL] * 3,  # the runbook URL, the address and the external ID (url is the fake's)
        "aws-identity": [Status.PASS],
        **{name: [Status.SKIP] for name in ("eks-cluster", "eks-oidc-provider", "eks-authentication-mode")},
        **{name: [Status.SKIP] for name in ("eks-deployer-access", "aws-cli", "chatbot-slack")},
        **{f"sns-{topic}": [Status.INFO] for topic in ("critical", "warning", "pipeline")},
        "grafana-reachable": [Status.PASS],
        "grafana-token": [Status.FAIL],  # no permission at all
        "grafana-amp-plugin": [Status.PASS],
        **{name: [Status.SKIP] for name in ("sentry-token", "sentry-organization", "sentry-team")},
        "sentry-environment": [Status.SKIP],
    }


def test_an_unknown_stack_exits_two(capsys: Any):
    assert main(["acme/nosuch"]) == 2
    assert "no stack file stacks/Pulumi.nosuch.yaml" in capsys.readouterr().err


def test_make_passes_the_stack_through_the_environment_never_the_recipe():
    stack = "acme/prod'; echo spliced; '"
    recipe = subprocess.run(
        ["make", "-n", "-s", "preflight", f"STACK={stack}"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert recipe.strip().endswith('-m preflight "$STACK"') and "spliced" not in recipe


def test_the_deploy_guide_names_only_checks_that_exist():
    import re

    guide = (REPO_ROOT / "docs" / "deploying.md").read_text()
    table = guide.split("## 1. Prerequisites")[1].split("**The cluster**")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]  # the header row aside
    named = {name for row in rows for name in re.findall(r"`([a-z-]+\*?)`", row.rsplit("|", 2)[-2])}
    source = "".join(path.read_text() for path in (REPO_ROOT / "preflight").glob("*.py"))
    assert len(named) >= 12
    for name in named:
        pattern = r'f?"sns-\{' if name == "sns-*" else rf'"{re.escape(name)}"'
        assert re.search(pattern, source), name
