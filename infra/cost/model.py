"""The cardinality model: active series, samples and query load of a stack, from its configuration.

Pure functions of the validated settings and the documents the program
renders from them (scrape jobs and their keep-lists, rule files, dashboards):

- scraped series = for each scrape job, targets x the series each target
  exposes after the keep-list (`infra.metrics`, shaped by `assumptions`);
- recording rules add their output series, evaluated every group interval;
- every rule evaluation and every dashboard refresh reads samples ("query
  samples processed"), estimated from each PromQL selector's matched series
  and the points its range covers.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import promql_parser

from dashboards.context import amp_panel_targets
from infra.collection.scrape_config import CLUSTER_EXPORTERS, COLLECTOR_JOB, KUBELET_JOBS, scrape_jobs
from infra.config.label_values import LABEL_VALUES
from infra.config.model import StackInput
from infra.cost.assumptions import (
    HOURS_PER_MONTH,
    METRIC_SHAPES,
    PANEL_MAX_DATA_POINTS,
    PER_TARGET_SERIES,
)
from infra.metrics import SCRAPED_BY_SOURCE, Metric

SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
_PER_NODE_JOBS = {exporter.job for exporter in CLUSTER_EXPORTERS if exporter.source == "node_exporter"} | {
    job for job, _, _ in KUBELET_JOBS
}
_SINGLE_TARGET_JOBS = {exporter.job for exporter in CLUSTER_EXPORTERS if exporter.source != "node_exporter"} | {
    COLLECTOR_JOB
}


@dataclass(frozen=True)
class SeriesLine:
    """The series of one metric (one wire name) from one scrape job; the job's name is its `service` label."""

    service: str
    metric: str
    series_name: str
    targets: int
    per_target: int

    @property
    def series(self) -> int:
        return self.targets * self.per_target


@dataclass(frozen=True)
class RuleLine:
    """One rule: the series it records (0 for alerts) and the samples each evaluation reads."""

    group: str
    name: str
    service: str | None
    interval_seconds: int
    output_series: int
    samples_per_evaluation: int

    @property
    def evaluations_per_month(self) -> float:
        return SECONDS_PER_MONTH / self.interval_seconds


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    expr: str
    refresh_seconds: int
    samples_per_refresh: int


