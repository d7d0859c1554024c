"""`python -m planner.plan_diff STACK --base REF`: what the working tree changes
in STACK's offline plan compared with the git revision REF (`make plan-diff`).

REF is checked out into a temporary `git worktree` (the working tree is never
touched) and planned there with that revision's own code and stack file; the
working tree is planned into a temporary directory (build/ is left alone).
Both plans run at once, each in its own `python -m planner` process.

Exit status: 0 whether or not the plans differ (1 on a difference with
--exit-code); 2 on a configuration error or an unknown REF, with the planner's
own message; 3 when the working tree's plan breaks a mandatory policy (the diff
is still printed); 1 on any other failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.config.stackfile import REPO_ROOT
from infra.stack_name import stack_argument
from planner.diff import MARKDOWN_LIMIT, PlanDiff, diff_plans, read_documents, render_markdown, render_text

EXIT_CONFIG = 2
EXIT_POLICY = 3


class PlanDiffError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PlannedTree:
    plan: dict[str, Any]
    documents: dict[str, str]
    returncode: int
    stderr: str


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PlanDiffError(f"git {' '.join(args)} failed: {result.stderr.strip()}", 1)
    return result.stdout.strip()


def resolve(repo: Path, ref: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PlanDiffError(
            f"error: BASE={ref!r} is not a commit of {repo}; give a branch, tag or SHA "
            "(`git fetch` it first in a shallow clone), e.g. BASE=origin/main",
            EXIT_CONFIG,
        )
    return result.stdout.strip()


# A plan takes seconds; a hung one must not hang a pull request's job.
PLAN_TIMEOUT_SECONDS = 600


def _start_planner(tree: Path, stack: str, out: Path | None) -> subprocess.Popen[str]:
    # The tree's own code: run from its root, with nothing of ours on the path.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    command = [sys.executable, "-m", "planner", stack, "--quiet"]
    if out is not None:
        command += ["--out", str(out)]
    return subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _collect(process: subprocess.Popen[str], build_dir: Path) -> PlannedTree:
    try:
        _, stderr = process.communicate(timeout=PLAN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        return PlannedTree({}, {}, 1, f"{stderr}\nthe planner did not finish within {PLAN_TIMEOUT_SECONDS} s")
    plan_file = build_dir / "plan.json"
    if process.returncode not in (0, EXIT_POLICY) or not plan_file.is_file():
        return PlannedTree({}, {}, process.returncode or 1, stderr)
    return PlannedTree(json.loads(plan_file.read_text()), read_documents(build_dir), process.returncode, stderr)


def _failure(label: str, planned: PlannedTree) -> PlanDiffError:
    message = planned.stderr.strip() or f"python -m planner exited with status {planned.returncode}"
    code = EXIT_CONFIG if planned.returncode == EXIT_CONFIG else 1
    return PlanDiffError(f"plan-diff: the plan of {label} failed:\n{message}", code)


def compute(stack: str, base_ref: str, repo: Path = REPO_ROOT) -> tuple[PlanDiff, bool]:
    """Plan `stack` at `base_ref` (a temporary worktree) and in `repo`'s working
    tree, and compare the two; the flag says the working tree's plan breaks a
    mandatory policy."""
    sha = resolve(repo, base_ref)
    base_label = f"{base_ref} ({sha[:12]})" if not sha.startswith(base_ref) else sha[:12]
    stack_file = f"stacks/Pulumi.{stack}.yaml"
    base_has_stack = (
        subprocess.run(["git", "-C", str(repo), "cat-file", "-e", f"{sha}:{stack_file}"], check=False).returncode == 0
    )
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="plan-diff-") as scratch:
        worktree, head_out = Path(scratch) / "base", Path(scratch) / "head"
        _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), sha)
        try:
            head_process = _start_planner(repo, stack, head_out)
            # The base revision may predate `--out`: it writes into its own (temporary) build/.
            base_process = _start_planner(worktree, stack, None) if base_has_stack else None
            head = _collect(head_process, head_out / stack)
            base = (
                _collect(base_process, worktree / "build" / stack)
                if base_process is not None
                else PlannedTree({"resources": [], "outputs": {}}, {}, 0, "")
            )
        finally:
            _git(repo, "worktree", "remove", "--force", str(worktree))
    if head.returncode not in (0, EXIT_POLICY):
        raise _failure("the working tree", head)
    if base.returncode not in (0, EXIT_POLICY):
        raise _failure(base_label, base)
    if not base_has_stack:
        notes.append(f"{stack_file} does not exist at {base_label}: every resource is new.")
    if base.returncode == EXIT_POLICY:
        notes.append(f"the plan at {base_label} already broke a mandatory policy.")
    if head.returncode == EXIT_POLICY:
        notes.append(
            "the working tree's plan breaks a mandatory policy: `pulumi preview --policy-pack policies` "
            f"would refuse it (run `make plan STACK={stack}` for the report)."
        )
    diff = diff_plans(
        stack, base.plan, head.plan, base.documents, head.documents, base_label, "working tree", notes=notes
    )
    return diff, head.returncode == EXIT_POLICY


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner.plan_diff", description=__doc__)
    parser.add_argument("stack", type=stack_argument, help="<stack> or <org>/<stack> (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--base", required=True, help="git revision to compare with (branch, tag, SHA)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--output", help="write the diff to this file instead of standard output")
    parser.add_argument("--exit-code", action="store_true", help="exit 1 when the plans differ (like git diff)")
    parser.add_argument(
        "--max-chars", type=int, default=MARKDOWN_LIMIT, help="size cap of the markdown comment (default %(default)s)"
    )
    args = parser.parse_args(argv)

    try:
        diff, policy_blocked = compute(args.stack.stack, args.base, repo=REPO_ROOT)
    except PlanDiffError as error:
        print(error, file=sys.stderr)
        return error.code
    if args.format == "markdown":
        hint = f"Run `make plan-diff STACK={args.stack} BASE={args.base}` for the whole diff."
        text = render_markdown(diff, limit=args.max_chars, rerun_hint=hint)
    else:
        text = render_text(diff)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    if policy_blocked:
        return EXIT_POLICY
    return 1 if args.exit_code and diff.has_changes else 0


if __name__ == "__main__":
    sys.exit(main())
