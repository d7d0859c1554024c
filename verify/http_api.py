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
    status: int
    document: Any

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
    auth), the two forms the Grafana provider's GRAFANA_AUTH takes."""

    base_url: str
    token: str
    timeout: float = TIMEOUT_SECONDS

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json", "Authorization": self._authorization()}
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

    def _authorization(self) -> str:
        if ":" in self.token:
            return f"Basic {base64.b64encode(self.token.encode()).decode()}"
        return f"Bearer {self.token}"

    def get(self, path: str) -> Answer:
        return self.call("GET", path)

    def post(self, path: str, body: Any) -> Answer:
        return self.call("POST", path, body)


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode(errors="replace")[:200]
