"""The log contract (what each source writes, how the collector parses it) and what is rendered from it."""
