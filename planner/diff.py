"""What a change does to a stack: the difference between two offline plans.

`diff_plans(base, head)` compares two plan documents (`build/<stack>/plan.json`,
written by `python -m planner`) and the documents the program uploads
(`build/<stack>/rules/`, `alertmanager/`, ...): resources added, removed and
changed (each changed input by key path), protect and alias changes, stack
outputs, line diffs of every uploaded document, and what changed in each alert
rule in words ("ApiHighErrorRate (warning): threshold 0.01 → 0.02").
`render_text` prints it for a terminal; `render_markdown` for a pull-request
comment that stays under GitHub's comment size limit.

Secrets never appear: the plan documents already hold `[secret]` in their place,
and a secret compares equal to any other secret.
`planner/plan_diff.py` is the command line (`make plan-diff`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from planner.artifacts import ARTIFACTS

SECRET_TEXT = "[secret]"
# GitHub refuses a comment body longer than 65536 characters; the workflow adds a
# line of its own, so the rendered comment keeps a margin.
GITHUB_COMMENT_LIMIT = 65536
MARKDOWN_LIMIT = GITHUB_COMMENT_LIMIT - 1536

# Inputs that say nothing a reviewer needs: provider bookkeeping and the tags the
# provider derives from `tags` (a tag change already shows under `tags`).
_IGNORED_INPUTS = frozenset({"__defaults", "tagsAll"})
_MAX_INPUT_CHANGES = 25  # per resource; the rest is counted
_SHORT = 100  # characters of a value shown inline


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class ValueChange:
    """One key path whose value differs (`before`/`after` may be ABSENT)."""

    path: str
    before: Any
    after: Any
    note: str = ""  # e.g. which uploaded document shows the change in full
    sentence: str = ""  # said in words instead of before → after (a policy document's changes)

    def describe(self) -> str:
        if self.sentence:
            return f"{self.path}: {self.sentence}"
        if isinstance(self.before, str) and isinstance(self.after, str) and _is_long(self.before, self.after):
            text = f"{self.path}: changed ({_line_count(self.before)} → {_line_count(self.after)} lines)"
        else:
            text = f"{self.path}: {show_value(self.before)} → {show_value(self.after)}"
        return f"{text} ({self.note})" if self.note else text


@dataclass(frozen=True)
class ResourceRef:
    urn: str
    type: str
    name: str
    protect: bool


@dataclass(frozen=True)
class ResourceChange:
    resource: ResourceRef
    changes: tuple[ValueChange, ...]


@dataclass(frozen=True)
class DocumentDiff:
    """A line diff of one uploaded document (path relative to build/<stack>/)."""

    path: str
    status: str  # added | removed | changed
    lines: tuple[str, ...]  # unified diff, without the ---/+++ header

    @property
    def counts(self) -> tuple[int, int]:
        added = sum(1 for line in self.lines if line.startswith("+"))
        removed = sum(1 for line in self.lines if line.startswith("-"))
        return added, removed


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    base_label: str
    head_label: str
    added: tuple[ResourceRef, ...] = ()
    removed: tuple[ResourceRef, ...] = ()
    changed: tuple[ResourceChange, ...] = ()
    unchanged: int = 0
    outputs: tuple[ValueChange, ...] = ()
    documents: tuple[DocumentDiff, ...] = ()
    rules: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (rule file, sentences)
    notes: tuple[str, ...] = field(default=())

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.outputs or self.documents)

    def counts(self) -> str:
        return (
            f"{len(self.added)} to add, {len(self.removed)} to remove, "
            f"{len(self.changed)} to change, {self.unchanged} unchanged"
        )


# --- values -------------------------------------------------------------------


def _is_long(*values: str) -> bool:
    return any("\n" in v or len(v) > _SHORT for v in values)


def _line_count(value: str) -> int:
    return len(value.splitlines())


def show_value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if value == SECRET_TEXT:
        return SECRET_TEXT
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def _decode_json_document(value: Any) -> Any:
    """An IAM policy or similar JSON document held in a string, as data, so that
    a change shows per key path instead of as one long string."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def diff_values(before: Any, after: Any, path: str = "") -> Iterator[ValueChange]:
    """Every key path whose value differs, depth first, in sorted key order; a policy document's changes
    statement by statement (see `diff_policies`)."""
    before, after = _decode_json_document(before), _decode_json_document(after)
    if before == after:
        return
    if is_policy_document(before) and is_policy_document(after):
        yield from diff_policies(before, after, path)
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            yield from diff_values(before.get(key, ABSENT), after.get(key, ABSENT), _join(path, str(key)))
        return
    if isinstance(before, list) and isinstance(after, list):
        # A short list of plain values reads best whole ("[a, b] → [a, b, c]").
        if all(not isinstance(v, dict | list) for v in [*before, *after]) and len(json.dumps(before + after)) <= _SHORT:
            yield ValueChange(path, before, after)
            return
        for index in range(max(len(before), len(after))):
            yield from diff_values(
                before[index] if index < len(before) else ABSENT,
                after[index] if index < len(after) else ABSENT,
                f"{path}[{index}]",
            )
        return
    yield ValueChange(path, before, after)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- policy documents -----------------------------------------------------------
