"""The pack as the Pulumi CLI runs it: its own entry point, its own (small) set of dependencies."""

from __future__ import annotations

import ast
import select
import subprocess
import sys

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2_grpc

from infra.config.stackfile import REPO_ROOT

PACK = REPO_ROOT / "policies"
ALLOWED_IMPORTS = {"pulumi_policy", "yaml", "screener_policies"}
STARTUP_TIMEOUT_SECONDS = 30


def test_pack_modules_import_only_the_standard_library_pulumi_policy_and_yaml() -> None:
    sources = [PACK / "__main__.py", *sorted((PACK / "screener_policies").glob("*.py"))]
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_IMPORTS, f"{source.name} imports {name}"


def test_pack_boots_through_the_clis_entry_module_and_lists_its_policies() -> None:
    # What `pulumi-analyzer-policy-python` does: `python -m pulumi.policy <engine> <pack dir>`,
    # which serves the analyzer and prints its port.
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
        cwd=PACK,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        # The first line is the port; a server that never prints one fails here instead of hanging the suite.
        ready, _, _ = select.select([server.stdout], [], [], STARTUP_TIMEOUT_SECONDS)
        assert ready, f"the policy pack printed no port within {STARTUP_TIMEOUT_SECONDS} s"
        port = server.stdout.readline().strip()
        assert port.isdigit(), server.stderr.read() if server.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=10)
        assert info.name == "screener-monitoring-conventions"
        assert {"amp-can-publish-to-alert-topics", "amp-cost-within-budget"} <= {p.name for p in info.policies}
        assert len(info.policies) == 31
    finally:
        server.kill()
        server.wait(timeout=10)
