"""What the engine adds per task: a flow of N trivial tasks (MemoryResult checkpointing) against calling the same
functions directly, side by side in one run, at N = 5,000 and N = 10,000.

The flow is a chain (each task takes the previous one's result), so every task also has an edge to schedule.
"Added" time = (build the flow + run it) - (call the functions in a loop), per task; the fastest of a few repeats,
with the two sizes interleaved.
Targets: under 100 us per task on the sequential executor; 10,000 tasks cost at most 2.2x of 5,000 (linear).
For scale: a chain of 2,000 tasks on Prefect 1.4.1 measured about 24 ms added per task here.

Planning, on a chain whose every task has a target rendered from its input (``{flow_name}/{i}.pkl``, MemoryResult):
``flow.plan()`` looks up every target (target: 10,000 tasks under 1 s, at most 2.2x of 5,000), and
``flow.run(prune=True)`` with only the sink's target stored runs no task at all (target: under 1 s at 10,000).

Records (issue 21): the same chain on ``LocalResult(durable=False)``, run once so every target is stored with its
record, then ``flow.plan()``: every target's record read, its object's identity looked up and the task's code and
inputs fingerprinted and compared (target: 10,000 tasks under 2 s). Fingerprinting alone: benchmarks/fingerprints.py.

Run: .venv/bin/python benchmarks/engine_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time

from compat import Flow, LocalExecutor, LocalResult, MemoryResult, Skipped, task
from compat.engine import Task

SIZES = (5_000, 10_000)


def step(x: int) -> int:
    return x + 1


step_task = task(step)


def direct(n: int) -> float:
    """Seconds to call the function n times, chained, without the engine."""
    start = time.perf_counter()
    x = 0
    for _ in range(n):
        x = step(x)
    assert x == n
    return time.perf_counter() - start


class UnrecordedMemory(MemoryResult):
    """MemoryResult without records: the engine's cost before records, for the side-by-side row."""

    keeps_records = False


def engine(n: int, kind: type[MemoryResult] = MemoryResult) -> tuple[float, float]:
    """Seconds to build and to run a chain of n tasks checkpointed to MemoryResult (``kind``)."""
    MemoryResult.clear()
    start = time.perf_counter()
    with Flow("chain", result=kind()) as flow:
        x = step_task(0)
        for _ in range(n - 1):
            x = step_task(x)
    built = time.perf_counter()
    state = flow.run(executor=LocalExecutor())
    ran = time.perf_counter()
    assert state.is_successful() and state.result[x].result == n, state.message
    return built - start, ran - built


def targeted_step(x: int, i: int) -> int:
    return x + 1


targeted_task = task(targeted_step, target="{flow_name}/{i}.pkl")


def targeted_chain(n: int) -> tuple[Flow, Task]:
    """A chain of n tasks, each with its own target; nothing stored yet."""
    MemoryResult.clear()
    with Flow("targets", result=MemoryResult()) as flow:
        x = targeted_task(0, i=0)
        for i in range(1, n):
            x = targeted_task(x, i=i)
    return flow, x


def plan_seconds(n: int) -> float:
    """Seconds for flow.plan() on a chain of n targeted tasks (every target looked up, none stored)."""
    flow, _ = targeted_chain(n)
    gc.collect()
    start = time.perf_counter()
    plan = flow.plan()
    elapsed = time.perf_counter() - start
    assert plan.count("run") == n, plan.summary()
    return elapsed


def pruned_run_seconds(n: int) -> float:
    """Seconds for flow.run(prune=True) on a chain of n targeted tasks whose sink alone is stored."""
    flow, sink = targeted_chain(n)
    MemoryResult(location=f"targets/{n - 1}.pkl").write(n)
    gc.collect()
    start = time.perf_counter()
    state = flow.run(prune=True)
    elapsed = time.perf_counter() - start
    skipped = sum(isinstance(s, Skipped) for s in state.result.values())
    assert state.result[sink].is_cached() and skipped == n - 1, state.message
    return elapsed


class Unrecorded(LocalResult):
    """LocalResult without records: the plan checks existence only, as before records."""

    keeps_records = False


