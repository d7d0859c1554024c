"""The lab's Prometheus and Alertmanager files: the stack's rendered ones, at the lab's time scale.

Rules and Alertmanager routes come from the one renderer with
`time_scale=LAB_TIME_SCALE` (a production minute is a lab second); nothing
else in them changes except, in the Alertmanager config, where SNS is
(`lab_alertmanager_config`, the one function that edits a rendered file).
Scrape jobs are the stack's own (`infra.collection.scrape_config`) with
their keep-lists and their `service`/`env`/`cluster` labels; only where
they find their targets changes: static targets on the simulator instead of
Kubernetes discovery, with the `namespace`/`pod`/`node` labels discovery
would have attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from infra.alerting.alertmanager import alertmanager_files, render_alertmanager_definition
from infra.alerting.rules import RuleFiles, render_rule_files
from infra.alerting.time_scale import duration_seconds
from infra.collection.scrape_config import scrape_jobs
from infra.config import StackInput
from infra.config.stackfile import stack_settings
from lab.clock import LabClock, lab_clock
from lab.simulator import NODES, Target

# One lab second stands for one production minute.
LAB_TIME_SCALE = Fraction(1, 60)
LAB_REGION = "ap-northeast-2"
LAB_ACCOUNT = "000000000000"
# A Slack channel so that the chat message (AWS Chatbot JSON) is exercised too.
LAB_SLACK = {"teamId": "TLAB00001", "channelId": "CLAB00001"}
AUDIENCES = ("critical", "warning", "watchdog", "chat")
# Prometheus's own defaults that matter across a restart, scaled like the rest.
FOR_GRACE_PERIOD = "10m"
FOR_OUTAGE_TOLERANCE = "1h"
# Alertmanager forgets a firing alert 4 resend delays after Prometheus last
# sent it. A restarted Prometheus sends nothing until its Alertmanager
# discovery settles, which takes up to 5 s whatever the scale (a constant of
# Prometheus's discovery manager). The scaled resend delay (1 s) would give
# 4 s, less than that; 3 s gives 12 s, the same kind of margin production
# has (4 minutes against 5 s). New alerts are sent at once either way.
LAB_RESEND_DELAY_SECONDS = 3


def lab_settings(stack: str) -> StackInput:
    """The stack's settings with a Slack channel (the chat path is exercised), validated like a stack file."""
    raw = stack_settings(stack).model_dump(by_alias=True, mode="json", exclude_none=True)
    raw["notifications"] = {**raw["notifications"], "slack": raw["notifications"].get("slack", LAB_SLACK)}
    return StackInput.model_validate(raw)


def topic_arns(settings: StackInput) -> dict[str, str]:
    return {
        audience: f"arn:aws:sns:{LAB_REGION}:{LAB_ACCOUNT}:screener-{settings.environment}-alerts-{audience}"
        for audience in AUDIENCES
    }


def lab_rule_files(settings: StackInput) -> RuleFiles:
    """The stack's rule files exactly as rendered at the lab's time scale."""
    return render_rule_files(settings, LAB_TIME_SCALE)


def lab_alertmanager_config(definition: str, sns_url: str) -> dict[str, str]:
    """Alertmanager files from the AMP definition; the only change: SNS is the lab's recorder.

    Every SNS config gets `api_url` (the recorder) and lab-only static keys
    (Alertmanager signs each request; the recorder ignores the signature).
    Routes, timings, inhibitions, receivers, templates, subjects and
    messages stay as rendered.
    """
    files = alertmanager_files(definition)
    config: dict[str, Any] = yaml.safe_load(files["alertmanager.yml"])
    for receiver in config["receivers"]:
        for sns in receiver.get("sns_configs", []):
            sns["api_url"] = sns_url
            sns["sigv4"] = {**sns["sigv4"], "access_key": "LABONLYNOTAKEY", "secret_key": "lab-only-not-a-secret"}
    return {**files, "alertmanager.yml": yaml.safe_dump(config, sort_keys=False)}


def lab_alertmanager_files(settings: StackInput, sns_url: str) -> dict[str, str]:
    definition = render_alertmanager_definition(settings, topic_arns(settings), LAB_TIME_SCALE)
    return lab_alertmanager_config(definition, sns_url)


