"""The shape of a rule: small typed values that the builders produce and `rules.py` renders.

Builders (`rule_*.py`, `slo.py`) return `RuleNamespace`s; they never write
YAML and never add runbook links (the renderer does both, in one place).
The helpers at the bottom keep PromQL literals consistent: one way to write
a selector, a number or a histogram bucket bound. Expressions are templates:
every window, offset and number of seconds on the alerting clock is written
with `dur()` / `secs()` (from `time_scale.py`), which the renderer fills at
its time scale, so that a local Prometheus can run the same rules faster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from infra.alerting.conventions import SEVERITIES as SEVERITIES
from infra.alerting.conventions import Severity as Severity
from infra.alerting.conventions import check_alert_text
from infra.alerting.time_scale import dur as dur
from infra.alerting.time_scale import secs as secs

if TYPE_CHECKING:
    from infra.config import StackInput
    from infra.config.core import ServiceKind, ServiceSpec

_RECORD_NAME = re.compile(r"^[a-z_]+:[a-zA-Z0-9_]+:[a-z0-9_]+$")
_DURATION = re.compile(r"^(0|[1-9][0-9]*[smhdw])$")
_NAMESPACE = re.compile(r"^[0-9A-Za-z][-.0-9A-Z_a-z]{0,63}$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Recording:
    """A recording rule; `record` follows `level:metric:operations`; `expr` is a template (see `dur`)."""

    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _RECORD_NAME.match(self.record):
            raise ValueError(f"recording rule name '{self.record}' is not level:metric:operations")


@dataclass(frozen=True)
class Alert:
    """An alerting rule.

    `service` is the static `service` label; None when the expression itself
    yields a `service` label: a rule over every service of a kind (`by
    (service)`, the usual case) or one that derives it (label_replace).
    `for_` has no default on purpose: every alert states how long it waits
    (production time; the renderer scales it). `expr` is a template whose
    windows and seconds are marked with `dur()` / `secs()`.
    """

    name: str
    expr: str
    for_: str
    severity: Severity
    service: str | None
    summary: str
    description: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_alert_text(self.name, self.summary)
        if not _DURATION.match(self.for_):
            raise ValueError(f"alert {self.name}: 'for' {self.for_!r} is not a Prometheus duration")
        if {"severity", "service"} & set(self.labels):
            raise ValueError(f"alert {self.name}: severity and service are fields, not extra labels")


Rule = Recording | Alert


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class RuleNamespace:
    """One AMP rule groups namespace, i.e. one Prometheus rule file."""

    name: str
    groups: tuple[RuleGroup, ...]

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.name):
            raise ValueError(f"'{self.name}' is not a valid AMP rule groups namespace name")

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(rule for group in self.groups for rule in group.rules)


def one_group_namespace(name: str, rules: Iterable[Rule]) -> tuple[RuleNamespace, ...]:
    """The namespace `name` holding its rules in one group of the same name; none when there is no rule.

    A stack without the services a builder watches uploads no empty rule file.
    Rules are written once per alert family and severity over every service
    (kubernetes-mixin style), so a group holds tens of rules whatever the
    catalog's size; AMP evaluates a group's rules in sequence and a recording
    is read at the same evaluation only by later rules of its own group
    (https://docs.aws.amazon.com/prometheus/latest/userguide/AMP-Ruler.html),
    which is why a namespace is not cut into groups by size. The quota policies
    (policies/screener_policies/amp_quotas.py) refuse a group over the stack's limit.
    """
    group = tuple(rules)
    return (RuleNamespace(name, (RuleGroup(name, group),)),) if group else ()


_Threshold = TypeVar("_Threshold")


def warning_and_critical(
    alert_at: Callable[[Severity, _Threshold], Alert], warning: _Threshold, critical: _Threshold
) -> list[Rule]:
    """One alert's twins: the same rule at its warning and at its critical threshold, warning first.

    Alertmanager holds the warning back while its critical twin fires for the
    same service and object (`alertmanager.TWIN_IDENTITY_LABELS`), so only the
    worse of the two reaches anyone.
    """
    return [alert_at("warning", warning), alert_at("critical", critical)]


# --- PromQL literals -------------------------------------------------------


def num(value: float) -> str:
    """A number as PromQL reads it: no float noise, no trailing zeros."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text or "0"


# What a PromQL string literal must escape (Go's string syntax): a quote would end the
# literal and open another matcher, a newline would end the expression.
_PROMQL_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})
# RE2's metacharacters; '-' only matters inside [...], which an escaped value never opens.
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def promql_string(value: str) -> str:
    """`value` as a double-quoted PromQL string literal that holds exactly `value`."""
    return '"' + value.translate(_PROMQL_STRING_ESCAPES) + '"'


