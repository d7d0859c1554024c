"""A stack as the user names it: `prod`, or Pulumi's fully qualified `acme/prod` (or `acme/monitoring/prod`).

Every tool that takes a stack (`make plan|plan-diff|cost|alerts|silence|preview|up STACK=...`) reads it
here. The stack file is always `stacks/Pulumi.<stack>.yaml` (Pulumi names a stack's config file after the
stack alone, whatever its organisation: Pulumi docs, "Project file reference", stackConfigDir, and "Stacks",
fully qualified stack names `<organization>/<project>/<stack>`). Offline the organisation means nothing and is
ignored; commands that reach Pulumi Cloud (`pulumi stack output`, `preview`, `up`) get the name as written.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass

PROJECT = "monitoring"  # Pulumi.yaml `name`
# Pulumi: stack names "may only contain alphanumeric, hyphens, underscores, or periods"; organisation names
# are GitHub-style logins (alphanumeric and hyphens) or the like; the same set is accepted for both.
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class StackNameError(ValueError):
    """A STACK that names no stack file; the message gives the accepted forms."""


@dataclass(frozen=True)
class StackName:
    stack: str  # the stack file's name: stacks/Pulumi.<stack>.yaml
    org: str | None  # the Pulumi organisation, when given
    qualified: str  # what the user wrote, for the Pulumi CLI's --stack

    def __str__(self) -> str:
        return self.qualified


def parse_stack_name(text: str) -> StackName:
    """`prod`, `acme/prod` or `acme/monitoring/prod`; anything else is refused with the forms it takes."""
    parts = text.split("/")
    project_ok = len(parts) != 3 or parts[1] == PROJECT
    if not 1 <= len(parts) <= 3 or not project_ok or not all(_PART.fullmatch(part) for part in parts):
        raise StackNameError(
            f"STACK={text!r} is not a stack name: write <stack> or <org>/<stack> (or <org>/{PROJECT}/<stack>), "
            "letters, digits, '-', '_' and '.', e.g. STACK=prod or STACK=acme/prod; the stack file is "
            "stacks/Pulumi.<stack>.yaml"
        )
    return StackName(stack=parts[-1], org=parts[0] if len(parts) > 1 else None, qualified=text)


def stack_argument(text: str) -> StackName:
    """`type=` for an argparse stack argument: the error says which forms are accepted."""
    try:
        return parse_stack_name(text)
    except StackNameError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
