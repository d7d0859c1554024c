"""Run the policy pack over a recorded plan, as `pulumi preview --policy-pack policies` would.

The resources reach the policies the way the Pulumi engine and the Python
policy SDK hand them over:
- resource policies get the inputs, secrets unwrapped to their value (the SDK
  does the same; offline a secret is only ever a `<secret ...>` placeholder),
  behind the SDK's proxy that raises on a value unknown during preview;
- remediation policies get the inputs with secrets still marked, as the
  engine's remediation pass does;
- stack policies get every resource with inputs and outputs merged, linked to
  its parent and dependencies.
A policy that hits an unknown value is reported as "not run", as the CLI does.
A remediation the engine would apply is reported as a failure: the code must
not rely on the engine rewriting it.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties, serialize_properties
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from infra.config.stackfile import REPO_ROOT
from planner.engine import PROJECT, Plan, PlannedResource, Secret

POLICY_PACK_DIR = REPO_ROOT / "policies"
# The pack imports its policies as the top-level package `screener_policies`,
# exactly as when the Pulumi CLI runs policies/__main__.py.
if str(POLICY_PACK_DIR) not in sys.path:
    sys.path.insert(0, str(POLICY_PACK_DIR))

from screener_policies import DEFAULT_ENFORCEMENT, PACK_NAME, POLICIES  # noqa: E402

PolicyConfig = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: str  # mandatory, advisory or remediate
    urn: str
    message: str

    @property
    def blocking(self) -> bool:
        return self.enforcement in ("mandatory", "remediate")


@dataclass
class PolicyReport:
    pack: str
    policies: int
    resources: int
    violations: list[Violation] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)  # policies that met a value unknown during preview

    @property
    def blocking(self) -> list[Violation]:
        return [v for v in self.violations if v.blocking]


def _level(policy: Policy) -> EnforcementLevel:
    return policy.enforcement_level if policy.enforcement_level is not None else DEFAULT_ENFORCEMENT


def _engine_inputs(resource: PlannedResource) -> dict[str, Any]:
    # The engine drops internal keys (`__defaults`, ...) before calling analyzers.
    return {k: v for k, v in resource.raw_inputs.items() if not k.startswith("__")}


def _placeholder_secrets(value: Any) -> Any:
    if isinstance(value, Secret):
        return "[secret]"
    if isinstance(value, dict):
        return {k: _placeholder_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholder_secrets(v) for v in value]
    return value


def _options(resource: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=resource.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=list(resource.aliases),
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=resource.parent or None,
    )


def resource_args(
    resource: PlannedResource, *, keep_secrets: bool = False, config: Mapping[str, Any] | None = None
) -> ResourceValidationArgs:
    """What the engine passes a resource policy (`keep_secrets`: what it passes a remediation)."""
    props = unknown_checking_proxy(deserialize_properties(_engine_inputs(resource), keep_secrets))
    return ResourceValidationArgs(
        resource.type, props, resource.urn, resource.name, _options(resource), None, dict(config or {})
    )


def stack_args(plan: Plan, config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    """What the engine passes a stack policy: every resource with its outputs, linked together."""
    by_urn: dict[str, PolicyResource] = {}
    for resource in plan.resources:
        state = {**_engine_inputs(resource), **_placeholder_secrets(resource.outputs)}
        props = unknown_checking_proxy(deserialize_properties(state))
        by_urn[resource.urn] = PolicyResource(
            resource.type, props, resource.urn, resource.name, _options(resource), None, None, [], {}
        )
    for resource in plan.resources:
        linked = by_urn[resource.urn]
        linked.parent = by_urn.get(resource.parent)
        linked.dependencies = [by_urn[urn] for urn in resource.depends_on if urn in by_urn]
    return StackValidationArgs(list(by_urn.values()), dict(config or {}))


def _settle(result: Any) -> Any:
    """The value of a policy callback that may be async (the SDK allows both)."""
    if not inspect.isawaitable(result):
        return result

    async def wait() -> Any:
        return await result

    return asyncio.run(wait())


def _reporter(policy: Policy, level: EnforcementLevel, default_urn: str, sink: list[Violation]) -> Callable[..., None]:
    shown = EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level

    def report_violation(message: str, urn: str | None = None) -> None:
        sink.append(Violation(policy.name, shown.value, urn or default_urn, message))

    return report_violation


def _changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    old, new = serialize_properties(before), serialize_properties(after)
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def check_plan(plan: Plan, policies: list[Policy] | None = None, config: PolicyConfig | None = None) -> PolicyReport:
    """Every violation the pack reports on `plan`; `config` is per-policy config as `--policy-pack-config` gives."""
    chosen = POLICIES if policies is None else policies
    report = PolicyReport(pack=PACK_NAME, policies=len(chosen), resources=len(plan.resources))
    stack_urn = f"urn:pulumi:{plan.stack}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{plan.stack}"
    for policy in chosen:
        level = _level(policy)
        if level == EnforcementLevel.DISABLED:
            continue
        policy_config = (config or {}).get(policy.name)
        try:
            if isinstance(policy, ResourceValidationPolicy):
                _run_resource_policy(plan, policy, level, policy_config, report)
            elif isinstance(policy, StackValidationPolicy):
                report_violation = _reporter(policy, level, stack_urn, report.violations)
                _settle(policy.validate(stack_args(plan, policy_config), report_violation))
        except UnknownValueError as error:
            report.not_run.append(f"{policy.name}: {error.message}")
        except _NotApplicableError:
            continue
    return report


def _run_resource_policy(
    plan: Plan,
    policy: ResourceValidationPolicy,
    level: EnforcementLevel,
    config: Mapping[str, Any] | None,
    report: PolicyReport,
) -> None:
    for resource in plan.resources:
        try:
            if level == EnforcementLevel.REMEDIATE and policy.has_remediation():
                args = resource_args(resource, keep_secrets=True, config=config)
                before = serialize_properties(args.props)
                fixed = _settle(policy.remediate(args))
                if fixed:
                    keys = ", ".join(_changed_keys(before, fixed)) or "its inputs"
                    report.violations.append(
                        Violation(
                            policy.name,
                            EnforcementLevel.REMEDIATE.value,
                            resource.urn,
                            f"{policy.description} The engine would rewrite {keys} of this resource. "
                            f"Fix: {policy.remediation_steps or 'change the program so the remediation is a no-op.'}",
                        )
                    )
            if policy.has_validation():
                args = resource_args(resource, config=config)
                _settle(policy.validate(args, _reporter(policy, level, resource.urn, report.violations)))
        except UnknownValueError as error:
            report.not_run.append(f"{policy.name} on {resource.name}: {error.message}")
        except _NotApplicableError:
            continue


def _describe(plan: Plan, urn: str) -> str:
    resource = next((r for r in plan.resources if r.urn == urn), None)
    return f"{resource.type} '{resource.name}'" if resource is not None else f"stack {plan.stack}"


def format_report(plan: Plan, report: PolicyReport) -> str:
    """The policy section of `make plan`: each violation with its resource, policy and fix."""
    lines = [f"Policies: {report.pack}, {report.policies} policies over the {report.resources} resources"]
    for violation in sorted(report.violations, key=lambda v: (not v.blocking, v.policy, v.urn)):
        lines.append(f"  [{violation.enforcement}] {violation.policy}: {_describe(plan, violation.urn)}")
        lines.append(f"      {violation.message}")
    for note in report.not_run:
        lines.append(f"  [not run] {note}")
    blocking = len(report.blocking)
    advisory = len(report.violations) - blocking
    lines.append(
        f"  {blocking} mandatory violation(s), {advisory} advisory"
        + ("" if report.violations else ": every policy passes")
    )
    return "\n".join(lines)
