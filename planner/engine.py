"""The recording mock engine: runs the real program in-process, without a cloud.

`run_stack("dev")` loads `stacks/Pulumi.dev.yaml` into Pulumi's runtime
config, installs Pulumi's mock monitor with our fakes, runs the same entry
point as `pulumi up` (`infra.program.main` inside `run_in_stack`) and returns
a `Plan`: every resource registered (type, logical name, parent, inputs,
options) and the stack outputs. The unit tests and `make plan` both use it;
there is no other engine.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi.runtime
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import engine_pb2
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

from infra.config import ConfigError, StackConfig, stack_file_for
from infra.config.placeholders import find_placeholders
from infra.config.stackfile import StackFile, load_stack_file
from planner import fakes
from planner.fakes.aws import generic_aws

PROJECT = "monitoring"


class Secret:
    """Stands in for a secret value in a recorded plan; it prints as `[secret]`."""

    def __repr__(self) -> str:
        return "[secret]"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret)

    def __hash__(self) -> int:
        return 0


SECRET = Secret()


def redact(value: Any) -> Any:
    """Replace every secret (as the engine receives it) by `SECRET`, recursively.

    Numbers cross the engine as protobuf doubles; whole ones become ints again.
    """
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


@dataclass
class PlannedResource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    aliases: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    provider: str = ""
    # The physical ID the fakes invented (a real one comes from the provider at `pulumi up`).
    simulated_id: str = ""
    # Inputs with secrets still wrapped, for tests that check secrecy paths.
    raw_inputs: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Diagnostic:
    """A message the program logged (`pulumi.log.warn(..., resource=...)`), with the resource it is about."""

    severity: str  # info, warning or error
    urn: str  # empty: about the stack as a whole
    message: str


@dataclass
class Plan:
    stack: str
    stack_file: StackFile
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name: str | None = None) -> PlannedResource:
        found = [r for r in self.of_type(type_token) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise LookupError(f"expected one {type_token} named {name!r}, found {len(found)} among {names}")
        return found[0]

    def by_urn(self, urn: str) -> PlannedResource:
        return next(r for r in self.resources if r.urn == urn)

    def children_of(self, urn: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.parent == urn]


# Pulumi's mock monitor answers provider calls on executor threads, each with
# an event loop of its own that nobody closes; closed at exit, they do not
# spill "Invalid file descriptor" noise over the output of every plan.
_CALL_LOOPS: set[asyncio.AbstractEventLoop] = set()


@atexit.register
def _close_call_loops() -> None:
    for loop in _CALL_LOOPS:
        if not loop.is_running() and not loop.is_closed():
            loop.close()


DISABLE_DEFAULT_PROVIDERS_KEY = "pulumi:disable-default-providers"


def disabled_default_providers(config: dict[str, str]) -> frozenset[str]:
    """The packages whose default provider the stack file disables (`*` for all), as the engine reads the key."""
    value = config.get(DISABLE_DEFAULT_PROVIDERS_KEY, "")
    return frozenset(str(package).strip() for package in json.loads(value)) if value else frozenset()


def check_explicit_provider(disabled: frozenset[str], token: str, provider: str, what: str) -> None:
    """Refuse what the real engine refuses: a resource or call of a package whose default provider is disabled,
    without `provider=` (pulumi/pulumi pkg/resource/deploy/default_providers.go, shouldDenyRequest)."""
    package = token.split(":", 1)[0]
    if not provider and package != "pulumi" and ("*" in disabled or package in disabled):
        raise ValueError(
            f"Default provider for '{package}' disabled. '{what}' must use an explicit provider "
            f"(pass provider= in its ResourceOptions / InvokeOptions)."
        )


class FakeCloud(mocks.Mocks):
    """Answers resource registrations and provider calls with realistic values."""

    def __init__(self, context: fakes.FakeContext, disabled_defaults: frozenset[str] = frozenset()) -> None:
        self.context = context
        self.disabled_defaults = disabled_defaults
        # The inputs of the registration this thread is answering (the mock monitor registers on
        # executor threads), as the monitor deserialized them: the recording keeps them as they are.
        self.answering = threading.local()

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.answering.inputs = args.inputs
        fake = fakes.RESOURCE_FAKES.get(args.typ)
        plain_inputs = {k: rpc.unwrap_rpc_secret(v) for k, v in args.inputs.items()}
        if fake is not None:
            resource_id, computed = fake(self.context, args.name, plain_inputs)
        elif args.typ.startswith("aws:"):
            resource_id, computed = generic_aws(self.context, args.typ, args.name, plain_inputs)
        else:
            resource_id, computed = f"{args.name}-{self.context.token(args.name, 7)}", {}
        return resource_id, {**args.inputs, **computed}

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        check_explicit_provider(self.disabled_defaults, args.token, args.provider, args.token)
        fake = fakes.CALL_FAKES.get(args.token)
        if fake is None:
            raise NotImplementedError(
                f"the offline plan has no fake for the provider call {args.token}; add one under planner/fakes/"
            )
        _CALL_LOOPS.add(asyncio.get_event_loop())
        # An empty failure list: this Pulumi version iterates it unconditionally.
        return fake(self.context, args.args), []


_SEVERITIES = {engine_pb2.INFO: "info", engine_pb2.WARNING: "warning", engine_pb2.ERROR: "error"}


class RecordingEngine(mocks.MockEngine):
    """Pulumi's mock engine, keeping each log message with the resource it names instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logger=None)
        self.diagnostics: list[Diagnostic] = []

    def Log(self, request: Any) -> None:  # noqa: N802 (gRPC method name)
        severity = _SEVERITIES.get(request.severity)
        if severity is not None:
            self.diagnostics.append(Diagnostic(severity, request.urn, request.message))


