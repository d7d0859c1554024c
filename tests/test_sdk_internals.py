"""The SDK internals the offline planner relies on are still there, shaped as the planner calls them.

The mock engine (planner/engine.py) runs the program as the CLI's entry
point does, which needs private parts of the `pulumi` SDK (`_sync_await`,
`run_in_stack`, the root-resource setters, the runtime config map); the
policy runner (planner/policy_check.py) hands resources to the pack exactly as
the policy SDK's analyzer servicer (`pulumi_policy.policy._PolicyAnalyzerServicer`)
does. None of that is a stable API, so a minor SDK release may change it.
These tests fail first, naming the installed SDK version, the changed API and
the planner file to update; the locks keep the tested versions until then.
Sources: the installed SDKs (pulumi/runtime/{sync_await,stack,settings,mocks,rpc,config}.py,
pulumi_policy/{policy,deserialize,proxy}.py of the versions in requirements.lock).
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version
from typing import Any

import pytest

# (module, attribute path, parameters as the planner passes them, planner file that relies on it)
PULUMI_INTERNALS = [
    ("pulumi.runtime.sync_await", "_sync_await", ["awaitable"], "planner/engine.py"),
    ("pulumi.runtime.stack", "run_in_stack", ["func"], "planner/engine.py"),
    ("pulumi.runtime.settings", "set_root_resource", ["root"], "planner/engine.py"),
    ("pulumi.runtime.settings", "get_root_resource", [], "planner/engine.py"),
    ("pulumi.runtime.mocks", "MockMonitor.__init__", ["self", "mocks"], "planner/engine.py"),
    ("pulumi.runtime.mocks", "MockMonitor.RegisterResource", ["self", "request"], "planner/engine.py"),
    ("pulumi.runtime.mocks", "MockMonitor.RegisterResourceOutputs", ["self", "request"], "planner/engine.py"),
    (
        "pulumi.runtime.rpc",
        "deserialize_properties",
        ["props_struct", "keep_unknowns", "keep_internal"],
        "planner/engine.py",
    ),
    ("pulumi.runtime.rpc", "is_rpc_secret", ["value"], "planner/engine.py"),
    ("pulumi.runtime.rpc", "unwrap_rpc_secret", ["value"], "planner/engine.py"),
    ("pulumi.runtime.rpc", "wrap_rpc_secret", ["value"], "planner/fakes/grafana.py"),
    ("pulumi.runtime.config", "get_config_env", [], "infra/config/loader.py"),
]
POLICY_INTERNALS = [
    ("pulumi_policy.deserialize", "deserialize_properties", ["props", "proxy_secrets"], "planner/policy_check.py"),
    ("pulumi_policy.deserialize", "serialize_properties", ["props"], "planner/policy_check.py"),
    ("pulumi_policy.proxy", "unknown_checking_proxy", ["props"], "planner/policy_check.py"),
    (
        "pulumi_policy.policy",
        "ResourceValidationArgs.__init__",
        ["self", "resource_type", "props", "urn", "name", "opts", "provider", "config", "stack_tags"],
        "planner/policy_check.py",
    ),
    (
        "pulumi_policy.policy",
        "PolicyResource.__init__",
        [
            "self",
            "resource_type",
            "props",
            "urn",
            "name",
            "opts",
            "provider",
            "parent",
            "dependencies",
            "property_dependencies",
        ],
        "planner/policy_check.py",
    ),
    (
        "pulumi_policy.policy",
        "StackValidationArgs.__init__",
        ["self", "resources", "config", "stack_tags"],
        "planner/policy_check.py",
    ),
]


def _changed(distribution: str, module: str, path: str, relied_on_by: str, what: str) -> str:
    return (
        f"{distribution} {version(distribution)}: {module}.{path} {what}; {relied_on_by} relies on it. "
        f"Adapt {relied_on_by} to this SDK, or keep the lock at the version these tests passed with (`make lock`)."
    )


def _resolve(module: str, path: str) -> Any:
    target: Any = importlib.import_module(module)
    for part in path.split("."):
        target = getattr(target, part, None)
        if target is None:
            return None
    return target


@pytest.mark.parametrize(
    ("distribution", "module", "path", "parameters", "relied_on_by"),
    [("pulumi", *entry) for entry in PULUMI_INTERNALS] + [("pulumi-policy", *entry) for entry in POLICY_INTERNALS],
    ids=lambda value: value if isinstance(value, str) and "." in value and "/" not in value else None,
)
def test_private_sdk_api_keeps_the_signature_the_planner_calls(distribution, module, path, parameters, relied_on_by):
    target = _resolve(module, path)
    assert callable(target), _changed(distribution, module, path, relied_on_by, "is gone")
    found = list(inspect.signature(target).parameters)
    assert found == parameters, _changed(
        distribution, module, path, relied_on_by, f"now takes ({', '.join(found)}), not ({', '.join(parameters)})"
    )


def test_run_in_stack_is_a_coroutine_that_sync_await_can_drive():
    from pulumi.runtime.stack import run_in_stack

    assert inspect.iscoroutinefunction(run_in_stack), _changed(
        "pulumi", "pulumi.runtime.stack", "run_in_stack", "planner/engine.py", "is no longer a coroutine function"
    )


def test_set_mocks_still_accepts_our_monitor():
    from pulumi.runtime import mocks

    accepted = inspect.signature(mocks.set_mocks).parameters
    missing = [name for name in ("mocks", "project", "stack", "preview", "monitor") if name not in accepted]
    assert missing == [], _changed(
        "pulumi", "pulumi.runtime.mocks", "set_mocks", "planner/engine.py", f"no longer takes {missing}"
    )


def test_the_runtime_config_map_is_a_context_variable():
    from contextvars import ContextVar

    from pulumi.runtime import config

    assert isinstance(getattr(config, "CONFIG", None), ContextVar), _changed(
        "pulumi",
        "pulumi.runtime.config",
        "CONFIG",
        "infra/config/loader.py",
        "is no longer a ContextVar of the config map",
    )


def test_the_policy_sdks_not_applicable_and_unknown_value_errors_are_exceptions():
    from pulumi_policy.policy import _NotApplicableError
    from pulumi_policy.proxy import UnknownValueError

    for module, name, cls in (
        ("pulumi_policy.policy", "_NotApplicableError", _NotApplicableError),
        ("pulumi_policy.proxy", "UnknownValueError", UnknownValueError),
    ):
        assert issubclass(cls, Exception), _changed("pulumi-policy", module, name, "planner/policy_check.py", "changed")
    # A policy reading a value unknown during preview raises it through the proxy; the report prints `.message`.
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    with pytest.raises(UnknownValueError) as raised:
        _ = unknown_checking_proxy({"spec": {"clusterIP": UNKNOWN_STRING_VALUE}})["spec"]["clusterIP"]
    assert ".spec.clusterIP" in str(getattr(raised.value, "message", "")), _changed(
        "pulumi-policy", "pulumi_policy.proxy", "UnknownValueError", "planner/policy_check.py", "has no .message"
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # What planner.policy_check.resource_args mirrors for a resource policy ...
        (
            "Analyze",
            ["deserialize_properties(json_format.MessageToDict(request.properties))", "unknown_checking_proxy("],
        ),
        # ... for a stack policy (PolicyResource with parent and dependencies linked afterwards) ...
        ("AnalyzeStack", ["unknown_checking_proxy(deserialized)", "PolicyResource(r.type, props, r.urn, r.name, opts"]),
        # ... and for a remediation (secrets kept).
        ("Remediate", ["deserialize_properties(json_format.MessageToDict(request.properties), True)"]),
    ],
)
def test_the_analyzer_servicer_still_builds_policy_arguments_as_the_planner_mirrors(method, expected):
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    source = inspect.getsource(getattr(_PolicyAnalyzerServicer, method))
    missing = [fragment for fragment in expected if fragment not in source]
    assert missing == [], _changed(
        "pulumi-policy",
        "pulumi_policy.policy",
        f"_PolicyAnalyzerServicer.{method}",
        "planner/policy_check.py",
        f"no longer builds its arguments with {missing}",
    )


def test_the_settings_keep_one_clearable_set_of_output_tasks():
    from pulumi.runtime.settings import SETTINGS

    outputs = getattr(SETTINGS, "outputs", None)
    assert isinstance(outputs, set) and hasattr(getattr(SETTINGS, "lock", None), "__enter__"), _changed(
        "pulumi", "pulumi.runtime.settings", "SETTINGS.outputs / SETTINGS.lock", "planner/engine.py", "changed"
    )
