"""The distribution as a user installs it: license, metadata, the docs its messages point at, links in README."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from compat.deprecations import MIGRATION_GUIDE, message
from compat.renames import PROFILES

ROOT = Path(__file__).resolve().parents[1]


def test_the_license_file_is_the_license_the_metadata_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]
    text = (ROOT / "LICENSE").read_text()
    assert declared == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_installed_metadata_has_project_urls_and_the_license_file() -> None:
    meta = metadata.metadata("results-compat")
    urls = meta.get_all("Project-URL") or []
    assert urls and all(re.search(r", https://\S+$", url) for url in urls)
    assert "LICENSE" in (meta.get_all("License-File") or [])


def test_warnings_point_at_the_migration_guide_inside_the_package() -> None:
    rename = PROFILES["compat"].find("class", "LocalResultHandler")
    assert rename is not None
    text = message(rename)
    assert f"see {MIGRATION_GUIDE}#localresulthandler" in text
    assert Path(MIGRATION_GUIDE).parent == Path(sys.modules["compat"].__file__).parent
    assert Path(MIGRATION_GUIDE).read_text(encoding="utf-8") == (ROOT / "MIGRATION.md").read_text(encoding="utf-8")


def test_readme_and_migration_link_only_to_files_in_the_repository() -> None:
    for doc in ("README.md", "MIGRATION.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert "../" not in text, f"{doc} points outside the repository"
        for target in re.findall(r"\]\((?!https?://|#)([^)#]+)", text):
            assert (ROOT / target).exists(), f"{doc} links to {target}, which is not in the repository"


@pytest.mark.slow
def test_the_wheel_ships_the_license_the_migration_guide_and_the_entry_points(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in place would leave build/ and *.egg-info in the repository
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".cache", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache"))
    assert (source / "compat" / "MIGRATION.md").is_symlink()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        check=True, capture_output=True, timeout=600,
    )
    (wheel,) = tmp_path.glob("results_compat-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        guide = archive.read("compat/MIGRATION.md").decode("utf-8")
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert guide == (ROOT / "MIGRATION.md").read_text(encoding="utf-8")
    assert "results_compat_pytest.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "results_compat = results_compat_pytest" in entry_points
    assert "results-compat = compat.store.cli:main" in entry_points  # the command line ships as a console script
