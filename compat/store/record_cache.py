"""Records of an object store kept on this machine by the version its listing gives them, so the next ``ls`` or
``gc`` of the same root reads only the records written (or rewritten) since.

Reading a record costs one request; listing 10,000 objects costs ten. So a record read once is kept here, keyed by
its name and the version the listing reported for it (S3's and Azure's ETag, GCS's generation: each changes
whenever the object is rewritten), and used again only while the listing still reports that very version: the
record in the store stays the truth, and a rewritten record is read afresh. What is kept is the record's bytes,
parsed and checked (signature included) on every use as if just read. One file per root (its URI), holding the
records of its last listing only, written atomically and readable by this user alone, under
``$RESULTS_COMPAT_CACHE_DIR`` (else ``$XDG_CACHE_HOME/results-compat``, else ``~/.cache/results-compat``);
``RESULTS_COMPAT_CACHE_DIR=`` (empty) turns it off. A cache that cannot be read or written is ignored, and so is
one another user could have written (a link, another owner, group- or world-writable), since what it holds is
believed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from compat.results._cloud import StoredObject

__all__ = ["CACHE_VARIABLE", "RecordCache", "cache_directory"]

CACHE_VARIABLE = "RESULTS_COMPAT_CACHE_DIR"


def cache_directory() -> Path | None:
    """Where records are kept (None: nowhere, ``RESULTS_COMPAT_CACHE_DIR`` set empty)."""
    given = os.environ.get(CACHE_VARIABLE)
    if given is not None:
        return Path(given) if given.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "results-compat"


class RecordCache:
    """The records kept for the root at ``uri``: ``get`` one by the listed object, ``keep`` what was read, ``save``."""

    def __init__(self, uri: str) -> None:
        """``uri``: the root as the service names it (its endpoint and the root's URI: one bucket name on two
        services is two roots)."""
        directory = cache_directory()
        digest = hashlib.sha256(uri.encode()).hexdigest()[:32]
        self.path = None if directory is None else directory / f"records-{digest}.json"
        self.uri = uri
        self.kept: dict[str, tuple[str, str]] = {}  # name -> (version, record text)
        self.fresh: dict[str, tuple[str, str]] = {}
        if self.path is not None:
            try:
                data = json.loads(_own_file(self.path))
                if data.get("root") == uri:
                    self.kept = {name: (str(version), str(text)) for name, (version, text) in data["records"].items()}
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                self.kept = {}

    def get(self, item: StoredObject) -> bytes | None:
        """The record's bytes as kept, if kept for the version the listing reports now."""
        kept = self.kept.get(item.name)
        if kept is None or item.version is None or kept[0] != item.version:
            return None
        return kept[1].encode("utf-8")

    def keep(self, item: StoredObject, data: bytes) -> None:
        """Keep the record read (or found kept) as ``item``: only a versioned one, whose bytes are text."""
        if item.version is not None:
            try:
                self.fresh[item.name] = (item.version, data.decode("utf-8"))
            except UnicodeDecodeError:
                pass

    def save(self, listed: Iterable[str]) -> None:
        """Write what was used or read in this listing (of the names ``listed``), replacing the file at once."""
        if self.path is None:
            return
        names = set(listed)
        records = {name: list(kept) for name, kept in self.fresh.items() if name in names}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(prefix=".records-", dir=self.path.parent)  # mode 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"root": self.uri, "records": records}, f, separators=(",", ":"))
                os.replace(temporary, self.path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError:
            pass  # a cache that cannot be written: the next listing reads the records again


def _own_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of this user that nobody else can write (a link, or a file
    another user could have planted or changed, is an ``OSError``, since what it holds is believed)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
            raise OSError(f"{path} is not a file of this user's alone")
        with open(fd, "rb", closefd=False) as f:
            return f.read()
    finally:
        os.close(fd)
