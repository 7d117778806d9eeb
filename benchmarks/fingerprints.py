"""What fingerprinting a task costs: ``code_fingerprint`` the first time per function in a process, and after
(memoised), side by side with the floor each is compared to, in interleaved rounds.

Each round writes a fresh module of ``--tasks`` task functions (a docstring, annotations, a decorator, a helper
of the same module, a global dict, two modules and builtins: what a real task reads), imports it under a new
name with the line cache cleared (so the first call reads the file, as a new process would), then times:

- first call: ``code_fingerprint(fn)`` once per task (helper included), against ``inspect.getsource(fn)`` plus
  ``ast.parse`` of it (only reading and parsing the source, the usual way);
- memoised: ``code_fingerprint(fn)`` again, against a ``WeakKeyDictionary`` look-up of the same function (the
  memo's own floor: the rest is checking that the names it read still stand for the same objects).

Also ``value_fingerprint`` of a 1,000-row list of dicts (per row), and of a 64 MB numpy array against
``hashlib.sha256`` of its bytes (the floor: one pass over them). Targets: first call under 1 ms, memoised under
5 us. Prints the fastest and the median round, with the load average.

Run: .venv/bin/python benchmarks/fingerprints.py [--rounds N] [--tasks N]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import inspect
import linecache
import os
import statistics
import sys
import tempfile
import textwrap
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import FunctionType, ModuleType

import numpy

from compat.engine.fingerprints import code_fingerprint, value_fingerprint

TEMPLATE = '''
CONFIG_{i} = {{"limit": {i}, "names": ["north", "south"], "scale": 1.5}}


def helper_{i}(rows):
    return [row for row in rows if row["amount"] > CONFIG_{i}["limit"]]


@task(target="{{flow_name}}/report-{i}-{{day}}.pkl", checkpoint=True)
def report_{i}(rows: list[dict], day: str = "today") -> dict:
    """Totals the day's rows above the configured limit, per region."""
    kept = helper_{i}(rows)  # the rows that count
    by_region: dict[str, float] = {{}}
    for row in kept:
        by_region[row["region"]] = by_region.get(row["region"], 0) + row["amount"] * CONFIG_{i}["scale"]
    total = sum(by_region.values())
    if total > 100:
        total = math.floor(total / 2)
    return {{"day": day, "total": total, "regions": sorted(by_region), "json": json.dumps(kept)}}
'''

MEMO_CALLS = 200
ARRAY_BYTES = 64 * 2**20


def write_module(folder: Path, name: str, tasks: int) -> Path:
    path = folder / f"{name}.py"
    body = "".join(TEMPLATE.format(i=i) for i in range(tasks))
    path.write_text("import json\nimport math\n\nfrom compat import task\n" + body)
    return path


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    linecache.clearcache()  # the first fingerprint reads the file, as the first one in a new process does
    return module


def functions(module: ModuleType, tasks: int) -> list[FunctionType]:
    return [getattr(module, f"report_{i}").fn for i in range(tasks)]


def per_call(fn: Callable[[FunctionType], object], targets: list[FunctionType], repeat: int = 1) -> float:
    """Microseconds per call of ``fn`` over ``targets``."""
    start = time.perf_counter()
    for _ in range(repeat):
        for target in targets:
            fn(target)
    return (time.perf_counter() - start) / (repeat * len(targets)) * 1e6


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def naive(fn: FunctionType) -> object:
    return ast.parse(textwrap.dedent(inspect.getsource(fn)))


def one_round(folder: Path, index: int, tasks: int) -> dict[str, float]:
    first_module = load(write_module(folder, f"tasks_first_{index}", tasks))
    naive_module = load(write_module(folder, f"tasks_naive_{index}", tasks))
    result: dict[str, float] = {}
    if index % 2:  # each side first in every other round
        result["naive"] = per_call(naive, functions(naive_module, tasks))
        result["first"] = per_call(code_fingerprint, functions(first_module, tasks))
    else:
        result["first"] = per_call(code_fingerprint, functions(first_module, tasks))
        result["naive"] = per_call(naive, functions(naive_module, tasks))
    targets = functions(first_module, tasks)
    memo = weakref.WeakKeyDictionary({fn: "x" for fn in targets})
    result["lookup"] = per_call(memo.get, targets, MEMO_CALLS)
    result["memoised"] = per_call(code_fingerprint, targets, MEMO_CALLS)
    array = numpy.arange(ARRAY_BYTES // 8, dtype="float64")
    if index % 2:
        result["array"] = seconds(lambda: value_fingerprint(array))
        result["sha256"] = seconds(lambda: hashlib.sha256(array.data).hexdigest())
    else:
        result["sha256"] = seconds(lambda: hashlib.sha256(array.data).hexdigest())
        result["array"] = seconds(lambda: value_fingerprint(array))
    rows = [{"region": "north", "amount": i, "day": "2026-12-05"} for i in range(1000)]
    start = time.perf_counter()
    value_fingerprint(rows)
    result["value_row"] = (time.perf_counter() - start) / len(rows) * 1e6
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--tasks", type=int, default=50, help="task functions per module")
    args = parser.parse_args(argv)
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        one_round(Path(folder), -1, 5)  # warm up: imports, dispatch caches
        for index in range(args.rounds):
            rounds.append(one_round(Path(folder), index, args.tasks))
    load1, load5, _ = os.getloadavg()
    print(f"{args.rounds} rounds of {args.tasks} task functions; load average {load1:.2f} (1 min), {load5:.2f} (5 min)")
    print(f"{'us per call':<52} {'fastest':>9} {'median':>9}")

    def row(label: str, key: str) -> tuple[float, float]:
        values = [r[key] for r in rounds]
        fastest, median = min(values), statistics.median(values)
        print(f"{label:<52} {fastest:>9.1f} {median:>9.1f}")
        return fastest, median

    first = row("code_fingerprint, first call (helper included)", "first")
    row("  inspect.getsource + ast.parse (reading source only)", "naive")
    memoised = row("code_fingerprint, memoised", "memoised")
    row("  WeakKeyDictionary.get (the memo's floor)", "lookup")
    row("value_fingerprint, per row of a 1,000-row list of dicts", "value_row")
    ratios = [r["array"] / r["sha256"] for r in rounds]
    print(f"value_fingerprint of a 64 MB float64 array / hashlib.sha256 of its bytes: {min(ratios):.2f}x fastest "
          f"round, {statistics.median(ratios):.2f}x median")
    ratios = [r["first"] / r["naive"] for r in rounds]
    print(f"first call / reading source: {min(ratios):.2f}x fastest round, {statistics.median(ratios):.2f}x median")
    ratios = [r["memoised"] / r["lookup"] for r in rounds]
    print(f"memoised / dict look-up:     {min(ratios):.2f}x fastest round, {statistics.median(ratios):.2f}x median")
    print(f"targets: first call < 1000 us (median {first[1]:.0f}), memoised < 5 us (median {memoised[1]:.2f})")
    return 0 if first[1] < 1000 and memoised[1] < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