def _describe_alias(alias: Any) -> str:
    if alias.WhichOneof("alias") == "urn":
        return str(alias.urn)
    spec = alias.spec
    return str(spec.name or spec.parentUrn or "(alias)")


def _mark_secret_outputs(response: Any, names: list[str]) -> Any:
    """The response with the outputs named in `additional_secret_outputs` made secret.

    The real engine does this for every resource that asks (the SDKs' own
    secret fields, a program's extra ones); Pulumi's mock monitor does not, so
    without this a plan would show in clear what a deployment keeps secret.
    """
    outputs = rpc.deserialize_properties(response.object, keep_unknowns=True)
    for name in names:
        if name in outputs and not rpc.is_rpc_secret(outputs[name]):
            outputs[name] = rpc.wrap_rpc_secret(outputs[name])
    marked = _sync_await(rpc.serialize_properties(outputs, {}))
    return type(response)(urn=response.urn, id=response.id, object=marked)


class RecordingMonitor(mocks.MockMonitor):
    """Pulumi's mock monitor, keeping what a plan needs: options, parents, stack outputs."""

    def __init__(self, cloud: FakeCloud) -> None:
        super().__init__(cloud)
        self.cloud = cloud
        self.recorded: list[PlannedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._urns: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            return response
        if request.custom and request.additionalSecretOutputs:
            response = _mark_secret_outputs(response, list(request.additionalSecretOutputs))
        if request.custom and not request.type.startswith("pulumi:providers:"):
            check_explicit_provider(self.cloud.disabled_defaults, request.type, request.provider, request.name)
        if response.urn in self._urns:
            # The real engine refuses this too; Pulumi's mock monitor would record both.
            raise ValueError(f"Duplicate resource URN '{response.urn}'; try giving it a unique name")
        self._urns.add(response.urn)
        # What Pulumi's mock monitor deserialized from request.object for the fakes (no second pass);
        # taken, so that a registration the fakes did not answer fails here instead of reusing another's.
        raw_inputs: dict[str, Any] = vars(self.cloud.answering).pop("inputs")
        # What the engine computed: the response's properties that are not inputs. Deserialized
        # one by one (as deserialize_properties does, dropping what comes back as None), so that
        # the inputs echoed in the response (rule files, chart values) are not deserialized again.
        outputs: dict[str, Any] = {}
        for key, value in response.object.items() if request.custom else ():
            if key not in raw_inputs and (output := rpc.deserialize_property(value)) is not None:
                outputs[key] = output
        self.recorded.append(
            PlannedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=redact(raw_inputs),
                outputs=redact(outputs),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                aliases=[_describe_alias(alias) for alias in request.aliases] + list(request.aliasURNs),
                depends_on=list(request.dependencies),
                provider=request.provider,
                simulated_id=response.id if request.custom else "",
                raw_inputs=raw_inputs,
            )
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.urn.split("::")[2] == "pulumi:pulumi:Stack":
            self.stack_outputs = redact(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def _quiet_about(error: BaseException) -> None:
    """The failed program's futures that still hold `error` are never awaited now; asyncio would log
    each one ("Future exception was never retrieved") when it is collected, though the error is raised."""
    loop = asyncio.get_event_loop()
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("exception") is error:
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def run_program(
    stack_file: StackFile,
    program: Callable[[], None],
    project: str = PROJECT,
) -> Plan:
    """Run `program` of `project` (the monitoring program; bootstrap/'s for its plan) as the Pulumi entry point
    would, under the recording mock engine."""
    fakes.load_all()
    cloud = FakeCloud(
        fakes.FakeContext(region=stack_file.region or "us-east-1", stack=stack_file.stack, project=project),
        disabled_default_providers(stack_file.config),
    )
    monitor = RecordingMonitor(cloud)
    pulumi.runtime.set_all_config(stack_file.config, stack_file.secret_keys)
    # set_mocks installs a throwaway root stack; drop it so that run_in_stack
    # creates and finishes the real one, exactly as the CLI's entry point does.
    mocks.set_mocks(cloud, project=project, stack=stack_file.stack, preview=True, monitor=monitor)
    # Messages go into the plan, each with the resource it is about, for the planner to print labelled.
    engine = RecordingEngine()
    SETTINGS.engine = engine
    set_root_resource(None)  # type: ignore[arg-type]
    # The SDK keeps every Output's task in one process-wide set and awaits them all at the end of a run;
    # tasks a failed plan left behind would fail the next plan in the same process (a test session).
    with SETTINGS.lock:
        for task in SETTINGS.outputs:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the failed plan reported it already
        SETTINGS.outputs.clear()
    try:
        _sync_await(run_in_stack(program))
    except BaseException as error:
        # Lets callers (and tests) see what, if anything, was declared before the failure.
        error.declared_resources = list(monitor.recorded)  # type: ignore[attr-defined]
        _quiet_about(error)
        raise
    finally:
        set_root_resource(None)  # type: ignore[arg-type]
    assert get_root_resource() is None
    return Plan(
        stack=stack_file.stack,
        stack_file=stack_file,
        # Registration order depends on when Outputs resolve; sort for repeatable plans.
        resources=sorted(monitor.recorded, key=lambda resource: resource.urn),
        outputs=monitor.stack_outputs,
        # Messages of resources logged once their URN resolves, in no fixed order.
        diagnostics=sorted(engine.diagnostics, key=lambda d: (d.urn, d.message)),
    )


# How the planner's warning about each example value starts.
PLACEHOLDER_WARNING = "placeholder: "


def warn_placeholders(config: StackConfig) -> None:
    """The planner's answer to example values: the program's list, one warning each, and the plan goes on.

    The committed stack files are examples that must plan offline; `pulumi up` refuses the same list
    (infra.program.refuse_placeholders).
    """
    found = find_placeholders(config.settings)
    for placeholder in found:
        pulumi.log.warn(PLACEHOLDER_WARNING + placeholder.describe(config.stack_file))
    if found:
        pulumi.log.warn(
            f"{len(found)} example value(s) in {config.stack_file} (the '{PLACEHOLDER_WARNING}...' warnings): "
            "`pulumi preview` and `pulumi up` refuse the stack until each is replaced (docs/deploying.md)"
        )


def run_stack(
    stack: str,
    *,
    fill_unset_secrets: bool = True,
    overrides: dict[str, Any] | None = None,
    stack_file_path: Path | None = None,
) -> Plan:
    """Plan one stack from its file under stacks/ (or `stack_file_path`), optionally with config overrides (tests)."""
    from infra.program import main

    stack_file = load_stack_file(
        stack, fill_unset_secrets=fill_unset_secrets, overrides=overrides, path=stack_file_path
    )
    try:
        return run_program(stack_file, functools.partial(main, on_placeholders=warn_placeholders))
    except ConfigError as error:
        if stack_file_path is None:
            raise
        # The program names the file the Pulumi CLI reads (stacks/Pulumi.<stack>.yaml); here that is the draft.
        committed = stack_file_for(stack)
        renamed = ConfigError(
            [stack_file.path + p.removeprefix(committed) if p.startswith(committed) else p for p in error.problems]
        )
        renamed.declared_resources = getattr(error, "declared_resources", [])  # type: ignore[attr-defined]
        raise renamed from None
