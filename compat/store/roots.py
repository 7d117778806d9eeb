"""Where stored outputs live, as the command line names them: a directory, or an ``s3://``, ``gs://`` or ``az://``
prefix (``open_root``).

A ``Root`` lists everything under it in one pass (``objects``: a directory walk, or the service's paginated
listing, never a request per object), reads small objects (records), and removes one listed object only if it is
still the one that was listed (``remove``), so an output rewritten by a run after the listing is left alone.

A local root is walked without following symbolic links: a link, whatever it points to, is reported in
``specials`` and never read, descended into or removed, and every read or removal opens the directories on the
way with ``O_NOFOLLOW``, so a directory swapped for a link after the listing cannot lead outside the root either.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from compat.errors import LocationError, ResultNotFound, StorageError
from compat.results._cloud import ObjectStoreResult, StoredObject
from compat.results.base import Result
from compat.results.local import LocalResult, file_identity
from compat.results.records import MAX_RECORD_BYTES, RECORD_SUFFIX, RECORD_XATTR, TargetRecord
from compat.results.trailer import record_of_file
from compat.results.serializers import JSONSerializer

__all__ = ["LocalFile", "LocalRoot", "ObjectRoot", "Root", "Special", "open_root"]

_SCHEMES = ("s3", "gs", "az")
_DIRECTORY = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FILE = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)  # a FIFO must not block a read


@dataclass(frozen=True, slots=True)
class Special:
    """A name under a local root that is not a regular file: ``what`` it is (a symbolic link, a FIFO, a directory
    that cannot be listed). Listed as such, never followed, read or removed."""

    name: str
    what: str


_set = object.__setattr__  # how a frozen dataclass's fields are set


class LocalFile(StoredObject):
    """A file as a directory walk found it, from its one ``lstat``: its time, version and identity are made from
    that when asked, not for every file listed (most records are only read, most outputs only compared once)."""

    __slots__ = ("info",)
    leased = None

    def __init__(self, name: str, info: os.stat_result) -> None:
        _set(self, "name", name)
        _set(self, "size", info.st_size)
        _set(self, "info", info)

    @property  # type: ignore[override]
    def modified(self) -> datetime:
        return datetime.fromtimestamp(self.info.st_mtime, tz=timezone.utc)

    @property  # type: ignore[override]
    def version(self) -> str:
        """The inode and the mtime (ns): an atomic rewrite changes the one, an edit in place the other."""
        return f"{self.info.st_ino}:{self.info.st_mtime_ns}"

    @property  # type: ignore[override]
    def identity(self) -> dict[str, Any]:
        """As ``LocalResult.stored_identity`` names a file (what its record holds)."""
        return file_identity(self.info)


class Root:
    """Everything stored under a directory or a bucket prefix. ``name`` of an object is the location its Result
    (``result``) takes; ``uri`` is how to show where it is. Each listed object carries its ``identity`` as a record
    names it (``Result.stored_identity``: a file's size, mtime and inode, an ETag, a generation)."""

    uri: str
    result: Result

    def __init__(self) -> None:
        self.specials: list[Special] = []

    def objects(self) -> Iterator[StoredObject]:
        """Every object under the root, in one listing; a local root also fills ``specials`` as it goes."""
        raise NotImplementedError

    def uri_of(self, name: str) -> str:
        raise NotImplementedError

    @property
    def endpoint(self) -> str:
        """The address of the service holding the root (``""`` for a directory)."""
        return ""

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The bytes of the object ``name``; with ``limit``, at most ``limit`` + 1 of them (enough to tell that it
        is too large)."""
        raise NotImplementedError

    def remove(self, found: StoredObject) -> bool:
        """Remove the object as listed; False (nothing removed) when it is gone or has been rewritten since."""
        raise NotImplementedError

    def read_record(self, name: str) -> bytes:
        """The bytes of the record of the output ``name`` (at most ``MAX_RECORD_BYTES`` + 1); ``ResultNotFound`` if
        it has none."""
        return self.read(name + RECORD_SUFFIX, MAX_RECORD_BYTES)


class LocalRoot(Root):
    """A directory, walked without following links; names are relative to it, with ``/`` between parts."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = os.path.realpath(os.fspath(path))
        if not os.path.isdir(self.path):
            what = "does not exist" if not os.path.lexists(self.path) else "is not a directory"
            raise ResultNotFound(f"the target root {os.fspath(path)!r} {what}; give the directory the Results store in")
        self.uri = self.path
        self.result = LocalResult(dir=self.path)
        self.own_records = getattr(self.result.serializer, "keyring", None) is None
        """Whether records kept with the outputs themselves are read: after the pickle in the output's own file
        (``compat.results.trailer``) or as its extended attribute (``RECORD_XATTR``). Not while records are
        believed only when signed: they are read from the record file alone, as a Result that signs reads them."""
        self.attributes = self.own_records and hasattr(os, "getxattr")

    def objects(self) -> Iterator[StoredObject]:
        self.specials = []
        pending = [""]
        while pending:
            prefix = pending.pop()
            try:
                entries = os.scandir(os.path.join(self.path, prefix) if prefix else self.path)
            except OSError as exc:
                self.specials.append(Special(prefix.rstrip("/"), f"a directory that cannot be listed ({exc.strerror})"))
                continue
            with entries:
                for entry in entries:
                    name = prefix + entry.name
                    try:  # the usual entry first: a file (neither test follows a link, so a link is neither)
                        if entry.is_file(follow_symlinks=False):
                            yield LocalFile(name, entry.stat(follow_symlinks=False))
                        elif entry.is_dir(follow_symlinks=False):
                            pending.append(name + "/")
                        elif entry.is_symlink():
                            self.specials.append(Special(name, "a symbolic link"))
                        else:
                            self.specials.append(Special(name, "not a regular file"))
                    except FileNotFoundError:  # removed while the walk went by
                        continue

    def uri_of(self, name: str) -> str:
        return f"{self.path}{os.sep}{name if os.sep == '/' else name.replace('/', os.sep)}"

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The file's bytes, opened by its path with ``O_NOFOLLOW`` (the walk found its directories to be no
        links; a read, unlike a removal, cannot harm what it reaches) and refused unless a regular file."""
        try:
            fd = os.open(self.uri_of(name), _FILE)
        except OSError as exc:
            raise self._error("read", name, exc) from exc
        try:
            if limit is not None:
                data = _read_at_most(fd, limit + 1)  # a record: one call, whatever the file system
                if data or stat.S_ISREG(os.fstat(fd).st_mode):
                    return data
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise LocationError(f"{self.uri_of(name)!r} is not a regular file; nothing is read from it")
            with open(fd, "rb", buffering=0, closefd=False) as f:
                return f.read() if limit is None else f.read(limit + 1)
        except IsADirectoryError:
            raise LocationError(f"{self.uri_of(name)!r} is a directory; nothing is read from it") from None
        finally:
            os.close(fd)

    def attribute_record(self, name: str) -> bytes | None:
        """The record kept as the extended attribute of the output ``name`` (``RECORD_XATTR``), looked up by its
        path without following a link (the walk found no link on the way), or None: none, or not read here (no
        extended attributes on this system, or records are believed only when signed: ``own_records``)."""
        if not self.attributes:
            return None
        try:
            return os.getxattr(self.uri_of(name), RECORD_XATTR, follow_symlinks=False)
        except OSError:
            return None

    def trailer_record(self, name: str, size: int | None = None) -> TargetRecord | None:
        """The record the output ``name`` carries after its pickle (``compat.results.trailer``), or None: none, or
        not read here (``own_records``). ``size``: the file's, as listed (else looked up on the open file). One open
        (``O_NOFOLLOW``, ``O_NONBLOCK``), one ``pread``, one close."""
        if not self.own_records:
            return None
        try:
            fd = os.open(self.uri_of(name), _FILE)
        except OSError:
            return None
        try:
            return record_of_file(fd, size)
        finally:
            os.close(fd)

    def read_record(self, name: str) -> bytes:
        """The record file beside the output while it describes the output, else the record the output carries
        (its trailer, then its attribute), else the record file as it is (``LocalResult.record``'s order)."""
        try:
            beside: bytes | None = super().read_record(name)
        except ResultNotFound:
            beside = None
        if beside is not None and _describes(beside, self.uri_of(name)):
            return beside
        own = self.trailer_record(name)
        if own is not None:
            return own.to_json()
        found = self.attribute_record(name)
        if found is not None:
            return found
        if beside is None:
            raise ResultNotFound(f"no record is kept for {self.uri_of(name)!r}")
        return beside

    def remove(self, found: StoredObject) -> bool:
        try:
            directory, base = self._open_parent(found.name)
        except ResultNotFound:
            return False
        try:
            info = os.lstat(base, dir_fd=directory)
            if not stat.S_ISREG(info.st_mode) or f"{info.st_ino}:{info.st_mtime_ns}" != found.version:
                return False
            os.unlink(base, dir_fd=directory)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error("remove", found.name, exc) from exc
        finally:
            os.close(directory)
        return True

    def unlink(self, name: str) -> bool:
        """Remove the file ``name`` whatever it holds (a link is removed, never followed); False if none is there."""
        try:
            directory, base = self._open_parent(name)
        except ResultNotFound:
            return False
        try:
            os.unlink(base, dir_fd=directory)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error("remove", name, exc) from exc
        finally:
            os.close(directory)
        return True

    def _open_parent(self, name: str) -> tuple[int, str]:
        """A descriptor of the directory holding ``name`` (opened part by part, no link followed) and the base name."""
        *parts, base = name.split("/")
        try:
            fd = os.open(self.path, _DIRECTORY)
        except OSError as exc:
            raise self._error("open", "", exc) from exc
        try:
            for part in parts:
                inner = os.open(part, _DIRECTORY, dir_fd=fd)
                os.close(fd)
                fd = inner
        except OSError as exc:
            os.close(fd)
            raise self._error("open", name, exc) from exc
        return fd, base

    def _error(self, action: str, name: str, exc: OSError) -> Exception:
        where = self.uri_of(name) if name else self.path
        if isinstance(exc, FileNotFoundError):
            return ResultNotFound(f"nothing is stored at {where!r}")
        if exc.errno in (getattr(os, "ELOOP", -1), getattr(os, "ENOTDIR", -1)):
            return LocationError(f"cannot {action} {where!r}: the path leads through a symbolic link, which is never "
                                 "followed under a target root")
        return StorageError(f"cannot {action} {where!r}: {exc.strerror or exc}")


def _describes(data: bytes, path: str) -> bool:
    """Whether the record ``data`` describes the file at ``path`` as it is now."""
    try:
        return TargetRecord.from_json(data).describes(file_identity(os.lstat(path)))
    except (ValueError, OSError):
        return False


_CHUNK = 64 * 1024  # os.read(fd, n) allocates n bytes first: a 1 MiB buffer per record costs an mmap of its own


def _read_at_most(fd: int, count: int) -> bytes:
    """Up to ``count`` bytes from ``fd``, read in chunks (a small file: one call of one chunk)."""
    chunks = [os.read(fd, min(count, _CHUNK))]
    read = len(chunks[0])
    while read < count and len(chunks[-1]) == _CHUNK:
        chunks.append(os.read(fd, min(count - read, _CHUNK)))
        read += len(chunks[-1])
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class ObjectRoot(Root):
    """A prefix in an S3 or GCS bucket or an Azure container; names are whole object names."""

    def __init__(self, result: ObjectStoreResult, prefix: str = "") -> None:
        super().__init__()
        self.result = result
        self.prefix = prefix
        self.uri = f"{result.store_uri}/{prefix}"

    def objects(self) -> Iterator[StoredObject]:
        return self.result.list_objects(self.prefix)  # type: ignore[attr-defined,no-any-return]

    @property
    def endpoint(self) -> str:
        """The service's address its client speaks to (``""`` if the SDK does not say): one bucket name on two
        services names two roots."""
        client = self.result.client  # type: ignore[attr-defined]
        meta = getattr(client, "meta", None)  # boto3
        found = getattr(meta, "endpoint_url", None) or getattr(client, "api_endpoint", None) \
            or getattr(client, "primary_endpoint", None)  # google-cloud-storage, azure-storage-blob
        return str(found or "")

    def uri_of(self, name: str) -> str:
        return f"{self.result.store_uri}/{name}"  # type: ignore[attr-defined]

    def read(self, name: str, limit: int | None = None) -> bytes:
        data = self.result.read_bytes(name)
        return data if limit is None else data[: limit + 1]

    def remove(self, found: StoredObject) -> bool:
        return self.result.delete_object(found.name, found.version)  # type: ignore[attr-defined,no-any-return]


def open_root(text: str, options: Mapping[str, Any] | None = None) -> Root:
    """The root ``text`` names: ``s3://bucket/prefix``, ``gs://bucket/prefix``, ``az://container/prefix`` (the
    prefix taken as a directory: ``runs`` means ``runs/``), else a local directory. The cloud clients take their
    endpoint and credentials from the environment as the Results do (``AWS_*``, ``STORAGE_EMULATOR_HOST`` and
    Google's credentials, ``AZURE_STORAGE_CONNECTION_STRING``); ``options`` go to the Result instead."""
    scheme, found, rest = text.partition("://")
    if not found:
        return LocalRoot(text)
    if scheme not in _SCHEMES:
        raise LocationError(f"{text!r}: unknown scheme {scheme!r}; a target root is a directory or an s3://, gs:// "
                            "or az:// prefix")
    store, _, prefix = rest.partition("/")
    if not store:
        raise LocationError(f"{text!r} names no bucket or container; write {scheme}://NAME/PREFIX")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return ObjectRoot(object_result(scheme, store, options), prefix)


def object_result(scheme: str, store: str, options: Mapping[str, Any] | None = None) -> ObjectStoreResult:
    """The Result of the bucket or container ``store`` of ``scheme`` (``s3``, ``gs``, ``az``). Its serializer is
    JSON's, so reading an object through it gives its bytes as stored (a pickle serializer would decode a legacy
    handler's base64 text); nothing here deserializes a value."""
    kwargs = {"serializer": JSONSerializer(), **(options or {})}
    if scheme == "s3":
        from compat.results.s3 import S3Result

        return S3Result(store, **kwargs)
    if scheme == "gs":
        from compat.results.gcs import GCSResult

        return GCSResult(store, **kwargs)
    from compat.results.azure import AzureResult

    return AzureResult(store, **kwargs)
