"""The local alerting lab: real Prometheus and Alertmanager on loopback, fed by the real renderers.

`make lab` starts Debian's `prometheus` with a stack's rule files and
`prometheus-alertmanager` with its routes, both rendered at the lab's time
scale (a production minute is a lab second), a traffic simulator that plays
the whole platform (`simulator.py`), a fault injector (`faults.py`) and a
strict SNS recorder (`fake_sns.py`); `scenario.py` proves every alert family
end to end. See `stack.py` for the control endpoint and `__main__.py` for
the commands.
"""
