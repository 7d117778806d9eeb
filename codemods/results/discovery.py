"""Which files a run looks at: the Python files under the given paths, minus what a project does not own.

Skipped: version-control directories, virtualenvs (any directory holding ``pyvenv.cfg``, and the usual names),
build output, ``--exclude`` globs and whatever ``.gitignore`` files (in the tree and above it up to the repository
root) ignore. Symlinked directories are not followed; a symlinked file is taken only if it points inside the tree,
and then as its target (so a write replaces the file, not the link). Each file is listed once.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pathspec

__all__ = ["Discovery", "SKIPPED_DIRECTORIES", "discover"]

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", "build", "dist", ".eggs", ".venv", "venv", ".tox", ".nox",
        "node_modules", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    }
)


@dataclass
class Discovery:
    """The files to process, in a stable order, and the paths given that do not exist."""

    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Ignore:
    """The patterns of one .gitignore, which apply to paths relative to its directory."""

    base: str
    spec: pathspec.GitIgnoreSpec

    def matches(self, path: str, is_dir: bool) -> bool:
        relative = os.path.relpath(path, self.base).replace(os.sep, "/")
        if relative.startswith(".."):
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def discover(paths: Sequence[str], excludes: Sequence[str] = ()) -> Discovery:
    found = Discovery()
    seen: set[str] = set()
    for given in paths:
        if os.path.isdir(given):
            root = os.path.realpath(given)
            ignores = _ancestor_ignores(root)
            for path in _walk(given, root, ignores, excludes):
                _add(found, seen, path)
        elif os.path.isfile(given):
            if not _excluded(given, os.path.basename(given), excludes):
                _add(found, seen, given)
        else:
            found.missing.append(given)
    return found


def _add(found: Discovery, seen: set[str], path: str) -> None:
    real = os.path.realpath(path)
    if real not in seen:
        seen.add(real)
        found.files.append(real if os.path.islink(path) else path)


def _walk(directory: str, root: str, ignores: list[_Ignore], excludes: Sequence[str]) -> Iterator[str]:
    ignores = ignores + _read_ignore(directory)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        relative = os.path.relpath(entry.path, root)
        if _excluded(relative, entry.name, excludes) or _excluded(os.path.normpath(entry.path), entry.name, excludes):
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name in SKIPPED_DIRECTORIES or entry.name.endswith(".egg-info"):
                continue
            if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
                continue
            if any(ignore.matches(entry.path, True) for ignore in ignores):
                continue
            yield from _walk(entry.path, root, ignores, excludes)
        elif entry.name.endswith(".py") and entry.is_file():
            if entry.is_symlink() and not _inside(os.path.realpath(entry.path), root):
                continue
            if any(ignore.matches(entry.path, False) for ignore in ignores):
                continue
            yield entry.path


def _excluded(relative: str, name: str, excludes: Sequence[str]) -> bool:
    relative = relative.replace(os.sep, "/")
    return any(fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(name, glob) for glob in excludes)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _read_ignore(directory: str) -> list[_Ignore]:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return [_Ignore(os.path.abspath(directory), pathspec.GitIgnoreSpec.from_lines(lines))]


def _ancestor_ignores(root: str) -> list[_Ignore]:
    """The .gitignore files above ``root`` up to its repository's root (none when it is not in a repository)."""
    ancestors: list[str] = []
    current = root
    while True:
        parent = os.path.dirname(current)
        if os.path.exists(os.path.join(current, ".git")):
            break
        if parent == current:
            return []  # not inside a repository: only the tree's own .gitignore files apply
        ancestors.append(parent)
        current = parent
    ignores: list[_Ignore] = []
    for directory in reversed(ancestors):
        ignores.extend(_read_ignore(directory))
    return ignores
