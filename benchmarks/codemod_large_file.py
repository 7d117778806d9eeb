"""The codemod on one large generated file that mentions legacy names, side by side in one run: the default
``--max-file-size`` (the file is refused unread past its first bytes, as a failure naming the flag) against the
limit raised past the file's size (the file is parsed and rewritten, as every file was before the limit).

Each run is a fresh ``python -m codemods.results --check -j 1`` process; its wall time and its peak resident memory
(``ru_maxrss`` of that child) are printed for each round, then the fastest and median of interleaved rounds (the
side that goes first alternates), with the load average.

Run: .venv/bin/python benchmarks/codemod_large_file.py [--mb 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import resource, sys
from codemods.results.cli import main
code = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, code)
"""


def generate(path: Path, megabytes: float) -> None:
    """A generated module: a legacy handler, then a dict literal of ``megabytes`` MB (a data table checked in)."""
    lines = ["from compat.result_handlers import JSONResultHandler", "handler = JSONResultHandler()", "DATA = {"]
    size, index = 0, 0
    while size < megabytes * 1_000_000:
        line = f"    'key_{index:07d}': ({index}, 'value number {index}', [1, 2, 3]),"
        lines.append(line)
        size += len(line) + 1
        index += 1
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def measure(path: Path, extra: list[str]) -> tuple[float, int, int]:
    """(seconds, peak RSS in KiB, exit code) of one codemod process on ``path``."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, "--check", "-j", "1", "-q", *extra, str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    peak, code = done.stdout.split()[-2:]
    return seconds, int(peak), int(code)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=5.0, help="size of the generated file in MB (default 5)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.py"
        generate(path, args.mb)
        size = path.stat().st_size
        sides = {"default limit": [], "limit raised": []}
        raised = ["--max-file-size", str(size + 1)]
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for side in order:
                result = measure(path, raised if side == "limit raised" else [])
                sides[side].append(result)
                print(f"round {round_ + 1}: {side}: {result[0]:.2f} s, peak {result[1] / 1024:.0f} MiB, "
                      f"exit {result[2]}")
        print(f"file: {size / 1e6:.1f} MB; load average {os.getloadavg()[0]:.2f}")
        for side, results in sides.items():
            times = [r[0] for r in results]
            peaks = [r[1] / 1024 for r in results]
            print(f"{side}: fastest {min(times):.2f} s, median {statistics.median(times):.2f} s; "
                  f"peak RSS median {statistics.median(peaks):.0f} MiB")
        default, raised_ = (statistics.median(r[0] for r in sides[s]) for s in sides)
        print(f"ratio (limit raised / default limit), median time: {raised_ / default:.1f}x")


if __name__ == "__main__":
    main()