def recorded_plan_seconds(n: int, directory: str, kind: type[LocalResult] = LocalResult) -> float:
    """Seconds for flow.plan() on a chain of n targeted tasks whose targets are all stored (with their records,
    unless ``kind`` keeps none)."""
    with Flow("recorded", result=kind(dir=directory, durable=False)) as flow:
        x = targeted_task(0, i=0)
        for i in range(1, n):
            x = targeted_task(x, i=i)
    if not os.path.exists(os.path.join(directory, "recorded", f"{n - 1}.pkl")):
        state = flow.run()
        assert state.is_successful(), state.message
    gc.collect()
    start = time.perf_counter()
    plan = flow.plan()
    elapsed = time.perf_counter() - start
    expected = "exists" if kind.keeps_records else "no-record"
    assert plan.count("cached") == n and all(step.code == expected for step in plan), plan.summary()
    return elapsed


def measure(n: int) -> tuple[float, float, float]:
    """Build, run and added time per task for one flow of n tasks, in microseconds."""
    gc.collect()
    baseline = direct(n)
    build, run = engine(n)
    return build / n * 1e6, run / n * 1e6, (build + run - baseline) / n * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="runs per size; the fastest is reported")
    args = parser.parse_args(argv)

    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    engine(200)  # warm up imports and caches before measuring
    samples: dict[int, list[tuple[float, float, float]]] = {n: [] for n in SIZES}
    for _ in range(args.repeats):  # sizes interleaved, so drifting machine load hits both alike
        for n in SIZES:
            samples[n].append(measure(n))
    # the fastest repeat: noise from other processes on a shared machine only ever adds time
    results = {n: min(runs, key=lambda sample: sample[2]) for n, runs in samples.items()}
    print(f"{'tasks':>7}  {'build us/task':>13}  {'run us/task':>11}  {'added us/task':>13}")
    for n, (build, run, added) in results.items():
        print(f"{n:>7}  {build:>13.1f}  {run:>11.1f}  {added:>13.1f}")
    small, large = SIZES
    ratio = (results[large][2] * large) / (results[small][2] * small)
    print(f"added time {large} / {small} tasks: {ratio:.2f}x (target <= 2.2x; linear is 2.0x)")
    worst = max(added for _, _, added in results.values())
    print(f"worst added per task: {worst:.1f} us (target < 100 us)")

    plans = {n: min(plan_seconds(n) for _ in range(args.repeats)) for n in SIZES}
    plan_ratio = plans[large] / plans[small]
    print(f"flow.plan(): {small} tasks {plans[small]:.3f} s, {large} tasks {plans[large]:.3f} s "
          f"({plan_ratio:.2f}x; target < 1 s and <= 2.2x)")
    pruned = min(pruned_run_seconds(large) for _ in range(args.repeats))
    print(f"flow.run(prune=True), {large}-task chain, cached sink: {pruned:.3f} s, no task ran (target < 1 s)")
    runs: dict[str, list[float]] = {"without": [], "with": []}
    for i in range(args.repeats):  # interleaved, each side first in every other round
        order = [("without", UnrecordedMemory), ("with", MemoryResult)]
        for side, memory in order if i % 2 == 0 else order[::-1]:
            gc.collect()
            runs[side].append(sum(engine(SIZES[0], memory)) / SIZES[0] * 1e6)
    print(f"run of a {SIZES[0]}-task chain, us/task (build + run), fastest: without records "
          f"{min(runs['without']):.1f}, with records {min(runs['with']):.1f} "
          f"(+{min(runs['with']) - min(runs['without']):.1f} us a task for the record and the fingerprints)")
    with tempfile.TemporaryDirectory() as directory:
        sides: dict[str, list[float]] = {"without": [], "with": []}
        for i in range(3):  # interleaved, each side first in every other round
            order = [("without", Unrecorded), ("with", LocalResult)]
            for side, kind in order if i % 2 == 0 else order[::-1]:
                sides[side].append(recorded_plan_seconds(SIZES[-1], os.path.join(directory, side), kind))
    without, with_records = min(sides["without"]), min(sides["with"])
    print(f"flow.plan(), {SIZES[-1]} stored targets: without records {without:.2f} s, with records {with_records:.2f} s "
          f"({with_records / without:.2f}x; target: with records under 2 s)")
    records_ok = with_records < 2
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    engine_ok = worst < 100 and ratio <= 2.2
    return 0 if engine_ok and plans[large] < 1 and plan_ratio <= 2.2 and pruned < 1 and records_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
