"""A table of defective stack files and their valid neighbours, and what planning each of them does.

Each case is a committed stack file with a few values changed (`overrides`), a
whole file's text (`text`, for files that are not even a mapping) or its bytes
(`data`, for files that are not even text). A defect must be refused with its
key named (`expect` REFUSED, or POLICY); a valid neighbour (`expect` ACCEPTED),
a value just inside the bound a defect crosses, must still plan. `outcome()`
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


def sentry(**changes: Any) -> dict[str, Any]:
    return section("prod", "monitoring:sentry", **changes)


WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAYS_MON_FRI = WEEK[:5]


def weekly_maintenance(
    days: tuple[str, ...], start: str, end: str, extra: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A maintenance section for dev (which owns no policy tree) with one weekly window (and `extra`)."""
    return {"weekly": [{"weekdays": list(days), "startTime": start, "endTime": end}, *(extra or [])]}


def one_off_maintenance(*windows: tuple[str, str]) -> dict[str, Any]:
    return {"oneOff": [{"start": start, "end": end} for start, end in windows]}


def logs_source(**changes: Any) -> dict[str, Any]:
    """prod's logs section with its first source changed."""
    logs = committed("prod", "monitoring:logs")
    logs["sources"][0].update(changes)
    return dict(logs)


DEV_TEXT = (REPO_ROOT / "stacks/Pulumi.dev.yaml").read_text()
PROD_TEXT = (REPO_ROOT / "stacks/Pulumi.prod.yaml").read_text()
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
        "policy-tree-routing-other-stacks",
        "monitoring:grafana.notificationPolicy",
        {
            "monitoring:grafana": section(
                "prod",
                "monitoring:grafana",
                notificationPolicy={
                    "environments": ["dev", "staging", "prod"],
                    "maintenanceEnvironments": ["prod"],
                },
            )
        },
        stack="prod",
        note="the tree would name contact points the other stacks own",
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
    Case(
        "control-character",
        "monitoring:owner",
        text=DEV_TEXT.replace(OWNER, "  monitoring:owner: platform\x07team", 1),
        note="a traceback-free refusal, but it named no line or key before",
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
    Case(
        "yaml-1-1-yes-for-a-boolean",
        "monitoring:synthetics.publishStatusPage",
        text=PROD_TEXT.replace("publishStatusPage: true", "publishStatusPage: yes", 1),
        stack="prod",
        note="the CLI's YAML 1.2 reads `yes` as text; PyYAML read it as true",
    ),
    Case(
        "valid-unquoted-clock-times",
        "muteTiming:MuteTiming",
        text=PROD_TEXT.replace('startTime: "18:00", endTime: "19:00"', "startTime: 18:00, endTime: 19:00", 1),
        stack="prod",
        note="PyYAML read 18:00 as the base-60 number 1080; the CLI reads text",
        expect=ACCEPTED,
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
    # --- Sentry (prod's section): slugs by Sentry's own rules, hosts allow-listed, strict types ----------------
    Case(
        "sentry-org-slug-capitals",
        "monitoring:sentry.organization",
        {"monitoring:sentry": sentry(organization="Screener")},
        stack="prod",
    ),
    Case(
        "sentry-org-slug-trailing-hyphen",
        "monitoring:sentry.organization",
        {"monitoring:sentry": sentry(organization="screener-")},
        stack="prod",
    ),
    Case(
        "sentry-org-slug-all-digits",
        "monitoring:sentry.organization",
        {"monitoring:sentry": sentry(organization="12345")},
        stack="prod",
    ),
    Case(
        "sentry-org-slug-underscore",
        "monitoring:sentry.organization",
        {"monitoring:sentry": sentry(organization="screener_io")},
        stack="prod",
    ),
    Case(
        "sentry-org-slug-51-characters",
        "monitoring:sentry.organization",
        {"monitoring:sentry": sentry(organization="s" * 51)},
        stack="prod",
    ),
    Case(
        "sentry-team-slug-space",
        "monitoring:sentry.team",
        {"monitoring:sentry": sentry(team="screener team")},
        stack="prod",
    ),
    Case(
        "sentry-team-slug-all-digits", "monitoring:sentry.team", {"monitoring:sentry": sentry(team="42")}, stack="prod"
    ),
    Case(
        "valid-sentry-team-slug-underscore-50-characters",
        "sentry:index/sentryIssueAlert:SentryIssueAlert",
        {"monitoring:sentry": sentry(team="sentry_web-" + "t" * 39)},
        stack="prod",
        expect=ACCEPTED,
    ),
    Case(
        "sentry-api-url-any-host",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://sentry.attacker.example/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-lookalike",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://sentry.io.attacker.example/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-suffix-without-dot",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://evilsentry.io/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-userinfo",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://sentry.io@attacker.example/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-internal-ip",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://10.0.0.5/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-port",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="https://sentry.io:8443/api/")},
        stack="prod",
    ),
    Case(
        "sentry-api-url-plain-http",
        "monitoring:sentry.apiUrl",
        {"monitoring:sentry": sentry(apiUrl="http://sentry.io/api/")},
        stack="prod",
    ),
    Case(
        "sentry-web-url-any-host",
        "monitoring:sentry.webUrl",
        {"monitoring:sentry": sentry(webUrl="https://sentry.attacker.example")},
        stack="prod",
    ),
    Case(
        "sentry-self-hosted-plain-http",
        "monitoring:sentry.apiUrl",
        {
            "monitoring:sentry": sentry(
                selfHostedReason="our own Sentry 24.1 in the platform VPC", apiUrl="http://sentry.screener.kr/api/"
            )
        },
        stack="prod",
    ),
    Case(
        "valid-sentry-regional-host",
        "https://de.sentry.io/api/",
        {"monitoring:sentry": sentry(apiUrl="https://de.sentry.io/api/", webUrl="https://screener.sentry.io")},
        stack="prod",
        expect=ACCEPTED,
    ),
    Case(
        "valid-sentry-self-hosted-with-reason",
        "https://sentry.screener.kr/api/",
        {
            "monitoring:sentry": sentry(
                selfHostedReason="our own Sentry 24.1 in the platform VPC",
                apiUrl="https://sentry.screener.kr/api/",
                webUrl="https://sentry.screener.kr",
            )
        },
        stack="prod",
        expect=ACCEPTED,
    ),
    Case(
        "sentry-traces-sample-rate-true",
        "monitoring:sentry.backend.tracesSampleRate",
        {
            "monitoring:sentry": sentry(
                backend={**committed("prod", "monitoring:sentry")["backend"], "tracesSampleRate": True}
            )
        },
        stack="prod",
    ),
    Case(
        "sentry-replay-rate-false",
        "monitoring:sentry.frontend.replaysSessionSampleRate",
        {
            "monitoring:sentry": sentry(
                frontend={**committed("prod", "monitoring:sentry")["frontend"], "replaysSessionSampleRate": False}
            )
        },
        stack="prod",
    ),
    Case(
        "sentry-sample-rate-a-string",
        "monitoring:sentry.backend.tracesSampleRate",
        {
            "monitoring:sentry": sentry(
                backend={**committed("prod", "monitoring:sentry")["backend"], "tracesSampleRate": "0.5"}
            )
        },
        stack="prod",
    ),
    Case(
        "valid-sentry-sample-rates-0-and-1",
        '"tracesSampleRate": 0\n',
        {
            "monitoring:sentry": sentry(
                backend={**committed("prod", "monitoring:sentry")["backend"], "tracesSampleRate": 1},
                frontend={
                    **committed("prod", "monitoring:sentry")["frontend"],
                    "tracesSampleRate": 0,
                    "replaysOnErrorSampleRate": 1.0,
                },
            )
        },
        stack="prod",
        expect=ACCEPTED,
    ),
    Case(
        "sentry-new-issue-as-1",
        "monitoring:sentry.alerts.newIssue",
        {"monitoring:sentry": sentry(alerts={"newIssue": 1})},
        stack="prod",
    ),
    Case(
        "sentry-project-per-environment-as-0",
        "monitoring:sentry.projectPerEnvironment",
        {"monitoring:sentry": sentry(projectPerEnvironment=0)},
        stack="prod",
    ),
    Case(
        "sentry-second-owner-of-the-organisation-objects",
        "monitoring:sentry.ownsSharedObjects",
        {"monitoring:sentry": sentry(ownsSharedObjects=True)},
        stack="prod",
        note="staging owns them",
    ),
    Case(
        "sentry-slack-channel-capitals",
        "monitoring:sentry.slack.channel",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#Alerts-Prod"})},
        stack="prod",
    ),
    Case(
        "sentry-slack-channel-period",
        "monitoring:sentry.slack.channel",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#alerts.prod"})},
        stack="prod",
    ),
    Case(
        "sentry-slack-channel-space",
        "monitoring:sentry.slack.channel",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#alerts prod"})},
        stack="prod",
    ),
    Case(
        "sentry-slack-channel-81-characters",
        "monitoring:sentry.slack.channel",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#" + "a" * 81})},
        stack="prod",
    ),
    Case(
        "sentry-slack-channel-only-punctuation",
        "monitoring:sentry.slack.channel",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#---"})},
        stack="prod",
    ),
    Case(
        "valid-sentry-slack-channel-80-characters",
        "#" + "a" * 79 + "_",
        {"monitoring:sentry": sentry(slack={"workspace": "Screener", "channel": "#" + "a" * 79 + "_"})},
        stack="prod",
        expect=ACCEPTED,
    ),
    Case(
        "sentry-slack-workspace-templated",
        "monitoring:sentry.slack.workspace",
        {"monitoring:sentry": sentry(slack={"workspace": "{{ .Org }}", "channel": "#alerts"})},
        stack="prod",
    ),
    Case(
        "sentry-backend-namespace-64-characters",
        "monitoring:sentry.backend.namespace",
        {
            "monitoring:sentry": sentry(
                backend={**committed("prod", "monitoring:sentry")["backend"], "namespace": "n" * 64}
            )
        },
        stack="prod",
    ),
    # --- booleans are true/false, numbers are numbers ---------------------------------------------------------
    Case(
        "amp-protect-as-1",
        "monitoring:amp.protect",
        {"monitoring:amp": section("prod", "monitoring:amp", protect=1)},
        stack="prod",
    ),
    Case(
        "status-page-as-yes-string",
        "monitoring:synthetics.publishStatusPage",
        {"monitoring:synthetics": section("prod", "monitoring:synthetics", publishStatusPage="yes")},
        stack="prod",
    ),
    Case(
        "page-on-warning-as-0",
        "monitoring:notifications.pageOnWarning",
        {"monitoring:notifications": section("dev", "monitoring:notifications", pageOnWarning=0)},
    ),
    Case(
        "trading-days-with-a-boolean",
        "monitoring:rules.tradingHours.weekdays",
        {"monitoring:rules": {"tradingHours": {"weekdays": [True, 2, 3, 4, 5]}}},
        note="true would be read as 1, Monday",
    ),
    Case(
        "label-values-a-boolean",
        "monitoring:cost.labelValues",
        {"monitoring:cost": {**committed("dev", "monitoring:cost"), "labelValues": {"endpoint": True}}},
    ),
    Case(
        "repeat-interval-as-true",
        "monitoring:notifications.repeatIntervalHours",
        {"monitoring:notifications": section("dev", "monitoring:notifications", repeatIntervalHours=True)},
    ),
    Case(
        "repeat-interval-121-hours",
        "monitoring:notifications.repeatIntervalHours",
        {"monitoring:notifications": section("dev", "monitoring:notifications", repeatIntervalHours=121)},
    ),
    Case(
        "valid-repeat-interval-120-hours",
        "repeat_interval: 120h",
        {"monitoring:notifications": section("dev", "monitoring:notifications", repeatIntervalHours=120)},
        note="AMP's cap, exactly",
        expect=ACCEPTED,
    ),
    # --- Grafana and Synthetic Monitoring hosts -----------------------------------------------------------------
    Case(
        "grafana-url-port",
        "monitoring:grafana.url",
        {"monitoring:grafana": section("dev", "monitoring:grafana", url="https://screener.grafana.net:8443")},
    ),
    Case(
        "grafana-url-ip-literal",
        "monitoring:grafana.url",
        {"monitoring:grafana": section("dev", "monitoring:grafana", url="https://34.120.1.1")},
    ),
    Case(
        "grafana-url-plain-http",
        "monitoring:grafana.url",
        {"monitoring:grafana": section("dev", "monitoring:grafana", url="http://screener.grafana.net")},
    ),
    Case(
        "synthetics-api-port",
        "monitoring:synthetics.apiUrl",
        {
            "monitoring:synthetics": section(
                "dev", "monitoring:synthetics", apiUrl="https://synthetic-monitoring-api.grafana.net:444"
            )
        },
    ),
    Case(
        "slack-webhook-in-plain-text",
        "monitoring:slackWebhookUrl",
        {"monitoring:slackWebhookUrl": "https://hooks.slack.com.attacker.example/services/T0/B0/x"},
    ),
    # --- one owner for each object a whole Grafana instance or Sentry organisation shares -------------------------
    Case(
        "grafana-second-policy-tree-owner",
        "monitoring:grafana.notificationPolicy",
        {
            "monitoring:grafana": section(
                "dev",
                "monitoring:grafana",
                notificationPolicy={"environments": ["dev", "staging", "prod"], "maintenanceEnvironments": ["prod"]},
            )
        },
        note="prod owns the tree",
    ),
    Case(
        "grafana-second-dashboard-previews-owner",
        "monitoring:grafana.dashboardPreviews",
        {"monitoring:grafana": section("dev", "monitoring:grafana", dashboardPreviews=True)},
    ),
    # --- maintenance: no overlap, a bound on muted time -------------------------------------------------------
    Case(
        "maintenance-weekly-windows-overlap",
        "monitoring:maintenance.weekly[1]",
        {
            "monitoring:maintenance": section(
                "prod",
                "monitoring:maintenance",
                weekly=[
                    {"weekdays": ["sunday"], "startTime": "18:00", "endTime": "19:00"},
                    {"weekdays": ["saturday", "sunday"], "startTime": "18:30", "endTime": "20:00"},
                ],
            )
        },
        stack="prod",
    ),
    Case(
        "maintenance-one-off-windows-overlap",
        "monitoring:maintenance.oneOff[1]",
        {
            "monitoring:maintenance": section(
                "prod",
                "monitoring:maintenance",
                oneOff=[
                    {"start": "2026-12-13T02:00", "end": "2026-12-13T04:00"},
                    {"start": "2026-12-13T03:00", "end": "2026-12-13T05:00"},
                ],
            )
        },
        stack="prod",
    ),
    Case(
        "maintenance-whole-week",
        "monitoring:maintenance.weekly",
        {"monitoring:maintenance": weekly_maintenance(WEEK, "00:00", "24:00")},
        note="permanent muting",
    ),
    Case(
        "maintenance-business-hours",
        "monitoring:maintenance.weekly",
        {"monitoring:maintenance": weekly_maintenance(WEEKDAYS_MON_FRI, "09:00", "18:00")},
    ),
    Case(
        "maintenance-weekly-one-minute-over",
        "monitoring:maintenance.weekly",
        {
            "monitoring:maintenance": weekly_maintenance(
                WEEKDAYS_MON_FRI,
                "00:00",
                "02:00",
                extra=[{"weekdays": ["saturday"], "startTime": "00:00", "endTime": "00:01"}],
            )
        },
    ),
    Case(
        "valid-maintenance-weekly-at-the-bound",
        "muteTiming:MuteTiming",
        {"monitoring:maintenance": weekly_maintenance(WEEKDAYS_MON_FRI, "00:00", "02:00")},
        note="600 minutes a week",
        expect=ACCEPTED,
    ),
    Case(
        "maintenance-chained-14-day-windows",
        "monitoring:maintenance.oneOff",
        {
            "monitoring:maintenance": one_off_maintenance(
                ("2026-12-01T00:00", "2026-12-15T00:00"), ("2026-12-15T00:00", "2026-12-29T00:00")
            )
        },
    ),
    Case(
        "maintenance-30-days-one-minute-over",
        "monitoring:maintenance.oneOff",
        {
            "monitoring:maintenance": one_off_maintenance(
                ("2026-12-01T00:00", "2026-12-15T00:00"), ("2026-12-20T00:00", "2026-12-21T00:01")
            )
        },
    ),
    Case(
        "valid-maintenance-30-days-at-the-bound",
        "muteTiming:MuteTiming",
        {
            "monitoring:maintenance": one_off_maintenance(
                ("2026-12-01T00:00", "2026-12-15T00:00"), ("2026-12-20T00:00", "2026-12-21T00:00")
            )
        },
        note="21,600 minutes in 30 days",
        expect=ACCEPTED,
    ),
    Case(
        "maintenance-one-off-14-days-and-a-minute",
        "monitoring:maintenance.oneOff[0]",
        {"monitoring:maintenance": one_off("2026-12-01T00:00", "2026-12-15T00:01")},
        stack="prod",
    ),
    Case(
        "valid-maintenance-one-off-of-exactly-14-days",
        "muteTiming:MuteTiming",
        {"monitoring:maintenance": one_off("2026-12-01T00:00", "2026-12-15T00:00")},
        stack="prod",
        expect=ACCEPTED,
    ),
    # --- Kubernetes names: RFC 1123 labels, at most 63 characters --------------------------------------------------
    Case(
        "k8s-log-container-64-characters",
        "monitoring:logs.sources[0].container",
        {"monitoring:logs": logs_source(container="c" * 64)},
        stack="prod",
    ),
    Case(
        "k8s-collection-namespace-64-characters",
        "monitoring:collection.namespace",
        {"monitoring:collection": section("prod", "monitoring:collection", namespace="m" * 64)},
        stack="prod",
    ),
    Case(
        "k8s-scrape-service-64-characters",
        "monitoring:services[0].scrape.k8sService",
        {"monitoring:services": api_service("prod", scrape={"port": 8000, "path": "/metrics", "k8sService": "b" * 64})},
        stack="prod",
    ),
    Case(
        "k8s-alert-namespace-64-characters",
        "monitoring:kubernetes.namespaces",
        {"monitoring:kubernetes": {"namespaces": ["n" * 64]}},
        stack="prod",
    ),
    Case(
        "valid-k8s-scrape-service-63-characters",
        "b" * 63,
        {"monitoring:services": api_service("prod", scrape={"port": 8000, "path": "/metrics", "k8sService": "b" * 63})},
        stack="prod",
        expect=ACCEPTED,
    ),
    # --- huge values ---------------------------------------------------------------------------------------------
    Case(
        "log-volume-source-5000-characters",
        "monitoring:logs.volumeSource",
        {"monitoring:logs": {**committed("prod", "monitoring:logs"), "volumeSource": "x" * 5000}},
        stack="prod",
    ),
    Case(
        "notification-emails-300",
        "monitoring:notifications.emails",
        {
            "monitoring:notifications": section(
                "dev", "monitoring:notifications", emails=[f"a{i}@example.com" for i in range(300)]
            )
        },
    ),
    Case(
        "probes-300",
        "monitoring:synthetics.probes",
        {"monitoring:synthetics": section("dev", "monitoring:synthetics", probes=[f"Probe{i}" for i in range(300)])},
    ),
    Case(
        "tags-46",
        "monitoring:tags",
        {"monitoring:tags": {f"tag-{i}": "x" for i in range(46)}},
        note="AWS: 50 a resource, 5 are the program's",
    ),
    # --- keys outside monitoring: ----------------------------------------------------------------------------------
    Case(
        "aws-secret-key-in-plain-text", "aws:secretKey", {"aws:secretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    ),
    Case("aws-access-key-in-plain-text", "aws:accessKey", {"aws:accessKey": "AKIAIOSFODNN7EXAMPLE"}),
    Case("aws-token-in-plain-text", "aws:token", {"aws:token": "FQoGZXIvYXdzEXAMPLE"}),
    Case(
        "aws-endpoints",
        "aws:endpoints",
        {"aws:endpoints": [{"sts": "https://sts.attacker.example"}]},
        note="every AWS call to another host",
    ),
    Case("aws-skip-credentials-validation", "aws:skipCredentialsValidation", {"aws:skipCredentialsValidation": True}),
    Case("aws-insecure", "aws:insecure", {"aws:insecure": True}),
    Case("aws-unknown-key", "aws:maxRetries", {"aws:maxRetries": 100}),
    Case("kubernetes-provider-key", "kubernetes:kubeconfig", {"kubernetes:kubeconfig": "/root/.kube/config"}),
    Case("grafana-provider-key", "grafana:url", {"grafana:url": "https://grafana.attacker.example"}),
    Case(
        "valid-aws-secret-key-secure",
        "aws:amp/workspace:Workspace",
        {
            "aws:secretKey": {"secure": "AAABAJpcbTNRXrmX0Y9oP2w8zZ6P"},
            "aws:accessKey": {"secure": "AAABAKzZ6PpcbTNRXrmX0Y9oP2w8"},
            "aws:profile": "screener-dev",
        },
        expect=ACCEPTED,
    ),
    # --- tags (AWS tag limits) -------------------------------------------------------------------------------------
    Case("tag-key-aws-prefix", "monitoring:tags", {"monitoring:tags": {"aws:cost-center": "x"}}),
    Case("tag-value-257-characters", "monitoring:tags", {"monitoring:tags": {"note": "v" * 257}}),
    Case("valid-tag-value-256-characters", "v" * 256, {"monitoring:tags": {"note": "v" * 256}}, expect=ACCEPTED),
    Case(
        "tag-key-of-the-program",
        "monitoring:tags",
        {"monitoring:tags": {"environment": "prod"}},
        note="would be overwritten silently",
    ),
    Case("tag-value-angle-brackets", "monitoring:tags", {"monitoring:tags": {"team": "<script>"}}),
    # --- text that reaches a template --------------------------------------------------------------------------------
    Case("owner-templated", "monitoring:owner", {"monitoring:owner": "{{ .CommonLabels.x }}"}),
    Case(
        "grafana-folder-title-templated",
        "monitoring:grafana.folderTitle",
        {"monitoring:grafana": section("dev", "monitoring:grafana", folderTitle="Screener {{ .Labels.x }}")},
    ),
    Case(
        "alert-summary-templated",
        "monitoring:rules.alertSummaries",
        {"monitoring:rules": {"alertSummaries": {"ApiHighErrorRate": "{{ $labels.x }}"}}},
        note="no setting supplies an alert summary: an attempt is an unknown key",
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
            if result.status != case.expect:
                extra = f"EXPECTED {case.expect}"
            elif result.status == ACCEPTED and result.rule_dir is not None:
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
