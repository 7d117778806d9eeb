"""Fixtures for the codemod tests: the before/after pairs and a scratch project tree."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_pairs() -> list[tuple[str, str]]:
    """(profile, name) of every ``<name>.before.py`` under ``fixtures/<profile>/``."""
    return sorted(
        (path.parent.name, path.name.removesuffix(".before.py")) for path in FIXTURES.glob("*/*.before.py")
    )


def read_pair(profile: str, name: str) -> tuple[str, str]:
    folder = FIXTURES / profile
    before = (folder / f"{name}.before.py").read_bytes().decode("utf-8")
    after = (folder / f"{name}.after.py").read_bytes().decode("utf-8")
    return before, after


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory (a git repository root, so .gitignore applies as git would)."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    return root
