"""The codemod's speed, side by side in one run, on generated trees of realistic Python files.

1. A 2,000-file tree, 2% of it legacy: ``python -m codemods.results`` against ``python -m libcst.tool codemod``
   running the same transform (``codemods.results.command.ResultsCodemod``), both with -j 2, both writing.
   Target: >= 10x faster.
2. A tree where every file is legacy: the transform over it in this process (``runner.run``, -j 1) against a bare
   libcst ``parse_module(...).code`` loop over the same files. Target: within 1.5x.
3. The CLI with -j 2 against -j 1 on 400 all-legacy files, fastest and median, with the CPU time both used.
   Target: >= 1.6x faster (on 2 idle cores).
4. -j auto (the default) against -j 1 and -j 2, interleaved, on a real tree (``--tree DIR``, e.g. Prefect 0.13.19's
   source: ``pip download prefect==0.13.19 --no-deps --no-binary :all:``, unpacked), on a small generated tree
   (40 files, 10% legacy) and on the 400 all-legacy files; each run on a fresh copy, writing. Target: -j auto never
   slower than -j 1, and as fast as -j 2 where the work is large.

Run: .venv/bin/python benchmarks/codemod_speed.py [--quick] [--only-jobs] [--tree DIR]  (a few minutes; --quick
uses smaller trees; --only-jobs runs part 4 alone)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libcst

from codemods.results.runner import Options, run

ROOT = Path(__file__).resolve().parent.parent

# -- a generator of realistic modules ---------------------------------------------------------------------------

_IMPORTS = ["import os", "import json", "import logging", "import re", "from dataclasses import dataclass, field",
            "from pathlib import Path", "from collections import defaultdict", "import itertools",
            "from typing import Any, Iterable", "import datetime as dt"]


def _function(rng: random.Random, index: int) -> str:
    name = f"{rng.choice(['load', 'parse', 'merge', 'score', 'render', 'clean'])}_{rng.choice(['rows', 'items', 'users', 'events'])}_{index}"
    body = rng.choice([
        "    result = []\n    for item in items:\n        if item is None:\n            continue  # skip holes\n"
        "        result.append(str(item).strip())\n    return result\n",
        "    counts = defaultdict(int)\n    for key, value in items:\n        counts[key] += value\n"
        "    return {k: v for k, v in sorted(counts.items()) if v > threshold}\n",
        "    try:\n        data = json.loads(text)\n    except ValueError as exc:\n"
        "        logging.getLogger(__name__).warning('bad payload: %s', exc)\n        return None\n"
        "    return data.get('value', default)\n",
        "    pattern = re.compile(r'(\\w+)=(\\d+)')\n    pairs = [(m.group(1), int(m.group(2))) for m in pattern.finditer(text)]\n"
        "    total = sum(value for _, value in pairs)\n    return total / max(len(pairs), 1)\n",
    ])
    args = rng.choice(["items: Iterable[Any]", "items, threshold=0", "text: str, default=None", "text"])
    return f'def {name}({args}):\n    """{name.replace("_", " ").capitalize()}."""\n{body}\n\n'


def _class(rng: random.Random, index: int) -> str:
    name = f"{rng.choice(['Report', 'Cache', 'Client', 'Record'])}{index}"
    return (
        f"@dataclass\nclass {name}:\n    \"\"\"A {name.lower()} with a few fields.\"\"\"\n\n"
        "    name: str\n    size: int = 0\n    tags: list = field(default_factory=list)\n\n"
        "    def describe(self) -> str:\n        return f\"{self.name} ({self.size}): {', '.join(self.tags)}\"\n\n"
        "    def grow(self, by: int = 1) -> None:\n        if by < 0:\n            raise ValueError(\"by must be >= 0\")\n"
        "        self.size += by\n\n\n"
    )


def plain_module(rng: random.Random) -> str:
    parts = ['"""A module of an ordinary project."""\n\n', "\n".join(sorted(rng.sample(_IMPORTS, 5))), "\n\n\n"]
    for index in range(rng.randint(6, 12)):
        parts.append(_function(rng, index) if rng.random() < 0.65 else _class(rng, index))
    return "".join(parts)


def legacy_module(rng: random.Random) -> str:
    """An ordinary module that also builds a flow with the legacy API."""
    flow = (
        "from compat import Flow, Task, task\n"
        "from compat.result_handlers import JSONResultHandler, LocalResultHandler\n\n"
        "HANDLER = LocalResultHandler(dir='/srv/results')\n\n\n"
        "@task(checkpoint=True, result_handler=LocalResultHandler('/srv/extract'))\n"
        "def extract(n):\n    return list(range(n))\n\n\n"
        "class Load(Task):\n    def __init__(self, **kwargs):\n"
        "        super().__init__(name='load', result_handler=JSONResultHandler(), **kwargs)\n\n\n"
        "def archive(value):\n    uri = HANDLER.write(value)\n    return HANDLER.read(uri)\n\n\n"
        "def build():\n    with Flow('etl', result_handler=HANDLER) as flow:\n        extract(3)\n"
        "    flow.result_handler = LocalResultHandler(dir='/srv/flow')\n    return flow\n\n\n"
    )
    return flow + plain_module(rng).split("\n\n\n", 1)[1]


def generate(directory: Path, files: int, legacy_share: float, seed: int = 16) -> list[Path]:
    rng = random.Random(seed)
    legacy = set(rng.sample(range(files), round(files * legacy_share)))
    paths = []
    for index in range(files):
        path = directory / f"pkg{index % 40:02d}" / f"module_{index:04d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(legacy_module(rng) if index in legacy else plain_module(rng))
        paths.append(path)
    return paths


# -- measuring --------------------------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fresh_copy(source: Path, scratch: Path, label: str) -> Path:
    target = scratch / label
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    return target


def cli(tree: Path, jobs: int | str) -> Callable[[], object]:
    command = [sys.executable, "-m", "codemods.results", "-q", "-j", str(jobs), str(tree)]
    return lambda: subprocess.run(command, check=False, capture_output=True, cwd=ROOT)


def libcst_tool(tree: Path, jobs: int) -> Callable[[], object]:
    command = [sys.executable, "-m", "libcst.tool", "codemod", "-x", "codemods.results.command.ResultsCodemod",
               "--no-format", "--hide-progress", "-j", str(jobs), str(tree)]
    return lambda: subprocess.run(command, check=True, capture_output=True, cwd=tree)


def bare_parse_codegen(paths: list[Path]) -> Callable[[], object]:
    def loop() -> None:
        for path in paths:
            libcst.parse_module(path.read_bytes()).code
    return loop


def transform_in_process(paths: list[Path]) -> Callable[[], object]:
    return lambda: run([str(p) for p in paths], Options(mode="check"), jobs=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller trees (a smoke test, not the targets)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side in parts 3 and 4")
    parser.add_argument("--only-jobs", action="store_true", help="part 4 alone")
    parser.add_argument("--tree", type=Path, help="a real source tree for part 4 (copied, never changed)")
    args = parser.parse_args()
    if args.only_jobs:
        with tempfile.TemporaryDirectory() as scratch_dir:
            jobs_auto(Path(scratch_dir), args.tree, args.repeats)
        return
    mixed_files, legacy_files = (400, 200) if args.quick else (2000, 2000)

    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        mixed = scratch / "mixed"
        generate(mixed, mixed_files, 0.02)
        all_legacy = scratch / "all_legacy"
        legacy_paths = generate(all_legacy, legacy_files, 1.0)
        size = sum(p.stat().st_size for p in legacy_paths) / 1e6
        print(f"trees: {mixed_files} files (2% legacy); {legacy_files} files all legacy ({size:.1f} MB)")

        ours = timed(cli(fresh_copy(mixed, scratch, "ours"), 2))
        theirs = timed(libcst_tool(fresh_copy(mixed, scratch, "theirs"), 2))
        print(f"1. {mixed_files}-file tree, -j 2: codemods.results {ours:.2f}s, libcst.tool codemod {theirs:.2f}s "
              f"-> {theirs / ours:.1f}x faster (target >= 10x)")

        floor = min(timed(bare_parse_codegen(legacy_paths)) for _ in range(2))
        transform = min(timed(transform_in_process(legacy_paths)) for _ in range(2))
        print(f"2. all-legacy tree, one process: transform {transform:.2f}s, bare libcst parse+codegen {floor:.2f}s "
              f"-> {transform / floor:.2f}x the floor (target <= 1.5x)")

        # -j 2 against -j 1 on 400 files, alternated: drift on a shared machine hits both alike. CPU seconds (all
        # processes) show what an idle machine would give: -j 2's wall is about its CPU / 2 plus the start-up.
        j_tree = scratch / "j_tree"
        generate(j_tree, 400, 1.0, seed=17)
        walls: dict[int, list[float]] = {1: [], 2: []}
        cpus: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeats):
            for jobs in (1, 2):
                copy = fresh_copy(j_tree, scratch, f"j{jobs}")
                before = os.times()
                walls[jobs].append(timed(cli(copy, jobs)))
                after = os.times()
                cpus[jobs].append(after.children_user - before.children_user
                                  + after.children_system - before.children_system)
        for jobs in (1, 2):
            print(f"3. 400 legacy files, CLI -j {jobs}: wall fastest {min(walls[jobs]):.2f}s median "
                  f"{statistics.median(walls[jobs]):.2f}s; CPU median {statistics.median(cpus[jobs]):.2f}s")
        print(f"   -j 2 is {min(walls[1]) / min(walls[2]):.2f}x faster (fastest), "
              f"{statistics.median(walls[1]) / statistics.median(walls[2]):.2f}x (median) "
              f"(target >= 1.6x on an idle machine, {os.cpu_count()} cores); "
              f"load average {', '.join(f'{load:.2f}' for load in os.getloadavg())}")
        jobs_auto(scratch, args.tree, args.repeats)


def jobs_auto(scratch: Path, real: Path | None, repeats: int) -> None:
    """Part 4: -j auto against -j 1 and -j 2 on each tree, interleaved round by round, each run on a fresh copy."""
    trees: dict[str, Path] = {}
    if real is not None:
        trees[real.name] = real
    generate(scratch / "small", 40, 0.1, seed=18)
    trees["40 files, 10% legacy"] = scratch / "small"
    generate(scratch / "large", 400, 1.0, seed=17)
    trees["400 legacy files"] = scratch / "large"
    print(f"4. load average before: {', '.join(f'{load:.2f}' for load in os.getloadavg())}")
    for label, tree in trees.items():
        files = sum(1 for _ in tree.rglob("*.py"))
        walls: dict[str, list[float]] = {"1": [], "2": [], "auto": []}
        for _ in range(repeats):
            for jobs in walls:
                walls[jobs].append(timed(cli(fresh_copy(tree, scratch, f"copy-{jobs}"), jobs)))
        one = walls["1"]
        shown = "; ".join(
            f"-j {jobs} {min(spent):.2f}s/{statistics.median(spent):.2f}s "
            f"({min(one) / min(spent):.2f}x/{statistics.median(one) / statistics.median(spent):.2f}x -j 1)"
            for jobs, spent in walls.items()
        )
        print(f"   {label} ({files} .py files), fastest/median of {repeats}: {shown}")
    print(f"   load average after: {', '.join(f'{load:.2f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
