"""DaskExecutor against the floor (raw ``client.submit`` of the same functions on the same cluster) and against
LocalExecutor, side by side in one run, on a LocalCluster of 2 worker processes with 1 thread each.

1. Per-task overhead, at each of ``--sizes`` (300, 1,000 and 5,000 by default): N independent trivial tasks against
   the floor, raw ``client.map`` + ``client.gather`` of the same function (each value is terminal, so all come
   back), and a chain of N (each value feeds the next on the workers; the run ends by fetching the States of the
   N - 1 intermediate ones) against a raw ``client.submit`` chain (a chain cannot be mapped). Rounds interleaved,
   each side first in every other round; fastest and median. Target (issue 27): <= 1.15x both. Each row also gives
   the CPU time each side costs, less swayed by other processes than the wall time: this process's (the calling
   thread, the client's thread and the LocalCluster's scheduler, which share its GIL) and the worker processes'.
   Last, what a run costs at its start and end whatever its size (on the client it keeps from run to run:
   subscribing to its topic, unsubscribing).
2. Speed-up for CPU-bound tasks: 8 tasks of a pure-Python loop, LocalExecutor time / DaskExecutor time.
   Target: >= 1.7x on 2 workers.
   (measured first: Prefect's executor, in (4), leaves plugins on the scheduler).
3. Caller peak memory (tracemalloc, Python allocations of this process) for a flow whose 200 MB intermediate
   value feeds a task returning its length, on LocalExecutor and on DaskExecutor.
4. If Prefect 1.x is installed (the bridge's test extra), its DaskExecutor on the same cluster and the same flow
   as (1), built with Prefect's own Flow and task.

Timings of (2)-(4) are medians of a few repeats; the machine is shared, so read ratios, not absolute numbers.
Run: .venv/bin/python benchmarks/dask_executor.py [--sizes 300,1000,5000] [--repeats N] [--overhead-only]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
import tracemalloc
from typing import Any

import psutil  # a dependency of distributed
from distributed import Client, LocalCluster
from timing import median_time

from compat import DaskExecutor, Flow, LocalExecutor, task

CPU_TASKS = 8
BIG = 200 * 1024 * 1024


def inc(x: int) -> int:
    return x + 1


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def big() -> bytes:
    return bytes(BIG)


def size(data: bytes) -> int:
    return len(data)


inc_task, spin_task, big_task, size_task = task(inc), task(spin), task(big), task(size)


def independent(n: int) -> Flow:
    with Flow("independent") as flow:
        for i in range(n):
            inc_task(i)
    return flow


def chain(n: int) -> Flow:
    with Flow("chain") as flow:
        x = inc_task(0)
        for _ in range(n - 1):
            x = inc_task(x)
    return flow


def cpu_bound(loops: int) -> Flow:
    with Flow("cpu") as flow:
        for _ in range(CPU_TASKS):
            spin_task(loops)
    return flow


def big_intermediate() -> Flow:
    with Flow("big") as flow:
        size_task(big_task())
    return flow


def run(flow: Flow, executor: Any) -> None:
    state = flow.run(executor=executor)
    assert state.is_successful(), state.message


def peak_of(flow: Flow, executor: Any) -> float:
    """MiB of Python memory this process allocated at its peak while running ``flow``."""
    tracemalloc.start()
    try:
        run(flow, executor)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def prefect_flow(n: int) -> Any:
    import prefect

    pinc = prefect.task(inc)
    with prefect.Flow("independent") as flow:
        for i in range(n):
            pinc(i)
    return flow


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def workers_cpu() -> float:
    """CPU seconds (user and system) the processes this one started have used: the cluster's workers."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            user, system = child.cpu_times()[:2]
        except psutil.Error:  # ended meanwhile
            continue
        total += user + system
    return total


def side_by_side(sides: dict[str, Any], rounds: int) -> tuple[dict[str, list[float]], dict[str, list[tuple[float, float]]]]:
    """Seconds of each side per round, the sides interleaved and each first in turn; and the CPU seconds of each
    round, this process's and the workers'."""
    times: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    names = list(sides)
    for i in range(rounds):
        for name in names if i % 2 == 0 else names[::-1]:
            here, there = time.process_time(), workers_cpu()
            times[name].append(timed(sides[name]))
            cpu[name].append((time.process_time() - here, workers_cpu() - there))
    return times, cpu


