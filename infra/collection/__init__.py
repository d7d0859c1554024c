"""Pure builders of what the collection component ships: scrape configs, statsd mapping, Helm values."""
