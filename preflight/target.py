"""The stack a preflight run checks: its stack file's validated settings, read without running the program."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config import ConfigError, StackInput
from infra.config.stackfile import load_stack_file, stack_settings


@dataclass(frozen=True)
class Target:
    stack: str  # as the operator named it, e.g. acme/prod: what `pulumi ... --stack` takes
    stack_file: str
    region: str
    settings: StackInput

    @property
    def cluster_name(self) -> str | None:
        """The EKS cluster this stack deploys on, or None (dev: nothing runs on a cluster)."""
        collection = self.settings.collection
        return collection.cluster_name if collection.runs_in_cluster else None

    @property
    def no_cluster_reason(self) -> str:
        collection = self.settings.collection
        if collection.cluster_name is None:
            return f"monitoring:collection.clusterName is not set in {self.stack_file}: nothing runs on a cluster"
        return (
            f"monitoring:collection.mode is 'none' in {self.stack_file}: nothing is deployed on cluster "
            f"{collection.cluster_name}"
        )


def load_target(stack: str) -> Target:
    """`stack` may be Pulumi's fully qualified `<org>/[<project>/]<stack>`; the stack file is named by the last part."""
    name = stack.rsplit("/", 1)[-1]
    stack_file = load_stack_file(name, fill_unset_secrets=False)
    if not stack_file.region:
        raise ConfigError([f"{stack_file.path}: aws:region: required value is missing; set it in the stack file"])
    return Target(
        stack=stack,
        stack_file=stack_file.path,
        region=stack_file.region,
        settings=stack_settings(name),
    )
