"""A `monitoring:sentry` block to plan the dev stack with (dev has none of its own)."""

from __future__ import annotations

import copy
from typing import Any

SENTRY_TYPES = (
    "sentry:index/sentryTeam:SentryTeam",
    "sentry:index/sentryProject:SentryProject",
    "sentry:index/sentryKey:SentryKey",
    "sentry:index/sentryIssueAlert:SentryIssueAlert",
    "pulumi-python:dynamic/sentry:ProjectDefaults",
)
KEY = "sentry:index/sentryKey:SentryKey"
PROJECT = "sentry:index/sentryProject:SentryProject"
TEAM = "sentry:index/sentryTeam:SentryTeam"
ALERT = "sentry:index/sentryIssueAlert:SentryIssueAlert"
PROJECT_DEFAULTS = "pulumi-python:dynamic/sentry:ProjectDefaults"
K8S_SECRET = "kubernetes:core/v1:Secret"

MINIMAL: dict[str, Any] = {
    "organization": "screener",
    "team": "screener",
    "backend": {"rateLimit": {"count": 100, "windowSeconds": 60}},
    "frontend": {"rateLimit": {"count": 50, "windowSeconds": 3600}},
}


def sentry_block(**changes: Any) -> dict[str, Any]:
    block = copy.deepcopy(MINIMAL)
    block.update(changes)
    return block
