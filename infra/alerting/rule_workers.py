"""Workers and pipelines: Celery through its exporter, Airflow through statsd_exporter.

One rule per alert covers every service of its kind; the two absences
("exporter up, no worker / no heartbeat") name the kind's services, since
`up` alone does not say what kind a service is.
"""

from __future__ import annotations

from infra.alerting.rule_model import (
    Alert,
    Rule,
    RuleNamespace,
    dur,
    num,
    one_group_namespace,
    scraped_services,
    sel,
    service_matcher,
)
from infra.config import StackInput
from infra.config.core import ServiceSpec

NAMESPACE = "workers"


def _celery(services: tuple[ServiceSpec, ...], settings: StackInput) -> list[Rule]:
    thresholds = settings.thresholds
    failed = f"sum by (service) (rate(celery_task_failed_total[{dur('15m')}]))"
    succeeded = f"sum by (service) (rate(celery_task_succeeded_total[{dur('15m')}]))"
    workers = "sum by (service) (celery_worker_up)"
    return [
        Alert(
            name="CeleryWorkersDown",
            # Either every known worker stopped sending heartbeats, or the
            # exporter is up and has never seen a worker at all.
            expr=f"{workers} == 0\nor\n"
            f"(sum by (service) ({sel('up', service=service_matcher(services))}) > 0 unless on (service) {workers})",
            for_="5m",
            severity="critical",
            service=None,
            summary="No Celery worker is alive.",
            description="{{ $labels.service }} has no Celery worker sending heartbeats; queued tasks are not running.",
        ),
        Alert(
            name="CeleryQueueBacklog",
            expr=f"sum by (service, queue_name) (celery_queue_length)\n> {thresholds.celery_queue_backlog}",
            # Bursts of scheduled tasks drain within minutes; a quarter of an hour of backlog does not.
            for_="15m",
            severity="warning",
            service=None,
            summary="Tasks pile up in a Celery queue.",
            description="{{ $value | humanize }} tasks wait in Celery queue {{ $labels.queue_name }} "
            f"({{{{ $labels.service }}}}; threshold {thresholds.celery_queue_backlog}).",
        ),
        Alert(
            name="CeleryTaskFailureRate",
            # Succeeded tasks may have no series yet; `or 0 * failed` keeps the denominator defined.
            expr=f"{failed}\n/ (({succeeded} or 0 * {failed}) + {failed})\n"
            f"> {num(thresholds.celery_failure_ratio_percent / 100)}",
            for_="15m",
            severity="warning",
            service=None,
            summary="Too many Celery tasks fail.",
            description=f"{{{{ $value | humanizePercentage }}}} of the Celery tasks of {{{{ $labels.service }}}} "
            f"failed over the last 15 minutes (threshold {num(thresholds.celery_failure_ratio_percent)}%).",
        ),
    ]


def _airflow(services: tuple[ServiceSpec, ...]) -> list[Rule]:
    failed_runs = "airflow_dagrun_duration_failed_count"
    heartbeat = "airflow_scheduler_heartbeat"
    exporters_up = f"sum by (service) ({sel('up', service=service_matcher(services))}) > 0"
    by_dag = "sum by (service, dag_id)"
    return [
        Alert(
            name="AirflowDagRunFailed",
            # statsd_exporter creates a DAG's series at its first failure, which
            # `increase` cannot see; a series that did not exist an hour ago is one.
            expr=f"{by_dag} (increase({failed_runs}[{dur('1h')}])) > 0\n"
            f"or\n({by_dag} ({failed_runs}) unless {by_dag} ({failed_runs} offset {dur('1h')}))",
            # A failed run is a fact, not a trend: tell at once; the 1h window keeps it open for an hour.
            for_="0",
            severity="warning",
            service=None,
            summary="An Airflow DAG run failed.",
            description="DAG {{ $labels.dag_id }} ({{ $labels.service }}) had a failed run in the last hour.",
        ),
        Alert(
            name="AirflowSchedulerHeartbeatMissing",
            # Absent while the exporter is up means the scheduler has not beaten since the exporter started.
            expr=f"sum by (service) (rate({heartbeat}[{dur('5m')}])) == 0\n"
            f"or\n({exporters_up} unless on (service) {heartbeat})",
            for_="5m",
            severity="critical",
            service=None,
            summary="The Airflow scheduler has stopped sending heartbeats.",
            description="No heartbeat from the Airflow scheduler of {{ $labels.service }} for 5 minutes; "
            "no DAG run is being scheduled.",
        ),
        Alert(
            name="AirflowDagImportErrors",
            expr="sum by (service) (airflow_dag_processing_import_errors) > 0",
            for_="15m",
            severity="warning",
            service=None,
            summary="Airflow cannot import some DAG files.",
            description="{{ $value | humanize }} DAG file(s) of {{ $labels.service }} fail to import; "
            "their DAGs are not scheduled.",
        ),
    ]


def worker_rules(settings: StackInput) -> tuple[RuleNamespace, ...]:
    rules: list[Rule] = []
    if celery := scraped_services(settings, "celery"):
        rules += _celery(celery, settings)
    if airflow := scraped_services(settings, "airflow"):
        rules += _airflow(airflow)
    return one_group_namespace(NAMESPACE, rules)
