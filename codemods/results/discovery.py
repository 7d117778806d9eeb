"""Which files a run looks at: the Python files under the given paths, minus what a project does not own.

Skipped: version-control directories, virtualenvs (any directory holding ``pyvenv.cfg``, and the usual names),
build output, whatever ``.gitignore`` files (in the tree and above it up to the repository root) ignore, and
``--exclude`` globs: matched against the path as printed (as given, and relative to the current directory), the
path relative to the PATH argument and the file or directory name; a matching directory takes its subtree.
Symlinked directories are not followed, and symlink loops are skipped (reported); a symlinked file is taken only if it points inside the tree, and then as
its target (so a write replaces the file, not the link). Each file is listed once. What is skipped is recorded with
the reason, except version-control and cache directories, which never hold a project's source.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

__all__ = ["Discovery", "SKIPPED_DIRECTORIES", "discover"]

SKIPPED_DIRECTORIES = frozenset(
    {
        ".git", ".hg", ".svn", ".bzr", "__pycache__", "build", "dist", ".eggs", ".venv", "venv", ".tox", ".nox",
        "node_modules", "site-packages", ".mypy_cache", ".pytest_cache", ".ruff_cache",
    }
)
_UNREPORTED = frozenset({".git", ".hg", ".svn", ".bzr", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
"""Skipped without a mention: they never hold a project's source, and every project has them."""


@dataclass
class Discovery:
    """The files to process, in a stable order, the paths given that do not exist, and the paths skipped that a
    user may have meant to include, each with the reason (``(path, reason)``)."""

    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Ignore:
    """The patterns of one .gitignore, which apply to paths relative to its directory."""

    base: str
    spec: pathspec.GitIgnoreSpec

    def without_matches_of(self, root: str) -> _Ignore:
        """The same patterns less those that match ``root`` or a directory between the .gitignore and it."""
        relative = os.path.relpath(root, self.base).replace(os.sep, "/")
        if relative == "." or relative.startswith(".."):
            return self
        parts = relative.split("/")
        directories = ["/".join(parts[: index + 1]) + "/" for index in range(len(parts))]
        kept = [p for p in self.spec.patterns if not any(p.match_file(d) for d in directories)]
        return self if len(kept) == len(self.spec.patterns) else _Ignore(self.base, type(self.spec)(kept))

    def matches(self, path: str, is_dir: bool) -> bool:
        relative = os.path.relpath(path, self.base).replace(os.sep, "/")
        if relative.startswith(".."):
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def discover(paths: Sequence[str], excludes: Sequence[str] = (), force_exclude: bool = False) -> Discovery:
    """The files under ``paths``. A path named here is always taken, even where an enclosing .gitignore or an
    --exclude glob matches it (what is under it is still filtered), as ruff does; ``force_exclude`` skips such a
    path instead, for tools that hand over every file they see (pre-commit)."""
    found = Discovery()
    seen: set[str] = set()
    globs = [_normalised(glob) for glob in excludes]
    for given in paths:
        if os.path.isdir(given) or os.path.isfile(given):
            reason = _given_skip_reason(given, globs) if force_exclude else None
            if reason is not None:
                found.skipped.append((given, reason))
                continue
        if os.path.isdir(given):
            root = os.path.realpath(given)
            ignores = _ancestor_ignores(root)
            given_globs = [glob for glob in globs if not _given_excluded(given, [glob])]
            for path in _walk(given, root, ignores, given_globs, found.skipped):
                _add(found, seen, path)
        elif os.path.isfile(given):
            _add(found, seen, given)
        elif os.path.islink(given):
            found.skipped.append((given, _unfollowable(given) or "a dangling symlink"))
        else:
            found.missing.append(given)
    return found


def _given_skip_reason(given: str, globs: Sequence[str]) -> str | None:
    """Why --force-exclude skips a path named on the command line, or None."""
    if _given_excluded(given, globs):
        return "matches --exclude"
    real = os.path.realpath(given)
    is_dir = os.path.isdir(real)
    ignores = _ancestor_ignores(real, keep_matching=True) if is_dir else [
        *_ancestor_ignores(os.path.dirname(real), keep_matching=True), *_read_ignore(os.path.dirname(real))]
    if any(ignore.matches(real, is_dir) for ignore in ignores):
        return "ignored by .gitignore"
    return None


def _add(found: Discovery, seen: set[str], path: str) -> None:
    real = os.path.realpath(path)
    if real not in seen:
        seen.add(real)
        found.files.append(real if os.path.islink(path) else path)


