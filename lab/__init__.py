"""The local alerting lab: real Prometheus and Alertmanager on loopback, fed by the real renderers.

`python -m lab` (or `make lab`) starts Debian's `prometheus` with the dev
stack's rendered rule files and `prometheus-alertmanager` with the routing
tree rendered for AMP, scrapes a tiny exporter that plays a healthy
platform, breaks the API and measures how long it takes for the page to
arrive, and for the all-clear after the repair. See `lab/run.py`.
"""
