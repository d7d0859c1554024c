"""The Alertmanager definition AMP receives: valid for the real amtool, routed by severity, SNS-safe messages."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.alerting.alertmanager import AMP_MAX_REPEAT_HOURS, TEMPLATE_FILE, alertmanager_files
from planner.artifacts import write_artifacts
from planner.engine import Plan
from tests.conftest import STACKS, plan_of

DEFINITION = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
REGION = "ap-northeast-2"


def amtool() -> str:
    found = shutil.which("amtool")
    assert found, "amtool is missing: run `make tools` (installs Debian's prometheus-alertmanager)"
    return found


def extracted(plan: Plan, out: Path) -> Path:
    """Write the plan's artifacts as `make plan` does, then the plain Alertmanager files from the definition."""
    write_artifacts(plan, out / "build")
    definition = (out / "build" / "alertmanager" / "alertmanager-definition.yaml").read_text()
    target = out / "alertmanager"
    target.mkdir()
    for name, content in alertmanager_files(definition).items():
        (target / name).write_text(content)
    return target / "alertmanager.yml"


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {stack: extracted(plan_of(stack), tmp_path_factory.mktemp(stack)) for stack in STACKS}


def config_of(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def routed_to(config: Path, **labels: str) -> str:
    result = subprocess.run(
        [amtool(), "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("stack", STACKS)
def test_amtool_accepts_the_config_extracted_from_the_planned_definition(stack: str, configs: dict[str, Path]) -> None:
    result = subprocess.run([amtool(), "check-config", str(configs[stack])], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "1 templates" in result.stdout  # the template file resolved next to the config


ROUTES = [
    ("critical", {"alertname": "ApiHighErrorRate", "service": "api", "severity": "critical"}),
    ("warning", {"alertname": "ApiHighLatency", "service": "api", "severity": "warning"}),
    ("null", {"alertname": "ScreeningTrafficLow", "service": "api", "severity": "info"}),
    ("null", {"alertname": "SloBudgetBurnInfo", "service": "api", "severity": "none"}),
    ("watchdog", {"alertname": "Watchdog", "severity": "none"}),
    # A rule that forgot its severity still reaches people.
    ("warning", {"alertname": "SomethingNew", "service": "redis"}),
]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize(("receiver", "labels"), ROUTES, ids=[f"{r}-{labels['alertname']}" for r, labels in ROUTES])
def test_each_severity_reaches_its_receiver(stack: str, receiver: str, labels: dict[str, str], configs) -> None:
    assert routed_to(configs[stack], **labels) == receiver


def test_page_on_warning_sends_warnings_to_the_paging_receiver(plan_with: Callable[..., Plan], tmp_path: Path) -> None:
    plan = plan_with("dev", {"monitoring:notifications": {"emails": ["a@example.com"], "pageOnWarning": True}})
    config = extracted(plan, tmp_path)
    assert routed_to(config, alertname="ApiHighLatency", service="api", severity="warning") == "critical"
    assert routed_to(config, alertname="Watchdog", severity="none") == "watchdog"


def _durations_hours(route: dict[str, Any]) -> list[float]:
    units = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": 24.0}
    found = []
    for key in ("repeat_interval",):
        if key in route:
            number, unit = re.fullmatch(r"(\d+)([smhd])", route[key]).groups()  # type: ignore[union-attr]
            found.append(int(number) * units[unit])
    for child in route.get("routes", []):
        found.extend(_durations_hours(child))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_repeat_interval_is_within_amps_five_day_cap(stack: str, configs: dict[str, Path]) -> None:
    hours = _durations_hours(config_of(configs[stack])["route"])
    assert len(hours) == 2  # the root and the Watchdog's own
    assert all(0 < h <= AMP_MAX_REPEAT_HOURS for h in hours)


@pytest.mark.parametrize(
    ("stack", "wait", "interval", "repeat"), [("dev", "30s", "5m", "12h"), ("prod", "30s", "5m", "4h")]
)
def test_timings_come_from_the_stack_settings(stack: str, wait: str, interval: str, repeat: str, configs) -> None:
    route = config_of(configs[stack])["route"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == (wait, interval, repeat)
    watchdog = route["routes"][0]
    assert (watchdog["receiver"], watchdog["repeat_interval"]) == ("watchdog", "5m")


@pytest.mark.parametrize("stack", STACKS)
def test_sns_receivers_sign_for_the_region_of_this_stacks_own_topics(stack: str, configs) -> None:
    topics = plan_of(stack).outputs["alert_topic_arns"]
    receivers = {r["name"]: r.get("sns_configs", []) for r in config_of(configs[stack])["receivers"]}
    published = {name: [c["topic_arn"] for c in sns] for name, sns in receivers.items()}
    chat = [topics["chat"]] if "chat" in topics else []
    assert published == {
        "critical": [topics["critical"], *chat],
        "warning": [topics["warning"], *chat],
        "null": [],
        "watchdog": [topics["watchdog"]],
    }
    for sns in receivers.values():
        for config in sns:
            assert config["sigv4"] == {"region": REGION}
            # Never Alertmanager's default subject, which can pass SNS's limit and lose the message.
            assert config["subject"] == '{{ template "screener.subject" . }}'


def test_chat_topic_exists_only_where_slack_is_configured() -> None:
    assert {stack: "chat" in plan_of(stack).outputs["alert_topic_arns"] for stack in STACKS} == {
        "dev": False,
        "staging": True,
        "prod": True,
    }


@pytest.mark.parametrize("stack", STACKS)
def test_critical_inhibits_warning_of_the_same_alert_service_and_object(stack: str, configs) -> None:
    rules = config_of(configs[stack])["inhibit_rules"]
    assert {
        "source_matchers": ['severity="critical"'],
        "target_matchers": ['severity="warning"'],
        # A critical full disk on one node must not hide a warning on another.
        "equal": [
            "alertname",
            "service",
            "instance",
            "mountpoint",
            "namespace",
            "pod",
            "container",
            "persistentvolumeclaim",
        ],
    } in rules
    service_down = [r for r in rules if r["equal"] == ["service"]]
    assert len(service_down) == 1
    assert 'alertname=~".+Down"' in service_down[0]["source_matchers"]
    # The Watchdog (severity none) can never be a target: it must always flow.
    assert not any("none" in m for r in rules for m in r["target_matchers"])


# --- the message templates, rendered by the real amtool -------------------------------------------------------


def alert(name: str, status: str = "firing", **extra: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "service": "api", "severity": "critical"},
        "annotations": {
            "summary": extra.get("summary", "API 5xx ratio above 1 %"),
            "description": extra.get("description", 'api: 3.2 % of requests fail with 5xx on "/screen"'),
            "runbook_url": f"https://runbooks.example/alerts#{name.lower()}",
        },
        "startsAt": "2024-05-02T01:02:03Z",
        "endsAt": "2024-05-02T02:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.invalid/graph",
        "fingerprint": f"{abs(hash((name, status, extra.get('summary')))):016x}",
    }


def render(stack: str, configs: dict[str, Path], template: str, alerts: list[dict[str, Any]], tmp_path: Path) -> str:
    group = alerts[0]["labels"]
    data = {
        "receiver": "critical",
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "alerts": alerts,
        "groupLabels": {"alertname": group["alertname"], "service": group["service"], "severity": group["severity"]},
        "commonLabels": group,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.invalid",
    }
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    result = subprocess.run(
        [
            amtool(),
            "template",
            "render",
            f"--template.glob={configs[stack].parent / TEMPLATE_FILE}",
            f"--template.data={data_file}",
            f'--template.text={{{{ template "{template}" . }}}}',
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.removesuffix("\n")


LONG_NAME = "ApiLatencyDegradedComparedWithTheSameTimeLastWeekOnEveryScreeningEndpointOfTheBackend"


def test_subject_stays_under_snss_100_character_limit_for_long_names(configs, tmp_path: Path) -> None:
    subject = render("prod", configs, "screener.subject", [alert(LONG_NAME)], tmp_path)
    assert len(subject) == 99
    assert subject.startswith(f"[FIRING:1] CRITICAL {LONG_NAME[:40]}")
    assert subject.endswith("...")


def test_subject_is_printable_ascii_on_one_line(configs, tmp_path: Path) -> None:
    odd = alert("ApiHighErrorRate")
    odd["labels"]["service"] = "api\n서비스"
    subject = render("prod", configs, "screener.subject", [odd], tmp_path)
    assert subject == "[FIRING:1] CRITICAL ApiHighErrorRate api (prod)"


def test_resolved_subject_says_so_without_a_count(configs, tmp_path: Path) -> None:
    subject = render("dev", configs, "screener.subject", [alert("ApiHighErrorRate", "resolved")], tmp_path)
    assert subject == "[RESOLVED] CRITICAL ApiHighErrorRate api (dev)"


def test_email_body_lists_summary_description_and_runbook(configs, tmp_path: Path) -> None:
    body = render("dev", configs, "screener.text", [alert("ApiHighErrorRate")], tmp_path)
    assert body.splitlines()[0] == "FIRING: ApiHighErrorRate on api in dev"
    assert "- API 5xx ratio above 1 %" in body
    assert '  api: 3.2 % of requests fail with 5xx on "/screen"' in body
    assert "  Runbook: https://runbooks.example/alerts#apihigherrorrate" in body
    assert "since 2024-05-02 01:02 UTC" in body


def test_email_body_lists_at_most_twenty_alerts(configs, tmp_path: Path) -> None:
    many = [alert("ApiHighErrorRate", summary=f"instance {i} fails") for i in range(25)]
    body = render("dev", configs, "screener.text", many, tmp_path)
    assert "Firing (25, first 20 listed):" in body
    assert body.count("Runbook:") == 20


def test_chat_message_is_chatbot_custom_notification_json(configs, tmp_path: Path) -> None:
    tricky = alert("ApiHighErrorRate", description='quote " backslash \\ tab \t newline \n 한글 done')
    message = json.loads(
        render(
            "prod", configs, "screener.chat", [tricky, alert("ApiHighErrorRate", "resolved", summary="old")], tmp_path
        )
    )
    assert message["version"] == "1.0"
    assert message["source"] == "custom"
    content = message["content"]
    assert content["textType"] == "client-markdown"
    assert content["title"] == ":rotating_light: CRITICAL ApiHighErrorRate on api (prod): firing"
    assert 'quote " backslash \\ tab \t newline \n 한글 done' in content["description"]
    assert "*Firing (1)*" in content["description"]
    assert "*Resolved (1)*" in content["description"]
    assert "<https://runbooks.example/alerts#apihigherrorrate|runbook>" in content["description"]
    assert message["metadata"]["threadId"] == "prod-ApiHighErrorRate-api"


def test_definition_is_amps_format_with_the_template_inline() -> None:
    definition = plan_of("dev").one(DEFINITION).inputs["definition"]
    document = yaml.safe_load(definition)
    assert set(document) == {"template_files", "alertmanager_config"}
    assert isinstance(document["alertmanager_config"], str)
    assert set(document["template_files"]) == {TEMPLATE_FILE}
    assert yaml.safe_load(document["alertmanager_config"])["templates"] == [TEMPLATE_FILE]
    # Rendered for this environment, nothing left for the renderer to fill.
    assert "__ENV__" not in definition and "__MAX__" not in definition
    assert definition.isascii()


def test_extracting_refuses_a_document_that_is_not_a_definition() -> None:
    with pytest.raises(ValueError, match="alertmanager_config"):
        alertmanager_files("route: {receiver: x}\n")
