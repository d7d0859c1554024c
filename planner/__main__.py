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
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import pulumi

from infra.config import ConfigError
from infra.config.stackfile import REPO_ROOT
from infra.stack_name import StackName, stack_argument
from planner.artifacts import write_artifacts
from planner.engine import PLACEHOLDER_WARNING, Plan, Secret, run_stack
from planner.fakes import FAKE_ACCOUNT_ID
from planner.policy_check import check_plan, format_report
from planner.preview_text import WIDTH, about, render_diagnostics, render_outputs, render_tree, summary
from planner.simulated import SIMULATED_NOTE, SimulatedMarker, simulated_tokens


def _file_digest(path: str) -> dict[str, str]:
    """A file the program uploads, by its repository path and content hash: a code change shows in plan-diff."""
    file = Path(path)
    shown = file.resolve().relative_to(REPO_ROOT).as_posix() if file.resolve().is_relative_to(REPO_ROOT) else path
    return {"file": shown, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}


def asset_json(value: pulumi.Asset | pulumi.Archive) -> Any:
    """Pulumi's assets and archives (a Lambda function's `code`) as plain data for plan.json."""
    if isinstance(value, pulumi.AssetArchive):
        return {"archive": {name: asset_json(member) for name, member in sorted(value.assets.items())}}
    if isinstance(value, pulumi.FileAsset | pulumi.FileArchive):
        return _file_digest(str(value.path))
    if isinstance(value, pulumi.StringAsset):
        return {"text": {"sha256": hashlib.sha256(value.text.encode()).hexdigest(), "chars": len(value.text)}}
    if isinstance(value, pulumi.RemoteAsset | pulumi.RemoteArchive):
        return {"uri": value.uri}
    return {"asset": type(value).__name__}


def to_json(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, pulumi.Asset | pulumi.Archive):
        return asset_json(value)
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


# planner.engine.warn_placeholders: one warning per example value, then the line that counts them.
_PLACEHOLDER = re.compile(
    re.escape(PLACEHOLDER_WARNING) + r"(?P<file>[^:]+): (?P<key>\S+): (?:holds|is not set, so it defaults to) "
    r"the example value '(?P<value>.*?)'; set it to (?P<where>.*)$",
    re.S,
)
_PLACEHOLDER_COUNT = re.compile(r"^\d+ example value\(s\) in ")


def placeholder_lines(plan: Plan) -> list[str]:
    """The example values still in the stack file, one line each (the whole hint: --details or deploying.md)."""
    found = [m for d in plan.diagnostics if (m := _PLACEHOLDER.match(d.message))]
    if not found:
        return []
    lines = [
        f"Example values to replace ({len(found)}): `pulumi up` refuses {found[0]['file']} until each is "
        "(where to find each value: VERBOSE=1, docs/deploying.md)"
    ]
    width = max(len(m["key"]) for m in found)
    for m in found:
        lines.append(_cut_line(f"    {m['key']:<{width}}  '{m['value']}': {m['where']}"))
    return lines


def _relative(path: Path) -> str:
    """`path` as the reader typed the command: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _cut_line(text: str) -> str:
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def diagnostic_groups(plan: Plan, stack: str, *, details: bool = True) -> dict[str, list[tuple[str, str]]]:
    """Every message of the plan, by what it is about: the program's, then the stack file's secrets.

    Without `details`, the example values are left to `placeholder_lines`, which says them shorter.
    """
    groups: dict[str, list[tuple[str, str]]] = {}
    for diagnostic in plan.diagnostics:
        if not details and (_PLACEHOLDER.match(diagnostic.message) or _PLACEHOLDER_COUNT.match(diagnostic.message)):
            continue
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
    parser.add_argument(
        "stack", nargs="?", default="dev", type=stack_argument, help="<stack> or <org>/<stack> (default dev)"
    )
    parser.add_argument("--out", default=str(REPO_ROOT / "build"), help="output directory (default: build/)")
    parser.add_argument("--quiet", action="store_true", help="print only the cost and policy lines")
    parser.add_argument("--details", action="store_true", help="every resource with its inputs (make plan VERBOSE=1)")
    parser.add_argument(
        "--stack-file", type=Path, help="plan this file as the stack's configuration (a draft) instead of stacks/"
    )
    args = parser.parse_args(argv)
    named: StackName = args.stack
    stack = named.stack

    try:
        plan = run_stack(stack, stack_file_path=args.stack_file)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    out_dir = Path(args.out) / stack
    out_dir.mkdir(parents=True, exist_ok=True)
    simulated = SimulatedMarker(simulated_tokens(plan))
    document = plan_document(plan, simulated)
    (out_dir / "plan.json").write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    artifacts = write_artifacts(plan, out_dir)

    if not args.quiet:
        print(
            f"Previewing update ({named.qualified}) offline: no cloud API is called; "
            f"a value marked (simulated) is invented offline\n"
        )
        print("\n".join(render_tree(plan, simulated, details=args.details)))
        diagnostics = render_diagnostics(diagnostic_groups(plan, named.qualified, details=args.details))
        if diagnostics:
            print("\n" + "\n".join(diagnostics))
        if not args.details and (placeholders := placeholder_lines(plan)):
            print("\n" + "\n".join(placeholders))
        print("\n" + "\n".join(render_outputs(to_json(plan.outputs), simulated, details=args.details)))
        print("\n" + "\n".join(summary(plan)))
    hint = "" if args.details else f"; every resource and input: make plan STACK={named.qualified} VERBOSE=1"
    written = f"wrote {_relative(out_dir / 'plan.json')} and {len(artifacts)} artifact(s){hint}"
    print(f"\n{stack}: {written}" if args.quiet else f"    {written}")

    estimate = plan.outputs.get("cost_estimate")
    if isinstance(estimate, dict):
        print("\n" + "\n".join(cost_lines(estimate, named.qualified)))

    policy_report = check_plan(plan)
    print("\n" + format_report(plan, policy_report))
    if policy_report.blocking:
        print(
            f"error: {len(policy_report.blocking)} mandatory policy violation(s) in stack {stack}; "
            "`pulumi preview --policy-pack policies` would refuse this change (see above for each fix)",
            file=sys.stderr,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
