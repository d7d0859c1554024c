"""The lab's parts that need no processes: SNS strictness, the one config edit, the simulator, the fault table."""

from __future__ import annotations

import json
import re
import time

import pytest
import yaml

from dashboards.context import DashboardContext
from dashboards.registry import build_all
from infra.alerting.alertmanager import alertmanager_files, render_alertmanager_definition
from infra.collection.scrape_config import scrape_jobs
from infra.metrics import RULE_ENGINE, SCRAPE, SCRAPED_BY_SOURCE, SYNTHETIC_MONITORING
from infra.promql import series_names
from lab.config import (
    LAB_TIME_SCALE,
    clock,
    lab_alertmanager_config,
    lab_rule_files,
    lab_settings,
    prometheus_config,
    simulated_jobs,
    topic_arns,
)
from lab.fake_sns import FakeSns
from lab.faults import FAULTS, apply_faults
from lab.scenario import LANES, LONGEST_SECONDS, NOT_INJECTED, faults_to_measure
from lab.scope import lab_untestable
from lab.simulator import SOURCES, Conditions, Simulator, catalog_names
from tests.collection.test_survival import _dashboard_exprs
from tests.conftest import STACKS

TOPICS = {"critical": "arn:aws:sns:ap-northeast-2:000000000000:t-critical", "chat": "arn:aws:sns:x:0:t-chat"}
AUDIENCE = {arn: audience for audience, arn in TOPICS.items()}
NOT_SCRAPED = frozenset(
    name for metrics in (SCRAPE, RULE_ENGINE, SYNTHETIC_MONITORING) for m in metrics for name in m.series_names
)


def publish(**form: str) -> str | None:
    return FakeSns.check({"Action": "Publish", **form}, AUDIENCE)


def test_sns_stand_in_refuses_a_subject_of_100_characters_like_sns() -> None:
    assert publish(TopicArn=TOPICS["critical"], Subject="x" * 99, Message="m") is None
    assert publish(TopicArn=TOPICS["critical"], Subject="x" * 100, Message="m") == (
        "InvalidParameter: Subject must be 1-99 characters, got 100"
    )


def test_sns_stand_in_refuses_line_breaks_and_non_ascii_subjects() -> None:
    assert publish(TopicArn=TOPICS["critical"], Subject="a\nb", Message="m")
    assert publish(TopicArn=TOPICS["critical"], Subject="서비스", Message="m")


def test_sns_stand_in_refuses_unknown_topics() -> None:
    assert (
        publish(TopicArn="arn:aws:sns:x:0:other", Message="m")
        == "NotFound: Topic does not exist: arn:aws:sns:x:0:other"
    )


def test_sns_stand_in_refuses_chat_messages_chatbot_would_drop() -> None:
    assert publish(TopicArn=TOPICS["chat"], Message="FIRING: plain text")
    chatbot = {"version": "1.0", "source": "custom", "content": {"textType": "client-markdown", "description": "d"}}
    assert publish(TopicArn=TOPICS["chat"], Message=json.dumps(chatbot)) is None


@pytest.mark.parametrize("stack", STACKS)
def test_the_only_edit_to_the_rendered_alertmanager_config_is_where_sns_is(stack: str) -> None:
    settings = lab_settings(stack)
    definition = render_alertmanager_definition(settings, topic_arns(settings), LAB_TIME_SCALE)
    rendered = alertmanager_files(definition)
    lab = lab_alertmanager_config(definition, "http://127.0.0.1:1/")
    assert {k: v for k, v in lab.items() if k != "alertmanager.yml"} == {
        k: v for k, v in rendered.items() if k != "alertmanager.yml"
    }
    edited, original = yaml.safe_load(lab["alertmanager.yml"]), yaml.safe_load(rendered["alertmanager.yml"])
    sns_configs = [sns for receiver in edited["receivers"] for sns in receiver.get("sns_configs", [])]
    assert sns_configs and all(sns["api_url"] == "http://127.0.0.1:1/" for sns in sns_configs)
    for sns in sns_configs:
        del sns["api_url"]
        del sns["sigv4"]["access_key"], sns["sigv4"]["secret_key"]
    assert edited == original


def test_the_lab_renders_the_stack_at_its_time_scale() -> None:
    settings = lab_settings("dev")
    rules = yaml.safe_load(lab_rule_files(settings)["availability"])
    critical = next(r for r in rules["groups"][0]["rules"] if "alert" in r and r["labels"]["severity"] == "critical")
    assert (critical["for"], rules["groups"][0]["interval"]) == ("3s", "1s")  # 3m and 1m at 1/60
    timing = clock(settings)
    assert (timing.evaluation_seconds, timing.group_wait_seconds, timing.group_interval_seconds) == (1, 0.5, 5)
    assert timing.scrape_seconds == 0.25  # four scrapes per evaluation


@pytest.mark.parametrize("stack", STACKS)
def test_prometheus_keeps_every_jobs_keep_list_and_labels_only_targets_change(stack: str) -> None:
    settings = lab_settings(stack)
    simulator = Simulator(simulated_jobs(settings))
    config = prometheus_config(settings, simulator.targets, "127.0.0.1:1", 2, clock(settings))
    rendered = {job.name: job.body for job in scrape_jobs(settings, settings.collection.cluster_name)}
    assert [job["job_name"] for job in config["scrape_configs"]] == list(rendered)
    for job in config["scrape_configs"]:
        body = rendered[job["job_name"]]
        assert job["metric_relabel_configs"] == body["metric_relabel_configs"]
        static = {r["target_label"]: r["replacement"] for r in job["relabel_configs"]}
        assert static == {"service": job["job_name"], "env": settings.environment, "cluster": static["cluster"]}
        assert job.get("honor_labels", False) == body.get("honor_labels", False)


