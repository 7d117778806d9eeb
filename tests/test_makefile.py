"""`make test` installs what the tests need; where it cannot (no Node.js for Azurite) it fails and says how to fix it,
rather than letting the Azure tests skip."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="needs make")
def test_without_node_installing_azurite_fails_saying_how_to_install_node(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    done = subprocess.run(
        [str(MAKE), "azurite"], cwd=tmp_path, env={"PATH": str(tmp_path)}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "needs Node.js and npm" in done.stderr and "apt-get install nodejs npm" in done.stderr
    assert not (tmp_path / ".cache").exists()


@pytest.mark.skipif(MAKE is None, reason="needs make")
def test_make_test_builds_every_environment_the_tests_run_in(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml", "setup.py", "results_compat_prefect.pth"):
        shutil.copy(ROOT / name, tmp_path / name)
    planned = subprocess.run(
        [str(MAKE), "-n", "test"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "npm install" in planned and "azurite@" in planned  # tests/fixtures/azure_server.py
    assert ".cache/prefect3-venv" in planned  # tests/prefect3
    assert ".cache/azure-storage-blob-2" in planned and "azure-storage-blob==2." in planned  # test_azure_sdk2.py