@dataclass(frozen=True)
class Cardinality:
    scrape_interval_seconds: int
    series: tuple[SeriesLine, ...]
    rules: tuple[RuleLine, ...]
    panels: tuple[PanelQuery, ...]
    dashboard_viewing_hours_per_day: float

    @property
    def scraped_series(self) -> int:
        return sum(line.series for line in self.series)

    @property
    def recorded_series(self) -> int:
        return sum(rule.output_series for rule in self.rules)

    @property
    def active_series(self) -> int:
        return self.scraped_series + self.recorded_series

    @property
    def scraped_samples_per_month(self) -> float:
        return self.scraped_series * SECONDS_PER_MONTH / self.scrape_interval_seconds

    @property
    def recorded_samples_per_month(self) -> float:
        return sum(rule.output_series * rule.evaluations_per_month for rule in self.rules)

    @property
    def ingested_samples_per_month(self) -> float:
        return self.scraped_samples_per_month + self.recorded_samples_per_month

    @property
    def rule_query_samples_per_month(self) -> float:
        return sum(rule.samples_per_evaluation * rule.evaluations_per_month for rule in self.rules)

    @property
    def dashboard_query_samples_per_month(self) -> float:
        """The viewing hours are spread over the AMP dashboards: one is on screen at a time."""
        dashboards = {panel.dashboard for panel in self.panels}
        if not dashboards:
            return 0.0
        seconds_each = self.dashboard_viewing_hours_per_day * 3600 * (HOURS_PER_MONTH / 24) / len(dashboards)
        return sum(panel.samples_per_refresh * seconds_each / panel.refresh_seconds for panel in self.panels)

    @property
    def query_samples_per_month(self) -> float:
        return self.rule_query_samples_per_month + self.dashboard_query_samples_per_month

    def series_by_service(self) -> dict[str, int]:
        """Active series carrying each `service` label value (scraped, plus what rules record for it)."""
        totals: dict[str, int] = defaultdict(int)
        for line in self.series:
            totals[line.service] += line.series
        for rule in self.rules:
            if rule.service is not None:
                totals[rule.service] += rule.output_series
        return dict(totals)

    def series_by_metric(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for line in self.series:
            totals[line.metric] += line.series
        for rule in self.rules:
            totals[rule.name] += rule.output_series
        return {name: count for name, count in totals.items() if count}


def label_counts(settings: StackInput) -> dict[str, int]:
    """Every label-value count: the assumptions, then what the stack knows, then its explicit overrides."""
    counts = {name: values.count for name, values in LABEL_VALUES.items()}
    exporters = settings.collection.exporters
    if exporters is not None:
        counts["celery_queue"] = len(exporters.celery.queues)
    if settings.cost is not None:
        counts.update(settings.cost.label_values)
    return counts


def _label_count(label: str, counts: Mapping[str, int]) -> int:
    if label.endswith("/node"):
        return math.ceil(counts[label.removesuffix("/node")] / counts["node"])
    return counts[label]


def series_per_target(metric: Metric, counts: Mapping[str, int]) -> dict[str, int]:
    """Wire name -> series one target exposes: label-value product; histograms add buckets (+Inf) and _sum, _count."""
    shape = METRIC_SHAPES.get(metric.name)
    if shape is None:
        raise KeyError(f"metric {metric.name} has no shape in infra/cost/assumptions.py; add its labels there")
    product = math.prod(_label_count(label, counts) for label in shape.labels)
    if metric.type == "histogram":
        if shape.buckets is None:
            raise KeyError(f"histogram {metric.name} has no bucket count in infra/cost/assumptions.py")
        return {
            f"{metric.name}_bucket": product * (shape.buckets + 1),
            f"{metric.name}_sum": product,
            f"{metric.name}_count": product,
        }
    if metric.type == "summary":
        return {
            metric.name: product * counts["quantile"],
            f"{metric.name}_sum": product,
            f"{metric.name}_count": product,
        }
    return {metric.name: product}


def _targets(job: str, body: Mapping[str, Any], replicas: Mapping[str, int], counts: Mapping[str, int]) -> int:
    if job in _PER_NODE_JOBS:
        return counts["node"]
    if job in _SINGLE_TARGET_JOBS:
        return 1
    static = body.get("static_configs")
    if static:
        return sum(len(group.get("targets", [])) for group in static)
    return replicas[job]


@functools.cache
def _kept(regex: str) -> re.Pattern[str]:
    """A job's keep-list, as Prometheus applies it (anchored); jobs of one source share the text."""
    return re.compile(f"^(?:{regex})$")


def _keep_regex(body: Mapping[str, Any]) -> str:
    (keep,) = [r for r in body["metric_relabel_configs"] if r.get("action") == "keep"]
    return str(keep["regex"])


def scraped_series(settings: StackInput, counts: Mapping[str, int]) -> list[SeriesLine]:
    lines: list[SeriesLine] = []
    # The first scraped service of a name wins, as the catalog lookup by name did.
    replicas: dict[str, int] = {}
    for service in settings.services:
        replicas.setdefault(service.name, service.replicas)
    # (source, keep-list) -> the (metric, series, per-target) it keeps: the same for every job that shares them.
    kept_by_keep: dict[tuple[str, str], list[tuple[str, str, int]]] = {}
    for job in scrape_jobs(settings, settings.collection.cluster_name):
        targets = _targets(job.name, job.body, replicas, counts)
        key = (job.source, _keep_regex(job.body))
        kept_series = kept_by_keep.get(key)
        if kept_series is None:
            kept = _kept(key[1])
            kept_series = kept_by_keep[key] = [
                (metric.name, series_name, per_target)
                for metric in SCRAPED_BY_SOURCE[job.source]
                for series_name, per_target in series_per_target(metric, counts).items()
                if kept.match(series_name)
            ]
        for metric_name, series_name, per_target in kept_series:
            lines.append(SeriesLine(job.name, metric_name, series_name, targets, per_target))
        for series_name in PER_TARGET_SERIES:
            lines.append(SeriesLine(job.name, series_name, series_name, targets, 1))
    return lines


class _Series:
    """Series counts by wire name and service, for PromQL selectors."""

    def __init__(self, lines: Iterable[SeriesLine], buckets: Mapping[str, int]) -> None:
        self._by_name: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.buckets = buckets
        for line in lines:
            self._by_name[line.series_name][line.service] += line.series
        # A name's series over every service, kept as counts change: a selector that does not pick one
        # service reads it, and summing a metric's 500 services for each such selector was most of the walk.
        self._totals = {name: sum(by_service.values()) for name, by_service in self._by_name.items()}

    def record(self, name: str, service: str | None, series: int) -> None:
        self._by_name[name][service or ""] += series
        self._totals[name] = self._totals.get(name, 0) + series

    def services(self, node: Any) -> int:
        """Distinct `service` values among the series an expression selects."""
        found: set[str] = set()
        for item in _selectors(node):
            if item.name:
                found.update(service for service, count in self._by_name.get(item.name, {}).items() if count)
        return len(found)

    def matching(self, selector: _Selector, quoted: Sequence[str] = ()) -> int:
        by_service = self._by_name.get(selector.name, {})
        count: int | None = None
        for equality, text in selector.services:
            value = _quoted_value(text, quoted)
            if equality or "$" in value:
                # A dashboard variable selects one service at a time.
                count = max(by_service.values(), default=0) if "$" in value else by_service.get(value, 0)
        if count is None:
            count = self._totals.get(selector.name, 0)
        if selector.one_bucket:
            count = math.ceil(count / (self.buckets.get(selector.name.removesuffix("_bucket"), 0) + 1))
        return count


@dataclass(frozen=True)
class _Selector:
    """What the model reads of a vector selector, taken out of the parser's tree once."""

    name: str
    services: tuple[tuple[bool, str], ...]  # each `service` matcher: (an equality?, its value as parsed)
    one_bucket: bool  # one `le` of a histogram: one bucket of its series

    @classmethod
    def of(cls, selector: Any) -> _Selector:
        # Each `.matchers` access builds new Python objects from the parser's tree: read them once.
        matchers = selector.matchers.matchers
        name = selector.name or next((m.value for m in matchers if m.name == "__name__"), "")
        equal = promql_parser.MatchOp.Equal
        return cls(
            name,
            tuple((m.op == equal, str(m.value)) for m in matchers if m.name == "service"),
            name.endswith("_bucket") and any(m.name == "le" and m.op == equal for m in matchers),
        )


# Rule files repeat a few dozen expression shapes once per service, differing only in quoted label
# values (at 500 services, ~6,100 expressions of under 80 shapes), and parsing was half the model's
# time. So each shape is parsed once, its quoted values replaced by numbered stand-ins that the walk
# reads back with `_quoted_value`. A private-use character never occurs in an expression the program writes.
_STAND_IN = "\ue000"
_DOUBLE_QUOTED = re.compile(r'"([^"\\\n]*)"')
# Where the shape is not exact: escapes or other quotes (the regex above would split strings wrongly),
# and `__name__` (its value is the selector's name, which the parser reads from the text).
_NOT_SHAPED = ("\\", "'", "`", _STAND_IN, "__name__")
# The stand-ins of an expression's first quoted values, made once.
_STAND_INS = [f'"{_STAND_IN}{index}"' for index in range(32)]


def _quoted_value(text: str, quoted: Sequence[str]) -> str:
    """A matcher's value: as parsed, or the expression's own value where a shared tree has a stand-in."""
    return quoted[int(text[1:])] if text.startswith(_STAND_IN) else text


@dataclass(frozen=True)
class _Shape:
    """A parsed rule expression and what the model reads of it at one evaluation."""

    tree: Any
    reads: _Read
    pinned_service: str | None  # as parsed: perhaps a stand-in


class _ParsedRules:
    """Rule expressions, parsed once per shape; lives for one model only, so nothing is kept between plans."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._shapes: dict[str, _Shape] = {}

    def _shape(self, tree: Any) -> _Shape:
        selectors: list[Any] = []
        reads = _reads(tree, 1.0, self._interval, selectors)
        return _Shape(tree, reads, _pinned_service(selectors))

    def parse(self, expr: str) -> tuple[_Shape, tuple[str, ...]]:
        """`expr` parsed (perhaps shared with its shape's other expressions) and its stand-ins' values."""
        # (`in` per marker: several times faster than one regex search, on every rule.)
        if any(marker in expr for marker in _NOT_SHAPED):
            return self._shape(promql_parser.parse(expr)), ()
        # Text and quoted values alternate: text, value, text, ..., text.
        pieces = _DOUBLE_QUOTED.split(expr)
        quoted = pieces[1::2]
        if len(quoted) > len(_STAND_INS):
            return self._shape(promql_parser.parse(expr)), ()
        pieces[1::2] = _STAND_INS[: len(quoted)]
        shape = "".join(pieces)
        found = self._shapes.get(shape)
        if found is None:
            if "#" in shape:  # a comment, outside any string
                return self._shape(promql_parser.parse(expr)), ()
            try:
                tree = promql_parser.parse(shape)
            except ValueError:
                # A stand-in where the parser wants something else: the expression's own text decides.
                return self._shape(promql_parser.parse(expr)), ()
            found = self._shapes[shape] = self._shape(tree)
        return found, tuple(quoted)


def _seconds(delta: Any) -> float:
    return float(delta.total_seconds())


class _Read:
    """The samples one evaluation of a query reads, as a formula over the series counts."""

    def samples(self, series: _Series, quoted: Sequence[str] = ()) -> float:
        return 0.0


@dataclass(frozen=True)
class _SelectorRead(_Read):
    """A selector's series x points per step (a range's points, or 1 for an instant vector) x steps."""

    selector: _Selector
    points: float | None
    steps: float

    def samples(self, series: _Series, quoted: Sequence[str] = ()) -> float:
        if self.points is None:
            return series.matching(self.selector, quoted) * self.steps
        return series.matching(self.selector, quoted) * self.points * self.steps


@dataclass(frozen=True)
class _SumRead(_Read):
    """A function's arguments: read one after another."""

    parts: tuple[_Read, ...]

    def samples(self, series: _Series, quoted: Sequence[str] = ()) -> float:
        return sum(part.samples(series, quoted) for part in self.parts)


@dataclass(frozen=True)
class _BothRead(_Read):
    """A binary operator's two sides."""

    left: _Read
    right: _Read

    def samples(self, series: _Series, quoted: Sequence[str] = ()) -> float:
        return self.left.samples(series, quoted) + self.right.samples(series, quoted)


_NOTHING = _Read()


def _reads(node: Any, steps: float, interval: float, selectors: list[Any]) -> _Read:
    """Samples a query reads: each selector's series x points per step x steps, as a formula.

    The formula leaves the parser's tree behind (reading it builds Python objects
    at every step), so a tree shared by many rules is walked once. The same
    traversal appends every vector selector to `selectors`, in the order
    `promql_parser.walk` meets them (an aggregation's parameter before its
    expression), so an expression is walked once instead of once per question.
    """
    if isinstance(node, promql_parser.MatrixSelector):
        selector = node.vector_selector
        selectors.append(selector)
        return _SelectorRead(_Selector.of(selector), max(1.0, _seconds(node.range) / interval), steps)
    if isinstance(node, promql_parser.VectorSelector):
        selectors.append(node)
        return _SelectorRead(_Selector.of(node), None, steps)
    if isinstance(node, promql_parser.SubqueryExpr):
        inner_steps = steps * max(1.0, _seconds(node.range) / _seconds(node.step or node.range))
        return _reads(node.expr, inner_steps, interval, selectors)
    if isinstance(node, promql_parser.Call):
        return _SumRead(tuple(_reads(arg, steps, interval, selectors) for arg in node.args))
    if isinstance(node, promql_parser.BinaryExpr):
        left = _reads(node.lhs, steps, interval, selectors)
        return _BothRead(left, _reads(node.rhs, steps, interval, selectors))
    if isinstance(node, promql_parser.AggregateExpr):
        if node.param is not None:
            # topk's k, quantile's φ: read once per evaluation, not counted (as before), but walked.
            _collect(node.param, selectors)
        return _reads(node.expr, steps, interval, selectors)
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _reads(node.expr, steps, interval, selectors)
    return _NOTHING


def _selectors(node: Any) -> list[Any]:
    """Every vector selector of an expression, in `promql_parser.walk` order."""
    found: list[Any] = []
    _collect(node, found)
    return found


def _collect(node: Any, found: list[Any]) -> None:
    if isinstance(node, promql_parser.MatrixSelector):
        found.append(node.vector_selector)
    elif isinstance(node, promql_parser.VectorSelector):
        found.append(node)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _collect(arg, found)
    elif isinstance(node, promql_parser.BinaryExpr):
        _collect(node.lhs, found)
        _collect(node.rhs, found)
    elif isinstance(node, promql_parser.AggregateExpr):
        if node.param is not None:
            _collect(node.param, found)
        _collect(node.expr, found)
    elif isinstance(node, promql_parser.SubqueryExpr | promql_parser.ParenExpr | promql_parser.UnaryExpr):
        _collect(node.expr, found)


def _pinned_service(selectors: Iterable[Any]) -> str | None:
    """The `service` the selectors are pinned to by an equality matcher, if any (the first one), as parsed."""
    for selector in selectors:
        for m in selector.matchers.matchers:
            if m.name == "service" and m.op == promql_parser.MatchOp.Equal:
                return str(m.value)
    return None


def _service_of(node: Any, quoted: Sequence[str] = ()) -> str | None:
    """The `service` an expression is pinned to by an equality matcher, if any."""
    pinned = _pinned_service(_selectors(node))
    return None if pinned is None else _quoted_value(pinned, quoted)


def _output_series(node: Any, series: _Series, counts: Mapping[str, int], quoted: Sequence[str] = ()) -> int:
    """Series a recording rule writes: its aggregation's `by` labels decide (the model's labels otherwise)."""
    if isinstance(node, promql_parser.AggregateExpr):
        modifier = node.modifier
        if modifier is None or modifier.type == promql_parser.AggModifierType.Without:
            return 1 if modifier is None else _output_series(node.expr, series, counts, quoted)
        product = 1
        for label in modifier.labels:
            if label == "le":
                product *= _le_values(node.expr, series)
            elif label == "service":
                product *= 1 if _service_of(node, quoted) is not None else max(1, series.services(node))
            elif label in counts:
                product *= counts[label]
        return product
    if isinstance(node, promql_parser.Call):
        if node.func.name == "vector":
            return 1
        if node.func.name == "histogram_quantile":
            return max(
                1, _output_series(node.args[1], series, counts, quoted) // max(1, _le_values(node.args[1], series))
            )
        vectors = [a for a in node.args if not isinstance(a, promql_parser.NumberLiteral | promql_parser.StringLiteral)]
        return _output_series(vectors[0], series, counts, quoted) if vectors else 1
    if isinstance(node, promql_parser.BinaryExpr):
        left = _output_series(node.lhs, series, counts, quoted)
        return (
            left
            if not isinstance(node.lhs, promql_parser.NumberLiteral)
            else _output_series(node.rhs, series, counts, quoted)
        )
    if isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _output_series(node.expr, series, counts, quoted)
    if isinstance(node, promql_parser.MatrixSelector):
        return series.matching(_Selector.of(node.vector_selector), quoted)
    if isinstance(node, promql_parser.VectorSelector):
        return series.matching(_Selector.of(node), quoted)
    if isinstance(node, promql_parser.SubqueryExpr):
        return _output_series(node.expr, series, counts, quoted)
    return 1


def _le_values(node: Any, series: _Series) -> int:
    """Bucket bounds (+Inf) of the histogram a `histogram_quantile` aggregates."""
    names = [
        item.name.removesuffix("_bucket") for item in _selectors(node) if item.name and item.name.endswith("_bucket")
    ]
    return max((series.buckets.get(name, 0) + 1 for name in names), default=1)


def _duration_seconds(text: str) -> int:
    return int(_seconds(promql_parser.parse_duration(text)))


def rule_lines(
    rule_files: Mapping[str, Mapping[str, Any]], series: _Series, counts: Mapping[str, int], interval: float
) -> list[RuleLine]:
    """Every rule of the rule files, in order (a recording rule's output feeds the rules after it).

    The files come as data (`RuleFiles.documents`), the same data the uploaded
    YAML is written from: parsing megabytes of YAML back was most of the model's time.
    """
    lines: list[RuleLine] = []
    parsed = _ParsedRules(interval)
    for _, document in sorted(rule_files.items()):
        for group in document.get("groups", []):
            every = _duration_seconds(str(group.get("interval", "1m")))
            for rule in group.get("rules", []):
                shape, quoted = parsed.parse(rule["expr"])
                read = round(shape.reads.samples(series, quoted))
                pinned = shape.pinned_service
                service = None if pinned is None else _quoted_value(pinned, quoted)
                if "record" in rule:
                    output = _output_series(shape.tree, series, counts, quoted)
                    series.record(rule["record"], service, output)
                    lines.append(RuleLine(group["name"], rule["record"], service, every, output, read))
                else:
                    lines.append(RuleLine(group["name"], rule["alert"], service, every, 0, read))
    return lines


_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def panel_queries(dashboards: Mapping[str, Mapping[str, Any]], series: _Series, interval: int) -> list[PanelQuery]:
    """Each AMP panel query of each dashboard, with the samples one refresh reads over the default time range."""
    queries: list[PanelQuery] = []
    for slug, dashboard in sorted(dashboards.items()):
        refresh = _duration_seconds(str(dashboard.get("refresh") or "1m"))
        time_range = _duration_seconds(str(dashboard.get("time", {}).get("from", "now-6h")).removeprefix("now-"))
        step = max(interval, time_range / PANEL_MAX_DATA_POINTS)
        grafana = {"$__rate_interval": f"{4 * interval}s", "$__interval": f"{int(step)}s", "$__range": f"{time_range}s"}
        for _, target in amp_panel_targets(dashboard):
            expr = str(target["expr"])
            for name, value in grafana.items():
                expr = expr.replace(name, value)
            # Dashboard variables only appear inside label matchers' quoted values.
            parsed = promql_parser.parse(_VARIABLE.sub("$var", expr))
            steps = 1.0 if target.get("instant") else time_range / step
            read = _reads(parsed, steps, interval, []).samples(series)
            queries.append(PanelQuery(slug, expr, refresh, round(read)))
    return queries


def cardinality(
    settings: StackInput,
    rule_files: Mapping[str, Mapping[str, Any]],
    dashboards: Mapping[str, Mapping[str, Any]],
) -> Cardinality:
    """The model of one stack, from its settings and the rule files (as data) and dashboards rendered from them."""
    counts = label_counts(settings)
    interval = settings.collection.scrape_interval_seconds
    lines = scraped_series(settings, counts)
    buckets = {name: shape.buckets for name, shape in METRIC_SHAPES.items() if shape.buckets is not None}
    series = _Series(lines, buckets)
    rules = rule_lines(rule_files, series, counts, interval)
    panels = panel_queries(dashboards, series, interval)
    viewing = settings.cost.dashboard_viewing_hours_per_day if settings.cost is not None else 0.0
    return Cardinality(interval, tuple(lines), tuple(rules), tuple(panels), viewing)
