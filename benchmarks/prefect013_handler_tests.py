"""How many of Prefect 0.13's own result-handler tests pass through the bridge on the Prefect 1.x installed here.

Prefect 0.13.19's ``tests/engine/result_handlers/test_result_handlers.py`` (58 tests) pins what its handlers did:
the same file is run, unchanged, against the handlers the bridge restores. The file is fetched, never kept in this
repository: ``--source`` names where it comes from, and pip fetches it when that is a requirement (the default,
``prefect==0.13.19``, is its sdist). Prefect's sdists ship no tests, so that default stops saying so; give a
checkout of Prefect's 0.13.19 tag (``git clone --branch 0.13.19`` of Prefect's repository), an archive of one, the
test file itself, or a requirement pip fetches with its tests (``'prefect @ git+<Prefect's repository>@0.13.19'``).

A test behaves as on 0.13 when it passes (``passed``, or ``xpassed`` for the classes 0.13 marks
``xfail(raises=ImportError)`` in case an extra is missing), and when it is one of ``TestGCSResultHandler``'s, which
fail with ImportError on 0.13 too (their fixture patches ``prefect.engine.result_handlers.gcs``, a module 0.13
never had): those ``xfailed``. Any other outcome is counted against the bridge.

Run: .venv/bin/python benchmarks/prefect013_handler_tests.py [--source REQUIREMENT|PATH] [--show-failures]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

TEST_FILE = "tests/engine/result_handlers/test_result_handlers.py"
XFAIL_ON_013 = "TestGCSResultHandler"
"""The class whose tests 0.13 itself fails with ImportError (its fixture patches a module 0.13 never had)."""


def fetch(source: str, into: Path) -> Path:
    """The test file from ``source`` (a path to a checkout, an archive or the file; else a pip requirement), copied
    into ``into``."""
    path = Path(source)
    if not path.exists():
        downloads = into / "downloads"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(downloads), source],
            check=True,
        )  # fmt: skip
        archives = sorted(downloads.iterdir())
        if len(archives) != 1:
            raise SystemExit(f"pip download {source!r} gave {len(archives)} files, not one archive")
        path = archives[0]
    target = into / "test_result_handlers.py"
    if path.is_file() and path.suffix == ".py":
        shutil.copyfile(path, target)
    elif path.is_dir():
        found = [p for p in path.rglob("test_result_handlers.py") if p.as_posix().endswith(TEST_FILE)]
        if not found:
            raise SystemExit(f"{path} holds no {TEST_FILE}: give a checkout of Prefect's 0.13.19 tag")
        shutil.copyfile(found[0], target)
    else:
        target.write_bytes(_member(path, source))
    return target


def _member(archive: Path, source: str) -> bytes:
    """The test file's bytes from a .tar.gz/.zip ``archive`` (an sdist or a source archive)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zipped:
            names = [n for n in zipped.namelist() if n.endswith(TEST_FILE)]
            if names:
                return zipped.read(names[0])
    elif tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tarred:
            members = [m for m in tarred.getmembers() if m.isfile() and m.name.endswith(TEST_FILE)]
            if members:
                extracted = tarred.extractfile(members[0])
                assert extracted is not None
                return extracted.read()
    raise SystemExit(
        f"{archive.name} (from {source!r}) holds no {TEST_FILE}: Prefect's sdists ship src/ only (their MANIFEST.in "
        "includes no tests). Give --source a checkout of Prefect's 0.13.19 tag, an archive of one, the test file "
        "itself, or a requirement pip fetches with its tests ('prefect @ git+<Prefect's repository>@0.13.19')"
    )


def run(test_file: Path, show_failures: bool) -> Counter[str]:
    """Run ``test_file`` with this interpreter (Prefect 1.x with the bridge) in its own directory; each test's
    outcome as 'as on 0.13' or the reason it is not."""
    report = test_file.parent / "report.xml"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
         f"--junitxml={report}", "-o", "junit_family=xunit2", test_file.name, *(["-rfE"] if show_failures else [])],
        cwd=test_file.parent, env=env, capture_output=not show_failures, text=True,
    )  # fmt: skip
    if not report.exists():
        raise SystemExit(f"pytest wrote no report (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    outcomes: Counter[str] = Counter()
    for case in ET.parse(report).getroot().iter("testcase"):
        outcomes[_outcome(case)] += 1
    return outcomes


def _outcome(case: ET.Element) -> str:
    skipped = case.find("skipped")
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    if skipped is not None:
        xfailed = skipped.get("type") == "pytest.xfail"
        if xfailed and case.get("classname", "").endswith(XFAIL_ON_013):
            return "xfailed (as on 0.13)"
        return "xfailed (not on 0.13)" if xfailed else "skipped"
    return "passed"  # junit reports an xpass as a pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="prefect==0.13.19", help="a pip requirement or a path (see above)")
    parser.add_argument("--show-failures", action="store_true", help="show pytest's output")
    args = parser.parse_args(argv)
    import prefect  # the Prefect the bridge runs on

    with tempfile.TemporaryDirectory(prefix="prefect013-tests-") as folder:
        outcomes = run(fetch(args.source, Path(folder)), args.show_failures)
    total = sum(outcomes.values())
    good = outcomes["passed"] + outcomes["xfailed (as on 0.13)"]
    print(f"Prefect 0.13's {TEST_FILE} on Prefect {prefect.__version__} through the bridge:")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    print(f"behave as on 0.13: {good} of {total} ({100 * good / total:.1f}%); do not: {total - good}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