def _walk(
    directory: str, root: str, ignores: list[_Ignore], excludes: Sequence[str], skipped: list[tuple[str, str]]
) -> Iterator[str]:
    ignores = ignores + _read_ignore(directory)
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        skipped.append((directory, f"cannot be listed: {exc.strerror or exc}"))
        return
    for entry in entries:
        reason = _skip_reason(entry, root, ignores, excludes)
        if reason is not None:
            if reason:
                skipped.append((entry.path, reason))
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, root, ignores, excludes, skipped)
        elif entry.name.endswith(".py") and entry.is_file():
            yield entry.path


def _skip_reason(entry: os.DirEntry[str], root: str, ignores: list[_Ignore], excludes: Sequence[str]) -> str | None:
    """Why ``entry`` is skipped; "" for what is skipped without a mention; None when it is taken (or is simply not
    a Python file)."""
    if _excluded(_forms(entry.path, os.path.relpath(entry.path, root)), entry.name, excludes):
        return "matches --exclude"
    if entry.is_dir(follow_symlinks=False):
        if entry.name in _UNREPORTED:
            return ""
        if entry.name in SKIPPED_DIRECTORIES or entry.name.endswith(".egg-info"):
            return "a build, packaging or environment directory"
        if os.path.exists(os.path.join(entry.path, "pyvenv.cfg")):
            return "a virtualenv"
        if any(ignore.matches(entry.path, True) for ignore in ignores):
            return "ignored by .gitignore"
        return None
    if entry.is_symlink():
        unfollowable = _unfollowable(entry.path)
        if unfollowable is not None:  # a dangling link is worth a mention only where a Python file was meant
            return unfollowable if unfollowable != "a dangling symlink" or entry.name.endswith(".py") else None
        if entry.is_dir():
            return "a symlinked directory (not followed)"
    if not entry.name.endswith(".py"):
        return None
    if entry.is_symlink():
        if not entry.is_file():
            return "a symlink to something other than a file"
        if not _inside(os.path.realpath(entry.path), root):
            return "a symlink to a file outside the tree"
    if not entry.is_file():
        return None
    if any(ignore.matches(entry.path, False) for ignore in ignores):
        return "ignored by .gitignore"
    return None


def _unfollowable(link: str) -> str | None:
    """Why the symlink ``link`` leads nowhere (a loop: following it never ends), or None when it leads somewhere."""
    try:
        os.stat(link)
    except OSError as exc:
        return "a symlink loop" if exc.errno == errno.ELOOP else "a dangling symlink"
    return None


def _normalised(glob: str) -> str:
    """``./cm3/``, ``cm3/`` and ``cm3`` are the same glob."""
    glob = glob.replace(os.sep, "/")
    while glob.startswith("./"):
        glob = glob[2:]
    return glob.rstrip("/") or glob


def _forms(path: str, tree_relative: str | None = None) -> set[str]:
    """The spellings of ``path`` a glob is matched against: as printed (the path as given, normalised), relative
    to the current directory (when inside it), and relative to the PATH argument it was found under."""
    forms = {os.path.normpath(path)}
    cwd_relative = os.path.relpath(path)
    if not cwd_relative.startswith(".."):
        forms.add(cwd_relative)
    if tree_relative is not None:
        forms.add(tree_relative)
    return {form.replace(os.sep, "/") for form in forms}


def _given_excluded(given: str, globs: Sequence[str]) -> bool:
    """A PATH argument is excluded when a glob matches it or a directory it is in, as given or relative to the
    current directory, or the name of one of those (a directory glob excludes its whole subtree)."""
    candidates: set[str] = set()
    for form in _forms(given):
        parts = form.split("/")
        candidates.update("/".join(parts[: index + 1]) or "/" for index in range(len(parts)))
        if not os.path.isabs(form):
            candidates.update(part for part in parts if part not in ("", ".", ".."))
    name = os.path.basename(os.path.normpath(given))
    return _excluded(candidates, name if name not in ("", ".", "..") else None, globs)


def _excluded(forms: set[str], name: str | None, globs: Sequence[str]) -> bool:
    candidates = forms if name is None else (*forms, name)
    return any(fnmatch.fnmatch(form, glob) for glob in globs for form in candidates)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def _read_ignore(directory: str) -> list[_Ignore]:
    try:
        with open(os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    import pathspec  # only where a .gitignore is found: it costs more to import than the rest of discovery

    return [_Ignore(os.path.abspath(directory), pathspec.GitIgnoreSpec.from_lines(lines))]


def _ancestor_ignores(root: str, keep_matching: bool = False) -> list[_Ignore]:
    """The .gitignore files above ``root`` up to its repository's root (none when it is not in a repository),
    without the patterns that ignore ``root`` itself or a directory between (a path named on the command line is
    taken, and so is what is under it) unless ``keep_matching``."""
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
        ignores.extend(ignore if keep_matching else ignore.without_matches_of(root) for ignore in _read_ignore(directory))
    return ignores
