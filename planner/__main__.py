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
from infra.config.stackfile import REPO_ROOT
from planner.artifacts import write_artifacts
from planner.engine import Diagnostic, Plan, PlannedResource, Secret, run_stack
from planner.fakes import FAKE_ACCOUNT_ID
from planner.policy_check import check_plan, format_report
from planner.simulated import SIMULATED_NOTE, SimulatedMarker, simulated_tokens

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


SIMULATED_MARK = "(simulated)"


def _key_inputs(resource: PlannedResource, simulated: SimulatedMarker, limit: int = 4) -> str:
    parts = []
    for key, value in sorted(resource.inputs.items()):
        shown = _short(value)
        if key in _SKIPPED_INPUTS or shown is None:
            continue
        parts.append(f"{key}={shown}{SIMULATED_MARK if simulated(value) else ''}")
        if len(parts) == limit:
            break
    return " ".join(parts)


def render_tree(plan: Plan, simulated: SimulatedMarker | None = None) -> str:
    marker = simulated or SimulatedMarker(simulated_tokens(plan))
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for resource in plan.children_of(parent):
            marks = (" [protected]" if resource.protect else "") + (" [retained]" if resource.retain_on_delete else "")
            lines.append(
                f"{'  ' * depth}+ {resource.type}  {resource.name}{marks}  {_key_inputs(resource, marker)}".rstrip()
            )
            walk(resource.urn, depth + 1)

    stack_urn = f"urn:pulumi:{plan.stack}::monitoring::pulumi:pulumi:Stack::monitoring-{plan.stack}"
    lines.append(f"pulumi:pulumi:Stack  monitoring-{plan.stack}  (a value marked {SIMULATED_MARK} is invented offline)")
    walk(stack_urn, 1)
    return "\n".join(lines)


def about(plan: Plan, diagnostic: Diagnostic) -> str:
    """What a logged message is about: the resource it names, or the stack."""
    resource = next((r for r in plan.resources if r.urn == diagnostic.urn), None)
    return f"{resource.name} ({resource.type})" if resource is not None else f"stack {plan.stack}"


def counted(plan: Plan) -> str:
    """The one resource count of a plan: everything the program registers (the stack itself aside)."""
    components = sum(1 for r in plan.resources if not r.custom)
    providers = sum(1 for r in plan.resources if r.type.startswith("pulumi:providers:"))
    return f"{len(plan.resources)} resources ({components} components, {providers} providers)"


def to_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def plan_document(plan: Plan, simulated: SimulatedMarker | None = None) -> dict[str, Any]:
    marker = simulated or SimulatedMarker(simulated_tokens(plan))
    return {
        "stack": plan.stack,
        "stackFile": plan.stack_file.path,
        "unsetSecrets": plan.stack_file.unset_secrets,
        "fromEnvironment": plan.stack_file.from_environment,
        "metadata": {
            "offline": True,
            "resourceCount": len(plan.resources),
            "simulated": SIMULATED_NOTE,
            "simulatedAccountId": FAKE_ACCOUNT_ID,
            "simulatedOutputs": sorted(key for key, value in plan.outputs.items() if marker(to_json(value))),
            "diagnostics": [
                {"severity": d.severity, "about": about(plan, d), "message": d.message} for d in plan.diagnostics
            ],
        },
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
                **({"simulatedId": r.simulated_id} if r.custom else {}),
                "simulatedInputs": sorted(k for k, v in r.inputs.items() if marker(to_json(v))),
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
    simulated = SimulatedMarker(simulated_tokens(plan))
    document = plan_document(plan, simulated)
    (out_dir / "plan.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    artifacts = write_artifacts(plan, out_dir)

    if not args.quiet:
        print(render_tree(plan, simulated))
        print(f"\nOutputs (a value marked {SIMULATED_MARK} is invented offline; `pulumi up` reports the real one):")
        for key, value in sorted(plan.outputs.items()):
            shown = to_json(value)
            print(f"  {key}: {json.dumps(shown)}{'  ' + SIMULATED_MARK if simulated(shown) else ''}")
    print()
    for diagnostic in plan.diagnostics:
        print(f"{diagnostic.severity}: {about(plan, diagnostic)}: {diagnostic.message}")
    for key, environment in sorted(plan.stack_file.from_environment.items()):
        print(
            f"note: secret {key}: from the ESC environment {environment} (esc/{environment.rsplit('/', 1)[-1]}.yaml), "
            "present but unknown offline, so the plan used a placeholder; `pulumi up` reads it from the environment"
        )
    for environment in plan.stack_file.unknown_environments:
        print(
            f"warning: stack {args.stack}: imports the ESC environment {environment}, which has no definition under "
            "esc/; the keys it provides are unknown offline (add the definition, without values)"
        )
    for key in plan.stack_file.unset_secrets:
        print(
            f"note: secret {key}: not set in {plan.stack_file.path}, so the plan used a placeholder; "
            f"before `pulumi up`: pulumi config set --secret {key} <value> --stack {args.stack}"
        )
    print(
        f"\n{args.stack}: {counted(plan)}; wrote {out_dir / 'plan.json'} and {len(artifacts)} artifact(s); "
        f"{len(document['metadata']['simulatedOutputs'])} of {len(plan.outputs)} outputs are simulated"
    )

    estimate = plan.outputs.get("cost_estimate")
    if isinstance(estimate, dict):
        # Computed by the program (infra/cost); `make cost STACK=...` shows where it comes from.
        logs = "logsUsdPerMonth" in estimate
        print(
            f"\n{'Monitoring' if logs else 'AMP'} estimate: {estimate['activeSeries']:,} active series, "
            f"{estimate['samplesPerMonth']:,} samples/month, {estimate['querySamplesPerMonth']:,} query samples/month"
            + (f", {estimate['logsGbPerDay']:,} GB of logs/day" if logs else "")
            + f"\n  ${estimate['usdPerMonth']:,.2f}/month"
            + (
                f" (AMP ${estimate['ampUsdPerMonth']:,.2f} + CloudWatch Logs ${estimate['logsUsdPerMonth']:,.2f})"
                if logs
                else ""
            )
            + f" against a budget of ${estimate['budgetUsdPerMonth']:,.2f} "
            f"(prices: {estimate['pricing']}"
            + (f"; logs: {estimate['logsPricing']}" if logs else "")
            + f"; breakdown: make cost STACK={args.stack})"
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
