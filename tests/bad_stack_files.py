"""A table of defective stack files, and what planning each of them does.

Each case is a committed stack file with a few values changed (`overrides`) or
a whole file's text (`text`, for files that are not even a mapping). `outcome()`
writes it as a draft stack file and runs `python -m planner STACK --stack-file
FILE` in-process (its `main`, with the same reader, loader, engine and policy
pack): exit 2 is refused by the configuration, 3 stopped by a mandatory
policy, an exception a crash (the CLI would print a traceback), 0 accepted.

`python -m tests.bad_stack_files` prints the table and its totals.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import functools
import io
import math
import subprocess
import sys
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from infra.config.stackfile import REPO_ROOT
from planner.__main__ import main as planner_main
from tests.cost.helpers import PRICING as COST_TEST_PRICING

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
REFUSED = "refused"  # exit 2, a configuration error
POLICY = "policy"  # exit 3, a mandatory policy violation
CRASH = "crash"  # a Python traceback
ACCEPTED = "accepted"  # a plan


@functools.cache
def _committed_document(stack: str) -> dict[str, Any]:
    # Read once per stack (the table builds some 50 cases from it at import); callers get copies.
    document: dict[str, Any] = yaml.load((REPO_ROOT / f"stacks/Pulumi.{stack}.yaml").read_text(), Loader=SAFE_LOADER)
    return document


def committed(stack: str, key: str) -> Any:
    return copy.deepcopy(_committed_document(stack)["config"][key])


def section(stack: str, key: str, **changes: Any) -> dict[str, Any]:
    """A committed section (a mapping) with some of its keys changed."""
    value = committed(stack, key)
    value.update(changes)
    return dict(value)


def api_service(stack: str = "dev", **changes: Any) -> list[dict[str, Any]]:
    """The stack's service catalog with its first service (the API) changed."""
    services = committed(stack, "monitoring:services")
    services[0].update(changes)
    return list(services)


def frontend_service(stack: str = "dev", **changes: Any) -> list[dict[str, Any]]:
    services = committed(stack, "monitoring:services")
    services[1].update(changes)
    return list(services)


def extra_check(**changes: Any) -> dict[str, Any]:
    check = {"name": "search", "service": "api", "url": "https://api.dev.screener.kr/v1/search"}
    check.update(changes)
    return section("dev", "monitoring:synthetics", checks=[check])


# A stack file's own price table (the cost section may set one instead of the built-in table): the
# cost tests' us-east-1 table.
PRICING: dict[str, Any] = dict(COST_TEST_PRICING)


def cost(**pricing_changes: Any) -> dict[str, Any]:
    """dev's cost section with its own price table, some of whose keys changed."""
    return {**committed("dev", "monitoring:cost"), "pricing": {**PRICING, **pricing_changes}}


@dataclass(frozen=True)
class Case:
    id: str
    # The setting (or stack file and line) a refusal must name; for a valid neighbour, what its plan must hold.
    key: str
    overrides: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    stack: str = "dev"
    note: str = ""
    # The file's bytes, for files that are not even text.
    data: bytes | None = None
    # REFUSED (exit 2), POLICY (exit 3), or ACCEPTED for a valid neighbour of a defect, which must still plan.
    expect: str = "refused"


PAGING = {"provider": "pagerduty", "escalationPolicyId": "PABC123"}


def one_off(start: Any, end: Any, **changes: Any) -> dict[str, Any]:
    """prod's maintenance with one one-off window instead of its own."""
    return section("prod", "monitoring:maintenance", oneOff=[{"start": start, "end": end}], **changes)


DEV_TEXT = (REPO_ROOT / "stacks/Pulumi.dev.yaml").read_text()
OWNER = "  monitoring:owner: platform-team"
# The line after dev's owner line: where the YAML error is noticed, where the inserted key sits.
AFTER_OWNER_LINE = DEV_TEXT.splitlines().index(OWNER) + 2
HOSTILE_HEALTH = 'https://api.dev.screener.kr/health",endpoint="none'
LONG_PLATFORM = "screener-monitoring-platform-x"  # 30 characters, the pattern's maximum is 31
LONG_ENVIRONMENT = "production-east1"  # 16 characters, the pattern's maximum

