"""`python -m planner.bootstrap [STACK ...]`: what `pulumi up` of bootstrap/ would create, offline.

bootstrap/ is a Pulumi project of its own (GitHub's OIDC provider and the roles the workflows
assume, one stack per AWS account). It runs here under the same recording mock engine as the
monitoring stacks (planner.engine.run_program) and writes build/bootstrap/<stack>/plan.json in the
same format; then it prints each role with the OIDC subjects it trusts. Without a stack, every
bootstrap/Pulumi.<stack>.yaml is planned. Exits 2 on a configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT, StackFile, as_cli_config, decode_stack_file, read_stack_document
from planner.engine import Plan, run_program

BOOTSTRAP_DIR = REPO_ROOT / "bootstrap"
NAMESPACE = "ci-bootstrap"


def bootstrap_stacks(root: Path = BOOTSTRAP_DIR) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in root.glob("Pulumi.*.yaml"))


def load_bootstrap_stack_file(stack: str, root: Path = BOOTSTRAP_DIR) -> StackFile:
    """bootstrap/Pulumi.<stack>.yaml as the CLI hands it to the program (values as strings, keys namespaced)."""
    relative = f"bootstrap/Pulumi.{stack}.yaml"
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack file {relative}; bootstrap stacks here: {', '.join(bootstrap_stacks(root))}")
    text = decode_stack_file(path.read_bytes(), relative)
    _, entries = read_stack_document(text, relative, monitoring_project=False)
    config, secret_keys = as_cli_config(entries, NAMESPACE)
    return StackFile(stack=stack, path=relative, config=config, secret_keys=secret_keys)


def plan_bootstrap(stack: str, root: Path = BOOTSTRAP_DIR) -> Plan:
    from bootstrap.program import PROJECT, main

    return run_program(load_bootstrap_stack_file(stack, root), main, project=PROJECT)


def trusted_subjects(plan: Plan) -> dict[str, list[str]]:
    """Role logical name -> the `sub` values its trust policy accepts (every statement, every operator)."""
    trusts: dict[str, list[str]] = {}
    for role in plan.of_type("aws:iam/role:Role"):
        document = json.loads(str(role.inputs["assumeRolePolicy"]))
        subjects: list[str] = []
        for statement in document.get("Statement", []):
            for clauses in (statement.get("Condition") or {}).values():
                for key, values in clauses.items():
                    if key.endswith(":sub"):
                        subjects += values if isinstance(values, list) else [values]
        trusts[role.name] = subjects
    return trusts


def main(argv: list[str] | None = None) -> int:
    from planner.__main__ import plan_document

    parser = argparse.ArgumentParser(prog="python -m planner.bootstrap", description=__doc__)
    parser.add_argument("stacks", nargs="*", help="bootstrap stacks (default: every bootstrap/Pulumi.<stack>.yaml)")
    parser.add_argument("--out", default=str(REPO_ROOT / "build" / "bootstrap"), help="output directory")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    args = parser.parse_args(argv)
    for stack in args.stacks or bootstrap_stacks():
        try:
            plan = plan_bootstrap(stack)
        except (ConfigError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        out_dir = Path(args.out) / stack
        out_dir.mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = plan_document(plan)
        (out_dir / "plan.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        if not args.quiet:
            for role, subjects in sorted(trusted_subjects(plan).items()):
                print(f"  {role}: trusts {', '.join(subjects)}")
        print(f"bootstrap {stack}: {len(plan.resources)} resources; wrote {out_dir / 'plan.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
