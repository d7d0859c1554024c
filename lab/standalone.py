"""One real Alertmanager on loopback with the stack's rendered configuration, without Prometheus.

For what happens only in Alertmanager (mute time intervals, silences): alerts
are posted straight to its API (`post_alerts`), as Prometheus would, and its
SNS notifier publishes to the lab's recorder. The configuration is the lab's
(`lab.config.lab_alertmanager_files`: the stack's routes at the lab's time
scale, SNS pointed at the recorder).
"""

from __future__ import annotations

import json
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from infra.config import StackInput
from lab.config import lab_alertmanager_files, topic_arns
from lab.fake_sns import FakeSns
from lab.processes import free_port, program, running_process, wait_for
from lab.stack import READY_TIMEOUT_SECONDS, ready


@dataclass(frozen=True)
class StandaloneAlertmanager:
    url: str
    sns: FakeSns

    def post_alerts(self, *alerts: Mapping[str, str], lasting: timedelta = timedelta(minutes=10)) -> None:
        """Fire alerts with these labels now, as Prometheus does (POST /api/v2/alerts)."""
        now = datetime.now(UTC)
        body = [
            {"labels": dict(labels), "startsAt": now.isoformat(), "endsAt": (now + lasting).isoformat()}
            for labels in alerts
        ]
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # answers 200 with an empty body
            response.read()

    def published_to(self, topic: str) -> list[str]:
        """Subjects the recorder accepted on one audience's topic."""
        return [p.subject or "" for p in self.sns.published if p.topic == topic]


@contextmanager
def standalone_alertmanager(settings: StackInput) -> Iterator[StandaloneAlertmanager]:
    sns = FakeSns(topic_arns(settings))
    sns.start()
    try:
        with tempfile.TemporaryDirectory(prefix="screener-am-") as directory:
            workdir = Path(directory)
            for name, content in lab_alertmanager_files(settings, sns.url).items():
                (workdir / name).write_text(content)
            port = free_port()
            command = [
                program("prometheus-alertmanager", "prometheus-alertmanager"),
                f"--config.file={workdir / 'alertmanager.yml'}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no gossip: one instance, loopback only
            ]
            with running_process("alertmanager", command, workdir) as process:
                wait_for("Alertmanager to be ready", lambda: ready(port), READY_TIMEOUT_SECONDS, process=process)
                yield StandaloneAlertmanager(f"http://127.0.0.1:{port}", sns)
    finally:
        sns.stop()
