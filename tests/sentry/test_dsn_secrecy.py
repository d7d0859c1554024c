"""No DSN in plain text: not in the plan, not in a written document, not in what `make plan` prints or logs."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from planner.__main__ import main as plan_main
from planner.fakes import FakeContext
from planner.fakes.sentry import public_key

# Sentry's DSN: <scheme>://<32 hex public key>[:<secret>]@<host>/<project id> (docs.sentry.io, "DSN explainer").
DSN = re.compile(r"https?://[0-9a-f]{32}(:[0-9a-f]{32})?@[^/\s\"]+/\d+")


def test_prod_plan_output_files_and_logs_hold_no_dsn_nor_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert plan_main(["prod", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    written = {path: path.read_text() for path in tmp_path.rglob("*") if path.is_file()}
    assert any(path.name == "plan.json" for path in written)
    context = FakeContext(region="ap-northeast-2", stack="prod", project="monitoring")
    # The fakes' key halves for this stack: any of them in clear is a leak, in a DSN or not.
    keys = [public_key(context, f"error-tracking-{role}-key") for role in ("backend", "frontend")]
    texts = {
        "stdout": printed.out,
        "stderr": printed.err,
        "log": caplog.text,
        **{str(p): t for p, t in written.items()},
    }
    for where, text in texts.items():
        assert not DSN.search(text), f"a DSN in plain text in {where}"
        for key in keys:
            # A client key's resource ID is its public half (Sentry's API: a ProjectKey's `id` is `public`;
            # the provider imports by org/project/<key id>), which every Pulumi state holds in plain text and
            # the browser SDK publishes anyway. Anywhere else, the key is a leak.
            text_without_ids = text.replace(f'"simulatedId": "{key}"', "")
            assert key not in text_without_ids, f"client key {key} in plain text in {where}"
    assert '"sentry_backend_dsn": "[secret]"' in written[tmp_path / "prod" / "plan.json"]
