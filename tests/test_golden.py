"""Generated output matches the committed golden files (regenerate with `make golden`)."""

from __future__ import annotations

from tests.golden import FILES_DIR, generate_all


def test_golden_files_match_the_generated_output() -> None:
    generated = generate_all()
    committed = {str(p.relative_to(FILES_DIR)): p.read_text() for p in FILES_DIR.rglob("*") if p.is_file()}
    stale = sorted(set(committed) - set(generated))
    missing = sorted(set(generated) - set(committed))
    changed = sorted(k for k in set(generated) & set(committed) if generated[k] != committed[k])
    assert not (stale or missing or changed), (
        f"golden files out of date (run `make golden` and review the diff): "
        f"changed={changed} missing={missing} stale={stale}"
    )
