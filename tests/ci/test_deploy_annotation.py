"""Deploy annotations: every deploy job marks its deploy in Grafana, and the step posts what the dashboards filter on.

The composite action's script runs here with stand-ins for `pulumi` (the
stack outputs) and `curl` (records the request): the annotation must carry
the tags deploy, the environment, commit:<sha> and actor:<login> (the
dashboards' annotation query matches `deploy` + environment,
dashboards/common.py), go to Grafana's POST /api/annotations with the
stack's token as a bearer token, and the token must be masked before use.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards.common import DEPLOY_TAG
from infra.config.stackfile import REPO_ROOT
from tests.ci.test_workflows import PROMOTION_ORDER, load, steps_using

ACTION = REPO_ROOT / ".github" / "actions" / "grafana-deploy-annotation" / "action.yml"
TOKEN = "glsa_test_only_token_0000"


def test_every_deploy_job_annotates_after_its_pulumi_up():
    jobs = load("deploy.yml")["jobs"]
    for stack in PROMOTION_ORDER:
        steps = jobs[stack]["steps"]
        (up,) = steps_using(jobs[stack], "pulumi/actions@")
        (annotate,) = steps_using(jobs[stack], "./.github/actions/grafana-deploy-annotation")
        assert steps.index(annotate) == steps.index(up) + 1  # only after a successful up (default if: success())
        assert "if" not in annotate and annotate["continue-on-error"] is True
        assert annotate["with"] == {"stack": up["with"]["stack-name"], "environment": stack}
        assert annotate["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq (on GitHub's runners) is not installed here")
def test_the_action_posts_the_deploy_tags_with_the_stacks_token(tmp_path: Path):
    (step,) = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(
        bin_dir / "pulumi",
        "#!/bin/bash\n"
        'case "$*" in\n'
        f'  "stack output grafana_deploy_annotation_token --show-secrets --stack acme/prod") echo {TOKEN} ;;\n'
        '  "stack output grafana_url --stack acme/prod") echo https://screener.grafana.net ;;\n'
        '  *) echo "unexpected: $*" >&2; exit 1 ;;\n'
        "esac\n",
    )
    _executable(
        bin_dir / "curl",
        f'#!/bin/bash\nprintf "%s\\n" "$@" > {tmp_path}/curl-args\ncat > {tmp_path}/curl-body\n',
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STACK": "acme/prod",
        "ENVIRONMENT": "prod",
        "RUN_URL": "https://github.com/o/r/actions/runs/1",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_ACTOR": "alice",
    }
    result = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"::add-mask::{TOKEN}"]  # masked first, never echoed otherwise
    body = json.loads((tmp_path / "curl-body").read_text())
    assert body["tags"] == [DEPLOY_TAG, "prod", "commit:0123456789ab", "actor:alice"]
    assert "0123456789ab" in body["text"] and "alice" in body["text"]
    args = (tmp_path / "curl-args").read_text().splitlines()
    assert "https://screener.grafana.net/api/annotations" in args
    assert args[args.index("--request") + 1] == "POST"
    assert f"Authorization: Bearer {TOKEN}" in args
    assert "--fail-with-body" in args