def regex_literal(value: str) -> str:
    """A regular expression matching exactly `value` (its metacharacters escaped)."""
    return _REGEX_META.sub(r"\\\1", value)


def matchers(**values: str) -> str:
    """The inside of a selector's braces: `name="value"`, comma-separated, every value escaped.

    A value starting with `~`, `!~` or `!` makes a regex, negative regex or negative
    matcher; the rest is the value (for regex matchers, the regular expression).
    """
    parts = []
    for name, value in values.items():
        if not _LABEL_NAME.match(name):
            raise ValueError(f"'{name}' is not a label name")
        for prefix, op in (("!~", "!~"), ("~", "=~"), ("!", "!=")):
            if value.startswith(prefix):
                parts.append(f"{name}{op}{promql_string(value[len(prefix) :])}")
                break
        else:
            parts.append(f"{name}={promql_string(value)}")
    return ",".join(parts)


def sel(metric: str, **values: str) -> str:
    """A vector selector, the one way rules write one (see `matchers` for the value syntax)."""
    if not values:
        return metric
    return f"{metric}{{{matchers(**values)}}}"


def le_matcher(bound_ms: int) -> str:
    """Matcher value for the histogram bucket bound `bound_ms`.

    prometheus_client writes bounds as Python floats ("0.5", "1.0", "10.0");
    Prometheus 3 scrapers normalise whole numbers to "1", "10". Matching both
    keeps the SLI right whichever collector version sits in between.
    """
    seconds = bound_ms / 1000
    if seconds == int(seconds):
        return f"~{int(seconds)}(\\.0)?"
    return num(seconds)


def one_of(values: tuple[str, ...] | list[str]) -> str:
    """Regex matcher value for a set of label values (sorted, deduplicated, each matched literally)."""
    return "~" + "|".join(regex_literal(value) for value in sorted(set(values)))


def expects_series(settings: StackInput) -> bool:
    """Whether anything writes series into this stack's workspace (its collection mode is not `none`).

    An absence alert (`absent(...)`) fires on an empty workspace; a stack that
    collects nothing must not upload one, or it pages from the moment it is
    deployed.
    """
    return settings.collection.mode != "none"


def scraped_services(settings: StackInput, kind: ServiceKind) -> tuple[ServiceSpec, ...]:
    """Services of `kind` in the catalog that are scraped (rules exist only for what exists)."""
    return tuple(service for service in settings.services if service.kind == kind and service.scrape)


def service_matcher(services: Iterable[ServiceSpec]) -> str:
    """`service` matcher value (for `sel`) of exactly these services: one equality, or one anchored regex of all.

    Used only where a rule must name the services of a kind (an absence, or a
    default that needs a series to hang on); every other family rule reads the
    metric of its kind for whatever `service` carries it.
    """
    names = sorted({service.name for service in services})
    if not names:
        raise ValueError("no service to match")
    return names[0] if len(names) == 1 else one_of(names)


def labelled_constants(label: str, values: Mapping[str, float]) -> str:
    """A vector with one sample per entry, `label` set to its key, valued its number (empty mapping: none).

    The way a per-service setting becomes data a family rule joins against:
    `label_replace` writes the label onto a constant, `or` joins them. The
    `or`s nest as a balanced tree of short chains: a chain of 2,000 parses as
    a tree 2,000 deep, past the recursion of the Python tools that read rules
    (the cost model, the quota check), while Prometheus evaluates either alike.
    """
    terms = [
        f'label_replace(vector({num(value)}), "{label}", {promql_string(key)}, "", "")'
        for key, value in sorted(values.items())
    ]
    return _balanced_or(terms)


_CHAIN = 16


def _balanced_or(terms: list[str]) -> str:
    if len(terms) <= _CHAIN:
        return "\nor ".join(terms)
    half = len(terms) // 2
    return f"(\n{_balanced_or(terms[:half])}\n)\nor (\n{_balanced_or(terms[half:])}\n)"