def test_the_simulator_models_every_catalog_series_of_every_scraped_source() -> None:
    assert set(SOURCES) == set(SCRAPED_BY_SOURCE)
    for source, model in SOURCES.items():
        served = set()
        for names in [(), *((name,) for name in FAULTS)]:
            served |= {sample.name for sample in model(apply_faults(names, Conditions()), 1).samples}
        assert served == catalog_names(source), source


def _queried_names() -> dict[str, set[str]]:
    """Series name -> where it is read, for every rule and dashboard expression of every stack."""
    read: dict[str, set[str]] = {}
    for stack in STACKS:
        settings = lab_settings(stack)
        for namespace, content in lab_rule_files(settings).items():
            for group in yaml.safe_load(content)["groups"]:
                for rule in group["rules"]:
                    for name in series_names(rule["expr"]):
                        read.setdefault(name, set()).add(f"{stack} rules/{namespace}")
        for slug, dashboard in build_all(DashboardContext.from_settings(settings)).items():
            for expr in _dashboard_exprs(dashboard):
                for name in series_names(expr):
                    read.setdefault(name, set()).add(f"{stack} dashboard {slug}")
    return read


def test_every_series_a_rule_or_dashboard_reads_is_served_by_the_simulator() -> None:
    served = {name for source in SOURCES for name in catalog_names(source)}
    missing = {
        name: sorted(where)
        for name, where in _queried_names().items()
        if ":" not in name and name not in NOT_SCRAPED and name not in served
    }
    assert missing == {}


def test_a_served_name_that_no_catalog_lists_is_caught() -> None:
    # The check above compares against the catalog names the models serve; an invented name would fail it.
    served = {name for source in SOURCES for name in catalog_names(source)}
    assert "http_requests_total" in served and "made_up_total" not in served


def test_counters_only_grow_and_histograms_stay_consistent_across_fault_changes() -> None:
    simulator = Simulator({"api": "application"})
    target = simulator.targets[0]

    def parse(text: str) -> dict[str, float]:
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()}

    first = parse(simulator.exposition(target))
    time.sleep(0.05)
    simulator.set_conditions(("errors", "latency"), apply_faults(("errors", "latency"), simulator.healthy))
    time.sleep(0.05)
    second = parse(simulator.exposition(target))
    counters = [k for k in first if re.match(r"(http_requests_total|.*_bucket|.*_count|.*_sum)\{", k)]
    assert counters and all(second[k] >= first[k] for k in counters)
    stocks = 'method="GET",endpoint="/api/v1/stocks"'
    buckets = [v for k, v in second.items() if k.startswith(f"http_request_duration_seconds_bucket{{{stocks}")]
    assert buckets == sorted(buckets)
    assert buckets[-1] == pytest.approx(second[f"http_request_duration_seconds_count{{{stocks}}}"])
    requests = sum(v for k, v in second.items() if k.startswith(f"http_requests_total{{{stocks}"))
    assert requests == pytest.approx(buckets[-1])  # every request has one status code and one bucket


def test_faults_change_what_the_simulator_serves_and_unknown_ones_are_refused() -> None:
    healthy = Conditions()
    assert apply_faults(("none",), healthy) == healthy
    assert apply_faults(("errors",), healthy).error_share == 0.5
    assert healthy.error_share == 0.001  # the healthy platform is never changed in place
    with pytest.raises(KeyError, match="unknown fault"):
        apply_faults(("no-such-fault",), healthy)


def test_every_fault_is_in_exactly_one_lane() -> None:
    laned = [name for steps in LANES.values() for step in steps for name in step]
    assert sorted(laned) == sorted(FAULTS)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_alert_of_the_rules_has_a_fault_or_a_reason(stack: str) -> None:
    settings = lab_settings(stack)
    alerts = set()
    for content in lab_rule_files(settings).values():
        for group in yaml.safe_load(content)["groups"]:
            alerts |= {(r["alert"], r["labels"]["severity"]) for r in group["rules"] if "alert" in r}
    injected = {(e.alert, e.severity) for fault in FAULTS.values() for e in (*fault.expect, *fault.held_back)}
    untestable = {(u.alert, u.severity) for u in lab_untestable(settings, LAB_TIME_SCALE, LONGEST_SECONDS)}
    uncovered = {a for a in alerts - injected - untestable if a[0] not in NOT_INJECTED}
    assert uncovered == set()


@pytest.mark.parametrize("stack", STACKS)
def test_a_family_rule_the_lab_cannot_show_is_expected_of_no_fault(stack: str) -> None:
    """ScreeningRequestsStalled reads the market's wall clock (no time scale moves it) and is one rule over every
    API service (no static service label): no fault may wait for it, whichever service it names."""
    expected = [e for found in faults_to_measure(lab_settings(stack)).values() for e in found]
    assert expected
    assert not [e for e in expected if e.alert == "ScreeningRequestsStalled"]
