"""LocalResult.write/read against the same work done by hand at the same durability, side by side in one run.

Floors. Write: a temporary file beside the target (one ``open(O_EXCL)``), ``pickle.dump`` into it, fsync (durable
only), ``os.replace``. Read: ``pickle.load`` from the open file. LocalResult is measured with ``durable=True``
(the default) and ``durable=False``, each against its floor; fastest and median of the interleaved runs.
Peak memory of a read (tracemalloc, beyond the value itself, in multiples of the payload): the floor adds ~0.
Checkpointing: a flow of 1,000 independent tasks returning 1 KB, with no checkpoint (MemoryResult), LocalResult
durable and not; the cost per task of each checkpoint.

Then signed pickles (PickleSerializer(signing_key=...), HMAC-SHA256) against unsigned ones through the same
LocalResult (target 1.10x at 256 MB): a signed read is verified in memory before it is unpickled.

Targets: read of 100 MiB <= 1.15x ``pickle.load(f)``, adding <= 1.1x the payload to peak memory; 1 KB write and read
<= 1.15x the same-durability floor; ``durable=False`` checkpoint <= 0.5x the durable one of before (0.6-1.4 ms).
Run: .venv/bin/python benchmarks/results_io.py [--quick] [--repeats N] [--rounds N] (1 KB and 1 MB: 12 rounds of 50
runs per side, each side first in every other round; 100 MiB: 3 of 3)
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable

from compat import Flow, LocalExecutor, LocalResult, MemoryResult, PickleSerializer, task

SIZES = {"1 KB": 1024, "1 MB": 1024 * 1024, "100 MiB": 100 * 1024 * 1024}
SIGNED_SIZES = {"1 KB": 1024, "256 MB": 256 * 1024 * 1024}


def floor_write(path: str, value: bytes, durable: bool) -> None:
    tmp = f"{path}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with open(fd, "wb") as f:
        pickle.dump(value, f, protocol=5)
        if durable:
            f.flush()
            os.fsync(fd)
    os.replace(tmp, path)


def floor_read(path: str) -> bytes:
    with open(path, "rb") as f:
        return pickle.load(f)  # type: ignore[no-any-return]


def timings(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def side_by_side(base_fn: Callable[[], object], ours_fn: Callable[[], object], repeats: int, rounds: int = 3
                 ) -> tuple[list[float], list[float]]:
    """Interleaved rounds of both sides, each side first in every other round, so drift on a shared machine and
    whatever the previous side left behind (dirty pages, a journal commit) hit both alike."""
    base_fn(), ours_fn()  # warm up
    base: list[float] = []
    ours: list[float] = []
    for i in range(rounds):
        if i % 2:
            ours += timings(ours_fn, repeats)
            base += timings(base_fn, repeats)
        else:
            base += timings(base_fn, repeats)
            ours += timings(ours_fn, repeats)
    return base, ours


def row(label: str, base: list[float], ours: list[float]) -> None:
    fast_b, fast_o = min(base), min(ours)
    med_b, med_o = statistics.median(base), statistics.median(ours)
    print(f"{label:>26} {fast_b * 1e3:>9.3f} {fast_o * 1e3:>9.3f} {fast_o / fast_b:>6.2f}x "
          f"{med_b * 1e3:>9.3f} {med_o * 1e3:>9.3f} {med_o / med_b:>6.2f}x")


def peak_added(fn: Callable[[], object], payload: int) -> float:
    """Peak traced memory while ``fn`` runs, beyond what it returns, in multiples of ``payload``."""
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del value
    finally:
        tracemalloc.stop()
    return (peak - payload) / payload


@task
def one_kb(i: int) -> bytes:
    return bytes(1024)


def flow_seconds(result: object, n: int = 1000) -> float:
    with Flow("checkpoints", result=result) as flow:  # type: ignore[arg-type]
        for i in range(n):
            one_kb(i)
    start = time.perf_counter()
    state = flow.run(executor=LocalExecutor())
    assert state.is_successful(), state.message
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100 MiB payload")
    parser.add_argument("--repeats", type=int, default=0, help="runs per round (default: by payload size)")
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (default: by payload size)")
    args = parser.parse_args()
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"{'ms':>26} {'floor':>9} {'ours':>9} {'ratio':>7} {'floor':>9} {'ours':>9} {'ratio':>7}")
    print(f"{'':>26} {'-- fastest --':>27} {'-- median --':>27}")
    with tempfile.TemporaryDirectory() as directory:
        for label, size in SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = args.repeats or (3 if size > 1024 * 1024 else 50)
            rounds = args.rounds or (3 if size > 1024 * 1024 else 12)
            base_path = os.path.join(directory, "floor.pkl")
            for durable in (True, False):
                result = LocalResult(dir=directory, location="ours.pkl", durable=durable)
                base, ours = side_by_side(
                    lambda: floor_write(base_path, value, durable), lambda: result.write(value), repeats, rounds
                )
                row(f"{label} write durable={durable}", base, ours)
            base, ours = side_by_side(
                lambda: floor_read(base_path), lambda: result.read("ours.pkl"), repeats, rounds
            )
            row(f"{label} read", base, ours)
            if size > 1024 * 1024:
                floor_peak = peak_added(lambda: floor_read(base_path), size)
                ours_peak = peak_added(lambda: result.read("ours.pkl").value, size)
                print(f"{label} read, peak memory beyond the value: floor {floor_peak:.2f}x, ours {ours_peak:.2f}x "
                      "the payload")
            del value

        memory = [flow_seconds(MemoryResult()) for _ in range(2)]
        durable_flow = [flow_seconds(LocalResult(dir=os.path.join(directory, "d"))) for _ in range(2)]
        scratch_flow = [flow_seconds(LocalResult(dir=os.path.join(directory, "s"), durable=False)) for _ in range(2)]
        per_task = {
            "durable=True": (min(durable_flow) - min(memory)) / 1000,
            "durable=False": (min(scratch_flow) - min(memory)) / 1000,
        }
        print(f"1,000-task flow, 1 KB each: MemoryResult {min(memory):.2f}s; checkpoint per task: "
              + ", ".join(f"{name} {cost * 1e3:.3f} ms" for name, cost in per_task.items())
              + f" ({per_task['durable=False'] / per_task['durable=True']:.2f}x)")

        print(f"{'unsigned / signed, ms':>26} {'unsigned':>9} {'signed':>9} {'ratio':>7}")
        unsigned = LocalResult(dir=directory, location="unsigned.pkl", serializer=PickleSerializer())
        key = PickleSerializer(signing_key=os.urandom(32))
        signed = LocalResult(dir=directory, location="signed.pkl", serializer=key)
        for label, size in SIGNED_SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = args.repeats or (3 if size > 1024 * 1024 else 200)
            base, ours = side_by_side(lambda: unsigned.write(value), lambda: signed.write(value), repeats)
            row(f"{label} write", base, ours)
            base, ours = side_by_side(lambda: unsigned.read("unsigned.pkl"), lambda: signed.read("signed.pkl"), repeats)
            row(f"{label} read", base, ours)
            del value
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
