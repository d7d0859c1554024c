"""`python -m planner [STACK]`: what `pulumi up` would create, offline.

Prints the resource tree and the stack outputs, and writes
build/<stack>/plan.json plus every uploaded document as a plain file.
Then runs the policy pack (policies/) over the plan and prints what it finds.
Exits 2 on a configuration error, 3 on a mandatory policy violation,
1 on any other program error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from infra.config import ConfigError
from planner.artifacts import write_artifacts
from planner.engine import Plan, PlannedResource, Secret, run_stack
from planner.policy_check import check_plan, format_report
from planner.stackfile import REPO_ROOT

_SKIPPED_INPUTS = {"tags", "tagsAll", "__defaults"}


def _short(value: Any) -> str | None:
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str):
        flat = value.replace("\n", " ")
        return json.dumps(flat if len(flat) <= 60 else flat[:57] + "...")
    if isinstance(value, Secret):
        return "[secret]"
    return None


def _key_inputs(resource: PlannedResource, limit: int = 4) -> str:
    parts = []
    for key, value in sorted(resource.inputs.items()):
        shown = _short(value)
        if key in _SKIPPED_INPUTS or shown is None:
            continue
        parts.append(f"{key}={shown}")
        if len(parts) == limit:
            break
    return " ".join(parts)


def render_tree(plan: Plan) -> str:
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in plan.children_of(parent):
            marks = (" [protected]" if resource.protect else "") + (" [retained]" if resource.retain_on_delete else "")
            lines.append(f"{'  ' * depth}+ {resource.type}  {resource.name}{marks}  {_key_inputs(resource)}".rstrip())
            walk(resource.urn, depth + 1)

    stack_urn = f"urn:pulumi:{plan.stack}::monitoring::pulumi:pulumi:Stack::monitoring-{plan.stack}"
    lines.append(f"pulumi:pulumi:Stack  monitoring-{plan.stack}")
    walk(stack_urn, 1)
    return "\n".join(lines)


def to_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def plan_document(plan: Plan) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "stackFile": plan.stack_file.path,
        "unsetSecrets": plan.stack_file.unset_secrets,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "protect": r.protect,
                "retainOnDelete": r.retain_on_delete,
                "aliases": r.aliases,
                "inputs": to_json(r.inputs),
                "outputs": to_json(r.outputs),
            }
            for r in plan.resources
        ],
        "outputs": to_json(plan.outputs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner", description=__doc__)
    parser.add_argument("stack", nargs="?", default="dev")
    parser.add_argument("--out", default=str(REPO_ROOT / "build"), help="output directory (default: build/)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.add_argument(
        "--stack-file", type=Path, help="plan this file as the stack's configuration (a draft) instead of stacks/"
    )
    args = parser.parse_args(argv)

    try:
        plan = run_stack(args.stack, stack_file_path=args.stack_file)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    out_dir = Path(args.out) / args.stack
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plan.json").write_text(json.dumps(plan_document(plan), indent=2, sort_keys=True) + "\n")
    artifacts = write_artifacts(plan, out_dir)

    if not args.quiet:
        print(render_tree(plan))
        print("\nOutputs:")
        for key, value in sorted(plan.outputs.items()):
            print(f"  {key}: {json.dumps(to_json(value))}")
    for key in plan.stack_file.unset_secrets:
        print(
            f"\nnote: {key} is not set in {plan.stack_file.path}; the plan used a placeholder. "
            f"Before `pulumi up`: pulumi config set --secret {key} <value> --stack {args.stack}"
        )
    custom = sum(1 for r in plan.resources if r.custom)
    print(
        f"\n{args.stack}: {custom} resources in {len(plan.resources) - custom} components; "
        f"wrote {out_dir / 'plan.json'} and {len(artifacts)} artifact(s)"
    )

    estimate = plan.outputs.get("cost_estimate")
    if isinstance(estimate, dict):
        # Computed by the program (infra/cost); `make cost STACK=...` shows where it comes from.
        print(
            f"\nAMP estimate: {estimate['activeSeries']:,} active series, "
            f"{estimate['samplesPerMonth']:,} samples/month, {estimate['querySamplesPerMonth']:,} query samples/month\n"
            f"  ${estimate['usdPerMonth']:,.2f}/month against a budget of ${estimate['budgetUsdPerMonth']:,.2f} "
            f"(prices: {estimate['pricing']}; breakdown: make cost STACK={args.stack})"
        )

    policy_report = check_plan(plan)
    print("\n" + format_report(plan, policy_report))
    if policy_report.blocking:
        print(
            f"error: {len(policy_report.blocking)} mandatory policy violation(s) in stack {args.stack}; "
            "`pulumi preview --policy-pack policies` would refuse this change (see above for each fix)",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
