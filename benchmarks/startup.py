"""Start-up: ``import compat`` and the codemod's command line on an empty directory, in fresh processes.

Each figure is the wall time of a new interpreter (bytecode cached: every command runs once before timing), the
commands interleaved so drift on a shared machine hits all alike; fastest and median printed side by side with
the bare interpreter (``python -c pass``, which includes site-packages' start-up). Targets: ``import compat``
<= 80 ms and ``python -m codemods.results --check <empty dir>`` <= 150 ms. ``-X importtime`` of the same command
shows where the rest goes.

Run: .venv/bin/python benchmarks/startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    with tempfile.TemporaryDirectory() as empty:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "import compat": [sys.executable, "-c", "import compat"],
            "codemod --check <empty>": [sys.executable, "-m", "codemods.results", "--check", empty],
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        for command in commands.values():
            _wall(command)  # compile and cache bytecode
        for _ in range(args.repeats):
            for label, command in commands.items():
                times[label].append(_wall(command))
    floor = times["python -c pass"]
    print(f"{args.repeats} runs each, interleaved")
    print(f"{'command':>26} {'fastest':>9} {'median':>9} {'fastest - python':>17} {'median - python':>16}")
    for label, spent in times.items():
        fastest, median = min(spent), statistics.median(spent)
        print(
            f"{label:>26} {fastest * 1e3:>7.1f}ms {median * 1e3:>7.1f}ms "
            f"{(fastest - min(floor)) * 1e3:>15.1f}ms {(median - statistics.median(floor)) * 1e3:>14.1f}ms"
        )
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
