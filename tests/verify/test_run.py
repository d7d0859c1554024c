"""The whole `make verify` run: what dev skips and why, the exit code, the JSON for CI, and the Makefile
passing user values as "$$NAME" (never spliced into the recipe)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from tests.verify.support import CREATED, NOW, namespace, status, stubbed_clients, target_of
from verify.checks import Clients, run_checks
from verify.delivery_checks import pipeline_alarm_names
from verify.report import Result, Status, exit_code, noted, text_lines, text_report, to_json


def queue_healthy_dev(stubbers: dict[str, Stubber], target: Any) -> None:
    workspace_id = target.output("amp_workspace_id")
    amp, sns, cloudwatch = stubbers["amp"], stubbers["sns"], stubbers["cloudwatch"]
    amp.add_response(
        "describe_workspace",
        {
            "workspace": {
                "workspaceId": workspace_id,
                "arn": target.output("amp_workspace_arn"),
                "status": status("ACTIVE"),
                "createdAt": CREATED,
            }
        },
        {"workspaceId": workspace_id},
    )
    amp.add_response(
        "list_rule_groups_namespaces",
        {"ruleGroupsNamespaces": [namespace(workspace_id, n) for n in target.output("amp_rule_namespaces")]},
        {"workspaceId": workspace_id},
    )
    amp.add_response(
        "describe_alert_manager_definition",
        {
            "alertManagerDefinition": {
                "status": status("ACTIVE"),
                "data": b"x",
                "createdAt": CREATED,
                "modifiedAt": CREATED,
            }
        },
        {"workspaceId": workspace_id},
    )
    spec = target.settings.notifications
    wanted = {"critical": [*spec.emails, *spec.paging_emails], "warning": list(spec.emails)}
    wanted["pipeline"] = wanted["critical"]
    for audience, arn in sorted(target.output("alert_topic_arns").items()):
        subscriptions = [
            {"SubscriptionArn": f"{arn}:1", "Protocol": "email", "Endpoint": e, "TopicArn": arn, "Owner": "1"}
            for e in wanted.get(audience, [])
        ]
        sns.add_response("list_subscriptions_by_topic", {"Subscriptions": subscriptions}, {"TopicArn": arn})
    names = list(pipeline_alarm_names(target).values())
    ok = [{"AlarmName": n, "StateValue": "OK", "StateUpdatedTimestamp": NOW} for n in names]
    cloudwatch.add_response("describe_alarms", {"MetricAlarms": ok}, {"AlarmNames": names})
    cloudwatch.add_response(
        "describe_alarms",
        {"MetricAlarms": []},
        {"AlarmNamePrefix": f"{target.name_prefix}-", "StateValue": "INSUFFICIENT_DATA"},
    )


def test_dev_passes_what_it_has_and_skips_what_it_lacks_saying_why() -> None:
    target = target_of("dev")
    clients, stubbers = stubbed_clients()
    queue_healthy_dev(stubbers, target)
    results = run_checks(target, Clients(aws=clients, query=None, grafana=None, sentry=None), NOW)
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
    by_check = {r.check: r for r in results}
    assert {c for c, r in by_check.items() if r.status is Status.PASS} == {
        "amp.workspace",
        "amp.rule-namespaces",
        "amp.alertmanager-definition",
        "delivery.subscriptions",
        "delivery.pipeline-alarms",
        "delivery.alarms-with-data",
    }
    assert by_check["amp.samples"].status is Status.SKIP
    assert (
        by_check["logs.sources"].status is Status.SKIP and "clusterName is not set" in by_check["logs.sources"].evidence
    )
    assert by_check["sentry"].status is Status.SKIP
    assert by_check["grafana"].status is Status.WARN and "GRAFANA_AUTH" in by_check["grafana"].fix
    assert exit_code(results) == 0


def test_an_api_error_fails_that_check_only_and_the_next_checks_still_run() -> None:
    target = target_of("dev")
    clients, stubbers = stubbed_clients()
    stubbers["amp"].add_client_error(
        "describe_workspace", "AccessDeniedException", "not authorized to perform: aps:DescribeWorkspace", 403
    )
    # Nothing else is queued: every other AWS call raises too.
    results = run_checks(target, Clients(aws=clients, query=None, grafana=None, sentry=None), NOW)
    failed = [r for r in results if r.status is Status.FAIL]
    assert [r.check for r in failed] == [
        "amp.workspace",
        "amp.rule-namespaces",
        "amp.alertmanager-definition",
        "delivery.subscriptions",
        "delivery.pipeline-alarms",
        "delivery.alarms-with-data",
    ]
    assert failed[0].evidence.startswith("AccessDeniedException: ")
    assert "read permissions in docs/after-deploy.md" in failed[0].fix
    assert exit_code(results) == 1


def test_a_fail_makes_the_exit_code_non_zero_and_the_json_says_so() -> None:
    results = [Result("amp.workspace", Status.PASS, "ACTIVE"), Result("grafana", Status.WARN, "no token", "export")]
    assert exit_code(results) == 0
    results.append(Result("delivery.subscriptions", Status.FAIL, "a@example.com is PendingConfirmation", "confirm"))
    assert exit_code(results) == 1
    document = json.loads(to_json("acme/prod", results))
    assert document["ok"] is False
    assert document["summary"] == {"PASS": 1, "FAIL": 1, "WARN": 1, "SKIP": 0}
    assert document["results"][2] == {
        "check": "delivery.subscriptions",
        "status": "FAIL",
        "evidence": "a@example.com is PendingConfirmation",
        "fix": "confirm",
    }
    assert text_lines(results[2:]) == [
        "FAIL  delivery.subscriptions: a@example.com is PendingConfirmation",
        "      fix: confirm",
    ]


def test_the_text_ends_with_the_four_counts_and_counts_info_only_when_a_check_reports_one() -> None:
    """verify never reports INFO, so its summary keeps PASS, FAIL, WARN and SKIP; preflight's INFO is counted."""
    results = [Result("amp.workspace", Status.PASS, "ACTIVE"), Result("grafana", Status.SKIP, "no Grafana")]
    assert text_report("acme/prod", results) == [
        "PASS  amp.workspace: ACTIVE",
        "SKIP  grafana: no Grafana",
        "acme/prod: 1 PASS, 0 FAIL, 0 WARN, 1 SKIP",
    ]
    results.append(noted("sns-critical", "the topic is not deployed yet"))
    assert text_report("acme/prod", results)[-1] == "acme/prod: 1 PASS, 0 FAIL, 0 WARN, 1 INFO, 1 SKIP"
    document = json.loads(to_json("acme/prod", results))
    assert document["summary"] == {"PASS": 1, "FAIL": 0, "WARN": 0, "INFO": 1, "SKIP": 1}
    assert document["ok"] is True and exit_code(results) == 0


