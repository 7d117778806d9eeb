"""`make demo`: migrate examples/legacy_project end to end and check every promise on the way.

1. the legacy project runs unchanged and warns on each legacy use;
2. its test suite, audited with `pytest --legacy-audit`;
3. the codemod's diff, then the rewrite and its summary;
4. the one manual follow-up it lists (a handler of the team's own), ported as a person would;
5. the migrated project runs with legacy uses turned into errors, and prints the same outputs;
6. it runs again: every task with a target is Cached.

Everything happens in a temporary copy; the exit status is non-zero if any check fails.
"""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent
PROJECT = EXAMPLES / "legacy_project"
PORTED_STORAGE = EXAMPLES / "manual_port" / "storage.py"
TARGET_TASKS = ("extract", "clean", "totals")  # the tasks of sales/flows.py that have a target=


def banner(step: str) -> None:
    print(f"\n\033[1m== {step}\033[0m" if sys.stdout.isatty() else f"\n== {step}", flush=True)


def run(args: list[str], cwd: Path, legacy: str = "default", show: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``python args...`` in ``cwd``; ``legacy`` sets RESULTS_COMPAT_LEGACY (default: show every warning)."""
    env = {**os.environ, "RESULTS_COMPAT_LEGACY": legacy, "PYTHONDONTWRITEBYTECODE": "1"}
    print(f"$ python {' '.join(args)}", flush=True)
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if show:
        print(proc.stdout, end="")
        print(proc.stderr, end="", file=sys.stdout)
    return proc


def task_states(stdout: str) -> dict[str, str]:
    """``{task name: state name}`` from the lines ``python -m sales`` prints."""
    states = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] != "published":
            states[parts[0]] = parts[1]
    return states


def values(stdout: str) -> list[str]:
    """The printed lines without the state column: what must not change across the migration."""
    return [" ".join(line.split()[:1] + line.split()[2:]) if not line.startswith("published") else line
            for line in stdout.splitlines()]


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def expect(self, ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAILED'}] {what}", flush=True)
        if not ok:
            self.failed.append(what)


def main() -> int:
    started = time.perf_counter()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="results-compat-demo-") as scratch:
        work = Path(scratch) / "legacy_project"
        shutil.copytree(PROJECT, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        print(f"working on a copy of examples/legacy_project in {work}")

        banner("1. The legacy project runs unchanged, and warns on every legacy use")
        legacy = run(["-m", "sales", str(Path(scratch) / "out-legacy")], work)
        checks.expect(legacy.returncode == 0, "the legacy flow succeeds")
        checks.expect("LegacyResultWarning" in legacy.stderr or "Legacy" in legacy.stderr,
                      "legacy uses are reported as LegacyResultWarnings pointing at the project's lines")

        banner("2. Its tests, audited: which legacy uses do they exercise?")
        audit = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
                     "--legacy-audit", "tests"], work)
        checks.expect(audit.returncode == 0 and "legacy call site(s)" in audit.stdout,
                      "the audit lists the legacy call sites the tests reach")

        banner("3. The codemod: review the diff, then rewrite")
        diff = run(["-m", "codemods.results", "--diff", "sales"], work)
        checks.expect(diff.returncode == 1 and "+++" in diff.stdout, "--diff shows the changes and writes nothing")
        rewrite = run(["-m", "codemods.results", "sales"], work)
        checks.expect(rewrite.returncode == 1 and "ArchiveHandler" in rewrite.stderr,
                      "the rewrite succeeds and lists the custom handler as a manual follow-up (exit 1)")
        check = run(["-m", "codemods.results", "--check", "sales"], work, show=False)
        checks.expect("would rewrite 0," in check.stderr, "a second run finds nothing left to rewrite")

        banner("4. The manual follow-up: port ArchiveHandler to a Result (examples/manual_port/storage.py)")
        storage = work / "sales" / "storage.py"
        before = storage.read_text().splitlines(keepends=True)
        after = PORTED_STORAGE.read_text().splitlines(keepends=True)
        sys.stdout.writelines(difflib.unified_diff(before, after, "sales/storage.py", "sales/storage.py (ported)"))
        shutil.copyfile(PORTED_STORAGE, storage)
        done = run(["-m", "codemods.results", "--check", "sales"], work)
        checks.expect(done.returncode == 0, "--check now passes: nothing to rewrite, no follow-up left")

        banner("5. The migrated project, with any legacy use turned into an error")
        migrated = run(["-m", "sales", str(Path(scratch) / "out-migrated")], work, legacy="error")
        checks.expect(migrated.returncode == 0 and "Legacy" not in migrated.stderr,
                      "it runs with RESULTS_COMPAT_LEGACY=error: no legacy use is left")
        checks.expect(migrated.stdout == legacy.stdout, "it prints exactly what the legacy project printed")

        banner("6. Run it again: every task with a target is Cached")
        again = run(["-m", "sales", str(Path(scratch) / "out-migrated")], work, legacy="error")
        states = task_states(again.stdout)
        checks.expect(all(states.get(name) == "Cached" for name in TARGET_TASKS),
                      f"{', '.join(TARGET_TASKS)} are Cached (their targets exist and are valid)")
        checks.expect(values(again.stdout) == values(legacy.stdout), "with the same outputs")

    elapsed = time.perf_counter() - started
    banner(f"Done in {elapsed:.1f}s")
    if checks.failed:
        print(f"{len(checks.failed)} check(s) failed:")
        for what in checks.failed:
            print(f"  - {what}")
        return 1
    print("The legacy project is migrated: same outputs, no legacy uses, targets hit on the second run.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
