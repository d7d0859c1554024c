"""The policy pack is imported the way the Pulumi CLI imports it: `screener_policies` from policies/."""

from __future__ import annotations

import sys

from infra.config.stackfile import REPO_ROOT

if str(REPO_ROOT / "policies") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "policies"))
