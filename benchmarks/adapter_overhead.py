"""A user's own ResultHandler called directly vs through ResultHandlerResult, side by side in one run.

Each operation is one write and one read of the same payload (bytes of 1 KB and 1 MB). The handler is the common
legacy shape: cloudpickle into a file in a directory (no fsync, as legacy handlers did). A dict-backed handler is
measured too: there the handler does almost nothing, so it shows the adapter's absolute cost per call.
Each side's median over a round of runs, nine rounds interleaved; the fastest and the median round printed.
Targets: file handler at most 1.10x, and under 5 us added per write+read at 1 KB.
Run: .venv/bin/python benchmarks/adapter_overhead.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import warnings
from typing import Any

import cloudpickle

from compat import LegacyResultWarning, ResultHandlerResult
from timing import median_time

warnings.simplefilter("ignore", LegacyResultWarning)  # defining the handlers below is a legacy use
from compat.legacy import ResultHandler  # noqa: E402

SIZES = {"1 KB": 1024, "1 MB": 1024 * 1024}


class FileHandler(ResultHandler):
    """Writes every value to the same file under ``dir`` (so the benchmark leaves one file, not thousands)."""

    def __init__(self, dir: str) -> None:
        self.path = os.path.join(dir, "value.pkl")

    def write(self, result: Any) -> str:
        with open(self.path, "wb") as f:
            f.write(cloudpickle.dumps(result))
        return self.path

    def read(self, uri: str) -> Any:
        with open(uri, "rb") as f:
            return cloudpickle.loads(f.read())


class DictHandler(ResultHandler):
    def __init__(self) -> None:
        self.store: dict[str, Any] = {}

    def write(self, result: Any) -> str:
        self.store["k"] = result
        return "k"

    def read(self, uri: str) -> Any:
        return self.store[uri]


def compare(handler: ResultHandler, value: bytes, repeats: int, rounds: int = 9) -> tuple[list[float], list[float]]:
    adapter = ResultHandlerResult(handler)

    def direct() -> None:
        handler.read(handler.write(value))

    def adapted() -> None:
        adapter.read(adapter.write(value).location)

    direct(), adapted()  # warm up
    base, ours = [], []
    for _ in range(rounds):  # interleave so drift on a shared machine hits both alike
        base.append(median_time(direct, repeats))
        ours.append(median_time(adapted, repeats))
    return base, ours


def main() -> None:
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"{'':>17} {'-- fastest round --':>40} {'-- median round --':>40}")
    print(f"{'handler':>8} {'payload':>8}" + f" {'direct':>11} {'adapter':>11} {'ratio':>7} {'added/op':>10}" * 2)
    with tempfile.TemporaryDirectory() as directory:
        for name, handler in (("file", FileHandler(directory)), ("dict", DictHandler())):
            for label, size in SIZES.items():
                value = os.urandom(size)
                repeats = 20 if size > 64 * 1024 else 400
                bases, ourss = compare(handler, value, repeats)
                line = f"{name:>8} {label:>8}"
                for base, ours in ((min(bases), min(ourss)), (statistics.median(bases), statistics.median(ourss))):
                    line += f" {base * 1e6:>9.2f}us {ours * 1e6:>9.2f}us {ours / base:>6.2f}x"
                    line += f" {(ours - base) * 1e6:>8.2f}us"
                print(line)
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
