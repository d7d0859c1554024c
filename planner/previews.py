"""Dashboard previews for pull requests: upload the dashboards a pull request changes into a folder of their own.

`python -m planner.previews upload --pr 42 --base <sha>` finds the dashboards
the pull request changes (their golden files under tests/golden/files/
dashboards/<stack>/, which the tests keep identical to what the program
uploads), creates the folder `PR #42` under the previews folder, uploads each
one there under a UID and title of its own (so nothing live is overwritten)
and writes a Markdown comment with the links. `delete --pr 42` removes the
folder and everything in it when the pull request closes.

Grafana HTTP API: POST /api/folders {uid, title, parentUid} (nested folders),
GET /api/folders/<uid>, POST /api/dashboards/db {dashboard, folderUid,
overwrite, message} (answers the dashboard's `url`), DELETE
/api/folders/<uid>. The token (GRAFANA_PREVIEWS_TOKEN) belongs to a service
account that may only create and change folders and dashboards under the
previews folder (infra.program.declare_dashboard_previews). Standard library
only: the clean-up job runs it without installing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOLDEN_DASHBOARDS = "tests/golden/files/dashboards"
COMMENT_MARKER = "<!-- dashboard-previews -->"
# Grafana refuses dashboard and folder UIDs longer than 40 characters.
MAX_UID = 40


@dataclass(frozen=True)
class ChangedDashboard:
    stack: str
    slug: str
    path: Path


def changed_dashboards(changed_paths: list[str], root: Path) -> list[ChangedDashboard]:
    """The dashboards among a pull request's changed files that still exist (a deleted one has nothing to show)."""
    found = []
    for name in sorted(set(changed_paths)):
        path = Path(name)
        if path.parent.parent.as_posix() != GOLDEN_DASHBOARDS or path.suffix != ".json":
            continue
        if (root / path).is_file():
            found.append(ChangedDashboard(stack=path.parent.name, slug=path.stem, path=root / path))
    return found


def git_changed_paths(base: str, root: Path) -> list[str]:
    result = subprocess.run(
        ["git", "diff", "--name-only", f"{base}...HEAD", "--", GOLDEN_DASHBOARDS],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def folder_uid(previews_uid: str, pr: int) -> str:
    return f"{previews_uid}-pr{pr}"[:MAX_UID]


def preview_model(model: dict[str, Any], pr: int) -> dict[str, Any]:
    """The dashboard under its own UID and a title naming the pull request; no numeric ID (Grafana assigns one)."""
    preview = {key: value for key, value in model.items() if key != "id"}
    preview["uid"] = f"pr{pr}-{model['uid']}"[:MAX_UID]
    preview["title"] = f"[PR #{pr}] {model['title']}"
    # Previews must not appear in the live environment's dashboard menus (they list by tag).
    preview["tags"] = [f"preview-pr-{pr}"]
    return preview


class Grafana:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                payload = response.read()
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def ensure_folder(self, uid: str, title: str, parent_uid: str) -> None:
        status, answer = self.call("GET", f"/api/folders/{uid}")
        if status == 200:
            return
        status, answer = self.call("POST", "/api/folders", {"uid": uid, "title": title, "parentUid": parent_uid})
        if status != 200:
            raise RuntimeError(f"creating folder {uid} under {parent_uid}: HTTP {status}: {answer}")

    def upload(self, model: dict[str, Any], folder: str, message: str) -> str:
        body = {"dashboard": model, "folderUid": folder, "overwrite": True, "message": message}
        status, answer = self.call("POST", "/api/dashboards/db", body)
        if status != 200:
            raise RuntimeError(f"uploading {model['uid']}: HTTP {status}: {answer}")
        return f"{self.url}{answer['url']}"

    def delete_folder(self, uid: str) -> bool:
        status, answer = self.call("DELETE", f"/api/folders/{uid}")
        if status in (200, 404):
            return status == 200
        raise RuntimeError(f"deleting folder {uid}: HTTP {status}: {answer}")


def upload(grafana: Grafana, dashboards: list[ChangedDashboard], pr: int, previews_uid: str, sha: str) -> str:
    """Upload every changed dashboard; returns the pull request comment (Markdown)."""
    lines = [COMMENT_MARKER, "### Dashboard previews", ""]
    if not dashboards:
        return "\n".join([*lines, "This pull request changes no dashboard."]) + "\n"
    folder = folder_uid(previews_uid, pr)
    grafana.ensure_folder(folder, f"PR #{pr}", previews_uid)
    for dashboard in dashboards:
        model = preview_model(json.loads(dashboard.path.read_text()), pr)
        link = grafana.upload(model, folder, f"preview of #{pr} at {sha[:12]}")
        lines.append(f"- `{dashboard.stack}` · [{model['title']}]({link})")
    lines += ["", f"Uploaded at {sha[:12]}; the folder is deleted when the pull request closes."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner.previews", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("upload", "delete"))
    parser.add_argument("--pr", type=int, required=True)
    parser.add_argument("--base", default="", help="the pull request's base commit (upload)")
    parser.add_argument("--sha", default="", help="the pull request's head commit (upload)")
    parser.add_argument("--grafana-url", default=os.environ.get("GRAFANA_URL", ""))
    parser.add_argument("--previews-folder", default=os.environ.get("GRAFANA_PREVIEWS_FOLDER", "screener-previews"))
    parser.add_argument("--output", default="", help="where to write the comment (upload)")
    args = parser.parse_args(argv)
    token = os.environ.get("GRAFANA_PREVIEWS_TOKEN", "")
    if not token or not args.grafana_url:
        print("error: set GRAFANA_PREVIEWS_TOKEN and GRAFANA_URL (or --grafana-url)", file=sys.stderr)
        return 2
    grafana = Grafana(args.grafana_url, token)
    root = Path.cwd()
    if args.command == "delete":
        deleted = grafana.delete_folder(folder_uid(args.previews_folder, args.pr))
        print(f"previews of #{args.pr}: {'deleted' if deleted else 'none to delete'}")
        return 0
    comment = upload(
        grafana, changed_dashboards(git_changed_paths(args.base, root), root), args.pr, args.previews_folder, args.sha
    )
    if args.output:
        Path(args.output).write_text(comment)
    print(comment)
    return 0


if __name__ == "__main__":
    sys.exit(main())
