"""Label-set limits from the model, and the quota alarms, as the committed stacks plan them."""

from __future__ import annotations

from infra.config.model import StackInput
from infra.config.stackfile import stack_settings
from infra.cost.limits import label_set_limits, series_limit, workspace_label_set_limits
from infra.cost.model import cardinality
from planner.engine import Plan
from tests.conftest import plan_of
from tests.cost.helpers import small_catalog

CONFIGURATION = "aws:amp/workspaceConfiguration:WorkspaceConfiguration"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def test_limit_is_series_times_headroom_rounded_up_to_a_thousand_and_at_least_the_floor() -> None:
    model = cardinality(small_catalog(), {}, {})
    # api: 306 series x 10 = 3,060 -> 4,000; redis: 16 x 10 = 160 -> the floor of 1,000
    assert label_set_limits(model, headroom=10, floor=1000) == {"api": 4000, "redis": 1000}
    assert series_limit(2000, 1.0, 1) == 2000  # exactly a thousand is not rounded further


def test_a_label_set_the_stack_file_limits_keeps_its_number_and_the_others_are_derived() -> None:
    raw = small_catalog().model_dump(by_alias=True, exclude_none=True)
    raw["cost"]["seriesLimitHeadroom"] = 10
    raw["amp"]["labelSetLimits"] = [
        {"labelSet": {"service": "api"}, "maxSeries": 50_000},
        # Not the label set {service: redis}: redis still gets its derived limit.
        {"labelSet": {"service": "redis", "job": "redis"}, "maxSeries": 7_000},
    ]
    settings = StackInput.model_validate(raw)
    # By hand: redis has 16 series x 10 = 160 -> the floor of 1,000; api's derived 4,000 gives way to 50,000.
    assert workspace_label_set_limits(settings, cardinality(settings, {}, {})) == [
        ({"service": "api"}, 50_000),
        ({"service": "redis", "job": "redis"}, 7_000),
        ({"service": "redis"}, 1000),
    ]


def test_without_a_cost_section_the_workspace_gets_only_the_stack_files_limits() -> None:
    raw = small_catalog().model_dump(by_alias=True, exclude_none=True)
    del raw["cost"]
    raw["amp"]["labelSetLimits"] = [{"labelSet": {"service": "api"}, "maxSeries": 50_000}]
    settings = StackInput.model_validate(raw)
    assert workspace_label_set_limits(settings, cardinality(settings, {}, {})) == [({"service": "api"}, 50_000)]


def test_prod_limits_every_scraped_service_and_the_api_most() -> None:
    """The numbers themselves are pinned in tests/golden/files/cost/prod.json (reviewed on change);
    here what must hold whatever the catalog: every service has a limit, none below the floor, and
    the API (three replicas of the richest exporter) gets the largest."""
    settings = stack_settings("prod")
    assert settings.cost is not None
    limits = {
        entry["labelSet"]["service"]: entry["limits"]["maxSeries"]
        for entry in plan_of("prod").one(CONFIGURATION).inputs["limitsPerLabelSets"]
    }
    assert set(limits) >= {"api", "postgres", "node-exporter", "kube-state-metrics"}
    assert min(limits.values()) >= settings.cost.series_limit_floor
    assert all(limit % 1000 == 0 for limit in limits.values())
    assert max(limits, key=lambda s: limits[s]) == "api"


def test_quota_alarms_watch_amp_usage_against_service_quota_and_warn(stack_plan: Plan) -> None:
    component = stack_plan.one("monitoring:index:AmpUsageAlarms", "amp-usage")
    alarms = [r for r in stack_plan.of_type(ALARM) if r.parent == component.urn]
    workspace_id = stack_plan.outputs["amp_workspace_id"]
    warning = stack_plan.outputs["alert_topic_arns"]["warning"]
    resources = {}
    for alarm in alarms:
        usage, utilization = alarm.inputs["metricQueries"]
        metric = usage["metric"]
        assert (metric["namespace"], metric["metricName"], metric["stat"]) == ("AWS/Usage", "ResourceCount", "Maximum")
        assert metric["dimensions"]["Service"] == "Prometheus"
        assert metric["dimensions"]["ResourceId"] == workspace_id
        assert (metric["dimensions"]["Type"], metric["dimensions"]["Class"]) == ("Resource", "None")
        assert utilization["expression"] == "100 * usage / SERVICE_QUOTA(usage)"
        assert utilization["returnData"] is True and usage["returnData"] is False
        assert alarm.inputs["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm.inputs["threshold"] == 80
        assert alarm.inputs["alarmActions"] == alarm.inputs["okActions"] == [warning]
        resources[metric["dimensions"]["Resource"]] = alarm.inputs["name"]
    env = stack_plan.stack
    assert resources == {
        "ActiveSeries": f"screener-{env}-amp-active-series-quota",
        "IngestionRate": f"screener-{env}-amp-ingestion-rate-quota",
    }


def test_the_estimate_is_a_stack_output_and_the_cost_estimate_components_input(stack_plan: Plan) -> None:
    estimate = stack_plan.outputs["cost_estimate"]
    component = stack_plan.one("monitoring:index:CostEstimate", "cost-estimate")
    assert component.inputs == estimate
    assert estimate["usdPerMonth"] <= estimate["budgetUsdPerMonth"]
    assert estimate["activeSeries"] > 1000 and estimate["samplesPerMonth"] > 0