#
# An IAM, key, topic, bucket or trust policy is read as IAM evaluates it: statements, each a set of actions,
# resources and principals and a condition block whose values are sets (IAM user guide, "IAM JSON policy
# element reference": Action/Resource/Principal take a string or an array; a condition key's values are ORed;
# statement order means nothing). So a reordered list is no change, and a statement, an action, a resource, a
# principal or a condition value gained or lost is named, with whether it grants more.

_STATEMENT_SETS = ("Action", "NotAction", "Resource", "NotResource")
# What widens an Allow (and narrows a Deny) when it gains values.
_WIDENS_WHEN_GAINED = frozenset({"Action", "Resource", "Principal"})


def is_policy_document(value: Any) -> bool:
    """A policy document: a mapping whose Statement is a statement or a list of statements."""
    if not isinstance(value, dict) or "Statement" not in value:
        return False
    statements = value["Statement"]
    return isinstance(statements, dict) or (
        isinstance(statements, list) and all(isinstance(s, dict) for s in statements)
    )


def _as_set(value: Any) -> set[str]:
    if value is None or value is ABSENT:
        return set()
    values = value if isinstance(value, list) else [value]
    return {v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values}


def _principals(statement: Mapping[str, Any], key: str = "Principal") -> set[str]:
    principal = statement.get(key)
    if principal is None:
        return set()
    if not isinstance(principal, dict):
        return {f"{principal}"}
    return {f"{kind}:{value}" for kind, values in principal.items() for value in _as_set(values)}


def _conditions(statement: Mapping[str, Any]) -> dict[tuple[str, str], set[str]]:
    block = statement.get("Condition") or {}
    return {
        (operator, key): _as_set(values)
        for operator, keys in (block.items() if isinstance(block, dict) else [])
        for key, values in (keys.items() if isinstance(keys, dict) else [])
    }


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return [statements] if isinstance(statements, dict) else list(statements)


def _statement_label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f'statement "{sid}"' if isinstance(sid, str) and sid else f"statement [{index}]"


_SUMMARY_WORDS = {
    "Action": "",
    "NotAction": "all actions but ",
    "Resource": "on ",
    "NotResource": "on all but ",
    "Principal": "to ",
    "NotPrincipal": "to all but ",
}


def _summary(statement: Mapping[str, Any]) -> str:
    """`Allow sns:Publish on arn:... to Service:aps.amazonaws.com if StringEquals aws:SourceAccount=...`"""
    words = [str(statement.get("Effect", "?"))]
    for key, lead in _SUMMARY_WORDS.items():
        if key in statement:
            values = _principals(statement, key) if "Principal" in key else _as_set(statement[key])
            words.append(lead + ", ".join(sorted(values)))
    conditions = _conditions(statement)
    if conditions:
        words.append(
            "if "
            + " and ".join(f"{op} {key}={'|'.join(sorted(values))}" for (op, key), values in sorted(conditions.items()))
        )
    return " ".join(words)


