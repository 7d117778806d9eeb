"""Files below a directory, reached without ever following a link out of it.

Whoever can write inside LocalResult's ``dir`` can swap a directory there for a symbolic link at any moment. So no
path below ``dir`` is looked up twice: ``dir`` is opened, each directory below it is opened relative to the one
above with ``O_NOFOLLOW``, and the file is then opened, looked at, created and renamed relative to its directory's
descriptor (``At``). A link met on the way is read (``readlink``), its text turned into a path below ``dir`` (or
refused if it leads outside), and that path is walked again from ``dir`` in the same way: whatever a link says or
becomes meanwhile, the walk never leaves ``dir``.

A file directly in ``dir`` needs no descriptor: only ``dir``'s own path (trusted: it may itself be a link) and the
file's name are looked up, and the name with ``O_NOFOLLOW``, so it costs no more calls than a plain ``open``.
Where the operating system has no ``O_NOFOLLOW`` or ``dir_fd=`` (Windows), the links are looked for by path first.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from compat.errors import LocationError, StorageError

__all__ = ["AT_SUPPORTED", "LINK_ERRNOS", "NOFOLLOW", "At", "Link", "at", "inside", "links_leaving"]

T = TypeVar("T")

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
LINK_ERRNOS = (errno.ELOOP, errno.EMLINK)
"""What ``open`` with ``NOFOLLOW`` raises for a link: ELOOP (Linux, macOS), EMLINK (FreeBSD)."""
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
_MAX_LINKS = 40  # links followed in one lookup, as Linux allows

AT_SUPPORTED = bool(NOFOLLOW) and {os.open, os.stat, os.mkdir, os.rename, os.readlink} <= os.supports_dir_fd
"""Whether files below a directory are reached through directory descriptors (POSIX); else by path, links first."""


class Link(Exception):
    """Raised by an ``At`` method that met a symbolic link as the file's name (where links are not followed)."""


class At(NamedTuple):
    """A file's name in the directory open as ``dir_fd``; with ``dir_fd`` None, ``name`` is a whole path."""

    dir_fd: int | None
    name: str
    path: str
    """The file's whole path, for messages and for what is returned to the caller."""
    nofollow: bool
    """Whether a link as the file's name raises ``Link`` (to be followed by ``at``, inside ``dir`` only)."""

    def open(self, flags: int) -> int:
        """``os.open`` of the file (never creating it)."""
        try:
            return os.open(self.name, flags | (NOFOLLOW if self.nofollow else 0), dir_fd=self.dir_fd)
        except OSError as exc:
            if self.nofollow and exc.errno in LINK_ERRNOS:
                raise Link() from None
            raise

    def lstat(self) -> os.stat_result | None:
        """What the name is, or None if there is nothing (or no directory) there; a link raises ``Link``."""
        try:
            info = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=not self.nofollow)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if self.nofollow and stat.S_ISLNK(info.st_mode):
            raise Link()
        return info

    def sibling(self, name: str) -> At:
        """``name`` in the same directory."""
        path = os.path.join(os.path.dirname(self.path), name)
        return self._replace(name=name if self.dir_fd is not None else path, path=path)

    def rename(self, to: At) -> None:
        """Rename the file to ``to`` (in the same directory): the name itself, never what a link there leads to."""
        os.rename(self.name, to.name, src_dir_fd=self.dir_fd, dst_dir_fd=to.dir_fd)


def at(root: str, relative: str, act: Callable[[At], T], location: str, create: bool = False) -> T:
    """``act`` on the file ``relative`` (normalised, below ``root``), with its directory held open.

    ``create``: make the missing directories on the way. A link, as a directory on the way or as the file's name
    (``act`` raising ``Link``), is followed only where it leads inside ``root``; else ``LocationError`` naming
    ``location``. Errors of the file system itself are raised as they are (``OSError``), for the caller to word.
    """
    if not AT_SUPPORTED:
        real = links_leaving(os.path.join(root, relative), root)
        if real is not None:
            raise _outside(location, real, root)
        return act(At(None, os.path.join(root, relative), os.path.join(root, relative), False))
    for _ in range(_MAX_LINKS + 1):
        head, _, name = relative.rpartition(os.sep)
        if not head:  # directly in root: the whole path, the name opened with O_NOFOLLOW
            path = os.path.join(root, name)
            place, fd = At(None, path, path, True), None
        else:
            fd, head = _directory(root, head, location, create)
            if fd is None:  # the directory leads elsewhere through a link: walk there instead
                relative = os.path.join(head, name)
                continue
            place = At(fd, name, os.path.join(root, head, name), True)
        try:
            return act(place)
        except Link:
            relative = _below(root, head, os.readlink(place.name, dir_fd=place.dir_fd), location)
        finally:
            if fd is not None:
                os.close(fd)
    raise StorageError(f"location {location!r} leads through more than {_MAX_LINKS} symbolic links; remove the loop")


