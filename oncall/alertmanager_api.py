"""A small client of AMP's Alertmanager API (Alertmanager API v2 under the workspace), signed with SigV4.

AMP serves Alertmanager's own v2 API at
`https://aps-workspaces.<region>.amazonaws.com/workspaces/<id>/alertmanager/api/v2/...`
and authorises each call by its IAM action (ListAlertManagerAlerts,
PutAlertManagerSilences, ...: AMP user guide, "Alertmanager APIs"). Requests
are signed for service `aps` with botocore's SigV4 signer and the caller's
usual AWS credentials (environment, profile, SSO). A plain Alertmanager
serves the same API at `<url>/api/v2/...` and ignores the signature; the
tools reach one only on loopback and only when told (`--local`, LOCAL=1: the
test ones), and sign for it with a key that is not yours (LOCAL_CREDENTIALS).

Input is hostile until checked (issue 28 finding 9): a URL must be AMP's
https endpoint of the stack's region (SigV4 headers go nowhere else); a
silence must name what it silences (a matcher that matches every label value,
in any regex spelling, does not count); a duration is bounded before it is
computed.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import re2
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "aps"
# A silence longer than this is a change to the rules, not an incident measure.
MAX_SILENCE = timedelta(days=7)
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer than any duration up to 7d can be written sensibly ("6d23h59m59s" is 11).
_MAX_DURATION_CHARS = 24
# AMP's data-plane endpoint (AMP user guide, "Amazon Managed Service for Prometheus endpoints and quotas":
# aps-workspaces.<region>.amazonaws.com, and aps-workspaces-fips.<region>.amazonaws.com in FIPS regions).
_AMP_HOST = re.compile(r"aps-workspaces(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com")
# Label values real alerts carry. A matcher that accepts every one of them, and the absent label, narrows
# nothing: `=~".*"`, `..*`, `.+`, `(.*)`, `|x`, `[\s\S]*`, `!="x"`... whatever the spelling, it is its
# behaviour on values that is judged, by RE2 (the engine of Go's regexp, which Alertmanager uses).
PROBE_VALUES = (
    "a",
    "Z",
    "0",
    "api",
    "postgres",
    "prod",
    "critical",
    "warning",
    "Watchdog",
    "ApiHighErrorRate",
    "screener-prod",
    "team_a",
    "10.0.0.1:9100",
    "https://example.com/x",
    "a b",
    "é",
    "x" * 200,
)


# What requests to a local Alertmanager are signed with: it ignores signatures, and no key of the caller's
# signs anything that is not AMP's.
LOCAL_CREDENTIALS = Credentials("LOCAL-ALERTMANAGER", "not-a-secret")


class OnCallError(ValueError):
    """Bad input to a tool; the message says what to write instead."""


def checked_url(url: str, region: str, local: bool = False) -> str:
    """`url` if it is AMP's https endpoint in `region` (or, with `local`, a loopback Alertmanager); else refused.

    The request carries a SigV4 signature of the caller's AWS credentials: it goes to AMP and nowhere else.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise OnCallError(f"URL={url!r}: the port is not a number") from None
    if parts.username is not None or parts.password is not None:
        raise OnCallError(f"URL={url!r}: no user or password in the URL (AMP signs with your AWS credentials)")
    if local:
        if parts.scheme not in ("http", "https") or not _is_loopback(host):
            raise OnCallError(
                f"URL={url!r}: LOCAL=1 is for an Alertmanager on this machine (http://127.0.0.1:<port>) only"
            )
        return url
    amp = _AMP_HOST.fullmatch(host)
    if parts.scheme != "https" or amp is None or port not in (None, 443):
        raise OnCallError(
            f"URL={url!r} is not AMP's Alertmanager: write https://aps-workspaces.{region}.amazonaws.com/workspaces/"
            "<workspace id>/alertmanager (the stack output amp_alertmanager_url), or leave URL unset; for a local "
            "Alertmanager (a test one on this machine) add LOCAL=1 with an http://127.0.0.1:<port> URL"
        )
    if amp.group(1) != region:
        raise OnCallError(
            f"URL={url!r} is in {amp.group(1)}, the stack file's region is {region}: the signature would not match"
        )
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _compiled(value: str) -> Any:
    try:
        return re2.compile(value)
    except re2.error as error:
        raise OnCallError(f"'{value}' is not a regular expression Alertmanager accepts (RE2 syntax): {error}") from None


def _matches(matcher: dict[str, Any], value: str) -> bool:
    """Alertmanager's matcher on one label value ("" when the label is absent); regexes are anchored."""
    hit = _compiled(matcher["value"]).fullmatch(value) is not None if matcher["isRegex"] else value == matcher["value"]
    return hit if matcher["isEqual"] else not hit


def narrows(matcher: dict[str, Any]) -> bool:
    """A matcher that names something: positive (= or =~), refused by the absent label, and by some real value."""
    return (
        matcher["isEqual"] and not _matches(matcher, "") and not all(_matches(matcher, value) for value in PROBE_VALUES)
    )


def parse_matchers(text: str) -> list[dict[str, Any]]:
    """`service="api",severity=~"warning|critical"` as Alertmanager API matchers (regexes checked: RE2)."""
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
    for matcher in matchers:
        if matcher["isRegex"]:
            _compiled(matcher["value"])
    return matchers


def silence_matchers(text: str) -> list[dict[str, Any]]:
    """The matchers of a silence: parsed, and refused unless one of them names something (`narrows`)."""
    matchers = parse_matchers(text)
    if not any(narrows(matcher) for matcher in matchers):
        raise OnCallError(
            f"MATCH={text!r} silences (nearly) every alert: each matcher matches any value, or any alert without "
            'the label (=~".*", =~".+", !=, !~ ...); name what to silence with = or =~, e.g. MATCH=\'service="api"\''
        )
    return matchers


def parse_duration(text: str) -> timedelta:
    """`2h`, `30m`, `1h30m`, `1d`: at most MAX_SILENCE."""
    parts = _DURATION_PART.findall(text[: _MAX_DURATION_CHARS + 1])
    if not text or len(text) > _MAX_DURATION_CHARS or "".join(number + unit for number, unit in parts) != text:
        raise OnCallError(f"FOR={text!r} is not a duration of at most 7d: write e.g. 30m, 2h, 1h30m or 1d")
    # Whole seconds as an integer first: a huge count would overflow timedelta.
    seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if not 0 < seconds <= MAX_SILENCE.total_seconds():
        raise OnCallError(f"FOR={text!r} must be more than 0 and at most 7d (a longer silence belongs in the rules)")
    return timedelta(seconds=seconds)


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