CASES: tuple[Case, ...] = (
    # --- from the issue ---------------------------------------------------------------------------
    Case(
        "health-url-closes-the-matcher",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl=HOSTILE_HEALTH)},
        note="ApiHealthCheckFailing could never fire",
    ),
    Case(
        "health-url-template-braces",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://api.dev.screener.kr/health{{x}}")},
    ),
    Case(
        "runbook-url-template-braces",
        "monitoring:rules.runbookBaseUrl",
        {"monitoring:rules": {"runbookBaseUrl": "https://wiki.example.com/{{ .Labels.x }}/runbooks"}},
    ),
    Case(
        "min-requests-infinite",
        "monitoring:slo.minRequestsPerSecond",
        {"monitoring:slo": section("dev", "monitoring:slo", minRequestsPerSecond=math.inf)},
        note="eleven traffic-gated alerts compare >= +Inf",
    ),
    Case(
        "celery-backlog-1e18",
        "monitoring:thresholds.celeryQueueBacklog",
        {"monitoring:thresholds": {"celeryQueueBacklog": 1e18}},
    ),
    Case("stack-file-is-a-list", "stacks/Pulumi.dev.yaml:1", text="- config: {}\n- other\n"),
    Case(
        "config-is-a-list",
        "stacks/Pulumi.dev.yaml:2",
        text="config:\n  - aws:region: ap-northeast-2\n  - monitoring:environment: dev\n",
    ),
    Case(
        "yaml-syntax-error",
        f"stacks/Pulumi.dev.yaml:{AFTER_OWNER_LINE}",
        text=DEV_TEXT.replace(OWNER, "  monitoring:owner: [platform-team", 1),
    ),
    Case("unknown-region", "aws:region", {"aws:region": "ap-northeast-9"}),
    Case(
        "environment-null",
        "monitoring:environment",
        text=DEV_TEXT.replace("monitoring:environment: dev", "monitoring:environment: null", 1),
    ),
    Case(
        "names-beyond-iam-limit",
        "monitoring:platform",
        {"monitoring:platform": LONG_PLATFORM, "monitoring:environment": LONG_ENVIRONMENT},
    ),
    Case(
        "body-regexp-not-re2",
        "monitoring:synthetics.checks[0].bodyRegexp",
        {"monitoring:synthetics": extra_check(bodyRegexp="(?<=status: )ok")},
    ),
    Case(
        "label-set-limit-bad-label-name",
        "monitoring:amp.labelSetLimits[0].labelSet",
        {
            "monitoring:amp": section(
                "dev", "monitoring:amp", labelSetLimits=[{"labelSet": {"1-job": "x"}, "maxSeries": 100}]
            )
        },
    ),
    Case(
        "junk-subnet-ids",
        "monitoring:collection.subnetIds",
        {"monitoring:collection": section("prod", "monitoring:collection", subnetIds=["subnet-zz", "my-subnet"])},
        stack="prod",
    ),
    Case(
        "health-url-private-ip",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://10.0.0.1/health")},
    ),
    Case(
        "health-url-localhost",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://localhost/health")},
    ),
    Case(
        "grafana-url-any-host",
        "monitoring:grafana.url",
        {"monitoring:grafana": section("dev", "monitoring:grafana", url="https://grafana.attacker.example")},
    ),
    Case(
        "synthetics-api-any-host",
        "monitoring:synthetics.apiUrl",
        {"monitoring:synthetics": section("dev", "monitoring:synthetics", apiUrl="https://sm.attacker.example")},
        note="the plan would send the SM token there",
    ),
    Case(
        "policy-tree-environment-without-stack",
        "monitoring:grafana: notificationPolicy.environments",
        {
            "monitoring:grafana": section(
                "prod",
                "monitoring:grafana",
                notificationPolicy={
                    "environments": ["dev", "staging", "prod", "qa"],
                    "maintenanceEnvironments": ["prod"],
                },
            )
        },
        stack="prod",
    ),
    Case("as-of-not-a-date", "monitoring:cost.pricing.asOf", {"monitoring:cost": cost(asOf="2026-02-30")}),
    Case(
        "folder-title-5000-characters",
        "monitoring:grafana.folderTitle",
        {"monitoring:grafana": section("dev", "monitoring:grafana", folderTitle="x" * 5000)},
    ),
    # --- numbers: finite, with sane upper bounds -------------------------------------------------
    Case(
        "slow-queries-infinite",
        "monitoring:thresholds.slowQueriesPerMinute",
        {"monitoring:thresholds": {"slowQueriesPerMinute": math.inf}},
    ),
    Case(
        "redis-evictions-nan",
        "monitoring:thresholds.redisEvictionsPerSecond",
        {"monitoring:thresholds": {"redisEvictionsPerSecond": math.nan}},
    ),
    Case(
        "replication-lag-a-trillion-seconds",
        "monitoring:thresholds.replicationLagSeconds",
        {"monitoring:thresholds": {"replicationLagSeconds": 10**12}},
    ),
    Case(
        "deadlocks-a-billion-an-hour",
        "monitoring:thresholds.deadlocksPerHour",
        {"monitoring:thresholds": {"deadlocksPerHour": 10**9}},
    ),
    Case(
        "degradation-floor-a-trillion-ms",
        "monitoring:thresholds.degradationFloorMs",
        {"monitoring:thresholds": {"degradationFloorMs": 10**12}},
    ),
    Case(
        "min-requests-a-trillion",
        "monitoring:slo.minRequestsPerSecond",
        {"monitoring:slo": section("dev", "monitoring:slo", minRequestsPerSecond=1e12)},
    ),
    Case(
        "budget-infinite",
        "monitoring:cost.budgetUsdPerMonth",
        {"monitoring:cost": {**committed("dev", "monitoring:cost"), "budgetUsdPerMonth": math.inf}},
    ),
    Case(
        "storage-price-nan",
        "monitoring:cost.pricing.storageUsdPerGbMonth",
        {"monitoring:cost": cost(storageUsdPerGbMonth=math.nan)},
    ),
    Case(
        "series-limit-floor-huge",
        "monitoring:cost.seriesLimitFloor",
        {"monitoring:cost": {**committed("dev", "monitoring:cost"), "seriesLimitFloor": 10**15}},
    ),
    Case(
        "label-values-huge",
        "monitoring:cost.labelValues",
        {"monitoring:cost": {**committed("dev", "monitoring:cost"), "labelValues": {"endpoint": 10**12}}},
    ),
    Case(
        "label-set-limit-huge",
        "monitoring:amp.labelSetLimits[0].maxSeries",
        {
            "monitoring:amp": section(
                "dev", "monitoring:amp", labelSetLimits=[{"labelSet": {"service": "api"}, "maxSeries": 10**13}]
            )
        },
    ),
    Case(
        "crash-loop-restarts-a-million",
        "monitoring:kubernetes.crashLoopRestarts",
        {"monitoring:kubernetes": {"crashLoopRestarts": 1_000_000}},
    ),
    # --- template and selector injection ------------------------------------------------------------
    Case(
        "health-url-quote",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl='https://api.dev.screener.kr/he"alth')},
    ),
    Case(
        "health-url-backslash",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://api.dev.screener.kr/health\\")},
    ),
    Case(
        "health-url-closing-braces",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://api.dev.screener.kr/health}}")},
    ),
    Case(
        "health-url-angle-brackets",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://api.dev.screener.kr/<script>")},
    ),
    Case(
        "runbook-url-closing-braces",
        "monitoring:rules.runbookBaseUrl",
        {"monitoring:rules": {"runbookBaseUrl": "https://wiki.example.com/runbooks}}"}},
    ),
    Case(
        "runbook-url-quote",
        "monitoring:rules.runbookBaseUrl",
        {"monitoring:rules": {"runbookBaseUrl": 'https://wiki.example.com/run"books'}},
    ),
    Case(
        "public-url-template-braces",
        "monitoring:services[1].publicUrl",
        {"monitoring:services": frontend_service(publicUrl="https://dev.screener.kr/{{ $labels.x }}")},
    ),
    Case(
        "extra-check-url-template-braces",
        "monitoring:synthetics.checks[0].url",
        {"monitoring:synthetics": extra_check(url="https://api.dev.screener.kr/{{x}}")},
    ),
    # --- public URLs must be public ---------------------------------------------------------------
    Case(
        "health-url-loopback",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://127.0.0.1/health")},
    ),
    Case(
        "health-url-metadata-service",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://169.254.169.254/latest/meta-data")},
    ),
    Case(
        "health-url-unspecified-address",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://0.0.0.0/health")},
    ),
    Case(
        "health-url-carrier-grade-nat",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://100.64.0.1/health")},
    ),
    Case(
        "health-url-decimal-ip",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://2130706433/health")},
    ),
    Case(
        "health-url-ipv6-loopback",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://[::1]/health")},
    ),
    Case(
        "health-url-port-out-of-range",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://api.dev.screener.kr:99999/health")},
    ),
    Case(
        "health-url-single-label-host",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://backend/health")},
    ),
    Case(
        "health-url-cluster-local-host",
        "monitoring:services[0].healthUrl",
        {"monitoring:services": api_service(healthUrl="https://backend.screener.svc.cluster.local/health")},
    ),
    Case(
        "public-url-private-ip",
        "monitoring:services[1].publicUrl",
        {"monitoring:services": frontend_service(publicUrl="https://192.168.1.10/")},
    ),
    Case(
        "public-url-localhost-subdomain",
        "monitoring:services[1].publicUrl",
        {"monitoring:services": frontend_service(publicUrl="https://app.localhost/")},
    ),
    Case(
        "extra-check-private-ip",
        "monitoring:synthetics.checks[0].url",
        {"monitoring:synthetics": extra_check(url="https://10.1.2.3/v1/search")},
    ),
    # --- Grafana Cloud hosts ------------------------------------------------------------------------
    Case(
        "grafana-url-suffix-trick",
        "monitoring:grafana.url",
        {
            "monitoring:grafana": section(
                "dev", "monitoring:grafana", url="https://screener.grafana.net.attacker.example"
            )
        },
    ),
    Case(
        "grafana-url-userinfo-trick",
        "monitoring:grafana.url",
        {"monitoring:grafana": section("dev", "monitoring:grafana", url="https://grafana.net@attacker.example")},
    ),
    Case(
        "synthetics-api-lookalike",
        "monitoring:synthetics.apiUrl",
        {
            "monitoring:synthetics": section(
                "dev", "monitoring:synthetics", apiUrl="https://synthetic-monitoring-api.grafana.net.attacker.example"
            )
        },
    ),
    Case(
        "extra-check-of-an-unknown-service",
        "monitoring:synthetics.checks[0].service",
        {"monitoring:synthetics": extra_check(service="docs")},
    ),
    Case(
        "extra-check-named-like-the-health-check",
        "monitoring:synthetics.checks",
        {"monitoring:synthetics": extra_check(name="health")},
    ),
    # --- regular expressions and label names --------------------------------------------------------
    Case(
        "body-regexp-backreference",
        "monitoring:synthetics.checks[0].bodyRegexp",
        {"monitoring:synthetics": extra_check(bodyRegexp=r"(ok)\1")},
    ),
    Case(
        "health-body-regexp-lookahead",
        "monitoring:synthetics.healthBodyRegexp",
        {"monitoring:synthetics": section("dev", "monitoring:synthetics", healthBodyRegexp='"status"(?=: "ok")')},
    ),
    Case(
        "label-set-limit-reserved-label",
        "monitoring:amp.labelSetLimits[0].labelSet",
        {
            "monitoring:amp": section(
                "dev", "monitoring:amp", labelSetLimits=[{"labelSet": {"__name__": "up"}, "maxSeries": 100}]
            )
        },
    ),
    # --- names ------------------------------------------------------------------------------------
    Case("environment-empty", "monitoring:environment", {"monitoring:environment": ""}),
    Case("environment-true", "monitoring:environment", {"monitoring:environment": True}),
    Case(
        "names-beyond-grafana-uid-limit",
        "monitoring:platform",
        {"monitoring:platform": "screener-analytics-platform1", "monitoring:environment": "dev"},
    ),
    # --- identifiers --------------------------------------------------------------------------------
    Case(
        "junk-security-group-id",
        "monitoring:collection.securityGroupIds",
        {"monitoring:collection": section("prod", "monitoring:collection", securityGroupIds=["sg-0a1b2c3d!"])},
        stack="prod",
    ),
    Case(
        "subnet-id-listed-twice",
        "monitoring:collection.subnetIds",
        {
            "monitoring:collection": section(
                "prod", "monitoring:collection", subnetIds=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60001"]
            )
        },
        stack="prod",
    ),
    Case("as-of-month-13", "monitoring:cost.pricing.asOf", {"monitoring:cost": cost(asOf="2026-13-01")}),
    # --- within every bound, but over the stack's budget: the cost policy stops it (exit 3) -------------------
    Case(
        "endpoints-over-budget",
        "monitoring:cost.budgetUsdPerMonth",
        {"monitoring:cost": {**committed("dev", "monitoring:cost"), "labelValues": {"endpoint": 100000}}},
        expect=POLICY,
    ),
    # --- stack files that are not a mapping of settings -------------------------------------------
    Case("stack-file-is-a-scalar", "stacks/Pulumi.dev.yaml:1", text="just some text\n"),
    Case("config-is-a-string", "stacks/Pulumi.dev.yaml:1", text="config: aws:region=ap-northeast-2\n"),
    Case(
        "config-key-not-a-string",
        f"stacks/Pulumi.dev.yaml:{AFTER_OWNER_LINE}",
        text=DEV_TEXT.replace(OWNER, OWNER + "\n  1: one", 1),
    ),
    Case("tab-indentation", "stacks/Pulumi.dev.yaml:", text="config:\n\taws:region: ap-northeast-2\n"),
    # --- the YAML itself: one reader, every failure a configuration error naming the file and key ---------------
    Case(
        "yaml-date-unquoted",
        "monitoring:cost.pricing.asOf",
        {"monitoring:cost": cost(asOf=datetime.date(2026, 11, 29))},
        note="a traceback before: JSON cannot hold a date",
    ),
    Case(
        "yaml-timestamp",
        "monitoring:maintenance.oneOff[0].start",
        {"monitoring:maintenance": one_off(datetime.datetime(2026, 12, 13, 2, 0), "2026-12-13T04:00")},
        stack="prod",
    ),
    Case("yaml-binary", "monitoring:owner", {"monitoring:owner": b"platform-team"}),
    Case("yaml-set", "monitoring:tags", {"monitoring:tags": {"cost-center", "screener-dev"}}),
    Case("yaml-custom-tag", "monitoring:owner", text=DEV_TEXT.replace(OWNER, "  monitoring:owner: !Ref owner", 1)),
    Case(
        "not-utf8",
        f"stacks/Pulumi.dev.yaml:{AFTER_OWNER_LINE - 1}",
        data=DEV_TEXT.replace(OWNER, "  monitoring:owner: platform-team-\udcff", 1).encode("utf-8", "surrogateescape"),
    ),
    Case("utf16-file", "stacks/Pulumi.dev.yaml:1", data=DEV_TEXT.encode("utf-16")),
    Case(
        "deep-nesting",
        "monitoring:tags",
        text=DEV_TEXT.replace("  monitoring:tags:\n", "  monitoring:tags: " + "[" * 500 + "]" * 500 + "\n  x:\n", 1),
    ),
    Case(
        "alias-bomb",
        "monitoring:cost",
        text=DEV_TEXT
        + "  monitoring:cost:\n    a: &a [x, x, x, x, x, x, x, x, x]\n    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        note="nine aliases of nine aliases: a billion laughs in miniature",
    ),
    Case(
        "alias-doubling-within-the-alias-bound",
        "monitoring:tags",
        text=DEV_TEXT.replace(
            "  monitoring:tags:\n    cost-center: screener-dev\n",
            "  monitoring:tags:\n    a: &a [" + ", ".join(["x" * 60000] * 10) + "]\n    b: [*a, *a, *a, *a]\n",
            1,
        ),
    ),
    Case(
        "alias-cycle",
        "monitoring:tags",
        text=DEV_TEXT.replace(
            "  monitoring:tags:\n    cost-center: screener-dev\n", "  monitoring:tags: &t {a: *t}\n", 1
        ),
    ),
    Case(
        "duplicate-top-level-key",
        "monitoring:owner",
        text=DEV_TEXT.replace(OWNER, OWNER + "\n  monitoring:owner: someone-else", 1),
        note="the Pulumi CLI refuses it; PyYAML keeps the last",
    ),
    Case(
        "duplicate-nested-key",
        "monitoring:notifications.emails",
        text=DEV_TEXT.replace(
            "    repeatIntervalHours: 12\n", "    repeatIntervalHours: 12\n    emails: [x@example.com]\n", 1
        ),
    ),
    Case(
        "nested-key-not-a-string",
        "monitoring:tags",
        text=DEV_TEXT.replace("    cost-center: screener-dev\n", "    cost-center: screener-dev\n    1: one\n", 1),
    ),
    Case("string-of-100k-characters", "monitoring:owner", {"monitoring:owner": "x" * 100_000}),
    Case(
        "list-of-5000-probes", "monitoring:synthetics.probes", {"monitoring:synthetics": {"probes": ["Seoul"] * 5000}}
    ),
    # --- ESC imports (`environment:`) ---------------------------------------------------------------------------
    Case("esc-import-unknown", "environment[0]", text=DEV_TEXT.replace("  - screener-shared", "  - team/other-env", 1)),
    Case(
        "esc-import-malformed-name",
        "environment[0]",
        text=DEV_TEXT.replace("  - screener-shared", '  - "screener shared"', 1),
    ),
    Case(
        "esc-import-path-traversal",
        "environment[0]",
        text=DEV_TEXT.replace("  - screener-shared", "  - ../../etc/passwd", 1),
    ),
    Case("esc-import-a-mapping", "environment[0]", text=DEV_TEXT.replace("  - screener-shared", "  - {a: b}", 1)),
    Case(
        "esc-imports-a-string",
        "environment.imports",
        text=DEV_TEXT.replace("environment:\n  - screener-shared", "environment:\n  imports: screener-shared", 1),
    ),
    Case(
        "esc-environment-unknown-key",
        "environment:",
        text=DEV_TEXT.replace("environment:\n  - screener-shared", "environment:\n  import: [screener-shared]", 1),
    ),
    Case(
        "esc-environment-a-string",
        "environment:",
        text=DEV_TEXT.replace("environment:\n  - screener-shared", "environment: screener-shared", 1),
    ),
    Case(
        "esc-import-twice",
        "environment[1]",
        text=DEV_TEXT.replace("  - screener-shared", "  - screener-shared\n  - screener-shared", 1),
    ),
    Case(
        "valid-esc-imports-mapping",
        "monitoring:grafanaAuth",
        text=DEV_TEXT.replace("environment:\n  - screener-shared", "environment:\n  imports: [screener-shared]", 1),
        expect=ACCEPTED,
    ),
    Case(
        "valid-esc-import-with-org-and-project",
        "monitoring:grafanaAuth",
        text=DEV_TEXT.replace("  - screener-shared", "  - acme/default/screener-shared", 1),
        expect=ACCEPTED,
    ),
    # --- pulumi:disable-default-providers ---------------------------------------------------------------------
    Case(
        "default-providers-a-string",
        "pulumi:disable-default-providers",
        {"pulumi:disable-default-providers": "kubernetes"},
        note="a traceback before (the engine's JSON parse)",
    ),
    Case("default-providers-numbers", "pulumi:disable-default-providers", {"pulumi:disable-default-providers": [1, 2]}),
    Case(
        "default-providers-grafana-re-enabled",
        "pulumi:disable-default-providers",
        {"pulumi:disable-default-providers": ["kubernetes", "sentry"]},
    ),
    Case("default-providers-empty", "pulumi:disable-default-providers", {"pulumi:disable-default-providers": []}),
    Case(
        "default-providers-aws-disabled",
        "pulumi:disable-default-providers",
        {"pulumi:disable-default-providers": ["kubernetes", "grafana", "sentry", "aws"]},
    ),
    Case(
        "default-providers-star",
        "pulumi:disable-default-providers",
        {"pulumi:disable-default-providers": ["*"]},
    ),
    Case(
        "default-providers-unset",
        "pulumi:disable-default-providers",
        text=DEV_TEXT.replace("  pulumi:disable-default-providers: [kubernetes, grafana, sentry]\n", "", 1),
    ),
    Case(
        "valid-default-providers-with-pagerduty",
        "pulumi:providers:grafana",
        {"pulumi:disable-default-providers": ["kubernetes", "grafana", "sentry", "pagerduty"]},
        expect=ACCEPTED,
    ),
    # --- monitoring:paging --------------------------------------------------------------------------------------
    Case(
        "valid-paging",
        "pagerduty:index/service:Service",
        {"monitoring:paging": PAGING},
        note="a traceback before: the relay's code archive was not JSON for plan.json",
        expect=ACCEPTED,
    ),
    Case("paging-a-string", "monitoring:paging", {"monitoring:paging": "pagerduty"}),
    Case("paging-a-list", "monitoring:paging", {"monitoring:paging": [PAGING]}),
    Case(
        "paging-unknown-provider",
        "monitoring:paging.provider",
        {"monitoring:paging": {**PAGING, "provider": "opsgenie"}},
    ),
    Case(
        "paging-escalation-policy-malformed",
        "monitoring:paging.escalationPolicyId",
        {"monitoring:paging": {**PAGING, "escalationPolicyId": "escalation-1"}},
    ),
    Case(
        "paging-without-escalation-policy",
        "monitoring:paging.escalationPolicyId",
        {"monitoring:paging": {"provider": "pagerduty"}},
    ),
    Case("paging-unknown-key", "monitoring:paging.routingKey", {"monitoring:paging": {**PAGING, "routingKey": "abc"}}),
    Case(
        "paging-service-name-templated",
        "monitoring:paging.serviceName",
        {"monitoring:paging": {**PAGING, "serviceName": "{{ .CommonLabels.alertname }} paging"}},
    ),
    Case(
        "paging-service-name-huge",
        "monitoring:paging.serviceName",
        {"monitoring:paging": {**PAGING, "serviceName": "x" * 5000}},
    ),
    Case(
        "paging-service-name-a-number",
        "monitoring:paging.serviceName",
        {"monitoring:paging": {**PAGING, "serviceName": 7}},
    ),
)


