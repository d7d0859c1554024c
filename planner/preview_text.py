"""What `make plan` prints, in `pulumi preview`'s shape: a tree of Type / Name / Plan, then outputs,
diagnostics grouped by what they are about, and the `Resources:` summary.

By default the tree stops at components (a component's own resources are counted by type in the Info
column), so a stack reads on one screen; `--details` (`make plan VERBOSE=1`) lists every resource with
its inputs, one per line, as `pulumi preview --diff` does. No line is wider than `WIDTH`: a longer value
is cut and says so, and the whole value is in build/<stack>/plan.json and its artifact files.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterable
from typing import Any

from planner.engine import Diagnostic, Plan, PlannedResource, Secret
from planner.simulated import SimulatedMarker

WIDTH = 160
SIMULATED_MARK = "(simulated)"
# Inputs that say nothing about what is created: tags are the stack's tags on every resource
# (policy `every-resource-tagged` checks them), and `compat`/`__defaults` are SDK bookkeeping.
_NOISE_INPUTS = frozenset({"tags", "tagsAll", "__defaults", "compat"})


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def short_type(resource_type: str) -> str:
    """`aws:amp/ruleGroupNamespace:RuleGroupNamespace` -> `RuleGroupNamespace` (for counts)."""
    return resource_type.rsplit(":", 1)[-1]


def _protection(resources: Iterable[PlannedResource]) -> str:
    resources = list(resources)
    protected = sum(r.protect for r in resources)
    retained = sum(r.retain_on_delete for r in resources)
    marks = [f"{protected} protected" if protected else "", f"{retained} kept on delete" if retained else ""]
    return ", ".join(mark for mark in marks if mark)


def _value(value: Any, simulated: SimulatedMarker) -> str:
    if isinstance(value, Secret):
        return "[secret]"
    mark = f" {SIMULATED_MARK}" if simulated(value) else ""
    if isinstance(value, str) and "\n" in value:
        return f"<text: {value.count(chr(10)) + 1} lines, {len(value.encode()):,} bytes>{mark}"
    if isinstance(value, str) and value[:1] in "{[" and len(value) > 80:
        return f"<JSON: {len(value.encode()):,} bytes>{mark}"
    return json.dumps(value, default=str) + mark


def _inputs(resource: PlannedResource, simulated: SimulatedMarker, indent: str) -> list[str]:
    shown = {
        key: value
        for key, value in sorted(resource.inputs.items())
        if key not in _NOISE_INPUTS and value not in ("", None, [], {})
    }
    width = max((len(key) for key in shown), default=0)
    return [_cut(f"{indent}{key:<{width}} : {_value(value, simulated)}", WIDTH) for key, value in shown.items()]


def render_tree(plan: Plan, simulated: SimulatedMarker, *, details: bool = False) -> list[str]:
    """The Type / Name / Plan tree: components and the stack's own resources, or (`details`) everything."""
    rows: list[tuple[str, str, str, str, list[str]]] = []  # prefix, type, name, info, input lines

    def shown(resource: PlannedResource, depth: int) -> bool:
        # A component's own resources are counted in its Info column unless every one is asked for.
        return details or not resource.custom or depth == 1

    def walk(parent: str, depth: int) -> None:
        children = [child for child in plan.children_of(parent) if shown(child, depth)]
        for index, resource in enumerate(children):
            branch = "└─ " if index == len(children) - 1 else "├─ "
            prefix = "│  " * (depth - 1) + branch
            info = _protection([resource]) if resource.custom else _component_info(plan, resource)
            inputs = _inputs(resource, simulated, " " * 9 + "│  " * depth) if details and resource.custom else []
            rows.append((prefix, resource.type, resource.name, info, inputs))
            walk(resource.urn, depth + 1)

    walk(f"urn:pulumi:{plan.stack}::monitoring::pulumi:pulumi:Stack::monitoring-{plan.stack}", 1)
    stack_row: tuple[str, str, str, str, list[str]] = ("", "pulumi:pulumi:Stack", f"monitoring-{plan.stack}", "", [])
    type_width = min(max(len(prefix + kind) for prefix, kind, *_ in (stack_row, *rows)), 72)
    name_width = min(max(len(name) for _, _, name, *_ in (stack_row, *rows)), 48)
    lines = [f"     {'Type':<{type_width}}  {'Name':<{name_width}}  Plan    Info"]
    for prefix, kind, name, info, inputs in (stack_row, *rows):
        line = f" +   {prefix + kind:<{type_width}}  {name:<{name_width}}  create  {info}".rstrip()
        lines.append(_cut(line, WIDTH))
        lines.extend(inputs)
    return lines


