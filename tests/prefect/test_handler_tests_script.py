"""``benchmarks/prefect013_handler_tests.py`` counts as it says: a pass or an xpass behaves as on 0.13, an xfail only
in ``TestGCSResultHandler`` (0.13 fails those too), anything else does not; an archive without the test file (Prefect's
sdists ship none) stops, saying what to give instead."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "prefect013_handler_tests.py"
TEST_FILE = "tests/engine/result_handlers/test_result_handlers.py"

OUTCOMES = '''
import pytest


class TestLocalHandler:
    def test_passes(self):
        pass

    def test_fails(self):
        assert False


@pytest.mark.xfail(raises=ImportError, reason="aws extras not installed.")
class TestS3ResultHandler:
    def test_xpasses(self):
        pass

    def test_xfails_where_0_13_passes(self):
        raise ImportError("not on 0.13")


@pytest.mark.xfail(raises=ImportError, reason="google extras not installed.")
class TestGCSResultHandler:
    def test_xfails_as_on_0_13(self):
        raise ImportError("prefect.engine.result_handlers.gcs")
'''


def run(source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--source", str(source)], capture_output=True, text=True, timeout=300
    )


def test_counts_passes_xpasses_and_gcs_xfails_as_on_0_13_and_the_rest_against(tmp_path: Path) -> None:
    checkout = tmp_path / "prefect" / TEST_FILE
    checkout.parent.mkdir(parents=True)
    checkout.write_text(textwrap.dedent(OUTCOMES))
    done = run(tmp_path / "prefect")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "behave as on 0.13: 3 of 5 (60.0%); do not: 2"
    assert "  xfailed (not on 0.13): 1" in done.stdout and "  failed: 1" in done.stdout


def test_an_archive_without_the_tests_stops_saying_what_to_give(tmp_path: Path) -> None:
    source = tmp_path / "prefect-0.13.19" / "src" / "prefect" / "__init__.py"
    source.parent.mkdir(parents=True)
    source.write_text("")
    sdist = tmp_path / "prefect-0.13.19.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(tmp_path / "prefect-0.13.19", arcname="prefect-0.13.19")
    done = run(sdist)
    assert done.returncode != 0
    assert f"holds no {TEST_FILE}" in done.stderr and "checkout of Prefect's 0.13.19 tag" in done.stderr