@dataclass(frozen=True)
class Clock:
    """The lab's timings (seconds) and Prometheus flags, from the renderer's clock at the lab's scale."""

    rendered: LabClock
    scrape_seconds: float
    evaluation_seconds: float
    group_wait_seconds: float
    group_interval_seconds: float
    resend_seconds: float

    @property
    def prometheus_flags(self) -> list[str]:
        scale = self.rendered.time_scale
        grace = duration_seconds(FOR_GRACE_PERIOD) * scale
        tolerance = duration_seconds(FOR_OUTAGE_TOLERANCE) * scale
        return [
            f"--query.lookback-delta={self.rendered.lookback_delta}",
            f"--rules.alert.resend-delay={self.resend_seconds:g}s",
            f"--rules.alert.for-grace-period={float(grace):g}s",
            f"--rules.alert.for-outage-tolerance={float(tolerance):g}s",
        ]


def clock(settings: StackInput) -> Clock:
    rendered = lab_clock(settings, LAB_TIME_SCALE)
    evaluation = float(duration_seconds(rendered.evaluation_interval))
    # Scrape at least four times per evaluation: the time a fault takes to
    # be scraped is not part of the configuration's minimum (for +
    # evaluation + group_wait), so the lab keeps it small.
    scrape = min(float(duration_seconds(rendered.scrape_interval)), evaluation / 4)
    group_interval = duration_seconds(f"{settings.notifications.group_interval_minutes}m") * LAB_TIME_SCALE
    return Clock(
        rendered=rendered,
        scrape_seconds=scrape,
        evaluation_seconds=evaluation,
        group_wait_seconds=float(duration_seconds(rendered.group_wait)),
        group_interval_seconds=float(group_interval),
        resend_seconds=max(float(duration_seconds(rendered.resend_delay)), LAB_RESEND_DELAY_SECONDS),
    )


def simulated_jobs(settings: StackInput) -> dict[str, str]:
    """Scrape job name -> catalog source, for every job the stack's collector runs."""
    return {job.name: job.source for job in scrape_jobs(settings, settings.collection.cluster_name)}


def _static_labels(relabel_configs: list[dict[str, Any]]) -> dict[str, str]:
    """The labels a job sets unconditionally (`service`, `env`, `cluster`)."""
    return {
        rule["target_label"]: rule["replacement"]
        for rule in relabel_configs
        if "source_labels" not in rule
        and rule.get("target_label", "").isidentifier()
        and not rule["target_label"].startswith("__")
    }


def _discovered(job: dict[str, Any], target: Target, namespace: str) -> dict[str, str]:
    """What Kubernetes discovery would have attached to this target."""
    relabel = job.get("relabel_configs", [])
    labels: dict[str, str] = {}
    sources = {tuple(rule.get("source_labels", ())): rule.get("target_label") for rule in relabel}
    if sources.get(("__meta_kubernetes_namespace",)) == "namespace":
        labels["namespace"] = namespace
    if sources.get(("__meta_kubernetes_pod_name",)) == "pod":
        labels["pod"] = f"{target.job}-{target.replica}"
    if sources.get(("__meta_kubernetes_node_name",)) == "node":
        labels["node"] = NODES[target.replica % len(NODES)]
    return labels


def prometheus_config(
    settings: StackInput, targets: tuple[Target, ...], simulator_address: str, alertmanager_port: int, timing: Clock
) -> dict[str, Any]:
    """prometheus.yml: the stack's scrape jobs pointed at the simulator, its rule files, the lab Alertmanager."""
    cluster = settings.collection.cluster_name
    rendered = {job.name: job.body for job in scrape_jobs(settings, cluster)}
    scrape_configs = []
    for name, body in rendered.items():
        job_targets = [target for target in targets if target.job == name]
        static = []
        for target in job_targets:
            namespace = next(
                (s.scrape.k8s_namespace for s in settings.services if s.name == name and s.scrape),
                settings.collection.namespace,
            )
            labels = {
                "__metrics_path__": target.path,
                "instance": f"{name}-{target.replica}",
                **_discovered(body, target, namespace),
            }
            static.append({"targets": [simulator_address], "labels": labels})
        job: dict[str, Any] = {
            "job_name": name,
            "static_configs": static,
            "relabel_configs": [
                {"target_label": label, "replacement": value}
                for label, value in _static_labels(body.get("relabel_configs", [])).items()
            ],
            "metric_relabel_configs": body["metric_relabel_configs"],
        }
        if body.get("honor_labels"):
            job["honor_labels"] = True
        scrape_configs.append(job)
    scrape_ms = round(timing.scrape_seconds * 1000)
    return {
        "global": {
            "scrape_interval": f"{scrape_ms}ms",
            "scrape_timeout": f"{scrape_ms}ms",
            "evaluation_interval": timing.rendered.evaluation_interval,
        },
        "rule_files": ["rules/*.yaml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        "scrape_configs": scrape_configs,
    }
