"""Grafana dashboards built in Python (grafana-foundation-sdk), one module per dashboard.

`registry.DASHBOARDS` lists them; `registry.build_all(ctx)` returns every
dashboard's JSON model for one stack's `DashboardContext`.
"""
