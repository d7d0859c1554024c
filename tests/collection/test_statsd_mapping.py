"""The Airflow statsd mapping yields exactly the catalog's Airflow names, with dag_id as a label."""

from __future__ import annotations

import re

import yaml

from infra.collection.statsd_mapping import AIRFLOW_RULES, render_statsd_mapping
from infra.metrics import AIRFLOW_STATSD, scraped_series_names


def test_mapping_names_are_the_catalog_airflow_names() -> None:
    assert sorted(rule.name for rule in AIRFLOW_RULES) == sorted(metric.name for metric in AIRFLOW_STATSD)


def test_timers_become_summaries_as_the_catalog_types_them() -> None:
    catalog_types = {metric.name: metric.type for metric in AIRFLOW_STATSD}
    for rule in AIRFLOW_RULES:
        expected = {"counter": "counter", "gauge": "gauge", "summary": "observer"}[catalog_types[rule.name]]
        assert rule.metric_type == expected, rule.name
    assert yaml.safe_load(render_statsd_mapping())["defaults"]["observer_type"] == "summary"


def _glob_matches(glob: str, line: str) -> bool:
    """statsd_exporter's glob: `*` stands for exactly one dot-separated component."""
    return re.fullmatch(r"[^.]+".join(re.escape(part) for part in glob.split("*")), line) is not None


def test_dag_duration_lines_carry_the_dag_id_as_a_label() -> None:
    line = "airflow.dagrun.duration.success.refresh_prices"
    (rule,) = [r for r in AIRFLOW_RULES if _glob_matches(r.match, line)]
    assert rule.name == "airflow_dagrun_duration_success"
    assert dict(rule.labels) == {"dag_id": "$1"}


def test_each_airflow_line_matches_exactly_one_rule() -> None:
    lines = [
        "airflow.scheduler_heartbeat",
        "airflow.dagrun.duration.failed.refresh_prices",
        "airflow.ti_failures",
        "airflow.dag_processing.import_errors",
        "airflow.executor.open_slots",
    ]
    for line in lines:
        assert len([r for r in AIRFLOW_RULES if _glob_matches(r.match, line)]) == 1, line


def test_unmapped_lines_are_dropped_in_the_exporter() -> None:
    last = yaml.safe_load(render_statsd_mapping())["mappings"][-1]
    assert last == {"match": ".", "match_type": "regex", "action": "drop", "name": "dropped"}


def test_every_mapped_series_survives_the_airflow_keep_list() -> None:
    kept = scraped_series_names("statsd_exporter")
    for rule in AIRFLOW_RULES:
        assert rule.name in kept
