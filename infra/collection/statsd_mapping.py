"""The statsd_exporter mapping that turns Airflow's StatsD lines into the catalog's names.

Airflow (without tags) emits `airflow.<name>` lines and puts the DAG id in
the metric path (`airflow.dagrun.duration.success.<dag_id>`). The mapping
gives each line the Prometheus name listed in `infra.metrics.AIRFLOW_STATSD`
and moves the DAG id into a `dag_id` label; every other line is dropped in
the exporter, before it costs memory or a scrape.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import yaml

StatsdType = Literal["counter", "gauge", "observer"]


@dataclass(frozen=True)
class StatsdRule:
    match: str  # statsd_exporter glob: `*` is one dot-separated component
    name: str
    metric_type: StatsdType
    labels: tuple[tuple[str, str], ...] = ()


# Airflow's metric reference (docs: "Metrics" in the Airflow configuration guide).
AIRFLOW_RULES: tuple[StatsdRule, ...] = (
    StatsdRule("airflow.scheduler_heartbeat", "airflow_scheduler_heartbeat", "counter"),
    StatsdRule("airflow.dagrun.duration.failed.*", "airflow_dagrun_duration_failed", "observer", (("dag_id", "$1"),)),
    StatsdRule("airflow.dagrun.duration.success.*", "airflow_dagrun_duration_success", "observer", (("dag_id", "$1"),)),
    StatsdRule("airflow.ti_failures", "airflow_ti_failures", "counter"),
    StatsdRule("airflow.ti_successes", "airflow_ti_successes", "counter"),
    StatsdRule("airflow.dag_processing.import_errors", "airflow_dag_processing_import_errors", "gauge"),
    StatsdRule("airflow.executor.open_slots", "airflow_executor_open_slots", "gauge"),
    StatsdRule("airflow.executor.queued_tasks", "airflow_executor_queued_tasks", "gauge"),
    StatsdRule("airflow.executor.running_tasks", "airflow_executor_running_tasks", "gauge"),
)


def mapping_document(rules: tuple[StatsdRule, ...] = AIRFLOW_RULES) -> dict[str, Any]:
    mappings: list[dict[str, Any]] = []
    for rule in rules:
        entry: dict[str, Any] = {"match": rule.match, "match_metric_type": rule.metric_type, "name": rule.name}
        if rule.labels:
            entry["labels"] = dict(rule.labels)
        mappings.append(entry)
    # Anything unmapped would surface under an automatic name nobody reads.
    mappings.append({"match": ".", "match_type": "regex", "action": "drop", "name": "dropped"})
    return {
        # Timers become summaries (quantiles, _sum, _count): the catalog's `summary` type.
        "defaults": {"observer_type": "summary", "match_type": "glob"},
        "mappings": mappings,
    }


# A constant text (a str, immutable): one rendering per process, not one per Airflow exporter.
@functools.cache
def render_statsd_mapping() -> str:
    return yaml.safe_dump(mapping_document(), sort_keys=False)
