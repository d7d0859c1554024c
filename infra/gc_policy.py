"""How the program's Python process collects garbage.

A plan allocates hundreds of thousands of small, short-lived objects
(Outputs, futures, asyncio tasks, rendered documents) on top of a large
heap that lives to the end (the SDKs' type tables, every resource). With
CPython's default thresholds (700, 10, 10) each full collection walks that
whole heap, and full collections come more often as the catalog grows: at
500 services they were a third of the plan's time (1.7 s of 5.0 s) and
made it grow faster than linearly. Collecting the youngest generation every
50,000 allocations instead of every 700 removes nearly all of it (0.1 s),
with the same peak memory: the garbage here is mostly freed by reference
counting, not by the cycle collector. Measured again with rules by alert
family (issue 27): at 2,000 services a plan took 12.6 s with CPython's
defaults against 7.3 s with these, the floor 10.2 s against 5.5 s, so the
ratio alone would not show it but the plan would grow faster than linearly
again; it stays.

`bench/floor.py` applies the same policy, so the floor it measures is the
SDKs and the engine under the same runtime, and the ratio stays the
program's own cost.
"""

from __future__ import annotations

import gc

# (youngest generation every N allocations, middle every N youngest, oldest every N middle)
THRESHOLDS = (50_000, 20, 20)


def apply_gc_policy() -> None:
    gc.set_threshold(*THRESHOLDS)
