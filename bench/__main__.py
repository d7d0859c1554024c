"""`make bench`: the offline plan of each stack against its floor, measured in the same run.

Floor = importing the SDK modules the plan imported + Pulumi's bare mock
engine registering the plan's own resources (same SDK classes, parents and
inputs) with no program logic (bench/floor.py). Each
measurement is a fresh interpreter, repeated; the median is reported.
Targets: plan time <= 1.5x floor, peak memory <= 2x floor, and plan time
growing no worse than linearly with the size of the service catalog
(generated catalogs of 1, 10, 100, 500 and 2,000 services, bench/plan_once.py).
Last, the rule table (bench/rule_budget.py): AMP rules, largest namespace and
group, Grafana-managed rules at prod and at 161, 500 and 2,000 services.
"""

from __future__ import annotations

import compileall
import itertools
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import rule_budget

REPO = Path(__file__).resolve().parent.parent
REPEATS = 5
# What a plan imports from this repository.
PROJECT_PACKAGES = ("infra", "planner", "dashboards", "bench")
# The catalog sizes of the growth section, and fewer repeats there: 2,000 services take ~8 s a plan.
# 2,000 is the scale the rules are written for (issue 27: rules by alert family, not by service).
CATALOG_SIZES = (1, 10, 100, 500, 2000)
GROWTH_REPEATS = 3
# Superlinear: the last segment's ms/service is well above the one before it.
SEGMENT_SLOPE_LIMIT = 1.5
TIME_TARGET = 1.5
MEMORY_TARGET = 2.0


def _run(*args: str) -> dict[str, Any]:
    result = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, check=True)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure_stack(stack: str, catalog_size: int = 0, repeats: int = REPEATS) -> dict[str, Any]:
    """`catalog_size` 0: the stack file's own catalog; otherwise a generated one of that many services."""
    plans = []
    floors = []
    replay = REPO / "build" / f"bench-replay-{stack}-{catalog_size}.json"
    replay.parent.mkdir(exist_ok=True)
    for _ in range(repeats):
        # The plan writes what it declared; the floor replays exactly that.
        plan = _run("-m", "bench.plan_once", stack, str(catalog_size), str(replay))
        floor = _run("-m", "bench.floor", str(replay))
        plans.append(plan)
        floors.append(floor)
    plan_s = statistics.median(p["seconds"] for p in plans)
    floor_s = statistics.median(f["seconds"] for f in floors)
    plan_mib = statistics.median(p["peak_mib"] for p in plans)
    floor_mib = statistics.median(f["peak_mib"] for f in floors)
    return {
        "stack": stack,
        "services": plans[0]["services"],
        "resources": plans[0]["resources"],
        "components": plans[0]["components"],
        "plan_seconds": plan_s,
        "floor_seconds": floor_s,
        "floor_import_seconds": statistics.median(f["import_seconds"] for f in floors),
        "time_ratio": plan_s / floor_s,
        "plan_peak_mib": plan_mib,
        "floor_peak_mib": floor_mib,
        "memory_ratio": plan_mib / floor_mib,
    }


def _slope(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least-squares slope, intercept and R² of y over x."""
    xs, ys = zip(*points, strict=True)
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in points)
    return slope, intercept, 1 - ss_res / ss_tot if ss_tot else 1.0


def byte_compile_project() -> None:
    """Byte-compile the program's packages, as pip byte-compiled the SDKs when it installed them.

    Otherwise, where PYTHONDONTWRITEBYTECODE is set (this machine sets it),
    every plan compiles the program's ~80 modules from source (60-90 ms)
    while the floor loads the SDKs' cached bytecode: the ratio would charge
    the program for a compiler run no deployed program pays twice.
    """
    for package in PROJECT_PACKAGES:
        compileall.compile_dir(REPO / package, quiet=1)


def main() -> int:
    byte_compile_project()
    rows = [measure_stack(stack) for stack in ("dev", "staging", "prod")]
    header = f"{'stack':8} {'res':>5} {'plan s':>8} {'floor s':>8} {'ratio':>6}"
    print(f"{header}   {'plan MiB':>8} {'floor MiB':>9} {'ratio':>6}")
    for row in rows:
        print(
            f"{row['stack']:8} {row['resources']:5d} {row['plan_seconds']:8.3f} {row['floor_seconds']:8.3f} "
            f"{row['time_ratio']:6.2f}   {row['plan_peak_mib']:8.1f} {row['floor_peak_mib']:9.1f} "
            f"{row['memory_ratio']:6.2f}"
        )

    growth = [measure_stack("staging", size, GROWTH_REPEATS) for size in CATALOG_SIZES]
    slope, intercept, r2 = _slope([(g["services"], g["plan_seconds"]) for g in growth])
    floor_slope, _, floor_r2 = _slope([(g["services"], g["floor_seconds"]) for g in growth])
    res_slope, _, res_r2 = _slope([(g["services"], g["resources"]) for g in growth])
    segments = [
        (b["plan_seconds"] - a["plan_seconds"]) / (b["services"] - a["services"]) * 1000
        for a, b in itertools.pairwise(growth)
    ]
    linear = segments[-1] <= SEGMENT_SLOPE_LIMIT * max(segments[-2], 1e-9)
    print("\ngenerated catalogs (staging, median of 3):")
    print(f"  {'services':>8} {'resources':>9} {'plan s':>8} {'floor s':>8} {'ratio':>6} {'plan MiB':>9}")
    for g in growth:
        print(
            f"  {g['services']:8d} {g['resources']:9d} {g['plan_seconds']:8.3f} {g['floor_seconds']:8.3f} "
            f"{g['time_ratio']:6.2f} {g['plan_peak_mib']:9.1f}"
        )
    print(
        f"  plan ≈ {intercept:.3f} s + {slope * 1000:.2f} ms/service (R² {r2:.3f}); floor {floor_slope * 1000:.2f} "
        f"ms/service (R² {floor_r2:.3f}); {res_slope:.2f} resources/service (R² {res_r2:.3f})"
    )
    print(
        "  ms/service by segment: "
        + ", ".join(
            f"{a['services']}→{b['services']}: {m:.2f}" for a, b, m in zip(growth, growth[1:], segments, strict=False)
        )
        + f" — {'no worse than linear' if linear else 'SUPERLINEAR'} "
        f"(last segment <= {SEGMENT_SLOPE_LIMIT}x the one before)"
    )

    out = REPO / "build" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "stacks": rows,
                "growth": growth,
                "ms_per_service": slope * 1000,
                "r2": r2,
                "floor_ms_per_service": floor_slope * 1000,
                "segment_ms_per_service": segments,
                "linear": linear,
            },
            indent=2,
        )
    )
    print("\nrules (bench/rule_budget.py):")
    print(rule_budget.table([rule_budget.measure(stack, size) for stack, size in rule_budget.SIZES]))
    worst_time = max(r["time_ratio"] for r in rows + growth)
    worst_memory = max(r["memory_ratio"] for r in rows + growth)
    verdict = "within" if worst_time <= TIME_TARGET and worst_memory <= MEMORY_TARGET and linear else "OUTSIDE"
    print(
        f"\nworst time ratio {worst_time:.2f} (target {TIME_TARGET}), worst memory ratio {worst_memory:.2f} "
        f"(target {MEMORY_TARGET}): {verdict} targets; details in {out.relative_to(REPO)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
