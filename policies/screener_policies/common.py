"""Helpers shared by the policies: reading props, policy documents, durations.

Props arrive as the engine sends them to a policy pack: camelCase input
names, numbers as floats, secrets already unwrapped, and (during a preview)
read-only proxies that raise `UnknownValueError` on a value not known yet.
So every check here goes through `Mapping`/`Sequence`, never `dict`/`list`,
and never catches that error: the SDK turns it into a "can't run during
preview" note instead of a false verdict.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeGuard, TypeVar

from pulumi_policy import ReportViolation, ResourceValidation, ResourceValidationArgs

# Tag every taggable AWS resource carries (infra/config/model.py `StackConfig.tags`).
REQUIRED_TAGS = ("environment", "service", "owner")
PROD = "prod"


def is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(value, Mapping)


def is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_list(value: Any) -> list[Any]:
    """A JSON policy field that may be one value or a list of them, as a list."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def dig(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, or None as soon as a step is missing."""
    for key in path:
        if not is_mapping(value):
            return None
        value = value.get(key)
    return value


def stack_of(urn: str) -> str:
    """The stack name inside a URN: urn:pulumi:<stack>::<project>::<type>::<name>."""
    parts = urn.split("::")
    return parts[0].rsplit(":", 1)[-1] if parts and parts[0].startswith("urn:pulumi:") else ""


def environment_of(props: Mapping[str, Any], urn: str) -> str:
    """The environment a resource belongs to: its `environment` tag, else the stack name.

    Grafana resources have no tags; their stack is named after the environment.
    """
    tags = props.get("tags")
    if is_mapping(tags) and isinstance(tags.get("environment"), str):
        return str(tags["environment"])
    return stack_of(urn)


def load_json(document: Any) -> Any:
    """A JSON document given as a string (what the program passes) or already decoded."""
    if isinstance(document, str):
        return json.loads(document)
    return document


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM-style policy document (string or object)."""
    decoded = load_json(document)
    if not is_mapping(decoded):
        raise ValueError("the policy document is not a JSON object")
    return [s for s in as_list(decoded.get("Statement")) if is_mapping(s)]


def allows(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Effect", "")).lower() == "allow"


def service_principals(statement: Mapping[str, Any]) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if is_mapping(principal):
        found = [str(p) for p in as_list(principal.get("Service"))]
        if "*" in as_list(principal.get("AWS")):
            found.append("*")
        return found
    return []


def condition_values(statement: Mapping[str, Any], key: str) -> list[tuple[str, str]]:
    """Every (operator, value) the statement's Condition sets for `key` (case-insensitive)."""
    found: list[tuple[str, str]] = []
    condition = statement.get("Condition")
    if not is_mapping(condition):
        return found
    for operator, clauses in condition.items():
        if not is_mapping(clauses):
            continue
        for condition_key, values in clauses.items():
            if str(condition_key).lower() == key.lower():
                found.extend((str(operator), str(v)) for v in as_list(values))
    return found


def actions(statement: Mapping[str, Any]) -> list[str]:
    return [str(a) for a in as_list(statement.get("Action"))]


def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching: case-insensitive, `*` and `?` wildcards."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, flags=re.IGNORECASE) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """ARN condition matching (ArnLike / StringLike wildcards; exact otherwise)."""
    return action_matches(pattern, arn) if ("*" in pattern or "?" in pattern) else pattern == arn


_DURATION = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_SECONDS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)


def duration_seconds(text: Any) -> float:
    """Seconds in a Prometheus/Alertmanager duration such as `4h`, `1h30m`, `5d`."""
    match = _DURATION.match(str(text)) if text not in (None, "") else None
    if match is None:
        raise ValueError(f"'{text}' is not a Prometheus duration (e.g. 30s, 5m, 4h, 1d)")
    return sum(int(part) * unit for part, unit in zip(match.groups(), _SECONDS, strict=True) if part)


def walk_panels(panels: Any) -> Iterator[Mapping[str, Any]]:
    """Every panel of a dashboard, including those nested in collapsed rows."""
    for panel in as_list(panels):
        if not is_mapping(panel):
            continue
        yield panel
        yield from walk_panels(panel.get("panels"))


Check = Callable[[ResourceValidationArgs], Iterator[str]]
Document = TypeVar("Document")
# A resource's document (a rule file, an Alertmanager configuration, a dashboard model, a policy
# document) as a check reads it, and why it cannot be read: (an empty document, the reason).
Reader = Callable[[ResourceValidationArgs], tuple[Document, str | None]]
DocumentCheck = Callable[[ResourceValidationArgs, Document], Iterator[str]]


def validation(check: Check) -> ResourceValidation:
    """A policy's validate function from a check that yields one message per violation."""

    @functools.wraps(check)
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in check(args):
            report_violation(message, None)

    return validate


def validation_of(*resource_types: str) -> Callable[[Check], ResourceValidation]:
    """`validation` of a check that applies to the resources of `resource_types` only; others pass."""
    applies_to = frozenset(resource_types)

    def decorate(check: Check) -> ResourceValidation:
        @functools.wraps(check)
        def of_type(args: ResourceValidationArgs) -> Iterator[str]:
            if args.resource_type in applies_to:
                yield from check(args)

        return validation(of_type)

    return decorate


def document_validation(
    *resource_types: str, read: Reader[Document], reports_read_error: bool = False
) -> Callable[[DocumentCheck[Document]], ResourceValidation]:
    """`validation_of` a check of the document `read` takes from each resource of `resource_types`.

    Where several policies check one document, only the one with `reports_read_error`
    reports a document that cannot be read and the others skip it, so a broken
    document is one violation, not one per policy.
    """

    def decorate(check: DocumentCheck[Document]) -> ResourceValidation:
        @functools.wraps(check)
        def read_then_check(args: ResourceValidationArgs) -> Iterator[str]:
            document, error = read(args)
            if error is not None:
                if reports_read_error:
                    yield error
                return
            yield from check(args, document)

        return validation_of(*resource_types)(read_then_check)

    return decorate
