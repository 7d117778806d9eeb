"""``GCSResult``: results stored as objects in a Google Cloud Storage bucket, through ``google-cloud-storage``.

The rendered location is the object name. The SDK is imported when the first request is made, never at
``import compat``; without it the backend raises ``MissingDependency`` naming the extra to install.

The SDK's errors are translated here, at the boundary, by one table from HTTP statuses to ours, and every message
names the bucket, the object, what GCS said and what to do about it.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, BinaryIO, TypeVar

from compat.errors import ArgumentTypeError, LocationError, MissingDependency, ResultError, ResultNotFound, StorageError
from compat.results._cloud import (
    Gathered,
    LocationTaken,
    ObjectStoreResult,
    StoredObject,
    Unjoined,
    checked_kwargs,
    checked_store_name,
    kept_name,
    load_while_downloading,
    name_in_store,
    unique_name,
    unwrap_legacy_payload,
    unwrapping_legacy,
)
from compat.results.serializers import PickleSerializer

__all__ = ["GCSResult"]

T = TypeVar("T")

CONNECT_TIMEOUT = 5
"""Seconds to wait for a connection to the GCS endpoint (the SDK's default timeout is 60 for both)."""

READ_TIMEOUT = 20
"""Seconds to wait for the endpoint to answer or send more bytes (each wait, not a whole large transfer)."""

RETRY_DEADLINE = 45
"""Seconds after which a call stops retrying (the SDK's default is 120): no new attempt starts later than this, so
a stalled endpoint fails a call after about RETRY_DEADLINE + READ_TIMEOUT seconds at most (3 attempts)."""

_BUCKET_NAME = re.compile(r"(?=.{1,222}$)(?=[^.]{0,63}(?:\.|$))(?:[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)(?:\.(?=[^.]{0,63}(?:\.|$))[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*")
_BUCKET_RULES = (
    "lowercase letters, digits, '-' and '_', in parts of at most 63 joined by '.', each starting and ending with a "
    "letter or digit, at most 222 in all"
)
_MAX_NAME_BYTES = 1024  # GCS's limit on the length of an object name, in UTF-8 bytes

_CREDENTIALS = (
    "check the credentials (client_kwargs={'credentials': ...}, the GOOGLE_APPLICATION_CREDENTIALS file, or "
    "`gcloud auth application-default login`)"
)
_NOT_FOUND = "nothing is stored under this name"
_NO_BUCKET = "the bucket does not exist; create it, or correct the bucket name"
_CHECKSUM_REFUSED = (
    "GCS refused the upload: what it received does not match the CRC32C of what was sent, so nothing was stored; "
    "retry the write (the bytes changed on the way)"
)

_STATUSES: Mapping[int, tuple[type[ResultError], str]] = {
    400: (LocationError, "GCS refused the request as invalid; check the bucket and object names against its rules"),
    401: (StorageError, f"the credentials were not accepted; {_CREDENTIALS}"),
    403: (StorageError, f"access was refused; {_CREDENTIALS} and that they may use this bucket"),
    404: (ResultNotFound, _NOT_FOUND),
    429: (StorageError, "GCS is throttling requests; retry later, or spread the writes over more object names"),
    503: (StorageError, "GCS is unavailable for now; retry later"),
}
"""HTTP status of a ``google.api_core`` error -> (our error, what it means and the way out). Others: StorageError."""

_PRECONDITION_FAILED = 412


def _import_storage() -> Any:
    try:
        from google.cloud import storage
    except ImportError as exc:
        raise MissingDependency("google-cloud-storage", "gcs", "GCSResult") from exc
    return storage


class GCSResult(ObjectStoreResult):
    """Stores each value as one object (cloudpickle bytes by default) in ``bucket``.

    ``project`` and ``client_kwargs`` go to ``google.cloud.storage.Client(...)`` (``credentials``,
    ``client_options``); whatever they leave out comes from Google's standard environment
    (``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``, ``STORAGE_EMULATOR_HOST`` for an emulator).
    A location is an object name (``"runs/{flow_name}/{task_name}.pkl"``) or ``gs://<bucket>/<name>``.

    Calls are bounded: ``timeout`` (seconds, or a ``(connect, read)`` pair; default ``(CONNECT_TIMEOUT,
    READ_TIMEOUT)``) for each request, and ``retry_deadline`` (default ``RETRY_DEADLINE``) for the SDK's retries of
    one call, so a stalled endpoint fails the call with ``StorageError`` instead of hanging.

    Each write is one upload that GCS makes visible at once, complete or not at all. With ``overwrite=False`` a
    write only succeeds if no object has the name (``if_generation_match=0``), so runs racing on one target
    cannot overwrite each other: the first wins and ``write`` returns the winner's value to the others.
    Objects written by the legacy ``GCSResultHandler`` (base64 text of a cloudpickle) are read transparently.
    """

    def __init__(
        self,
        bucket: str,
        project: str | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        *,
        overwrite: bool = True,
        timeout: float | tuple[float, float] | None = None,
        retry_deadline: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(overwrite=overwrite, **kwargs)
        self.bucket = checked_store_name("GCSResult", "bucket", bucket, _BUCKET_NAME, _BUCKET_RULES)
        self.project = project
        self.client_kwargs = checked_kwargs("GCSResult", "client_kwargs", client_kwargs, "google.cloud.storage.Client")
        self.timeout = _checked_timeout(timeout)
        self.retry_deadline = _checked_seconds(
            "retry_deadline", RETRY_DEADLINE if retry_deadline is None else retry_deadline
        )

    @property
    def store_uri(self) -> str:
        return f"gs://{self.bucket}"

    def _build_client(self) -> Any:
        storage = _import_storage()
        from google.auth import exceptions as auth_errors

        kwargs = dict(self.client_kwargs)
        if self.project is not None:
            kwargs["project"] = self.project
        try:
            return storage.Client(**kwargs)
        except TypeError as exc:
            raise TypeError(
                f"client_kwargs {sorted(self.client_kwargs)} are not all accepted by google.cloud.storage.Client: "
                f"{exc}"
            ) from exc
        except auth_errors.GoogleAuthError as exc:
            raise StorageError(
                f"cannot reach gs://{self.bucket}: no usable Google credentials ({exc}); {_CREDENTIALS}"
            ) from exc

    # -- the storage contract -----------------------------------------------------------------------------------

    def resolve(self, location: str) -> str:
        name = name_in_store(
            location, scheme="gs", store_kind="bucket", store=self.bucket, owner="a GCSResult", thing="object name"
        )
        if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
            raise LocationError(
                f"the object name {name[:60]!r}... is longer than GCS's limit of {_MAX_NAME_BYTES} bytes; "
                "shorten the location"
            )
        if "\r" in name or "\n" in name:
            raise LocationError(f"the object name {name!r} contains a line break, which GCS refuses")
        if name == "." or ".." in name.split("/"):
            raise LocationError(
                f"the object name {name!r} is '.' or has a '..' part: GCS refuses the names '.' and '..', and tools "
                "that map object names to paths read '..' as a step up; check the values rendered into the location"
            )
        return name

    def write_bytes(self, location: str | None, data: bytes) -> str:
        name = self.resolve(location if location is not None else unique_name())
        with self._translated("write", name, missing_bucket=True):
            blob = self.client.bucket(self.bucket).blob(name)
            blob.upload_from_string(
                data,
                content_type="application/octet-stream",
                if_generation_match=None if self.overwrite else 0,
                **self._bounds(),
            )
        return name

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        """Upload what ``dump`` writes from a file object over it (``Blob.upload_from_file``): the large ``bytes`` it
        writes (a pickled value's payload) are never copied into one buffer. Past the SDK's one-request size its
        resumable upload sends what it reads from the file object as the request body, so ``Unjoined`` hands it the
        pieces themselves and no copy is made at all, with the CRC32C of the whole body computed here and given to
        GCS, which refuses an object that does not match it (``crc32c_checksum_value``, as the SDK's own checksum
        would be); below that size, or where the SDK cannot take the checksum, the SDK's read is the one copy."""
        name = self.resolve(location if location is not None else unique_name())
        gathered = Gathered()
        dump(gathered)  # type: ignore[arg-type]
        options = {
            "content_type": "application/octet-stream",
            "if_generation_match": None if self.overwrite else 0,
            **self._bounds(),
        }
        pieces = gathered.whole()
        checksum = _crc32c_of(pieces) if gathered.size > _one_request_size() else None
        body = Unjoined(pieces) if checksum is not None else gathered.body(0, gathered.size)
        with self._translated("write", name, missing_bucket=True):
            blob = self.client.bucket(self.bucket).blob(name)
            if checksum is not None:
                blob.upload_from_file(body, size=gathered.size, checksum=None, crc32c_checksum_value=checksum,
                                      **options)
            elif isinstance(body, bytes):  # small: one bytes object costs less than a stream
                blob.upload_from_string(body, **options)
            else:
                blob.upload_from_file(body, size=gathered.size, **options)
        return name

    def read_bytes(self, location: str) -> bytes:
        name = self.resolve(location)
        with self._found("read", name):
            data: bytes = self.client.bucket(self.bucket).blob(name).download_as_bytes(**self._bounds())
        if isinstance(self.serializer, PickleSerializer):
            return unwrap_legacy_payload(data)
        return data

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        """``load`` reads the object as it arrives (``Blob.download_to_file`` on a thread of its own,
        ``load_while_downloading``); a download cut short is a ``StorageError`` whatever ``load`` made of the bytes
        that arrived. An object written by the legacy ``GCSResultHandler`` (base64 text) is recognised by its first
        bytes and decoded first, when the serializer is a ``PickleSerializer``."""
        name = self.resolve(location)
        blob = self.client.bucket(self.bucket).blob(name)
        bounds = self._bounds()
        with self._found("read", name):
            return load_while_downloading(
                lambda file: blob.download_to_file(file, **bounds), unwrapping_legacy(self.serializer, load)
            )

    def modified_at(self, location: str) -> datetime | None:
        stamp: datetime = self._look_up(self.resolve(location)).updated  # parsed tz-aware by the SDK
        return stamp

    def keep_aside(self, location: str) -> str | None:
        """Move the object at ``location`` to ``<name>.unreadable-<UTC time>`` in the same bucket (a copy made by
        GCS, then a delete, so a write-once Result can claim the name again)."""
        name = self.resolve(location)
        kept = kept_name(name)
        bucket = self.client.bucket(self.bucket)
        try:
            with self._found("keep aside", name):
                bucket.copy_blob(bucket.blob(name), bucket, kept, **self._bounds())
        except ResultNotFound:
            return None
        with self._translated("keep aside", name):
            bucket.blob(name).delete(**self._bounds())
        self._remove_old_copies(name)
        return kept

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """The bucket's listing pages (1,000 objects each), in name order."""
        with self._translated("list", prefix + "*", missing_bucket=True):
            for blob in self.client.list_blobs(self.bucket, prefix=prefix, page_size=1000, **self._bounds()):
                yield StoredObject(blob.name, blob.size or 0, blob.updated, str(blob.generation), self._identity(blob))

    def delete_object(self, name: str, version: str | None = None) -> bool:
        """A delete, with ``if_generation_match`` when ``version`` is given (an object rewritten since it was listed
        has a new generation and is left alone)."""
        conditional = {} if version is None else {"if_generation_match": int(version)}
        try:
            with self._translated("delete", name):
                self.client.bucket(self.bucket).blob(name).delete(**conditional, **self._bounds())
        except ResultNotFound:
            return False
        except StorageError as exc:
            if getattr(exc.__cause__, "code", None) == _PRECONDITION_FAILED:
                return False
            raise
        return True

    def _lease_put(self, name: str, data: bytes, version: str | None) -> str | None:
        """An upload with ``if_generation_match``: 0 (take), or the generation read (renew, take over)."""
        blob = self.client.bucket(self.bucket).blob(name)
        try:
            with self._translated("write the lease", name, missing_bucket=True):
                blob.upload_from_string(data, content_type="application/json",
                                        if_generation_match=0 if version is None else int(version), **self._bounds())
        except ResultNotFound:
            return None
        except StorageError as exc:
            if getattr(exc.__cause__, "code", None) == _PRECONDITION_FAILED:
                return None
            raise
        return str(blob.generation)

    def _lease_get(self, name: str) -> tuple[bytes, str] | None:
        blob = self.client.bucket(self.bucket).blob(name)
        try:
            with self._found("read the lease", name):
                data: bytes = blob.download_as_bytes(**self._bounds())
                if blob.generation is None:
                    blob.reload(**self._bounds())
        except ResultNotFound:
            return None
        return data, str(blob.generation)

    # -- helpers ------------------------------------------------------------------------------------------------

    def _bounds(self) -> dict[str, Any]:
        """The ``timeout`` and ``retry`` of every SDK call: the SDK's retry rule, stopped at ``retry_deadline``."""
        from google.cloud.storage.retry import DEFAULT_RETRY

        return {"timeout": self.timeout, "retry": DEFAULT_RETRY.with_timeout(self.retry_deadline)}

    def _identity(self, metadata: Any) -> dict[str, Any]:
        return {"generation": str(metadata.generation)}

    def _look_up(self, name: str) -> Any:
        """The object's metadata (a reloaded ``Blob``); a 404 is ``ResultNotFound`` once the bucket is known."""
        with self._found("look up", name):
            blob = self.client.bucket(self.bucket).blob(name)
            blob.reload(**self._bounds())
        return blob

    @contextmanager
    def _found(self, action: str, name: str) -> Iterator[None]:
        """As ``_translated``; a 404 is ``ResultNotFound`` only once the bucket is known to exist (GCS answers 404
        for a missing bucket too, and a typo in the bucket name must not read as "nothing stored")."""
        try:
            with self._translated(action, name):
                yield
        except ResultNotFound as missing:
            with self._translated(action, name):
                bucket_exists = self.client.bucket(self.bucket).exists(**self._bounds())
            if not bucket_exists:
                raise StorageError(f"cannot {action} gs://{self.bucket}/{name}: {_NO_BUCKET}") from missing.__cause__
            raise

    def _translate(self, exc: Exception, action: str, name: str, missing_bucket: bool = False) -> ResultError | None:
        from google.api_core import exceptions as api_errors
        from google.auth import exceptions as auth_errors
        from requests import exceptions as http_errors

        where = f"cannot {action} gs://{self.bucket}/{name}"
        if isinstance(exc, ResultError):
            return None
        if isinstance(exc, api_errors.RetryError):  # the retries ran out: say what the last attempt met
            last = exc.cause if isinstance(exc.cause, Exception) else None
            error = self._translate(last, action, name, missing_bucket) if last is not None else None
            return StorageError(
                f"{error or f'{where}: {exc.message}'} (gave up after retrying for {self.retry_deadline:g} s; "
                "timeout= and retry_deadline= of GCSResult set the bounds)"
            )
        if isinstance(exc, api_errors.GoogleAPICallError):
            status = int(exc.code or 0)
            said = f"GCS said {status}: {exc.message}"
            if status == _PRECONDITION_FAILED and not self.overwrite:
                return LocationTaken(f"gs://{self.bucket}/{name}", name)
            if status == 404 and missing_bucket:
                return StorageError(f"{where}: {_NO_BUCKET} ({said})")
            if status == 400 and "crc32c" in str(exc.message).lower():
                return StorageError(f"{where}: {_CHECKSUM_REFUSED} ({said})")
            category, meaning = _STATUSES.get(status, (StorageError, "the request was refused"))
            return category(f"{where}: {meaning} ({said})")
        if isinstance(exc, auth_errors.GoogleAuthError):
            return StorageError(f"{where}: the credentials could not be used ({exc}); {_CREDENTIALS}")
        if isinstance(exc, (http_errors.ConnectionError, http_errors.Timeout)):
            return StorageError(
                f"{where}: the connection to the GCS endpoint {self.client.api_endpoint} failed or did not answer "
                f"within the timeout of {self.timeout} s ({exc}); check client_kwargs['client_options'] (or "
                "STORAGE_EMULATOR_HOST) and the network"
            )
        if isinstance(exc, ValueError):  # the SDK validates bucket names before sending them
            return LocationError(f"{where}: google-cloud-storage refused the bucket or object name ({exc})")
        return None

    def __repr__(self) -> str:
        return f"GCSResult(bucket={self.bucket!r}, location={self.location!r})"


@functools.cache
def _one_request_size() -> float:
    """The largest body the SDK uploads in one multipart request, which needs it as ``bytes``; past it the SDK's
    resumable upload sends what it reads as it is. Infinite (never ``Unjoined``) where the SDK cannot be told the
    body's CRC32C or names that size otherwise, or where CRC32C runs in pure Python (the SDK then checks with MD5)."""
    import inspect

    from google.cloud.storage import blob

    size = getattr(blob, "_MAX_MULTIPART_SIZE", None)
    takes_checksum = "crc32c_checksum_value" in inspect.signature(blob.Blob.upload_from_file).parameters
    try:
        import google_crc32c
    except ImportError:
        return math.inf
    if not isinstance(size, int) or not takes_checksum or google_crc32c.implementation != "c":
        return math.inf
    return size


def _crc32c_of(pieces: list[bytes]) -> str:
    """The CRC32C of the pieces one after the other, base64 as GCS gives it."""
    import google_crc32c

    checksum = google_crc32c.Checksum()
    for piece in pieces:
        checksum.update(piece)
    return base64.b64encode(checksum.digest()).decode("ascii")


def _checked_timeout(timeout: float | tuple[float, float] | None) -> float | tuple[float, float]:
    """``timeout`` as the SDK takes it (seconds, or a (connect, read) pair); None means this module's defaults."""
    if timeout is None:
        return (CONNECT_TIMEOUT, READ_TIMEOUT)
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return (_checked_seconds("timeout[0]", timeout[0]), _checked_seconds("timeout[1]", timeout[1]))
    if isinstance(timeout, tuple):
        raise ArgumentTypeError("GCSResult: timeout", timeout, "seconds or a (connect, read) pair of seconds")
    return _checked_seconds("timeout", timeout)


def _checked_seconds(argument: str, seconds: Any) -> float:
    """``seconds`` if it is a positive number; a clear error otherwise (a 0 or None would mean "wait forever")."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ArgumentTypeError(f"GCSResult: {argument}", seconds, "a number of seconds")
    if not seconds > 0:
        raise ValueError(f"GCSResult's {argument} must be more than 0 seconds, got {seconds!r}")
    return seconds
