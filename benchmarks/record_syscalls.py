"""What a record costs a durable 1 KB checkpoint in system calls alone, without Python around them (issue 21).

Three orders of the same calls, side by side in one run (interleaved rounds, each order first in every other round;
fastest and median per write, with the load average):

- ``output``: what a durable write without a record does (a temporary file, write, fsync, rename over the target);
- ``then record``: the same, then the record as LocalResult writes it (its own temporary file, write, rename over
  the previous record; not fsynced);
- ``record first``: the record's temporary file renamed over the previous record *before* the output's fsync and
  rename, so that one journal commit could carry both (the idea left by the records note).

The record's two extra metadata operations (a new inode and a rename over the old record) are what it costs; on a
journal shared with other writers each can wait for a commit, which Python cannot batch.

Run: .venv/bin/python benchmarks/record_syscalls.py [--rounds N] [--repeats N]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def writers(directory: str) -> dict[str, Callable[[], None]]:
    output, record = os.urandom(1100), os.urandom(600)
    names = itertools.count()

    def temporary() -> str:
        return os.path.join(directory, f".tmp-{next(names)}")

    def write_record(target: str) -> None:
        tmp = temporary()
        fd = os.open(tmp, _CREATE, 0o666)
        os.write(fd, record)
        os.close(fd)
        os.replace(tmp, target)

    def write_output(target: str, before_fsync: Callable[[], None] | None = None) -> None:
        tmp = temporary()
        fd = os.open(tmp, _CREATE, 0o666)
        os.write(fd, output)
        if before_fsync is not None:
            before_fsync()
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, target)

    def plain() -> None:
        write_output(os.path.join(directory, "plain.pkl"))

    def then_record() -> None:
        write_output(os.path.join(directory, "after.pkl"))
        write_record(os.path.join(directory, "after.pkl.record.json"))

    def record_first() -> None:
        write_output(os.path.join(directory, "first.pkl"),
                     lambda: write_record(os.path.join(directory, "first.pkl.record.json")))

    return {"output": plain, "then record": then_record, "record first": record_first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    with tempfile.TemporaryDirectory() as directory:
        sides = writers(directory)
        times: dict[str, list[float]] = {name: [] for name in sides}
        for fn in sides.values():
            fn()
        order = list(sides.items())
        for i in range(args.rounds):
            for name, fn in order if i % 2 == 0 else order[::-1]:
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - start)
    base_fast, base_median = min(times["output"]), statistics.median(times["output"])
    print(f"{'us per write':>14} {'fastest':>9} {'ratio':>7} {'median':>9} {'ratio':>7}")
    for name, measured in times.items():
        fast, median = min(measured), statistics.median(measured)
        print(f"{name:>14} {fast * 1e6:>9.1f} {fast / base_fast:>6.2f}x {median * 1e6:>9.1f} "
              f"{median / base_median:>6.2f}x")
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
