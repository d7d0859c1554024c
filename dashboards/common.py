"""Small typed factories every dashboard is built from (one look for every panel).

Every panel and query reads from `${datasource}`, so a dashboard can be pointed
at another Prometheus-compatible source without editing it; every panel has a
description, a unit and, where the alert rules have one, the same threshold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from string import ascii_uppercase
from typing import Any, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders.common import (
    GraphThresholdsStyleConfig,
    ReduceDataOptions,
    StackingConfig,
    VizLegendOptions,
)
from grafana_foundation_sdk.builders.dashboard import (
    AnnotationQuery,
    AnnotationTarget,
    Dashboard,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    Row,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.variants import Dataquery as AnyDataquery
from grafana_foundation_sdk.models.common import (
    BigValueGraphMode,
    DataSourceRef,
    GraphThresholdsStyleMode,
    LegendDisplayMode,
    LegendPlacement,
    StackingMode,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DashboardLinkType,
    Panel,
    Threshold,
    ThresholdsMode,
    VariableModel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

from dashboards.context import AMP_DATASOURCE_TYPE, DashboardContext

REFRESH = "30s"
TAG = "screener"
DATASOURCE = DataSourceRef(type_val=AMP_DATASOURCE_TYPE, uid="${datasource}")
# Label matchers shared by every query: the scrape attaches `env` and `service`.
ENV = 'env=~"$env"'
APP = 'env=~"$env", service=~"$service"'
# Recording rules aggregate `by (service)`: their series carry no `env`.
RECORDED = 'service=~"$service"'
# Grafana widens this to at least four scrape intervals, so rate() never sees one sample.
RATE = "$__rate_interval"

GREEN, YELLOW, RED = "green", "yellow", "red"
# Deploys are Grafana annotations tagged `deploy` and the environment (deploy.yml posts them,
# and so can the application's own pipelines); Grafana's built-in annotation store holds them.
DEPLOY_TAG = "deploy"
GRAFANA_ANNOTATIONS = DataSourceRef(type_val="grafana", uid="-- Grafana --")


# --- thresholds -----------------------------------------------------------------


def above(warning: float | None, critical: float) -> ThresholdsConfig:
    """Green below `warning`, yellow up to `critical`, red above (latency, error ratio, usage)."""
    steps = [Threshold(value=None, color=GREEN)]
    if warning is not None:
        steps.append(Threshold(value=warning, color=YELLOW))
    steps.append(Threshold(value=critical, color=RED))
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


def neutral() -> ThresholdsConfig:
    """One colour: a value with no alert behind it should not look green or red."""
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=None, color="text")])


def below(critical: float, warning: float | None = None) -> ThresholdsConfig:
    """Red below `critical`, yellow up to `warning`, green above (hit ratio, budget left)."""
    steps = [Threshold(value=None, color=RED)]
    if warning is not None:
        steps.append(Threshold(value=critical, color=YELLOW))
        steps.append(Threshold(value=warning, color=GREEN))
    else:
        steps.append(Threshold(value=critical, color=GREEN))
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps)


# --- queries ----------------------------------------------------------------------


def quantile(q: float, histogram: str, by: str = "", selector: str = APP) -> str:
    """`histogram_quantile` of a histogram's buckets over `$__rate_interval`, optionally kept `by` labels."""
    labels = ", ".join([*(label.strip() for label in by.split(",") if label.strip()), "le"])
    return f"histogram_quantile({q:g}, sum by ({labels}) (rate({histogram}_bucket{{{selector}}}[{RATE}])))"


def query(
    expr: str,
    legend: str = "",
    *,
    instant: bool = False,
    table: bool = False,
    datasource: DataSourceRef = DATASOURCE,
) -> Dataquery:
    """One PromQL query of a panel; the panel names it (refId) by its place: A, B, C..."""
    built = Dataquery().expr(expr).datasource(datasource)
    if legend:
        built = built.legend_format(legend)
    if instant:
        built = built.instant()
    if table:
        built = built.format(PromQueryFormat.TABLE)
    return built