@dataclass
class Outcome:
    status: str
    detail: str  # what the planner printed (stdout and stderr), or the traceback
    rule_dir: Path | None = None  # the rule files an accepted plan wrote


def write_stack_file(case: Case, directory: Path) -> Path:
    """The case as a stack file: its text, or the committed file with the overrides applied."""
    path = directory / f"Pulumi.{case.stack}.yaml"
    if case.data is not None:
        path.write_bytes(case.data)
    elif case.text is not None:
        path.write_text(case.text)
    else:
        document = yaml.safe_load((REPO_ROOT / f"stacks/Pulumi.{case.stack}.yaml").read_text())
        document["config"].update(case.overrides)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def expected_key(case: Case, stack_file: Path) -> str:
    """The case's key as the planner names it when it plans the draft at `stack_file`."""
    return case.key.replace(f"stacks/Pulumi.{case.stack}.yaml", str(stack_file))


def outcome(case: Case, directory: Path) -> Outcome:
    """Plan `case` with `python -m planner --stack-file`, in-process, and classify its exit status."""
    stack_file = write_stack_file(case, directory)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            status = planner_main([case.stack, "--quiet", "--stack-file", str(stack_file), "--out", str(directory)])
    except Exception:
        return Outcome(CRASH, traceback.format_exc(limit=-3))
    if status == 0:
        return Outcome(ACCEPTED, printed.getvalue(), directory / case.stack / "rules")
    return Outcome({2: REFUSED, 3: POLICY}.get(status, CRASH), printed.getvalue())