def overhead(client: Any, dask: DaskExecutor, n: int, rounds: int) -> None:
    """DaskExecutor against the floor at n tasks: independent tasks against client.map, a chain against a raw
    client.submit chain."""
    flow, chained = independent(n), chain(n)

    def raw_map() -> None:
        assert client.gather(client.map(inc, range(n), pure=False)) == list(range(1, n + 1))

    def raw_chain() -> None:
        future = client.submit(inc, 0, pure=False)
        for _ in range(n - 1):
            future = client.submit(inc, future, pure=False)
        assert future.result() == n

    for label, sides in (
        (f"{n} independent trivial tasks", {"raw client.map": raw_map, "DaskExecutor": lambda: run(flow, dask)}),
        (f"a chain of {n} trivial tasks", {"raw client.submit chain": raw_chain,
                                            "DaskExecutor": lambda: run(chained, dask)}),
    ):
        times, cpu = side_by_side(sides, rounds)
        floor, ours = times.values()
        ratios = [mine / raw for raw, mine in zip(floor, ours)]
        (floor_name, _), _ = sides.items()
        print(f"{label}, ms/task fastest / median: {floor_name} {min(floor) / n * 1e3:.3f} / "
              f"{statistics.median(floor) / n * 1e3:.3f}, DaskExecutor {min(ours) / n * 1e3:.3f} / "
              f"{statistics.median(ours) / n * 1e3:.3f}: {min(ours) / min(floor):.2f}x fastest, "
              f"{statistics.median(ratios):.2f}x median of the rounds' ratios (target <= 1.15x)")
        print("  rounds in order, ms: " + "; ".join(f"{raw * 1e3:.0f} / {mine * 1e3:.0f}" for raw, mine in zip(floor, ours))
              + f" ({floor_name} / DaskExecutor)")
        for where, part in (("this process (caller, client, scheduler)", 0), ("the workers", 1)):
            raw_cpu, our_cpu = ([seconds[part] for seconds in side] for side in cpu.values())
            print(f"  CPU ms/task in {where}, fastest / median: {floor_name} {min(raw_cpu) / n * 1e3:.3f} / "
                  f"{statistics.median(raw_cpu) / n * 1e3:.3f}, DaskExecutor {min(our_cpu) / n * 1e3:.3f} / "
                  f"{statistics.median(our_cpu) / n * 1e3:.3f}: {min(our_cpu) / min(raw_cpu):.2f}x / "
                  f"{statistics.median(our_cpu) / statistics.median(raw_cpu):.2f}x")


def per_run(dask: DaskExecutor, rounds: int) -> None:
    """What every run of a DaskExecutor(address=...) costs at its start and end whatever its size, and the raw sides
    above do not pay (on the client it keeps from run to run: subscribing to its topic, unsubscribing)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        with dask:
            pass
        times.append(time.perf_counter() - start)
    print(f"a run's start and end (subscribe, unsubscribe), ms fastest / median: {min(times) * 1e3:.1f} / "
          f"{statistics.median(times) * 1e3:.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="300,1000,5000", help="task counts for the overhead rows")
    parser.add_argument("--tasks", type=int, default=300, help="independent tasks for Prefect's row")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--overhead-only", action="store_true", help="only the overhead rows (1)")
    parser.add_argument("--loops", type=int, default=6_000_000, help="iterations of each CPU-bound task")
    args = parser.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    os.environ["PREFECT__LOGGING__LEVEL"] = "ERROR"  # Prefect logs every task run; the workers inherit this
    n = args.tasks

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        address = cluster.scheduler_address
        dask = DaskExecutor(address=address)
        flow = independent(n)
        run(flow, dask)  # warm up: workers import compat and this module
        client.gather(client.map(inc, range(n), pure=False))
        print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
        for size in (int(part) for part in args.sizes.split(",")):
            overhead(client, dask, size, args.repeats)
        per_run(dask, args.repeats * 3)
        print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
        if args.overhead_only:
            return 0

        cpu = cpu_bound(args.loops)  # first, before Prefect's executor installs its plugins on the scheduler
        run(cpu, dask)
        on_local = median_time(lambda: run(cpu, LocalExecutor()), args.repeats)
        on_dask = median_time(lambda: run(cpu, dask), args.repeats)
        on_raw = median_time(lambda: client.gather(client.map(spin, [args.loops] * CPU_TASKS, pure=False)), args.repeats)
        print(f"{CPU_TASKS} CPU-bound tasks: LocalExecutor {on_local:.2f} s, DaskExecutor {on_dask:.2f} s: "
              f"{on_local / on_dask:.2f}x speed-up on 2 workers (target >= 1.7x); raw client.map {on_raw:.2f} s: "
              f"{on_local / on_raw:.2f}x (what the machine allows now)")

        def raw() -> None:
            assert client.gather(client.map(inc, range(n), pure=False)) == list(range(1, n + 1))

        floor = median_time(raw, args.repeats) / n * 1e3
        local = median_time(lambda: run(flow, LocalExecutor()), args.repeats) / n * 1e3
        print(f"per-task time, {n} independent trivial tasks (ms/task, medians): raw client.map {floor:.3f}, "
              f"LocalExecutor {local:.3f}")
        try:
            import prefect
            from prefect.executors import DaskExecutor as PrefectDaskExecutor
        except ImportError:
            print("  Prefect 1.x DaskExecutor: prefect is not installed (skipped)")
        else:
            pflow = prefect_flow(n)
            pexec = PrefectDaskExecutor(address=address)
            pflow.run(executor=pexec)
            theirs = median_time(lambda: pflow.run(executor=pexec), args.repeats) / n * 1e3
            print(f"  Prefect {prefect.__version__} DaskExecutor {theirs:8.3f}   {theirs / floor:5.2f}x of raw")

        flow = big_intermediate()
        print(f"caller peak Python memory, a {BIG // 2**20} MiB intermediate: "
              f"LocalExecutor {peak_of(flow, LocalExecutor()):.1f} MiB, "
              f"DaskExecutor {peak_of(flow, dask):.1f} MiB")
        started = time.perf_counter()
        run(flow, dask)
        print(f"  (the dask run took {time.perf_counter() - started:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
