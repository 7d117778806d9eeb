"""Start-up, in fresh processes: ``import compat``, the codemod's command line, and the Prefect bridge's hook on
``import prefect``, each beside its floor.

Each figure is a new interpreter's run (bytecode cached: every command runs once before timing, with
``PYTHONDONTWRITEBYTECODE`` removed from its environment, else each run would compile every module again), all
commands interleaved round by round so drift on a shared machine hits all alike, in the opposite order every other
round so none always follows another; fastest and median of the rounds, and each command's cost over its floor:
fastest minus fastest, median minus median, and "paired", the median of the differences within a round. Two clocks:
wall time, and the child's CPU time (user + system, from ``wait4``), which waiting for a core on a busy machine does
not inflate: a 15 ms cost on a 500 ms ``import prefect`` is resolved by the CPU rows and the paired median long
before the wall rows settle.

- ``import compat``, ``from compat import Flow, LocalResult, task`` (what a flow module imports: the engine and
  the Results, not the legacy layer), ``results-codemod --help`` and ``results-codemod --check <empty dir>``:
  floor ``python -c pass`` (which includes site-packages' start-up). Targets: ``import compat`` <= 40 ms and
  ``results-codemod --help`` <= 40 ms over the floor.
- ``import prefect`` with the bridge's .pth hook armed: floor the same with ``RESULTS_COMPAT_PREFECT=0`` (the hook
  off). Target: <= 15 ms over the floor. Skipped when Prefect is not installed. Beside it, "the bridge's own code":
  the same import timing only the bridge's code from inside (``BRIDGE_PROBE``), which needs no floor.

Beside them, "imports only it makes": ``python -X importtime`` of each command and of its floor (fastest of
``--importtime`` runs per module), summing the self time of the modules the command imports and its floor does
not, with the largest named: what the command's own imports cost, without the rest of the process's noise.

``--compare PYTHON`` times the same commands with another environment's interpreter (say, a checkout of an earlier
commit with its own venv) in the same rounds, rows marked ``(other)``: before and after side by side.

Run: .venv/bin/python benchmarks/startup.py [--rounds N] [--importtime N] [--compare OTHER/.venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
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


def _run(command: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of ``command``, run from ``cwd`` (an empty directory: ``python
    -c`` puts the current directory first on sys.path, and a checkout there would be imported instead of the
    environment's install)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, command)
    return wall, usage.ru_utime + usage.ru_stime


def _imports(command: list[str], env: dict[str, str], cwd: str) -> dict[str, int]:
    """Each module ``command`` imports -> its self time in microseconds (``python -X importtime``)."""
    timed = [command[0], "-X", "importtime", *command[1:]]
    err = subprocess.run(timed, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                         check=True).stderr
    found: dict[str, int] = {}
    for line in err.splitlines():
        if line.startswith("import time:") and not line.rstrip().endswith("| imported package"):
            self_us, _, name = line[len("import time:"):].split("|")
            if self_us.strip().isdigit():
                found[name.strip()] = int(self_us)
    return found


BRIDGE_PROBE = """
import importlib, json, sys, time

for name in json.loads(sys.argv[1]):  # what import prefect loads anyway, the hook off: not the bridge's cost
    try:
        importlib.import_module(name)
    except Exception:
        pass
start = time.thread_time()
import _results_compat_prefect as hook
import compat.prefect
spent = [time.thread_time() - start]


def timed(function):
    def timing(*args):
        start = time.thread_time()
        try:
            return function(*args)
        finally:
            spent[0] += time.thread_time() - start
    return timing


