"""The cardinality model on a small catalog, every number worked out by hand."""

from __future__ import annotations

import pytest

from infra.cost.model import SECONDS_PER_MONTH, cardinality, label_counts, series_per_target
from infra.metrics import BACKEND
from tests.cost.helpers import AMP_DATASOURCE, small_catalog

MONTH = 730 * 3600  # AWS bills by the 730-hour month

# One rule file as data, the shape `render_rule_files(...).documents` gives the model.
RULES = {
    "api": {
        "groups": [
            {
                "name": "api",
                "interval": "1m",
                "rules": [
                    {
                        "record": "service:http_requests:rate5m",
                        "expr": 'sum by (service) (rate(http_requests_total{service="api"}[5m]))',
                    },
                    {"alert": "ApiBusy", "expr": 'service:http_requests:rate5m{service="api"} > 100'},
                ],
            }
        ]
    }
}
DASHBOARD = {
    "refresh": "1m",
    "time": {"from": "now-1h", "to": "now"},
    "panels": [
        {
            "datasource": AMP_DATASOURCE,
            "targets": [{"expr": 'sum(rate(http_requests_total{service=~"$service"}[5m]))'}],
        },
        # Synthetic-monitoring panels query Grafana Cloud, not AMP: not billed by AMP.
        {"datasource": {"type": "prometheus", "uid": "grafanacloud-sm"}, "targets": [{"expr": "probe_success"}]},
    ],
}


def test_histogram_series_are_label_values_times_buckets_plus_inf_plus_sum_and_count() -> None:
    counts = label_counts(small_catalog())
    metric = next(m for m in BACKEND if m.name == "http_request_duration_seconds")
    # method 2 x endpoint 3 = 6 label sets; 10 bounds in the contract + le="+Inf" = 11 buckets each
    assert series_per_target(metric, counts) == {
        "http_request_duration_seconds_bucket": 6 * 11,
        "http_request_duration_seconds_sum": 6,
        "http_request_duration_seconds_count": 6,
    }


def test_counter_series_are_the_product_of_its_label_values() -> None:
    counts = label_counts(small_catalog())
    requests = next(m for m in BACKEND if m.name == "http_requests_total")
    assert series_per_target(requests, counts) == {"http_requests_total": 2 * 3 * 2}


def test_scraped_series_of_the_small_catalog_add_up_by_hand() -> None:
    model = cardinality(small_catalog(), {}, {})
    backend_per_target = (
        2 * 3 * 2  # http_requests_total: method x endpoint x status_code
        + 6 * (11 + 2)  # http_request_duration_seconds: 6 label sets x (11 buckets + _sum + _count)
        + 6  # http_requests_in_progress: method x endpoint
        + 2 * 3 * 1  # http_errors_total: method x endpoint x one 5xx code
        + (10 + 2)  # db_query_duration_seconds: 9 bounds + Inf, + _sum, _count
        + 4  # db_connections_active, db_connections_idle, db_slow_queries_total, db_query_errors_total
        + 2  # cache_operations_total, cache_hit_ratio
        + (7 + 2)  # cache_operation_duration_seconds: 6 bounds + Inf, + _sum, _count
        + 4  # cache_memory_usage_bytes, user_registrations_total, user_logins_total, screening_requests_total
        + (8 + 2)  # screening_results_count: 7 bounds + Inf, + _sum, _count
        + 5  # portfolio, active users, websocket connections and messages, app_info
    )
    assert backend_per_target == 148
    scrape_series = 5  # up, scrape_samples_scraped, ..._post_metric_relabeling, scrape_duration_seconds, ..._added
    api = 2 * (backend_per_target + scrape_series)  # two static targets
    redis = 1 * (11 + scrape_series)  # eleven single-series redis_exporter metrics, one target
    assert model.series_by_service() == {"api": api, "redis": redis}
    assert model.active_series == 306 + 16 == 322
    # one sample per series per 30 s scrape
    assert model.scraped_samples_per_month == pytest.approx(322 * MONTH / 30) == 28_207_200


def test_recording_rules_add_their_output_and_every_rule_reads_its_selectors_each_evaluation() -> None:
    model = cardinality(small_catalog(), RULES, {})
    record, alert = model.rules
    assert (record.name, record.output_series, record.service) == ("service:http_requests:rate5m", 1, "api")
    # http_requests_total{service="api"}: 12 series x 2 targets, each read over 5m / 30 s = 10 points
    assert record.samples_per_evaluation == 24 * 10
    assert (alert.output_series, alert.samples_per_evaluation) == (0, 1)  # reads the one recorded series
    evaluations = MONTH / 60
    assert model.recorded_samples_per_month == pytest.approx(1 * evaluations)
    assert model.rule_query_samples_per_month == pytest.approx((240 + 1) * evaluations) == 10_555_800
    assert model.active_series == 322 + 1
    assert model.series_by_service()["api"] == 306 + 1


def test_dashboard_queries_read_each_selected_series_per_step_over_the_time_range() -> None:
    model = cardinality(small_catalog(), {}, {"api": DASHBOARD})
    (panel,) = model.panels  # the synthetic-monitoring panel is not AMP's
    steps = 3600 / 30  # 1 h at a 30 s step (the scrape interval; 1 h / 1000 points would be finer)
    assert panel.samples_per_refresh == 24 * 10 * steps == 28_800
    on_screen_seconds = 8 * 3600 * 730 / 24  # 8 h a day over the month, one dashboard
    refreshes = on_screen_seconds / 60
    assert model.dashboard_query_samples_per_month == pytest.approx(28_800 * refreshes) == 420_480_000


def test_more_replicas_multiply_the_targets_of_a_kubernetes_discovered_service() -> None:
    settings = small_catalog()
    raw = settings.model_dump(by_alias=True, exclude_none=True)
    raw["collection"] = {"mode": "none", "discovery": "kubernetes", "scrapeIntervalSeconds": 30}
    raw["services"][0]["scrape"].pop("staticTargets")
    raw["services"][0]["replicas"] = 3
    raw["cost"]["labelValues"]["node"] = 2
    model = cardinality(type(settings).model_validate(raw), {}, {})
    assert model.series_by_service()["api"] == 3 * (148 + 5)
    # cluster jobs appear with kubernetes discovery; node-exporter has one target per node
    node_exporter = sum(line.series for line in model.series if line.service == "node-exporter")
    # cpu 1 x mode 1 + 2 memory + 3 filesystem x 1 mountpoint + 2 network x 1 device + load1 = 9, + 5 scrape series
    assert node_exporter == 2 * (9 + 5)


def test_a_month_is_730_hours() -> None:
    assert SECONDS_PER_MONTH == MONTH


def test_every_scraped_catalog_metric_has_a_shape_and_every_label_an_assumption() -> None:
    from infra.config.label_values import LABEL_VALUES
    from infra.cost.assumptions import METRIC_SHAPES
    from infra.metrics import SCRAPED_BY_SOURCE

    scraped = {metric.name: metric for metrics in SCRAPED_BY_SOURCE.values() for metric in metrics}
    assert set(METRIC_SHAPES) == set(scraped)
    for name, shape in METRIC_SHAPES.items():
        assert {label.removesuffix("/node") for label in shape.labels} <= set(LABEL_VALUES), name
        assert (shape.buckets is not None) == (scraped[name].type == "histogram"), name
