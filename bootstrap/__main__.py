"""Entry point that the Pulumi CLI runs from bootstrap/ (`pulumi up --cwd bootstrap`).

The program lives in the package bootstrap/ of the repository, importable as `bootstrap` once the
repository root is on the path (the CLI puts only this directory there).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bootstrap.program import main

main()