# --- panels -----------------------------------------------------------------------


class PanelBuilder(Protocol):
    """What every panel builder of the SDK offers: each is its own generated class, with no shared base."""

    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: DataSourceRef) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def span(self, w: int) -> Self: ...
    def height(self, h: int) -> Self: ...
    def with_target(self, target: Builder[AnyDataquery]) -> Self: ...


AnyPanel = TypeVar("AnyPanel", bound=PanelBuilder)


def framed(
    panel: AnyPanel,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Dataquery],
    *,
    width: int,
    height: int,
    datasource: DataSourceRef,
) -> AnyPanel:
    """What every panel has whatever its kind: title, description, data source, unit, size and its queries,
    named A, B, C... in the order given (legends and overrides refer to them by that refId)."""
    if not queries:
        raise ValueError(f"panel '{title}' needs at least one query")
    if len(queries) > len(ascii_uppercase):
        raise ValueError(f"panel '{title}' has {len(queries)} queries; refIds A-Z name {len(ascii_uppercase)} at most")
    panel = panel.title(title).description(description).datasource(datasource).unit(unit).span(width).height(height)
    for ref, target in zip(ascii_uppercase, queries, strict=False):
        panel = panel.with_target(target.ref_id(ref))
    return panel


def timeseries(
    title: str,
    description: str,
    unit: str,
    *queries: Dataquery,
    thresholds: ThresholdsConfig | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    stacked: bool = False,
    width: int = 12,
    height: int = 8,
    datasource: DataSourceRef = DATASOURCE,
) -> Timeseries:
    panel = (
        framed(Timeseries(), title, description, unit, queries, width=width, height=height, datasource=datasource)
        .fill_opacity(10)
        .line_width(1)
        .legend(VizLegendOptions().display_mode(LegendDisplayMode.LIST).placement(LegendPlacement.BOTTOM))
    )
    if thresholds is not None:
        # Draw the alert threshold on the graph: one glance tells how close we are.
        panel = panel.thresholds(thresholds).thresholds_style(
            GraphThresholdsStyleConfig().mode(GraphThresholdsStyleMode.DASHED)
        )
    if min_value is not None:
        panel = panel.min(min_value)
    if max_value is not None:
        panel = panel.max(max_value)
    if stacked:
        panel = panel.stacking(StackingConfig().mode(StackingMode.NORMAL))
    return panel


