"""A JSON HTTP client for Grafana's and Sentry's APIs: bearer token, bounded timeout, the status kept.

Errors are data here: a check needs the status and the body of a 404 or a 400 (Grafana's health
endpoint answers 400 with the data source's own message), so only transport failures raise.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no HTTP answer at all (`error` says why)
    document: Any
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def message(self) -> str:
        """What the API said, for a check's evidence."""
        if isinstance(self.document, dict):
            for key in ("message", "detail", "error"):
                if self.document.get(key):
                    return f"HTTP {self.status}: {self.document[key]}"
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class JsonApi:
    """`base_url` checked by `verify.target.checked_url`; `token` a bearer token, or `user:password` (basic
    auth), the two forms the Grafana provider's GRAFANA_AUTH takes; None for an endpoint without
    authentication (Grafana's /api/health)."""

    base_url: str
    token: str | None
    timeout: float = TIMEOUT_SECONDS

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = self._authorization(self.token)
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            f"{self.base_url.rstrip('/')}/{path.lstrip('/')}", data=data, headers=headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return Answer(response.status, _decode(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _decode(error.read()))

    @staticmethod
    def _authorization(token: str) -> str:
        if ":" in token:
            return f"Basic {base64.b64encode(token.encode()).decode()}"
        return f"Bearer {token}"

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def reach(self, path: str) -> Answer:
        """GET, with no answer at all (refused, timed out, unresolvable) an Answer of status 0 and its reason
        rather than an exception: a prerequisite check reports an unreachable service as its finding."""
        try:
            return self.get(path)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            return Answer(0, None, f"{type(error).__name__}: {reason}")

    def post(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode(errors="replace")[:200]
