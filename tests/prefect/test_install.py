"""The README's install lines for the Prefect bridge, run as a user runs them on a fresh machine: results-compat is
not on the package index, so it is installed from a clone or from a wheel built from one, with its ``prefect``
extra, into a new virtualenv whose dependencies come from the package index."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FROM_CLONE = "python -m pip install '.[prefect]'"
BUILD_WHEEL = "python -m pip wheel --no-deps --wheel-dir dist ."
FROM_WHEEL = "python -m pip install 'dist/results_compat-0.1.0-py3-none-any.whl[prefect]'"
LEGACY_FLOW = """
import tempfile
from prefect import Flow, task
from prefect.engine.result_handlers import LocalResultHandler
from prefect.schedules import Schedule
from prefect.schedules.clocks import CronClock

@task(result_handler=LocalResultHandler(dir=tempfile.mkdtemp()))
def double(x):
    return 2 * x

with Flow("legacy", schedule=Schedule(clocks=[CronClock("0 * * * *")])) as flow:
    doubled = double(21)
print(flow.run(run_on_schedule=False).result[doubled].result, type(double.result).__name__)
"""


def test_the_readme_gives_the_install_lines_these_tests_run() -> None:
    for command in (FROM_CLONE, BUILD_WHEEL, FROM_WHEEL):
        assert command in README


def clone(tmp_path: Path) -> Path:
    """A copy of this checkout, as a user's clone is (building in place would leave build/ and *.egg-info here)."""
    source = tmp_path / "results-compat"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache"))
    return source


def fresh_venv(path: Path) -> dict[str, str]:
    """A new virtualenv; the environment in which ``python`` is its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RESULTS_COMPAT"))}
    return {**env, "PATH": f"{path / 'bin'}{os.pathsep}{env['PATH']}", "VIRTUAL_ENV": str(path)}


def run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{command!r} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def run_legacy_flow(env: dict[str, str], cwd: Path) -> str:
    """What a flow written for Prefect 0.13 prints, run with the environment's ``python``."""
    (cwd / "legacy_flow.py").write_text(LEGACY_FLOW)
    quiet = {**env, "PREFECT__LOGGING__LEVEL": "WARNING"}
    return run("python -W ignore legacy_flow.py", cwd, quiet).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def wheel_install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fresh virtualenv with the wheel built from a clone installed with its prefect extra, as the README says."""
    tmp_path = tmp_path_factory.mktemp("wheel-install")
    source = clone(tmp_path)
    env = fresh_venv(tmp_path / "venv")
    run(BUILD_WHEEL, source, env)
    run(FROM_WHEEL, source, env)
    return env


@pytest.mark.slow
def test_a_legacy_flow_with_a_cron_schedule_runs_after_the_wheel_install(wheel_install, tmp_path: Path) -> None:
    assert run_legacy_flow(wheel_install, tmp_path) == "42 LocalResult"


@pytest.mark.slow
def test_the_prefect_extra_installs_prefect_1_and_pendulum_2(wheel_install, tmp_path: Path) -> None:
    code = "from importlib.metadata import version; print(version('prefect'), version('pendulum'))"
    prefect_version, pendulum_version = run(f'python -c "{code}"', tmp_path, wheel_install).stdout.split()
    assert prefect_version.startswith("1.") and pendulum_version.startswith("2.")


@pytest.mark.slow
def test_uninstalling_results_compat_removes_the_bridge(wheel_install, tmp_path: Path) -> None:
    """The module's last test: it uninstalls what the others used."""
    run("python -m pip uninstall --yes results-compat", tmp_path, wheel_install)
    proc = subprocess.run(["python", "-c", "import prefect.engine.result_handlers"], cwd=tmp_path, env=wheel_install,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and "No module named 'prefect.engine.result_handlers'" in proc.stderr
    site = run('python -c "import sysconfig; print(sysconfig.get_paths()[\'purelib\'])"', tmp_path, wheel_install)
    assert not list(Path(site.stdout.strip()).glob("results_compat*"))


@pytest.mark.slow
def test_a_legacy_flow_runs_after_installing_from_a_clone(tmp_path: Path) -> None:
    source = clone(tmp_path)
    env = fresh_venv(tmp_path / "venv")
    run(FROM_CLONE, source, env)
    assert run_legacy_flow(env, tmp_path) == "42 LocalResult"