def never_fires(expr: str) -> str | None:
    """Why an alert expression can never be true, or None.

    Two structural reasons, both from a parsed expression: a comparison with
    +Inf/NaN on the far side, and a selector with two different equality
    matchers on one label (no series has both values).
    """
    reasons: list[str] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) in (">", ">=", "<", "<=", "==", "!="):
            for side in (node.lhs, node.rhs):
                if isinstance(side, promql_parser.NumberLiteral) and (math.isinf(side.val) or math.isnan(side.val)):
                    reasons.append(f"compares with {side.val}")
        if isinstance(node, promql_parser.VectorSelector):
            equal: dict[str, set[str]] = {}
            for matcher in node.matchers.matchers:
                if str(matcher.op) == "MatchOp.Equal" or matcher.op == promql_parser.MatchOp.Equal:
                    equal.setdefault(matcher.name, set()).add(matcher.value)
            reasons.extend(f"label {name} must equal {sorted(v)}" for name, v in equal.items() if len(v) > 1)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit, None)
    return "; ".join(reasons) or None


def broken_alerts(rule_dir: Path) -> list[str]:
    """Alerts of an accepted plan's rule files that promtool refuses or that can never fire."""
    files = sorted(rule_dir.glob("*.yaml"))
    problems = []
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule and (reason := never_fires(rule["expr"])):
                    problems.append(f"{rule['alert']} can never fire: {reason}")
    checked = subprocess.run(
        ["promtool", "check", "rules", *map(str, files)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        problems.append(f"promtool check rules fails: {checked.stderr.strip()[:300]}")
    return problems


def main() -> int:
    totals: Counter[str] = Counter()
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            result = outcome(case, Path(tmp))
            totals[result.status] += 1
            extra = ""
            if result.status == ACCEPTED and result.rule_dir is not None:
                extra = "; ".join(broken_alerts(result.rule_dir))
            elif result.status in (REFUSED, POLICY):
                named = expected_key(case, Path(tmp) / f"Pulumi.{case.stack}.yaml") in result.detail
                extra = "key named" if named else "KEY NOT NAMED"
            elif result.status == CRASH:
                extra = result.detail.strip().splitlines()[-1][:160]
        print(f"{case.id:45} {result.status:9} {extra}")
    print(f"\n{len(CASES)} cases: " + ", ".join(f"{totals[s]} {s}" for s in (REFUSED, POLICY, CRASH, ACCEPTED)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
