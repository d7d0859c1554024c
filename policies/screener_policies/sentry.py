"""Error tracking: client keys are rate-limited and no resource carries a Sentry DSN in plain text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pulumi_policy import ResourceValidationArgs, ResourceValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from screener_policies.common import is_list, is_mapping, validation, validation_of

SENTRY_KEY = "sentry:index/sentryKey:SentryKey"
K8S_SECRET = "kubernetes:core/v1:Secret"
# Fields the Kubernetes provider always keeps secret (its Secret's additional_secret_outputs):
# the one place a DSN may travel, as the backend's envFrom source.
SECRET_FIELDS: dict[str, frozenset[str]] = {K8S_SECRET: frozenset({"data", "stringData"})}

# A DSN: <scheme>://<public key>[:<secret key>]@<host>[/<path>]/<project id> (the keys are 32 hex
# digits), or the CSP/security form that carries the key as `sentry_key=`.
_DSN = re.compile(
    r"https?://[0-9a-f]{32}(?::[0-9a-f]{32})?@[A-Za-z0-9.-]+(?::\d+)?(?:/[\w.-]+)*/\d+"
    r"|[?&]sentry_key=[0-9a-f]{32}"
)


@validation_of(SENTRY_KEY)
def sentry_key_rate_limited(args: ResourceValidationArgs) -> Iterator[str]:
    count, window = args.props.get("rateLimitCount"), args.props.get("rateLimitWindow")
    if not count or not window or count <= 0 or window <= 0:
        yield (
            f"Sentry client key '{args.name}' has no rate limit (rateLimitCount {count}, rateLimitWindow {window}): "
            "one runaway loop can spend the organisation's monthly event quota and blind every environment. "
            "Fix: set monitoring:sentry.backend/frontend.rateLimit {count, windowSeconds} in the stack file."
        )


def _known(container: Any, key: Any) -> tuple[bool, Any]:
    """`container[key]`, or (False, None) while that value is unknown during a preview.

    Unlike the other policies, this one reads every input of every resource: an
    unknown ARN somewhere would otherwise make it "not run" on most resources
    of a preview. An unknown value is no plain-text DSN yet; the engine runs the
    policy again during the update, with every value known.
    """
    try:
        return True, container[key]
    except UnknownValueError:
        return False, None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif is_mapping(value):
        for key in value:
            known, item = _known(value, key)
            if known:
                yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif is_list(value):
        for index in range(len(value)):
            known, item = _known(value, index)
            if known:
                yield from _strings(item, f"{path}[{index}]")


@validation
def sentry_dsn_not_in_plain_text(args: ResourceValidationArgs) -> Iterator[str]:
    allowed = SECRET_FIELDS.get(args.resource_type, frozenset())
    for key in args.props:
        known, value = _known(args.props, key)
        if key in allowed or not known:
            continue
        for path, text in _strings(value, key):
            if _DSN.search(text):
                yield (
                    f"{args.resource_type.split(':')[-1]} '{args.name}' has a Sentry DSN in plain text at {path}: "
                    "state, diffs and the console show it, and anyone holding it can send events on the "
                    "organisation's quota. Fix: pass the key's DSN as a secret Output only into a Kubernetes "
                    "Secret (stringData) or a secret stack output, never into config maps, values or documents."
                )


POLICIES = [
    ResourceValidationPolicy(
        name="sentry-key-rate-limited",
        description="Every Sentry client key has a rate limit, so one runaway client cannot spend the quota.",
        validate=sentry_key_rate_limited,
    ),
    ResourceValidationPolicy(
        name="sentry-dsn-not-in-plain-text",
        description="A Sentry DSN travels only in a Kubernetes Secret's data, never in plain-text inputs.",
        validate=sentry_dsn_not_in_plain_text,
    ),
]
