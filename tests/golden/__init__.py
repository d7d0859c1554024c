"""Golden files: generated output pinned in the repository so that a change shows in review.

Every module in this package that defines `generate() -> dict[str, str]`
(path relative to tests/golden/files -> content) contributes files.
`make golden` (python -m tests.golden) rewrites them; tests/test_golden.py
fails when the generated output and the committed files differ.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

FILES_DIR = Path(__file__).resolve().parent / "files"


def generate_all() -> dict[str, str]:
    files: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        generate = getattr(module, "generate", None)
        if generate is None:
            continue
        for relative, content in generate().items():
            if relative in files:
                raise ValueError(f"golden file {relative} generated twice")
            files[relative] = content
    return files
