"""Rewrite every golden file from the current code (`make golden`)."""

from __future__ import annotations

import shutil

from tests.golden import FILES_DIR, generate_all


def main() -> None:
    files = generate_all()
    if FILES_DIR.exists():
        shutil.rmtree(FILES_DIR)
    for relative, content in sorted(files.items()):
        target = FILES_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    print(f"wrote {len(files)} golden file(s) under {FILES_DIR}")


if __name__ == "__main__":
    main()
