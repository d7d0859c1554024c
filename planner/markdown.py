"""What GitHub does to Markdown that the generated pages and the docs' link test must agree on."""

from __future__ import annotations


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other than '-' and '_' dropped, spaces as '-'."""
    return "".join(c for c in heading.strip().lower() if c.isalnum() or c in "-_ ").replace(" ", "-")