def _directory(root: str, relative: str, location: str, create: bool) -> tuple[int | None, str]:
    """A descriptor of the directory ``relative`` below ``root``, opened one component at a time without following
    a link, and ``relative``; or None and the path below ``root`` that a link on the way leads to instead."""
    fd = _open_root(root, create)
    walked: list[str] = []
    try:
        for part in relative.split(os.sep):
            try:
                below = _open_below(fd, part, create)
            except Link:
                target = os.readlink(part, dir_fd=fd)
                rest = relative.split(os.sep)[len(walked) + 1 :]
                return None, os.path.join(_below(root, os.sep.join(walked), target, location), *rest)
            os.close(fd)
            fd = below
            walked.append(part)
    except BaseException:
        os.close(fd)
        raise
    return fd, relative


def _open_root(root: str, create: bool) -> int:
    try:
        return os.open(root, _DIRECTORY_FLAGS)
    except FileNotFoundError:
        if not create:
            raise
    os.makedirs(root, exist_ok=True)
    return os.open(root, _DIRECTORY_FLAGS)


def _open_below(fd: int, part: str, create: bool) -> int:
    """The directory ``part`` in the one open as ``fd``, never through a link (``Link`` instead)."""
    for _ in range(2):
        try:
            return os.open(part, _DIRECTORY_FLAGS | NOFOLLOW, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
            try:
                os.mkdir(part, dir_fd=fd)
            except FileExistsError:  # made meanwhile by another writer
                pass
        except OSError as exc:  # ENOTDIR (Linux) or ELOOP: a link, or a file that is not a directory
            if exc.errno not in (errno.ENOTDIR, errno.ELOOP, errno.EMLINK):
                raise
            try:
                os.readlink(part, dir_fd=fd)
            except OSError:
                raise exc from None  # not a link: a file where a directory should be
            raise Link() from None
    return os.open(part, _DIRECTORY_FLAGS | NOFOLLOW, dir_fd=fd)


def _below(root: str, head: str, target: str, location: str) -> str:
    """Where the link ``target`` (the text of a link in ``head``, below ``root``) leads, as a path below ``root``;
    ``LocationError`` if it leads outside. Only text is compared: nothing on disk is looked up."""
    if os.path.isabs(target):
        landing = os.path.normpath(target)
        for base in (root, os.path.realpath(root)):  # root may itself be a link (and links name either)
            if landing == base:
                return "."
            if inside(landing, base):
                return landing[len(base.rstrip(os.sep)) + 1 :]
        raise _outside(location, landing, root)
    relative = os.path.normpath(os.path.join(head, target))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise _outside(location, os.path.normpath(os.path.join(root, relative)), root)
    return relative


def _outside(location: str, real: str, root: str) -> LocationError:
    return LocationError(
        f"location {location!r} leads through a symbolic link to {real!r}, outside the result directory {root!r}; "
        "remove the link, or give the real path as an absolute location"
    )


def inside(path: str, directory: str) -> bool:
    """Whether the normalised ``path`` is below ``directory`` (as text)."""
    return path.startswith(directory if directory.endswith(os.sep) else directory + os.sep)


def links_leaving(path: str, directory: str) -> str | None:
    """Where ``path`` (below ``directory``) really leads if a symbolic link under ``directory`` takes it outside,
    else None: one ``lstat`` per component below ``directory``, a ``realpath`` only if one is a link. A check by
    path (a link may be planted after it): for rendering, and where ``AT_SUPPORTED`` is False."""
    end = len(directory) if directory.endswith(os.sep) else len(directory) + 1  # path is normalised, below it
    while end > 0:
        end = path.find(os.sep, end) + 1  # each component in turn: up to the next separator, or the whole path
        try:
            mode = os.lstat(path[: end - 1] if end else path).st_mode
        except OSError:  # not there yet: nothing further down can be a link
            return None
        if stat.S_ISLNK(mode):
            real = os.path.realpath(path)
            return None if inside(real, os.path.realpath(directory)) else real
    return None
