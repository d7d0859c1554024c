"""Dashboard previews: which dashboards a pull request changes, how they are uploaded, the workflows and the account.

The uploader runs against a recording stand-in for Grafana's HTTP API
(POST /api/folders with parentUid, GET/DELETE /api/folders/<uid>, POST
/api/dashboards/db answering the dashboard's `url`: Grafana HTTP API docs,
folder and dashboard APIs).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from infra.config.stackfile import REPO_ROOT
from planner.engine import SECRET
from planner.previews import COMMENT_MARKER, Grafana, changed_dashboards, preview_model, upload
from tests.ci.test_workflows import load, steps_using
from tests.conftest import plan_of
from tests.http_stub import answer, serving

TOKEN = "glsa_previews_test_only"


@pytest.fixture
def fake_grafana() -> Iterator[tuple[Grafana, list[tuple[str, str, Any]], set[str]]]:
    calls: list[tuple[str, str, Any]] = []
    folders: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _record(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            assert self.headers["Authorization"] == f"Bearer {TOKEN}"
            calls.append((self.command, self.path, body))
            return body

        def do_GET(self) -> None:
            self._record()
            uid = self.path.rsplit("/", 1)[1]
            answer(self, {"uid": uid} if uid in folders else {"message": "not found"}, 200 if uid in folders else 404)

        def do_POST(self) -> None:
            body = self._record()
            if self.path == "/api/folders":
                folders.add(body["uid"])
                answer(self, {"uid": body["uid"]})
            else:
                uid = body["dashboard"]["uid"]
                answer(self, {"uid": uid, "url": f"/d/{uid}/preview", "status": "success"})

        def do_DELETE(self) -> None:
            self._record()
            uid = self.path.rsplit("/", 1)[1]
            found = uid in folders
            folders.discard(uid)
            answer(self, {"message": "deleted" if found else "not found"}, 200 if found else 404)

    with serving(Handler) as url:
        yield Grafana(url, TOKEN), calls, folders


def test_only_existing_dashboard_golden_files_count_as_changed_dashboards() -> None:
    changed = changed_dashboards(
        [
            "tests/golden/files/dashboards/prod/api.json",
            "tests/golden/files/dashboards/staging/cache.json",
            "tests/golden/files/dashboards/prod/removed.json",
            "tests/golden/files/rules/prod/api.yaml",
            "dashboards/api.py",
        ],
        REPO_ROOT,
    )
    assert [(c.stack, c.slug) for c in changed] == [("prod", "api"), ("staging", "cache")]


def test_a_preview_never_takes_the_live_dashboards_uid_title_or_tags() -> None:
    live = json.loads((REPO_ROOT / "tests/golden/files/dashboards/prod/api.json").read_text())
    preview = preview_model({**live, "id": 7}, 1234)
    assert preview["uid"] == f"pr1234-{live['uid']}"[:40] and preview["uid"] != live["uid"]
    assert len(preview["uid"]) <= 40
    assert preview["title"] == f"[PR #1234] {live['title']}"
    assert preview["tags"] == ["preview-pr-1234"]
    assert "id" not in preview and preview["panels"] == live["panels"]


def test_upload_creates_the_pull_requests_folder_under_previews_and_links_each_dashboard(fake_grafana) -> None:
    grafana, calls, folders = fake_grafana
    changed = changed_dashboards(["tests/golden/files/dashboards/prod/api.json"], REPO_ROOT)
    comment = upload(grafana, changed, 42, "screener-previews", "0123456789abcdef")
    assert [(method, path) for method, path, _ in calls] == [
        ("GET", "/api/folders/screener-previews-pr42"),
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
    ]
    assert calls[1][2] == {"uid": "screener-previews-pr42", "title": "PR #42", "parentUid": "screener-previews"}
    sent = calls[2][2]
    assert sent["folderUid"] == "screener-previews-pr42" and sent["overwrite"] is True
    assert sent["dashboard"]["uid"].startswith("pr42-")
    assert comment.startswith(COMMENT_MARKER)
    assert f"({grafana.url}/d/{sent['dashboard']['uid']}/preview)" in comment
    # A second push reuses the folder.
    upload(grafana, changed, 42, "screener-previews", "fedcba9876543210")
    assert [(m, p) for m, p, _ in calls[3:]] == [
        ("GET", "/api/folders/screener-previews-pr42"),
        ("POST", "/api/dashboards/db"),
    ]
    assert folders == {"screener-previews-pr42"}


def test_a_pull_request_without_dashboard_changes_says_so_and_creates_nothing(fake_grafana) -> None:
    grafana, calls, _ = fake_grafana
    assert "changes no dashboard" in upload(grafana, [], 7, "screener-previews", "abc")
    assert calls == []


def test_delete_removes_the_folder_and_tolerates_a_missing_one(fake_grafana) -> None:
    grafana, calls, folders = fake_grafana
    folders.add("screener-previews-pr42")
    assert grafana.delete_folder("screener-previews-pr42") is True
    assert grafana.delete_folder("screener-previews-pr42") is False
    assert [(m, p) for m, p, _ in calls] == [("DELETE", "/api/folders/screener-previews-pr42")] * 2


SAME_REPOSITORY_NOT_DEPENDABOT = (
    "github.event.pull_request.head.repo.full_name == github.repository && "
    "github.event.pull_request.user.login != 'dependabot[bot]'"
)


def test_previews_run_only_for_branches_of_this_repository_after_review_and_comment_with_the_marker() -> None:
    job = load("pr.yml")["jobs"]["dashboard-previews"]
    assert job["if"] == SAME_REPOSITORY_NOT_DEPENDABOT
    assert job["environment"] == "pr-preview"  # a maintainer approves before branch code gets the token
    assert job["env"]["GRAFANA_PREVIEWS_TOKEN"] == "${{ secrets.GRAFANA_PREVIEWS_TOKEN }}"
    (upload_step,) = [s for s in job["steps"] if s.get("id") == "upload"]
    assert "python3 -m planner.previews upload" in upload_step["run"]
    (script,) = steps_using(job, "actions/github-script@")
    assert f"'{COMMENT_MARKER}'" in script["with"]["script"]
    # Forks (and everyone else) still get the offline diff.
    assert "if" not in load("pr.yml")["jobs"]["offline-diff"]


def test_the_folder_goes_when_the_pull_request_closes() -> None:
    workflow = load("pr-previews-cleanup.yml")
    assert workflow["on"] == {"pull_request": {"types": ["closed"]}}
    job = workflow["jobs"]["delete"]
    assert job["if"] == SAME_REPOSITORY_NOT_DEPENDABOT
    assert job["environment"] == "pr-preview"
    assert "python3 -m planner.previews delete" in job["steps"][-1]["run"]


def test_the_uploader_may_only_touch_folders_and_dashboards_under_the_previews_folder() -> None:
    plan = plan_of("prod")
    folder = plan.one("grafana:oss/folder:Folder", "grafana-previews-folder")
    role = plan.one("grafana:enterprise/role:Role", "grafana-previews-role")
    assert {p["scope"] for p in role.inputs["permissions"]} == {f"folders:uid:{folder.inputs['uid']}"}
    assert {p["action"] for p in role.inputs["permissions"]} == {
        f"{kind}:{verb}" for kind in ("folders", "dashboards") for verb in ("read", "create", "write", "delete")
    }
    assert plan.one("grafana:oss/serviceAccount:ServiceAccount", "grafana-previews-account").inputs["role"] == "None"
    assert plan.outputs["grafana_previews_token"] == SECRET
    for stack in ("dev", "staging"):
        assert [r for r in plan_of(stack).resources if r.name.startswith("grafana-previews")] == []


def test_the_workflow_defaults_to_the_folder_the_program_creates() -> None:
    job = load("pr.yml")["jobs"]["dashboard-previews"]
    folder_uid = plan_of("prod").outputs["grafana_previews_folder_uid"]
    assert job["env"]["GRAFANA_PREVIEWS_FOLDER"] == f"${{{{ vars.GRAFANA_PREVIEWS_FOLDER || '{folder_uid}' }}}}"
    assert Path(REPO_ROOT / "planner" / "previews.py").read_text().count(f'"{folder_uid}"') == 1