def test_the_make_targets_pass_user_values_as_quoted_variables() -> None:
    hostile = 'acme/prod"; touch /tmp/pwned; echo "'
    for target, extra in (("verify", ["FORMAT=json"]), ("test-alert", ["SEVERITY=critical", "FOR=5m", "CONFIRM=prod"])):
        recipe = subprocess.run(
            ["make", "-n", target, f"STACK={hostile}", *extra], capture_output=True, text=True, check=True
        ).stdout
        assert hostile not in recipe and "pwned" not in recipe
        assert '--stack "$STACK"' in recipe
    verify = subprocess.run(["make", "-n", "verify"], capture_output=True, text=True, check=True).stdout
    assert '-m verify check --stack "$STACK" --outputs "$OUTPUTS" --format "${FORMAT:-text}"' in verify


def test_make_verify_prints_only_the_json_with_format_json(tmp_path: Path) -> None:
    """CI parses stdout: make must not echo the recipe before the document."""
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({}))  # no outputs: every check fails fast, without calling anything
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDTESTONLY",
        "AWS_SECRET_ACCESS_KEY": "test-only",
        "GRAFANA_AUTH": "",
        "SENTRY_AUTH_TOKEN": "",
        # Nothing leaves the machine: every AWS endpoint is a closed loopback port, tried once.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": "/dev/null",
    }
    run = subprocess.run(
        ["make", "--no-print-directory", "verify", "STACK=acme/dev", f"OUTPUTS={outputs}", "FORMAT=json"],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=120,
    )
    document = json.loads(run.stdout)
    assert document["stack"] == "acme/dev" and document["ok"] is False
    assert run.returncode != 0
