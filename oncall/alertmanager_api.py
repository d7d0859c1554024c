"""A small client of AMP's Alertmanager API (Alertmanager API v2 under the workspace), signed with SigV4.

AMP serves Alertmanager's own v2 API at
`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/alertmanager/api/v2/...`
and authorises each call by its IAM action (ListAlertManagerAlerts,
PutAlertManagerSilences, ...: AMP user guide, "Alertmanager APIs"). Requests
are signed for service `aps` with botocore's SigV4 signer and the caller's
usual AWS credentials (environment, profile, SSO). A plain Alertmanager
serves the same API at `<url>/api/v2/...` and ignores the signature, which
is how the tools are tested.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "aps"
# A silence longer than this is a change to the rules, not an incident measure.
MAX_SILENCE = timedelta(days=7)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class OnCallError(ValueError):
    """Bad input to a tool; the message says what to write instead."""


def parse_matchers(text: str) -> list[dict[str, Any]]:
    """`service="api",severity=~"warning|critical"` as Alertmanager API matchers."""
    matchers: list[dict[str, Any]] = []
    position = 0
    text = text.strip().removeprefix("{").removesuffix("}")
    while position < len(text):
        match = _MATCHER.match(text, position)
        if match is None or match.end() == position:
            raise OnCallError(
                f"cannot read the matcher at '{text[position:]}': write label=\"value\" (also !=, =~, !~), "
                'comma-separated, e.g. MATCH=\'service="api",severity="critical"\''
            )
        name, operator, value = match.groups()
        matchers.append(
            {
                "name": name,
                "value": value.replace('\\"', '"').replace("\\\\", "\\"),
                "isRegex": operator in ("=~", "!~"),
                "isEqual": operator in ("=", "=~"),
            }
        )
        position = match.end()
    if not matchers:
        raise OnCallError("no matcher: a silence needs at least one, e.g. MATCH='service=\"api\"'")
    if all(m["value"] == "" or (m["isRegex"] and m["value"] in (".*", ".+")) for m in matchers):
        raise OnCallError('these matchers match every alert; name what to silence, e.g. service="api"')
    return matchers


def parse_duration(text: str) -> timedelta:
    """`2h`, `30m`, `1h30m`, `1d`: at most MAX_SILENCE."""
    parts = _DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise OnCallError(f"'{text}' is not a duration: write e.g. 30m, 2h, 1h30m or 1d")
    duration = timedelta(seconds=sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts))
    if not timedelta(0) < duration <= MAX_SILENCE:
        raise OnCallError(f"'{text}' must be more than 0 and at most 7d (a longer silence belongs in the rules)")
    return duration


def signed_json_request(
    method: str, url: str, region: str, credentials: Credentials, body: Any = None, timeout: float = 15
) -> Any:
    """One JSON call to an AMP endpoint (Alertmanager or Prometheus query API), signed with SigV4 for `aps`.

    The query string is part of what SigV4 signs, so it must be in `url` already (AMP answers 403 otherwise).
    """
    data = None if body is None else json.dumps(body).encode()
    request = AWSRequest(
        method=method, url=url, data=data, headers={"Content-Type": "application/json"} if data is not None else {}
    )
    SigV4Auth(credentials, SERVICE, region).add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers.items()), method=method)
    with urllib.request.urlopen(sent, timeout=timeout) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


@dataclass(frozen=True)
class AlertmanagerApi:
    """`base_url`: AMP's `.../workspaces/<id>/alertmanager` (stack output amp_alertmanager_url) or a local one."""

    base_url: str
    region: str
    credentials: Credentials

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base_url.rstrip('/')}/api/v2/{path}"
        return signed_json_request(method, url, self.region, self.credentials, body)

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds: active, silenced or inhibited (GET api/v2/alerts)."""
        answer: list[dict[str, Any]] = self._call("GET", "alerts")
        return answer

    def silences(self) -> list[dict[str, Any]]:
        """Every silence, expired ones included: `status.state` says which are active (GET api/v2/silences)."""
        answer: list[dict[str, Any]] = self._call("GET", "silences")
        return answer

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Create or update alerts (POST api/v2/alerts; AMP's CreateAlertManagerAlerts): labels identify an alert,
        an `endsAt` in the past resolves it."""
        self._call("POST", "alerts", alerts)

    def silence(
        self, matchers: list[dict[str, Any]], duration: timedelta, created_by: str, comment: str, now: datetime
    ) -> str:
        """Create a silence from now for `duration`; returns its ID (POST api/v2/silences)."""
        body = {
            "matchers": matchers,
            "startsAt": now.astimezone(UTC).isoformat(),
            "endsAt": (now + duration).astimezone(UTC).isoformat(),
            "createdBy": created_by,
            "comment": comment,
        }
        answer = self._call("POST", "silences", body)
        return str(answer["silenceID"])


def alerts_table(alerts: list[dict[str, Any]]) -> list[str]:
    """One line per alert, most severe first: state, severity, name, service, since (UTC), silenced by."""
    order = {"critical": 0, "warning": 1}
    rows = [("STATE", "SEVERITY", "ALERT", "SERVICE", "SINCE (UTC)", "SILENCED BY")]
    for alert in sorted(
        alerts, key=lambda a: (order.get(a["labels"].get("severity", ""), 2), a["labels"].get("alertname", ""))
    ):
        labels, status = alert["labels"], alert.get("status", {})
        rows.append(
            (
                status.get("state", "?"),
                labels.get("severity", "-"),
                labels.get("alertname", "-"),
                labels.get("service", "-"),
                alert.get("startsAt", "")[:16].replace("T", " "),
                ",".join(status.get("silencedBy") or []) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
