"""Realistic outputs for resources and provider calls under the mock engine.

A real provider computes IDs, ARNs and endpoints; the offline plan has to
invent them, shaped like the real ones (built from region, account and
names) so that everything derived from them (policies, URLs, rule files)
looks as it will after `pulumi up`. Each provider's fakes live in their own
module and register here by type token.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

FAKE_ACCOUNT_ID = "123456789012"


@dataclass(frozen=True)
class FakeContext:
    """What a fake knows about the resource it answers for."""

    region: str
    stack: str
    project: str
    account_id: str = FAKE_ACCOUNT_ID

    def token(self, seed: str, length: int = 8) -> str:
        """A stable pseudo-random token, so that plans are byte-for-byte repeatable."""
        return hashlib.sha256(f"{self.stack}/{seed}".encode()).hexdigest()[:length]

    def uuid(self, seed: str) -> str:
        digest = hashlib.sha256(f"{self.stack}/{seed}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        """`arn:aws:<service>:<region>:<account>:<resource>`; global services (IAM) leave the region empty,
        account-less ones (API Gateway's management ARNs) the account."""
        region = self.region if regional else ""
        account = self.account_id if in_account else ""
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    def physical_name(self, logical: str, inputs: dict[str, Any], key: str = "name") -> str:
        """The provider's auto-name (`<logical>-<7 hex>`) unless the program set one."""
        given = inputs.get(key)
        return given if isinstance(given, str) and given else f"{logical}-{self.token(logical, 7)}"


# A resource fake returns (physical id, outputs to add to the inputs).
ResourceFake = Callable[[FakeContext, str, dict[str, Any]], tuple[str, dict[str, Any]]]
CallFake = Callable[[FakeContext, dict[str, Any]], dict[str, Any]]

RESOURCE_FAKES: dict[str, ResourceFake] = {}
CALL_FAKES: dict[str, CallFake] = {}


Fake = TypeVar("Fake", ResourceFake, CallFake)


def _registering(registry: dict[str, Fake], tokens: tuple[str, ...]) -> Callable[[Fake], Fake]:
    def register(fn: Fake) -> Fake:
        for token in tokens:
            registry[token] = fn
        return fn

    return register


def resource_fake(*type_tokens: str) -> Callable[[ResourceFake], ResourceFake]:
    """Registers the fake of resources of these types."""
    return _registering(RESOURCE_FAKES, type_tokens)


def call_fake(*tokens: str) -> Callable[[CallFake], CallFake]:
    """Registers the fake of these provider calls (invokes)."""
    return _registering(CALL_FAKES, tokens)


def load_all() -> None:
    """Import every provider's fakes (they register on import)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
