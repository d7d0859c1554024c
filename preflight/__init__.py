"""`make preflight STACK=...`: read-only checks of what a first deployment needs (see preflight/__main__.py)."""
