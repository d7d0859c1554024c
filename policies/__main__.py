"""Entry point the Pulumi CLI runs (`pulumi preview --policy-pack policies`).

The CLI executes this file with policies/ on sys.path, so the policies are
imported as the top-level package `screener_policies`; the offline runner
(planner/policy_check.py) and the tests import the same package.
"""

from pulumi_policy import PolicyPack
from screener_policies import DEFAULT_ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, policies=POLICIES, enforcement_level=DEFAULT_ENFORCEMENT)
