"""One ComponentResource per file."""
