"""`python -m planner [STACK] [--details]`: what `pulumi up` would create, offline.

Prints what `pulumi preview` would (planner/preview_text.py: the tree, diagnostics, outputs, the
resource count), then the cost estimate and the policy pack's findings (policies/), and writes
build/<stack>/plan.json plus every uploaded document as a plain file.
Exits 2 on a configuration error, 3 on a mandatory policy violation,
1 on any other program error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pulumi

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT
from planner.artifacts import write_artifacts
from planner.engine import Plan, Secret, run_stack
from planner.fakes import FAKE_ACCOUNT_ID
from planner.policy_check import check_plan, format_report
from planner.preview_text import WIDTH, about, render_diagnostics, render_outputs, render_tree, summary
from planner.simulated import SIMULATED_NOTE, SimulatedMarker, simulated_tokens


def _asset_json(value: pulumi.Asset | pulumi.Archive) -> dict[str, Any]:
    """An asset or archive as the plan shows it: what it holds and a digest, so a code change shows in a diff."""
    if isinstance(value, pulumi.AssetArchive):
        return {"assetArchive": {name: to_json(item) for name, item in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        path = Path(value.path).resolve()
        shown = str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: shown, "sha256": digest}
    if isinstance(value, pulumi.StringAsset):
        return {"stringAsset": {"sha256": hashlib.sha256(value.text.encode()).hexdigest()}}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {type(value).__name__[0].lower() + type(value).__name__[1:]: value.uri}
    return {"asset": type(value).__name__}


def to_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return _asset_json(value)
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


def diagnostic_groups(plan: Plan, stack: str) -> dict[str, list[tuple[str, str]]]:
    """Every message of the plan, by what it is about: the program's, then the stack file's secrets."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for diagnostic in plan.diagnostics:
        groups.setdefault(about(plan, diagnostic), []).append((diagnostic.severity, diagnostic.message))
    stack_file = f"stack file {plan.stack_file.path}"
    by_environment: dict[str, list[str]] = {}
    for key, environment in sorted(plan.stack_file.from_environment.items()):
        by_environment.setdefault(environment, []).append(key)
    for environment, keys in by_environment.items():
        groups.setdefault(stack_file, []).append(
            (
                "note",
                f"secret(s) {', '.join(keys)}: from the ESC environment {environment} "
                f"(esc/{environment.rsplit('/', 1)[-1]}.yaml), unknown offline, so the plan used stand-ins; "
                "`pulumi up` reads them from the environment",
            )
        )
    for key in plan.stack_file.unset_secrets:
        groups.setdefault(stack_file, []).append(
            (
                "note",
                f"secret {key} is not set, so the plan used a stand-in; before `pulumi up`: "
                f"pulumi config set --secret {key} <value> --stack {stack}",
            )
        )
    return groups


def cost_lines(estimate: dict[str, Any], stack: str) -> list[str]:
    """The cost estimate the program computed (infra/cost); `make cost STACK=...` shows where it comes from."""
    logs = "logsUsdPerMonth" in estimate
    amp, budget = estimate.get("ampUsdPerMonth"), estimate["budgetUsdPerMonth"]
    split = f" (AMP ${amp:,.2f} + CloudWatch Logs ${estimate['logsUsdPerMonth']:,.2f})" if logs else ""
    lines = [
        f"Cost: ${estimate['usdPerMonth']:,.2f}/month{split} against a budget of ${budget:,.2f}; "
        f"breakdown: make cost STACK={stack}",
        f"    {estimate['activeSeries']:,} active series, {estimate['samplesPerMonth']:,} samples/month, "
        f"{estimate['querySamplesPerMonth']:,} query samples/month"
        + (f", {estimate['logsGbPerDay']:,} GB of logs/day" if logs else ""),
        f"    AMP prices: {estimate['pricing']}",
    ]
    if logs:
        lines.append(f"    logs prices: {estimate['logsPricing']}")
    return [
        wrapped
        for line in lines
        for wrapped in textwrap.wrap(line, WIDTH, subsequent_indent="      ", break_on_hyphens=False)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planner", description=__doc__)
    parser.add_argument("stack", nargs="?", default="dev")
    parser.add_argument("--out", default=str(REPO_ROOT / "build"), help="output directory (default: build/)")
    parser.add_argument("--quiet", action="store_true", help="print only the cost and policy lines")
    parser.add_argument("--details", action="store_true", help="every resource with its inputs (make plan VERBOSE=1)")
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
        print(
            f"Previewing update ({args.stack}) offline: no cloud API is called; "
            f"a value marked (simulated) is invented offline\n"
        )
        print("\n".join(render_tree(plan, simulated, details=args.details)))
        diagnostics = render_diagnostics(diagnostic_groups(plan, args.stack))
        if diagnostics:
            print("\n" + "\n".join(diagnostics))
        print("\n" + "\n".join(render_outputs(to_json(plan.outputs), simulated, details=args.details)))
        print("\n" + "\n".join(summary(plan)))
    if not args.details:
        hint = f"every resource and input: make plan STACK={args.stack} VERBOSE=1"
        print(f"\n{args.stack}: wrote {out_dir / 'plan.json'} and {len(artifacts)} artifact(s); {hint}")

    estimate = plan.outputs.get("cost_estimate")
    if isinstance(estimate, dict):
        print("\n" + "\n".join(cost_lines(estimate, args.stack)))

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