def _component_info(plan: Plan, component: PlannedResource) -> str:
    """A component's own resources, counted by type, and how many are protected."""
    own = [r for r in plan.children_of(component.urn) if r.custom]
    if not own:
        return ""
    counts = Counter(short_type(r.type) for r in own)
    text = ", ".join(f"{count} {name}" for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    protection = _protection(own)
    return f"{protection}; {text}" if protection else text


def _packed(items: list[str], indent: str) -> list[str]:
    """`items` on as few lines as fit the width, never split inside an item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 1 + len(item) <= WIDTH:
            lines[-1] += f" {item}"
        else:
            lines.append(f"{indent}{item}")
    return lines


def _urls(key: str, value: Any) -> list[tuple[str, str]]:
    """The https URLs in an output, each with its path (`grafana_dashboard_urls.api`)."""
    if isinstance(value, str):
        return [(key, value)] if value.startswith("https://") else []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _urls(f"{key}.{k}", v)]
    return []


def render_outputs(outputs: dict[str, Any], simulated: SimulatedMarker, *, details: bool = False) -> list[str]:
    """`Outputs:`. By default the names, then every URL a user opens (in full); with `details` every value."""
    invented = sorted(key for key, value in outputs.items() if simulated(value))
    lines = [f"Outputs: {len(outputs)}, {len(invented)} {SIMULATED_MARK}: invented offline, `pulumi up` reports them"]
    if details:
        width = max((len(key) for key in outputs), default=0)
        for key, value in sorted(outputs.items()):
            mark = f"  {SIMULATED_MARK}" if key in invented else ""
            if isinstance(value, dict) and value:
                lines.append(f"    {key:<{width}}:{mark}")
                inner = max(len(k) for k in value)
                lines += [_cut(f"        {k:<{inner}}: {json.dumps(v, default=str)}", WIDTH) for k, v in value.items()]
            else:
                text = json.dumps(value, default=str)
                lines.append(f"    {key:<{width}}: {_cut(text, WIDTH - len(mark) - width - 6)}{mark}")
        return lines
    names = [f"{key} {SIMULATED_MARK}" if key in invented else key for key in sorted(outputs)]
    lines += _packed([f"{name}," for name in names[:-1]] + names[-1:], "    ")
    # A simulated URL opens nothing: it is named above, marked, and its value is in plan.json.
    urls = [found for key, value in sorted(outputs.items()) for found in _urls(key, value) if not simulated(found[1])]
    width = max((len(path) for path, _ in urls), default=0)
    lines += ["  URLs:", *(_cut(f"    {path:<{width}}  {url}", WIDTH) for path, url in urls)]
    return lines


def about(plan: Plan, diagnostic: Diagnostic) -> str:
    """What a logged message is about: the resource it names, or the stack."""
    resource = next((r for r in plan.resources if r.urn == diagnostic.urn), None)
    return f"{resource.name} ({resource.type})" if resource is not None else f"stack {plan.stack}"


def render_diagnostics(groups: dict[str, list[tuple[str, str]]]) -> list[str]:
    """`Diagnostics:` grouped by what they are about, each message wrapped to the width, none twice."""
    if not groups:
        return []
    lines = ["Diagnostics:"]
    for subject, messages in groups.items():
        lines.append(f"  {subject}:")
        for severity, message in dict.fromkeys(messages):
            lines += textwrap.wrap(
                f"{severity}: {message}",
                WIDTH,
                initial_indent="    ",
                subsequent_indent="      ",
                break_long_words=False,
                break_on_hyphens=False,
            )
    return lines


def summary(plan: Plan) -> list[str]:
    """`Resources:` as `pulumi preview` ends (everything is a create offline), with the kinds counted."""
    components = sum(1 for r in plan.resources if not r.custom)
    providers = sum(1 for r in plan.resources if r.type.startswith("pulumi:providers:"))
    protected = sum(r.protect for r in plan.resources)
    return [
        "Resources:",
        f"    + {len(plan.resources)} to create ({components} components, {providers} providers, "
        f"{len(plan.resources) - components - providers} cloud resources; {protected} protected)",
    ]
