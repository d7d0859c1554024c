"""A stand-in for the SNS Publish API on loopback, as strict as SNS about what it accepts.

Alertmanager's SNS notifier (the same code AMP runs) is pointed at it with
`api_url`; everything else about the receivers stays as rendered. It keeps
every accepted message with the monotonic time it arrived, and refuses what
real SNS refuses (an unknown topic, a subject of 100 characters or more, or
one with line breaks or non-ASCII characters), so a template that would be
rejected in AWS fails here too. Messages to the chat topic must also be
AWS Chatbot custom-notification JSON, which Chatbot silently drops otherwise.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Published:
    topic: str  # the audience: critical, warning, watchdog, chat
    subject: str | None
    message: str
    attributes: dict[str, str]
    at: float  # time.monotonic() on arrival


@dataclass
class FakeSns:
    """Accepts Publish for the given topic ARNs (audience -> ARN)."""

    topics: dict[str, str]
    published: list[Published] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        audience_of = {arn: audience for audience, arn in self.topics.items()}
        sns = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
                if form.get("Action") != "Publish":
                    self._error(400, "InvalidAction", f"unsupported action {form.get('Action')!r}")
                    return
                problem = sns.check(form, audience_of)
                if problem:
                    with lock:
                        sns.refused.append(problem)
                    code = 404 if problem.startswith("NotFound") else 400
                    self._error(code, problem.split(":", 1)[0], problem)
                    return
                attributes = {}
                for key, name in form.items():
                    if key.startswith("MessageAttributes.entry.") and key.endswith(".Name"):
                        prefix = key.removesuffix(".Name")
                        attributes[name] = form.get(f"{prefix}.Value.StringValue", "")
                with lock:
                    sns.published.append(
                        Published(
                            topic=audience_of[form["TopicArn"]],
                            subject=form.get("Subject"),
                            message=form["Message"],
                            attributes=attributes,
                            at=time.monotonic(),
                        )
                    )
                body = (
                    '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>'
                    f"<MessageId>{uuid.uuid4()}</MessageId></PublishResult><ResponseMetadata>"
                    f"<RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></PublishResponse>"
                )
                self._send(200, body)

            def _error(self, status: int, code: str, message: str) -> None:
                body = (
                    '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
                    f"<Code>{code}</Code><Message>{message}</Message></Error>"
                    f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
                )
                self._send(status, body)

            def _send(self, status: int, body: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="lab-sns", daemon=True)

    @staticmethod
    def check(form: dict[str, str], audience_of: dict[str, str]) -> str | None:
        """What real SNS would refuse in this Publish, or None."""
        topic = form.get("TopicArn", "")
        if topic not in audience_of:
            return f"NotFound: Topic does not exist: {topic}"
        subject = form.get("Subject")
        if subject is not None:
            if not subject or len(subject) >= 100:
                return f"InvalidParameter: Subject must be 1-99 characters, got {len(subject)}"
            if not subject.isascii() or any(c in subject for c in "\r\n") or not subject.isprintable():
                return f"InvalidParameter: Subject must be printable ASCII on one line: {subject!r}"
        message = form.get("Message", "")
        if not message or len(message.encode()) > MAX_MESSAGE_BYTES:
            return f"InvalidParameter: Message must be 1 byte to 256 KB, got {len(message.encode())}"
        if audience_of[topic] == "chat":
            try:
                document = json.loads(message)
                ok = document["version"] == "1.0" and document["source"] == "custom"
                ok = ok and bool(document["content"]["description"])
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                return "InvalidParameter: not an AWS Chatbot custom notification (Chatbot would drop it)"
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
