"""make test-alert and the AMP checks against the lab's real Prometheus and Alertmanager (one lab for both).

The lab serves the same HTTP APIs AMP serves (Alertmanager API v2, Prometheus's /api/v1/query); its
Alertmanager runs the stack's rendered routes at 1/60 time scale and publishes to the lab's SNS recorder.
The clients reach them only through the explicit local setting (`Endpoints.of(..., local=True)`). The
AMP control-plane calls (workspace, namespaces, definition) are botocore's Stubber; SNS's CloudWatch
metrics are stood in for by the recorder's own count of what it accepted.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from lab.config import LAB_REGION, lab_rule_files, topic_arns
from lab.fake_sns import FakeSns
from lab.stack import Lab
from oncall.alertmanager_api import AlertmanagerApi
from tests.verify.support import CREATED, namespace, status, stubbed
from verify.amp_checks import check_alertmanager_definition, check_rule_namespaces, check_samples, check_workspace
from verify.checks import amp_query
from verify.drill import TEST_ALERT_NAME, AlertDrill, Timing
from verify.report import Status
from verify.target import Endpoints, Target

pytestmark = pytest.mark.lab
STACK = "staging"  # a cluster, hence every kind of scrape job
WORKSPACE_ID = "ws-0000lab0-0000-0000-0000-000000000000"
CREDENTIALS = Credentials("AKIDLABONLY", "lab-only-secret")


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with tempfile.TemporaryDirectory(prefix="screener-verify-lab-") as directory:
        running = Lab(STACK, Path(directory))
        running.start()
        try:
            yield running
        finally:
            running.stop()


def lab_target(lab: Lab) -> Target:
    rule_namespaces = list(lab_rule_files(lab.settings))  # the namespaces the lab loaded, as AMP would hold them
    return Target(
        stack=f"acme/{STACK}",
        settings=lab.settings,
        region=LAB_REGION,
        stack_file=f"stacks/Pulumi.{STACK}.yaml",
        outputs={
            "amp_workspace_id": WORKSPACE_ID,
            "amp_rule_namespaces": rule_namespaces,
            "alert_topic_arns": topic_arns(lab.settings),
        },
    )


def lab_endpoints(lab: Lab, target: Target) -> Endpoints:
    return Endpoints.of(
        target,
        amp_query_url=f"{lab.urls['prometheus']}/api/v1/query",
        alertmanager_url=lab.urls["alertmanager"],
        local=True,
    )


@dataclass(frozen=True)
class RecordedDeliveries:
    """What the lab's SNS recorder accepted per topic since a time: published and (here) delivered alike."""

    sns: FakeSns

    def count(self, audience: str, since: datetime) -> tuple[int, int]:
        offset = time.time() - time.monotonic()
        n = sum(1 for p in list(self.sns.published) if p.topic == audience and p.at + offset >= since.timestamp())
        return n, n


def test_test_alert_fires_is_delivered_on_its_routes_topics_and_resolves(lab: Lab) -> None:
    target = lab_target(lab)
    endpoints = lab_endpoints(lab, target)
    assert endpoints.alertmanager_url is not None
    clock = lab.timing
    said: list[str] = []
    first = len(lab.sns.published)
    drill = AlertDrill(
        settings=target.settings,
        topic_arns=target.output("alert_topic_arns"),
        outputs=target.outputs,
        alertmanager=AlertmanagerApi(endpoints.alertmanager_url, LAB_REGION, CREDENTIALS),
        deliveries=RecordedDeliveries(lab.sns),
        grafana=None,
        timing=Timing(
            held_timeout=10,
            delivered_timeout=clock.group_wait_seconds + 15,
            resolved_timeout=clock.group_interval_seconds + 15,
            poll=0.1,
        ),
        say=said.append,
    )
    drill.run("warning", timedelta(minutes=5))
    ours = [p for p in list(lab.sns.published)[first:] if TEST_ALERT_NAME in (p.subject or p.message)]
    service = target.settings.services[0].name
    by_topic = {(p.topic, (p.subject or "").split("]")[0]) for p in ours}
    # Through the warning route as a real warning is: the warning topic and its chat copy, firing then resolved.
    assert {("warning", "[FIRING:1"), ("warning", "[RESOLVED")} <= by_topic
    assert {p.topic for p in ours} == {"warning", "chat"}
    firing = next(p for p in ours if p.topic == "warning")
    assert firing.subject == f"[FIRING:1] WARNING {TEST_ALERT_NAME} {service} ({target.environment})"
    assert "TEST alert from make test-alert" in firing.message
    assert lab.sns.refused == []
    assert said[-1] == "resolved notification: published and delivered on SNS warning, chat"
    assert any(line.startswith("should have received it: email (SNS warning): ") for line in said)


def test_amp_checks_pass_on_the_healthy_lab_and_name_the_job_a_fault_takes_down(lab: Lab) -> None:
    target = lab_target(lab)
    endpoints = lab_endpoints(lab, target)
    assert endpoints.amp_query_url is not None
    with stubbed("amp") as (amp, stubber):
        stubber.add_response(
            "describe_workspace",
            {
                "workspace": {
                    "workspaceId": WORKSPACE_ID,
                    "arn": f"arn:aws:aps:{LAB_REGION}:0:workspace/{WORKSPACE_ID}",
                    "status": status("ACTIVE"),
                    "createdAt": CREATED,
                }
            },
            {"workspaceId": WORKSPACE_ID},
        )
        stubber.add_response(
            "list_rule_groups_namespaces",
            {"ruleGroupsNamespaces": [namespace(WORKSPACE_ID, n) for n in target.output("amp_rule_namespaces")]},
            {"workspaceId": WORKSPACE_ID},
        )
        stubber.add_response(
            "describe_alert_manager_definition",
            {
                "alertManagerDefinition": {
                    "status": status("ACTIVE"),
                    "data": b"x",
                    "createdAt": CREATED,
                    "modifiedAt": CREATED,
                }
            },
            {"workspaceId": WORKSPACE_ID},
        )
        control = [
            check_workspace(amp, target),
            check_rule_namespaces(amp, target),
            check_alertmanager_definition(amp, target),
        ]
    assert [r.status for r in control] == [Status.PASS] * 3
    query = amp_query(endpoints.amp_query_url, LAB_REGION, CREDENTIALS)
    healthy = check_samples(query, target)
    assert healthy.status is Status.PASS, healthy.evidence

    lab.set_faults(("down",))  # every API target answers 503: up=0
    try:
        deadline = time.monotonic() + 10 * lab.timing.scrape_seconds + 5
        result = check_samples(query, target)
        while result.status is Status.PASS and time.monotonic() < deadline:
            time.sleep(lab.timing.scrape_seconds)
            result = check_samples(query, target)
    finally:
        lab.set_faults(("none",))
    assert result.status is Status.FAIL
    assert result.evidence == "job api: all 2 targets down (up=0)"
