"""The start-up hook ships in the wheel, and works from a wheel install (the editable install of this checkout is
what the other tests of the bridge run under)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "results_compat_prefect.pth",
           "_results_compat_prefect.py", "compat", "codemods")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of this checkout (so the build leaves nothing in the working tree)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
                   check=True, capture_output=True, timeout=600)
    [built] = out.glob("*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_puts_the_pth_file_and_its_module_in_site_packages(wheel: Path) -> None:
    top_level = {name for name in zipfile.ZipFile(wheel).namelist() if "/" not in name}
    assert top_level == {"results_compat_prefect.pth", "_results_compat_prefect.py"}
    shipped = zipfile.ZipFile(wheel).read("results_compat_prefect.pth")
    assert shipped == (ROOT / "results_compat_prefect.pth").read_bytes()


@pytest.mark.slow
def test_a_wheel_install_restores_the_legacy_api_when_prefect_is_imported(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    dependencies = sysconfig.get_paths()["purelib"]  # prefect, wrapt...: added without running its .pth files
    code = (
        f"import sys; sys.path.append({dependencies!r})\n"
        f"import site; site.addsitedir({str(target)!r})  # runs the wheel's .pth line, as start-up does\n"
        "from prefect.engine.result_handlers.local_result_handler import LocalResultHandler\n"
        "import compat\n"
        "print(compat.__file__.startswith(sys.argv[1]), LocalResultHandler.__module__)\n"
    )
    proc = subprocess.run([sys.executable, "-S", "-W", "ignore", "-c", code, str(target)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "compat.prefect.handlers"]
