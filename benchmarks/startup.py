"""Start-up, in fresh processes: ``import compat``, the codemod's command line, and the Prefect bridge's hook on
``import prefect``, each beside its floor.

Each figure is the wall time of a new interpreter (bytecode cached: every command runs once before timing, with
``PYTHONDONTWRITEBYTECODE`` removed from its environment, else each run would compile every module again), all
commands interleaved round by round so drift on a shared machine hits all alike; fastest and median of the rounds,
and each command's cost over its floor (fastest minus fastest, median minus median):

- ``import compat``, ``from compat import Flow, LocalResult, task`` (what a flow module imports: the engine and
  the Results, not the legacy layer), ``results-codemod --help`` and ``results-codemod --check <empty dir>``:
  floor ``python -c pass`` (which includes site-packages' start-up). Targets: ``import compat`` <= 40 ms and
  ``results-codemod --help`` <= 40 ms over the floor.
- ``import prefect`` with the bridge's .pth hook armed: floor the same with ``RESULTS_COMPAT_PREFECT=0`` (the hook
  off). Target: <= 15 ms over the floor. Skipped when Prefect is not installed.

``python -X importtime -c "import compat"`` shows where the rest goes.

``--compare PYTHON`` times the same commands with another environment's interpreter (say, a checkout of an earlier
commit with its own venv) in the same rounds, rows marked ``(other)``: before and after side by side.

Run: .venv/bin/python benchmarks/startup.py [--rounds N] [--compare OTHER/.venv/bin/python]
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

_CACHED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # bytecode is written and used
HOOK_OFF = {**_CACHED, "RESULTS_COMPAT_PREFECT": "0"}
HOOK_ARMED = {k: v for k, v in _CACHED.items() if k != "RESULTS_COMPAT_PREFECT"}


def _wall(command: list[str], env: dict[str, str], cwd: str) -> float:
    """Seconds ``command`` takes, run from ``cwd`` (an empty directory: ``python -c`` puts the current directory
    first on sys.path, and a checkout there would be imported instead of the environment's install)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    return time.perf_counter() - start


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


Command = tuple[list[str], dict[str, str], str, "float | None"]
"""(argv, environment, the label of its floor, target over the floor in ms or None)."""


def _commands(py: str, empty: str, mark: str) -> dict[str, Command]:
    script = str(Path(py).with_name("results-codemod"))
    floor, prefect_floor = f"python -c pass{mark}", f"import prefect, hook off{mark}"
    commands: dict[str, Command] = {
        floor: ([py, "-c", "pass"], HOOK_ARMED, floor, None),
        f"import compat{mark}": ([py, "-c", "import compat"], HOOK_ARMED, floor, 40.0),
        f"from compat import Flow, ...{mark}": (
            [py, "-c", "from compat import Flow, LocalResult, task"], HOOK_ARMED, floor, None
        ),
        f"results-codemod --help{mark}": ([py, script, "--help"], HOOK_ARMED, floor, 40.0),
        f"results-codemod --check <empty>{mark}": ([py, script, "--check", empty], HOOK_ARMED, floor, None),
    }
    has_prefect = subprocess.run([py, "-c", "import importlib.util as u; exit(u.find_spec('prefect') is None)"],
                                 env=HOOK_OFF, cwd=empty, check=False).returncode == 0
    if has_prefect:
        commands[prefect_floor] = ([py, "-c", "import prefect"], HOOK_OFF, prefect_floor, None)
        commands[f"import prefect, hook armed{mark}"] = ([py, "-c", "import prefect"], HOOK_ARMED, prefect_floor, 15.0)
    return commands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--compare", metavar="PYTHON", help="another environment's interpreter, timed alongside")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min) before: {_load()}")
    with tempfile.TemporaryDirectory() as empty:
        commands = _commands(sys.executable, empty, "")
        if args.compare:
            commands.update(_commands(args.compare, empty, " (other)"))
        times: dict[str, list[float]] = {label: [] for label in commands}
        for command, env, _, _ in commands.values():
            _wall(command, env, empty)  # compile and cache bytecode
        for _ in range(args.rounds):
            for label, (command, env, _, _) in commands.items():
                times[label].append(_wall(command, env, empty))
    print(f"{args.rounds} rounds, the commands interleaved in each; ms")
    print(f"{'command':>40} {'fastest':>8} {'median':>8} {'floor':>34} {'over floor: fastest':>20} {'median':>7}"
          f" {'target':>7}")
    for label, (_, _, floor_label, target) in commands.items():
        spent, floor = times[label], times[floor_label]
        fastest, median = min(spent) * 1e3, statistics.median(spent) * 1e3
        over_fastest = fastest - min(floor) * 1e3
        over_median = median - statistics.median(floor) * 1e3
        shown_target = "" if target is None else f"<= {target:.0f}"
        floor_shown = "-" if floor_label == label else floor_label
        print(f"{label:>40} {fastest:>8.1f} {median:>8.1f} {floor_shown:>34} {over_fastest:>20.1f} "
              f"{over_median:>7.1f} {shown_target:>7}")
    print(f"load average (1, 5, 15 min) after: {_load()}")


if __name__ == "__main__":
    main()