hook.found_prefect = timed(hook.found_prefect)
compat.prefect.activate = timed(compat.prefect.activate)
import prefect
assert compat.prefect.is_active()
print(spent[0])
"""
"""``import prefect`` with the hook armed, timing only the bridge's own code on the thread's CPU clock: importing
the hook and the bridge, the hook's ``found_prefect``, and ``activate`` (wrapping Task, Flow and task). Every module
outside Prefect that ``import prefect`` loads with the hook off is imported before the clock starts (argv[1]), so
what the bridge imports that Prefect would have imported anyway (typing, logging, inspect) is not counted."""


def _prefect_s_modules(py: str, empty: str) -> str:
    """The modules outside Prefect's own that ``import prefect`` loads with the hook off, as JSON (the probe's argv)."""
    code = "import json, sys, prefect; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([py, "-c", code], stdout=subprocess.PIPE, env=HOOK_OFF, cwd=empty, text=True,
                         check=True).stdout
    names = [n for n in json.loads(out) if n.partition(".")[0] not in ("prefect", "__main__")]
    return json.dumps(names)


def _probe(command: list[str], env: dict[str, str], cwd: str) -> float:
    """The seconds ``command`` prints as its last line."""
    out = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd,
                         check=True).stdout
    return float(out.split()[-1])


def _load() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


Command = tuple[list[str], dict[str, str], str, "float | None"]
"""(argv, environment, the label of its floor (``PROBED``: none, the command prints its own figure), target over the
floor in ms or None)."""
PROBED = "(probed)"


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
        probe = [py, "-c", BRIDGE_PROBE, _prefect_s_modules(py, empty)]
        commands[f"the bridge's own code{mark}"] = (probe, HOOK_ARMED, PROBED, 15.0)
    return commands


def _table(title: str, commands: dict[str, Command], times: dict[str, list[float]]) -> None:
    print(f"{title}, ms")
    print(f"{'command':>40} {'fastest':>8} {'median':>8} {'floor':>32} {'over floor: fastest':>20} {'median':>7}"
          f" {'paired':>7} {'target':>7}")
    for label, (_, _, floor_label, target) in commands.items():
        if floor_label == PROBED:
            continue
        spent, floor = times[label], times[floor_label]
        fastest, median = min(spent) * 1e3, statistics.median(spent) * 1e3
        over_fastest = fastest - min(floor) * 1e3
        over_median = median - statistics.median(floor) * 1e3
        paired = statistics.median(a - b for a, b in zip(spent, floor)) * 1e3
        shown_target = "" if target is None else f"<= {target:.0f}"
        floor_shown = "-" if floor_label == label else floor_label
        print(f"{label:>40} {fastest:>8.1f} {median:>8.1f} {floor_shown:>32} {over_fastest:>20.1f} "
              f"{over_median:>7.1f} {paired:>7.1f} {shown_target:>7}")


def _probed(commands: dict[str, Command], times: dict[str, list[float]]) -> None:
    for label, (_, _, floor_label, target) in commands.items():
        if floor_label == PROBED:
            spent = times[label]
            print(f"{label:>40} {min(spent) * 1e3:>8.1f} {statistics.median(spent) * 1e3:>8.1f} ms fastest / median "
                  f"(thread CPU time inside import prefect; target <= {target:.0f})")


def _own_imports(commands: dict[str, Command], runs: int, empty: str) -> None:
    """The self time of the modules each command imports and its floor does not (fastest of ``runs`` per module)."""
    found: dict[str, dict[str, int]] = {}
    for label, (command, env, _, _) in commands.items():
        for _ in range(runs):
            for module, spent in _imports(command, env, empty).items():
                found.setdefault(label, {})[module] = min(spent, found.get(label, {}).get(module, spent))
    print(f"imports only it makes (python -X importtime, fastest of {runs} runs per module), ms")
    for label, (_, _, floor_label, _) in commands.items():
        if floor_label in (label, PROBED):
            continue
        own = {module: spent for module, spent in found[label].items() if module not in found[floor_label]}
        largest = ", ".join(f"{m} {s / 1e3:.1f}" for m, s in sorted(own.items(), key=lambda i: -i[1])[:6])
        print(f"{label:>40} {sum(own.values()) / 1e3:>7.1f} in {len(own):>3} modules; largest: {largest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--importtime", type=int, default=5, metavar="N", help="-X importtime runs per command")
    parser.add_argument("--compare", metavar="PYTHON", help="another environment's interpreter, timed alongside")
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min) before: {_load()}")
    with tempfile.TemporaryDirectory() as empty:
        commands = _commands(sys.executable, empty, "")
        if args.compare:
            commands.update(_commands(args.compare, empty, " (other)"))
        wall: dict[str, list[float]] = {label: [] for label in commands}
        cpu: dict[str, list[float]] = {label: [] for label in commands}
        for command, env, _, _ in commands.values():
            _run(command, env, empty)  # compile and cache bytecode
        order = list(commands.items())
        for round_ in range(args.rounds):
            for label, (command, env, floor_label, _) in order if round_ % 2 == 0 else reversed(order):
                if floor_label == PROBED:
                    wall[label].append(_probe(command, env, empty))
                    continue
                spent_wall, spent_cpu = _run(command, env, empty)
                wall[label].append(spent_wall)
                cpu[label].append(spent_cpu)
        print(f"{args.rounds} rounds, the commands interleaved in each (every other round in reverse order)")
        _table("wall time", commands, wall)
        _table("CPU time (user + system)", commands, cpu)
        _probed(commands, wall)
        if args.importtime:
            _own_imports(commands, args.importtime, empty)
    print(f"load average (1, 5, 15 min) after: {_load()}")


if __name__ == "__main__":
    main()
