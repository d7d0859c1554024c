"""IAM policy documents: the one envelope every policy and trust policy of the stack is written in.

Documents are built as data (statements are dicts, as IAM's JSON grammar has
them) and rendered here. `policy_json` sorts the keys so that a document has
one spelling: a reordered dict then never shows as a change in a plan.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The current version of IAM's policy language (IAM JSON policy reference, "Version").
POLICY_VERSION = "2012-10-17"


def policy_document(*statements: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document of these statements, in order."""
    return {"Version": POLICY_VERSION, "Statement": [dict(statement) for statement in statements]}


def policy_json(*statements: Mapping[str, Any]) -> str:
    """The document as the JSON text IAM and KMS take, keys sorted."""
    return json.dumps(policy_document(*statements), sort_keys=True)


def allow(actions: Iterable[str], resource: str | Sequence[str], sid: str | None = None) -> dict[str, Any]:
    """A statement allowing `actions` on `resource` (an ARN, a pattern, or a list of them) to whoever holds it."""
    statement: dict[str, Any] = {"Sid": sid} if sid is not None else {}
    statement |= {
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": resource if isinstance(resource, str) else list(resource),
    }
    return statement