def stat(
    title: str,
    description: str,
    unit: str,
    *queries: Dataquery,
    thresholds: ThresholdsConfig | None = None,
    decimals: int | None = None,
    width: int = 6,
    height: int = 4,
    datasource: DataSourceRef = DATASOURCE,
) -> Stat:
    panel = (
        framed(Stat(), title, description, unit, queries, width=width, height=height, datasource=datasource)
        .graph_mode(BigValueGraphMode.AREA)
        .thresholds(thresholds if thresholds is not None else neutral())
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel


def table(
    title: str,
    description: str,
    unit: str,
    *queries: Dataquery,
    width: int = 12,
    height: int = 8,
    datasource: DataSourceRef = DATASOURCE,
) -> Table:
    """A ranked table of instant values (top-N panels)."""
    return framed(Table(), title, description, unit, queries, width=width, height=height, datasource=datasource)


# --- dashboard --------------------------------------------------------------------


def datasource_variable(type_val: str, uid: str, description: str) -> DatasourceVariable:
    """`$datasource`: every panel and query reads through it; it starts at the stack's own data source."""
    return (
        DatasourceVariable("datasource")
        .label("Data source")
        .description(description)
        .type(type_val)
        .current(VariableOption(selected=True, text=uid, value=uid))
    )


def env_variable() -> QueryVariable:
    # Each workspace holds one environment; 'All' also keeps panels working for
    # series that a scrape left without the label.
    return (
        QueryVariable("env")
        .label("Environment")
        .description("`env` label attached at scrape time")
        .datasource(DATASOURCE)
        .query("label_values(up, env)")
        .refresh(VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .include_all(True)
        .all_value(".*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def service_variable(anchor_metric: str, defaults: Sequence[str], label: str = "service") -> QueryVariable:
    """Services that expose `anchor_metric`; defaults to the catalog's services of the dashboard's kind."""
    current = (
        VariableOption(selected=True, text=list(defaults), value=list(defaults))
        if defaults
        else VariableOption(selected=True, text="All", value="$__all")
    )
    return (
        QueryVariable("service")
        .label("Service")
        .description(f"`{label}` label of the series of {anchor_metric}")
        .datasource(DATASOURCE)
        .query(f"label_values({anchor_metric}{{{ENV}}}, {label})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(current)
    )


# A row's panels, in reading order (laid out left to right, then down), and row title -> its panels.
Panels = Sequence[Builder[Panel]]
Rows = Mapping[str, Panels]


def dashboard(
    ctx: DashboardContext,
    slug: str,
    title: str,
    description: str,
    rows: Rows,
    *,
    variables: Sequence[Builder[VariableModel]] | None = None,
    service: QueryVariable | None = None,
) -> dict[str, Any]:
    """The JSON model of a dashboard with the shared header, `rows` below it.

    `variables` replaces the AMP `$datasource` and `$env` ones; `service` (a `service_variable`) follows them.
    """
    board = (
        Dashboard(f"Screener · {title}")
        .uid(ctx.uid(slug))
        .description(description)
        .tags([TAG, ctx.environment, "managed-by-pulumi"])
        .refresh(REFRESH)
        .time("now-6h", "now")
        .timezone("browser")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
        .annotation(deploy_annotations(ctx.environment))
        .link(
            DashboardLink("Screener dashboards")
            .type(DashboardLinkType.DASHBOARDS)
            # Both tags: the menu lists this environment's dashboards only.
            .tags([TAG, ctx.environment])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )
    if variables is None:
        variables = (
            datasource_variable(AMP_DATASOURCE_TYPE, ctx.datasource_uid, "AMP workspace of this environment"),
            env_variable(),
        )
    for variable in variables:
        board = board.with_variable(variable)
    if service is not None:
        board = board.with_variable(service)
    for row_title, panels in rows.items():
        board = board.with_row(Row(row_title))
        for panel in panels:
            board = board.with_panel(panel)
    return render(board)


def sentry_link(project_url: str) -> DashboardLink:
    """A panel link to the Sentry project's issues for the time range on screen (Grafana fills `__from`/`__to`)."""
    return (
        DashboardLink("Sentry issues of this time range")
        .type(DashboardLinkType.LINK)
        .url(f"{project_url}&start=${{__from:date:iso}}&end=${{__to:date:iso}}")
        .tooltip("The backend's errors in Sentry: stack traces, affected users, releases")
        .target_blank(True)
    )


def deploy_annotations(environment: str) -> AnnotationQuery:
    """Every deploy to this environment, as a marker on every time-series panel."""
    return (
        AnnotationQuery()
        .name("Deploys")
        .datasource(GRAFANA_ANNOTATIONS)
        .enable(True)
        .icon_color("rgba(0, 211, 255, 1)")
        # All tags must match (matchAny false): one Grafana serves every environment.
        .target(AnnotationTarget().type("tags").tags([DEPLOY_TAG, environment]).match_any(False).limit(100))
    )


def render(board: Dashboard) -> dict[str, Any]:
    """The dashboard's JSON model, with panel IDs numbered in reading order (stable diffs)."""
    model: dict[str, Any] = json.loads(JSONEncoder(sort_keys=True).encode(board.build()))
    next_id = 1
    for panel in model.get("panels", []):
        panel["id"] = next_id
        next_id += 1
        for nested in panel.get("panels", []):
            nested["id"] = next_id
            next_id += 1
    return model


def to_json(model: dict[str, Any]) -> str:
    """The text uploaded to Grafana and pinned in the golden files."""
    return json.dumps(model, indent=2, sort_keys=True) + "\n"