def _pair_statements(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """(matched (old index, new index), removed old indexes, added new indexes): by Sid, then identical
    statements, then same Effect and Principal, then what is left in order."""
    pairs: list[tuple[int, int]] = []
    left_old, left_new = list(range(len(old))), list(range(len(new)))

    def match(key: Any) -> None:
        for i in list(left_old):
            for j in list(left_new):
                if key(old[i]) is not None and key(old[i]) == key(new[j]):
                    pairs.append((i, j))
                    left_old.remove(i)
                    left_new.remove(j)
                    break

    match(lambda s: s.get("Sid") or None)
    match(lambda s: None if s.get("Sid") else json.dumps(s, sort_keys=True))
    match(lambda s: None if s.get("Sid") else (s.get("Effect"), json.dumps(s.get("Principal"), sort_keys=True)))
    # Statements without a Sid that changed Effect or Principal: in order, the rest added or removed.
    unnamed_old = [i for i in left_old if not old[i].get("Sid")]
    unnamed_new = [j for j in left_new if not new[j].get("Sid")]
    for i, j in zip(unnamed_old, unnamed_new, strict=False):
        pairs.append((i, j))
        left_old.remove(i)
        left_new.remove(j)
    return pairs, left_old, left_new


def _grants_more(effect: str, gained: bool) -> str:
    """Gaining a value widens an Allow and narrows a Deny; losing one, the reverse."""
    wider = gained == (effect == "Allow")
    return " (grants more)" if wider else ""


def _statement_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    sentences: list[str] = []
    effect = str(new.get("Effect", ""))
    if old.get("Effect") != new.get("Effect"):
        sentences.append(
            f"Effect {old.get('Effect')} → {new.get('Effect')}" + (" (grants more)" if effect == "Allow" else "")
        )
    sets = {key: (_as_set(old.get(key, ABSENT)), _as_set(new.get(key, ABSENT))) for key in _STATEMENT_SETS}
    sets["Principal"] = (_principals(old), _principals(new))
    sets["NotPrincipal"] = (_principals(old, "NotPrincipal"), _principals(new, "NotPrincipal"))
    for key, (before, after) in sets.items():
        widens = key in _WIDENS_WHEN_GAINED
        for value in sorted(after - before):
            sentences.append(f"{key} + {value}" + _grants_more(effect, widens))
        for value in sorted(before - after):
            sentences.append(f"{key} - {value}" + _grants_more(effect, not widens))
    old_conditions, new_conditions = _conditions(old), _conditions(new)
    for operator, key in sorted(set(old_conditions) | set(new_conditions)):
        was, now = old_conditions.get((operator, key)), new_conditions.get((operator, key))
        if was is None:
            # A new condition narrows an Allow.
            sentences.append(
                f"Condition {operator} {key} added: {'|'.join(sorted(now or ()))}" + _grants_more(effect, False)
            )
        elif now is None:
            sentences.append(
                f"Condition {operator} {key} removed (was {'|'.join(sorted(was))})" + _grants_more(effect, True)
            )
        else:
            # A condition key's values are ORed: one more value admits more requests.
            for value in sorted(now - was):
                sentences.append(f"Condition {operator} {key} + {value}" + _grants_more(effect, True))
            for value in sorted(was - now):
                sentences.append(f"Condition {operator} {key} - {value}" + _grants_more(effect, False))
    known = {"Sid", "Effect", "Condition", "Principal", "NotPrincipal", *_STATEMENT_SETS}
    for key in sorted((set(old) | set(new)) - known, key=str):
        if old.get(key, ABSENT) != new.get(key, ABSENT):
            sentences.append(f"{key} {show_value(old.get(key, ABSENT))} → {show_value(new.get(key, ABSENT))}")
    return sentences


def diff_policies(before: Mapping[str, Any], after: Mapping[str, Any], path: str = "") -> Iterator[ValueChange]:
    """A policy document's changes in words: statements added or removed, and in each kept statement every
    action, resource, principal and condition value gained or lost (and whether that grants more)."""
    old, new = _statements(before), _statements(after)
    pairs, removed, added = _pair_statements(old, new)
    found = False
    for key in sorted((set(before) | set(after)) - {"Statement"}, key=str):
        if before.get(key, ABSENT) != after.get(key, ABSENT):
            found = True
            yield ValueChange(_join(path, key), before.get(key, ABSENT), after.get(key, ABSENT))
    for j in added:
        found = True
        grants = " (grants more)" if new[j].get("Effect") == "Allow" else ""
        yield ValueChange(
            path, ABSENT, new[j], sentence=f"{_statement_label(new[j], j)} added{grants}: {_summary(new[j])}"
        )
    for i in removed:
        found = True
        grants = " (grants more)" if old[i].get("Effect") == "Deny" else ""
        yield ValueChange(
            path, old[i], ABSENT, sentence=f"{_statement_label(old[i], i)} removed{grants}: {_summary(old[i])}"
        )
    for i, j in sorted(pairs, key=lambda pair: pair[1]):
        for sentence in _statement_changes(old[i], new[j]):
            found = True
            yield ValueChange(path, old[i], new[j], sentence=f"{_statement_label(new[j], j)}: {sentence}")
    if not found:
        # Only the order or the spelling (a string for a one-element list) changed: no permission did.
        yield ValueChange(path, before, after, sentence="rewritten, the same permissions (order or spelling only)")


# --- resources ----------------------------------------------------------------


def _ref(resource: Mapping[str, Any]) -> ResourceRef:
    return ResourceRef(resource["urn"], resource["type"], resource["name"], bool(resource.get("protect")))


def document_path(resource: Mapping[str, Any], input_key: str) -> str | None:
    """Where `make plan` writes the document an input carries, if it is one
    (the same rule as planner/artifacts.py)."""
    for spec in ARTIFACTS:
        if spec.resource_type == resource["type"] and spec.input_key == input_key:
            base = resource.get("inputs", {}).get(spec.name_key) if spec.name_key else None
            name = base if isinstance(base, str) else resource["name"]
            return f"{spec.directory}/{name}.{spec.extension}"
    return None


def _resource_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[ValueChange]:
    changes: list[ValueChange] = []
    if bool(before.get("protect")) != bool(after.get("protect")):
        changes.append(ValueChange("protect", bool(before.get("protect")), bool(after.get("protect"))))
    if bool(before.get("retainOnDelete")) != bool(after.get("retainOnDelete")):
        changes.append(
            ValueChange("retainOnDelete", bool(before.get("retainOnDelete")), bool(after.get("retainOnDelete")))
        )
    if list(before.get("aliases", [])) != list(after.get("aliases", [])):
        changes.append(ValueChange("aliases", list(before.get("aliases", [])), list(after.get("aliases", []))))
    old_inputs, new_inputs = before.get("inputs", {}), after.get("inputs", {})
    for key in sorted(set(old_inputs) | set(new_inputs)):
        if key in _IGNORED_INPUTS:
            continue
        old, new = old_inputs.get(key, ABSENT), new_inputs.get(key, ABSENT)
        if old == new:
            continue
        document = document_path(after, key) or document_path(before, key)
        if document is not None:
            # The document's own line diff below says what changed; one line here.
            changes.append(ValueChange(key, old, new, note=f"see {document}"))
        else:
            changes.extend(diff_values(old, new, f"inputs.{key}"))
    return changes


def diff_resources(
    base: Mapping[str, Any], head: Mapping[str, Any]
) -> tuple[list[ResourceRef], list[ResourceRef], list[ResourceChange], int]:
    """(added, removed, changed, unchanged count) between two plan documents,
    resources matched by URN as the Pulumi engine matches them."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    added = [_ref(new[urn]) for urn in new if urn not in old]
    removed = [_ref(old[urn]) for urn in old if urn not in new]
    changed: list[ResourceChange] = []
    unchanged = 0
    for urn, resource in new.items():
        if urn not in old:
            continue
        changes = _resource_changes(old[urn], resource)
        if changes:
            changed.append(ResourceChange(_ref(resource), tuple(changes)))
        else:
            unchanged += 1
    return added, removed, changed, unchanged


# --- uploaded documents -------------------------------------------------------


def read_documents(directory: Path | None) -> dict[str, str]:
    """Every document `make plan` wrote under build/<stack>/ (plan.json aside)."""
    if directory is None or not directory.is_dir():
        return {}
    return {
        path.relative_to(directory).as_posix(): path.read_text()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.name != "plan.json"
    }


def diff_documents(base: Mapping[str, str], head: Mapping[str, str], context: int = 3) -> list[DocumentDiff]:
    diffs = []
    for path in sorted(set(base) | set(head)):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "changed"
        lines = difflib.unified_diff(
            (old or "").splitlines(), (new or "").splitlines(), f"a/{path}", f"b/{path}", n=context, lineterm=""
        )
        body = tuple(list(lines)[2:])  # drop the ---/+++ header: the path is shown anyway
        diffs.append(DocumentDiff(path, status, body))
    return diffs


# --- alert rules in words -----------------------------------------------------

# A PromQL expression scanned into what a reviewer compares: string literals (kept
# as they are), durations ("5m") and numbers; everything else is the skeleton.
_PROMQL_TOKEN = re.compile(
    r"""(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""
    r"|(?P<duration>(?<![\w.])(?:\d+(?:ms|[smhdwy]))+(?![\w.]))"
    r"|(?P<number>(?<![\w.])\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.]))"
)
_COMPARISON = re.compile(r"(?:[<>]=?|[=!]=)\s*(?:bool\s*)?$")


def _scan_expr(expr: str) -> tuple[str, list[tuple[str, str]]]:
    """(skeleton, [(kind, literal)]): kind is threshold (a number right after a
    comparison), window (a duration) or constant (any other number)."""
    skeleton: list[str] = []
    literals: list[tuple[str, str]] = []
    position = 0
    for match in _PROMQL_TOKEN.finditer(expr):
        skeleton.append(expr[position : match.start()])
        position = match.end()
        if match.lastgroup == "string":
            skeleton.append(match.group())
            continue
        kind = "window" if match.lastgroup == "duration" else "constant"
        if kind == "constant" and _COMPARISON.search("".join(skeleton)):
            kind = "threshold"
        skeleton.append("\0")
        literals.append((kind, match.group()))
    skeleton.append(expr[position:])
    return " ".join("".join(skeleton).split()), literals


def describe_expr_change(before: str, after: str) -> list[str]:
    """`threshold 0.01 → 0.02`, `window 5m → 10m`, or `expression changed` when
    more than numbers and durations differ."""
    old_skeleton, old_literals = _scan_expr(before)
    new_skeleton, new_literals = _scan_expr(after)
    if old_skeleton != new_skeleton:
        return ["expression changed"]
    return [
        f"{kind} {old} → {new}" for (kind, old), (_, new) in zip(old_literals, new_literals, strict=True) if old != new
    ]


def _rules_by_key(document: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """({group name: group settings}, {rule display name: rule}) of one rule file."""
    data = yaml.safe_load(document) or {}
    groups: dict[str, dict[str, Any]] = {}
    rules: dict[str, dict[str, Any]] = {}
    for group in data.get("groups", []) or []:
        name = str(group.get("name", ""))
        groups[name] = {k: v for k, v in group.items() if k not in ("name", "rules")}
        for rule in group.get("rules", []) or []:
            if "alert" in rule:
                severity = (rule.get("labels") or {}).get("severity")
                display = f"{rule['alert']} ({severity})" if severity else str(rule["alert"])
            else:
                display = f"recording rule {rule.get('record')}"
            key, copy = display, 2
            while key in rules:  # the same alert twice with one severity: number them
                key, copy = f"{display} #{copy}", copy + 1
            rules[key] = rule
    return groups, rules


def _describe_rule_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    sentences: list[str] = []
    if old.get("expr") != new.get("expr"):
        sentences.extend(describe_expr_change(str(old.get("expr", "")), str(new.get("expr", ""))))
    for key in sorted(set(old) | set(new)):
        if key in ("alert", "record", "expr", "labels", "annotations") or old.get(key) == new.get(key):
            continue
        sentences.append(f"{key} {_show_rule_value(old.get(key, ABSENT))} → {_show_rule_value(new.get(key, ABSENT))}")
    for section in ("labels", "annotations"):
        before, after = old.get(section) or {}, new.get(section) or {}
        for key in sorted(set(before) | set(after)):
            if before.get(key) == after.get(key):
                continue
            if key not in before:
                sentences.append(f"{section[:-1]} {key} added")
            elif key not in after:
                sentences.append(f"{section[:-1]} {key} removed")
            elif section == "labels":
                sentences.append(f"label {key} {before[key]} → {after[key]}")
            else:
                sentences.append(f"annotation {key} changed")
    return sentences


def _show_rule_value(value: Any) -> str:
    return "(none)" if value is ABSENT else str(value)


def summarize_rule_file(before: str | None, after: str | None) -> list[str]:
    """What changed in one rule file, one sentence per change."""
    old_groups, old_rules = _rules_by_key(before) if before else ({}, {})
    new_groups, new_rules = _rules_by_key(after) if after else ({}, {})
    sentences: list[str] = []
    for name in sorted(set(old_groups) | set(new_groups)):
        if name not in old_groups:
            sentences.append(f"group {name} added")
        elif name not in new_groups:
            sentences.append(f"group {name} removed")
        else:
            for key in sorted(set(old_groups[name]) | set(new_groups[name])):
                old, new = old_groups[name].get(key, ABSENT), new_groups[name].get(key, ABSENT)
                if old != new:
                    sentences.append(f"group {name}: {key} {_show_rule_value(old)} → {_show_rule_value(new)}")
    for key in old_rules:
        if key not in new_rules:
            sentences.append(f"{key} removed")
    for key, rule in new_rules.items():
        if key not in old_rules:
            sentences.append(f"{key} added")
        else:
            sentences.extend(f"{key}: {s}" for s in _describe_rule_change(old_rules[key], rule))
    return sentences


def summarize_rules(base: Mapping[str, str], head: Mapping[str, str]) -> list[tuple[str, tuple[str, ...]]]:
    """(rule file, sentences) for every rule file (rules/*.yaml) that changed."""
    summary = []
    for path in sorted(set(base) | set(head)):
        if not path.startswith("rules/") or base.get(path) == head.get(path):
            continue
        sentences = summarize_rule_file(base.get(path), head.get(path))
        if sentences:
            summary.append((path, tuple(sentences)))
    return summary


# --- the whole diff -----------------------------------------------------------


def diff_plans(
    stack: str,
    base: Mapping[str, Any],
    head: Mapping[str, Any],
    base_documents: Mapping[str, str],
    head_documents: Mapping[str, str],
    base_label: str = "base",
    head_label: str = "working tree",
    notes: Iterable[str] = (),
) -> PlanDiff:
    added, removed, changed, unchanged = diff_resources(base, head)
    return PlanDiff(
        stack=stack,
        base_label=base_label,
        head_label=head_label,
        added=tuple(added),
        removed=tuple(removed),
        changed=tuple(changed),
        unchanged=unchanged,
        outputs=tuple(diff_values(base.get("outputs", {}), head.get("outputs", {}))),
        documents=tuple(diff_documents(base_documents, head_documents)),
        rules=tuple(summarize_rules(base_documents, head_documents)),
        notes=tuple(notes),
    )


def _resource_line(ref: ResourceRef) -> str:
    return f"{ref.type}  {ref.name}{'  [protected]' if ref.protect else ''}"


def _change_lines(change: ResourceChange) -> list[str]:
    lines = [c.describe() for c in change.changes[:_MAX_INPUT_CHANGES]]
    if len(change.changes) > _MAX_INPUT_CHANGES:
        lines.append(f"... and {len(change.changes) - _MAX_INPUT_CHANGES} more")
    return lines


def render_text(diff: PlanDiff) -> str:
    out = [f"plan-diff {diff.stack}: {diff.base_label} → {diff.head_label}"]
    out.extend(f"note: {note}" for note in diff.notes)
    if not diff.has_changes:
        out.append(f"No changes: the offline plan of {diff.stack} is the same ({diff.unchanged} resources).")
        return "\n".join(out) + "\n"
    out.append(f"Resources: {diff.counts()}")
    if diff.rules:
        out.append("\nAlert rules:")
        for path, sentences in diff.rules:
            out.append(f"  {path}")
            out.extend(f"    {s}" for s in sentences)
    if diff.added or diff.removed or diff.changed:
        out.append("\nResources:")
        out.extend(f"  + {_resource_line(r)}" for r in diff.added)
        out.extend(f"  - {_resource_line(r)}" for r in diff.removed)
        for change in diff.changed:
            out.append(f"  ~ {_resource_line(change.resource)}")
            out.extend(f"      {line}" for line in _change_lines(change))
    if diff.outputs:
        out.append("\nStack outputs:")
        out.extend(f"  ~ {c.describe()}" for c in diff.outputs)
    if diff.documents:
        out.append("\nUploaded documents:")
        for document in diff.documents:
            added, removed = document.counts
            out.append(f"--- {document.path} ({document.status}, +{added} -{removed})")
            out.extend(document.lines)
    return "\n".join(out) + "\n"


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _fence(lines: Iterable[str], language: str) -> str:
    body = "\n".join(lines)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{language}\n{body}\n{ticks}"


def comment_marker(stack: str) -> str:
    """The first line of the comment: the workflow finds its own comment by it."""
    return f"<!-- plan-diff:{stack} -->"


def render_markdown(diff: PlanDiff, limit: int = MARKDOWN_LIMIT, rerun_hint: str = "") -> str:
    """A pull-request comment: counts, rule changes in words, resources, outputs,
    then one collapsible line diff per document, dropping (and saying so) what
    does not fit in `limit` characters."""
    head = [
        comment_marker(diff.stack),
        f"### Offline plan diff: `{diff.stack}`",
        "",
        f"{_code(diff.base_label)} → {_code(diff.head_label)}. Computed by `make plan-diff` under the mock engine, "
        "without cloud credentials: what the program declares, not what the cloud holds "
        "(no refresh, no replace/update distinction).",
        "",
    ]
    head.extend(f"> **Note:** {note}" for note in diff.notes)
    if not diff.has_changes:
        head.append(f"**No changes** ({diff.unchanged} resources unchanged).")
        return "\n".join(head) + "\n"
    head.append(f"**{diff.counts()}**")

    blocks: list[str] = []
    if diff.rules:
        rule_lines = ["", "#### Alert rules", ""]
        for path, sentences in diff.rules:
            rule_lines.append(f"- {_code(path)}")
            rule_lines.extend(f"  - {_code(s)}" for s in sentences)
        blocks.append("\n".join(rule_lines))
    if diff.added or diff.removed or diff.changed:
        blocks.append("\n#### Resources\n")
        blocks.extend(f"- ➕ {_code(_resource_line(r))}" for r in diff.added)
        blocks.extend(f"- ➖ {_code(_resource_line(r))}" for r in diff.removed)
        for change in diff.changed:
            lines = [f"- ✏️ {_code(_resource_line(change.resource))}"]
            lines.extend(f"  - {_code(line)}" for line in _change_lines(change))
            blocks.append("\n".join(lines))
    if diff.outputs:
        blocks.append("\n#### Stack outputs\n")
        blocks.extend(f"- {_code(c.describe())}" for c in diff.outputs)
    if diff.documents:
        blocks.append("\n#### Uploaded documents\n")
    documents = list(diff.documents)

    truncation = "\n\n> **Truncated:** {left} left out to stay under GitHub's 65536-character comment limit. " + (
        rerun_hint or f"Run `make plan-diff STACK={diff.stack} BASE=<base>` for the whole diff."
    )
    budget = limit - len(truncation) - 40
    text = "\n".join(head)
    left_out = 0
    for block in blocks:
        if len(text) + 1 + len(block) <= budget:
            text += "\n" + block
        else:
            left_out += 1
    for index, document in enumerate(documents):
        added, removed = document.counts
        summary = f"<details><summary>{document.path} ({document.status}, +{added} −{removed})</summary>\n\n"
        closing = "\n\n</details>"
        block = summary + _fence(document.lines, "diff") + closing
        room = budget - len(text) - 1
        if len(block) > room and room > len(summary) + len(closing) + 200:
            # Show the head of a long diff rather than nothing.
            kept: list[str] = []
            size = len(summary) + len(closing) + 80
            for line in document.lines:
                if size + len(line) + 1 > room:
                    break
                kept.append(line)
                size += len(line) + 1
            block = summary + _fence([*kept, f"... {len(document.lines) - len(kept)} more lines"], "diff") + closing
            left_out += 1
        if len(block) <= room:
            text += "\n" + block
        else:
            left_out += len(documents) - index
            break
    if left_out:
        text += truncation.format(left=f"{left_out} part(s) of this diff were")
    return text + "\n"
