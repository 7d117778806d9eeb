"""``AzureResult``: results stored as blobs in an Azure Blob Storage container, through ``azure-storage-blob``.

The rendered location is the blob name. The SDK is imported when the first request is made, never at
``import compat``; without it the backend raises ``MissingDependency`` naming the extra to install.

The SDK's errors are translated here, at the boundary, by one table from Azure's error codes to ours, and every
message names the container, the blob, what Azure said and what to do about it. Connection strings hold the
account key: no message or repr shows one.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, TypeVar

from compat.errors import ArgumentTypeError, LocationError, MissingDependency, ResultError, ResultNotFound, StorageError
from compat.results._cloud import (
    Gathered,
    LocationTaken,
    ObjectStoreResult,
    StoredObject,
    checked_kwargs,
    checked_store_name,
    kept_name,
    load_while_downloading,
    name_in_store,
    unique_name,
    unwrap_legacy_payload,
    unwrapping_legacy,
)
from compat.results.leases import LEASE_SUFFIX, Holder, Renewing
from compat.results.serializers import PickleSerializer

__all__ = ["BOUNDED_CALLS", "CONNECTION_STRING_VARIABLE", "AzureResult"]

T = TypeVar("T")

CONNECTION_STRING_VARIABLE = "AZURE_STORAGE_CONNECTION_STRING"
"""Where ``AzureResult`` finds its connection string when none is given (Azure's own convention)."""

BOUNDED_CALLS: Mapping[str, int] = {
    "connection_timeout": 5,  # seconds to connect (the SDK's default is 20)
    "read_timeout": 20,  # seconds to wait for an answer or more bytes (the SDK's default is 60)
    "retry_total": 2,  # retries after the first attempt (the SDK's default is 3 retries of a request, 10 in all)
    "initial_backoff": 2,  # seconds before the first retry, with 3 s of jitter (the SDK's default is 15)
    "increment_base": 2,  # added backoff: increment_base ** retry (the SDK's default is 3)
}
"""The client_kwargs every AzureResult's client gets unless its own ``client_kwargs`` set them: a stalled endpoint
fails a call with ``StorageError`` after about a minute (3 attempts) instead of hanging for minutes."""

_CONTAINER_NAME = re.compile(r"\$root|\$web|\$logs|[a-z0-9](?:-?[a-z0-9]){0,62}")
_CONTAINER_RULES = "lowercase letters, digits and single '-' between them, at most 63 characters"
_MAX_NAME_CHARS = 1024  # Azure's limit on the length of a blob name
_COPY_TIMEOUT = 60  # seconds keep_aside waits for Azure's copy of a blob to finish

_CREDENTIALS = (
    f"check the connection string (connection_string= or {CONNECTION_STRING_VARIABLE}): its AccountName and "
    "AccountKey or SharedAccessSignature"
)
_ACCESS = f"access was refused; {_CREDENTIALS}, and that they may use this container"
_NOT_FOUND = "nothing is stored under this name"
_NO_CONTAINER = "the container does not exist; create it, or correct the container name"
_INVALID_NAME = "Azure refused the container or blob name; see its naming rules (container: 3-63 of a-z, 0-9, -)"

_ERROR_CODES: Mapping[str, tuple[type[ResultError], str]] = {
    "BlobNotFound": (ResultNotFound, _NOT_FOUND),
    "ContainerNotFound": (StorageError, _NO_CONTAINER),
    "ContainerBeingDeleted": (StorageError, "the container is being deleted; use another container"),
    "InvalidResourceName": (LocationError, _INVALID_NAME),
    "OutOfRangeInput": (LocationError, _INVALID_NAME),
    "InvalidUri": (LocationError, _INVALID_NAME),
    **dict.fromkeys(
        (
            "AuthenticationFailed",
            "AuthorizationFailure",
            "AuthorizationPermissionMismatch",
            "AuthorizationResourceTypeMismatch",
            "InsufficientAccountPermissions",
            "InvalidAuthenticationInfo",
            "NoAuthenticationInformation",
            "AccountIsDisabled",
        ),
        (StorageError, _ACCESS),
    ),
    "ServerBusy": (StorageError, "Azure is throttling requests; retry later"),
}
"""Azure Storage error codes -> (our error, what it means and the way out). Other codes: by HTTP status, below."""

_STATUSES: Mapping[int, tuple[type[ResultError], str]] = {
    401: (StorageError, _ACCESS),
    403: (StorageError, _ACCESS),
    404: (ResultNotFound, _NOT_FOUND),
}

_LOST_RACE_CODES = frozenset({"BlobAlreadyExists", "ConditionNotMet"})
"""A conditional upload (``If-None-Match: *``) was refused: the blob already exists."""


def _import_blob() -> Any:
    try:
        from azure.storage import blob
    except ImportError as exc:
        raise MissingDependency("azure-storage-blob", "azure", "AzureResult") from exc
    return blob


log = logging.getLogger(__name__)


class AzureResult(ObjectStoreResult):
    """Stores each value as one block blob (cloudpickle bytes by default) in ``container``.

    ``connection_string`` (else the ``AZURE_STORAGE_CONNECTION_STRING`` environment variable) names the account
    and its key or SAS token; ``client_kwargs`` go to ``BlobServiceClient.from_connection_string(...)``
    (``retry_total``, ``connection_timeout``, ``read_timeout``, ``max_single_put_size``...), over the bounds of
    ``BOUNDED_CALLS``. A location is a blob name
    (``"runs/{flow_name}/{task_name}.pkl"``) or ``az://<container>/<name>``.

    Each write is one upload that Azure makes visible at once (a single Put Blob, or blocks committed by one Put
    Block List). With ``overwrite=False`` a write only succeeds if no blob has the name (``If-None-Match: *``),
    so runs racing on one target cannot overwrite each other: the first wins and ``write`` returns the winner's
    value to the others. Blobs written by the legacy ``AzureResultHandler`` (base64 text of a cloudpickle) are
    read transparently.
    """

    def __init__(
        self,
        container: str,
        connection_string: str | None = None,
        client_kwargs: Mapping[str, Any] | None = None,
        *,
        overwrite: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(overwrite=overwrite, **kwargs)
        self.container = checked_store_name("AzureResult", "container", container, _CONTAINER_NAME, _CONTAINER_RULES)
        if connection_string is not None and not isinstance(connection_string, str):
            raise ArgumentTypeError(
                "AzureResult: connection_string",
                connection_string,
                f"a str (None: {CONNECTION_STRING_VARIABLE})",
                secret=True,
            )
        self.connection_string = connection_string
        self.client_kwargs = checked_kwargs("AzureResult", "client_kwargs", client_kwargs, "BlobServiceClient")

    @property
    def store_uri(self) -> str:
        return f"az://{self.container}"

    def _build_client(self) -> Any:
        blob = _import_blob()
        connection_string = self.connection_string or os.environ.get(CONNECTION_STRING_VARIABLE)
        if not connection_string:
            raise StorageError(
                f"AzureResult for the container {self.container!r} has no connection string; pass "
                f"connection_string= or set {CONNECTION_STRING_VARIABLE}"
            )
        try:
            service = blob.BlobServiceClient.from_connection_string(
                connection_string, **{**BOUNDED_CALLS, **self.client_kwargs}
            )
        except ValueError as exc:  # the SDK's message does not repeat the string, so it shows no key
            raise StorageError(
                f"cannot use the container {self.container!r}: the connection string is not valid ({exc}); "
                f"{_CREDENTIALS}"
            ) from exc
        return service.get_container_client(self.container)

    # -- the storage contract -----------------------------------------------------------------------------------

    def resolve(self, location: str) -> str:
        name = name_in_store(
            location, scheme="az", store_kind="container", store=self.container, owner="an AzureResult",
            thing="blob name",
        )
        if len(name) > _MAX_NAME_CHARS:
            raise LocationError(
                f"the blob name {name[:60]!r}... is longer than Azure's limit of {_MAX_NAME_CHARS} characters; "
                "shorten the location"
            )
        return name

    def write_bytes(self, location: str | None, data: bytes) -> str:
        name = self.resolve(location if location is not None else unique_name())
        with self._translated("write", name):
            self.client.get_blob_client(name).upload_blob(data, overwrite=self.overwrite)
        return name

    def read_bytes(self, location: str) -> bytes:
        name = self.resolve(location)
        with self._translated("read", name):
            data: bytes = self.client.get_blob_client(name).download_blob().readall()
        if isinstance(self.serializer, PickleSerializer):
            return unwrap_legacy_payload(data)
        return data

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        """Upload what ``dump`` writes from a file object over it: the large ``bytes`` it writes (a pickled value's
        payload) are not copied into one buffer first; the SDK reads the body, or its blocks, from there."""
        name = self.resolve(location if location is not None else unique_name())
        gathered = Gathered()
        dump(gathered)  # type: ignore[arg-type]
        with self._translated("write", name):
            self.client.get_blob_client(name).upload_blob(
                gathered.body(0, gathered.size), length=gathered.size, overwrite=self.overwrite
            )
        return name

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        """``load`` reads the blob as it arrives (``download_blob().readinto`` on a thread of its own,
        ``load_while_downloading``); a download cut short is a ``StorageError`` whatever ``load`` made of the bytes
        that arrived. An object written by the legacy ``AzureResultHandler`` (base64 text) is recognised by its
        first bytes and decoded first, when the serializer is a ``PickleSerializer``."""
        name = self.resolve(location)
        blob = self.client.get_blob_client(name)
        with self._translated("read", name):
            return load_while_downloading(
                lambda file: blob.download_blob().readinto(file), unwrapping_legacy(self.serializer, load)
            )

    def modified_at(self, location: str) -> datetime | None:
        stamp: datetime = self._look_up(self.resolve(location)).last_modified  # tz-aware (UTC) from the SDK
        return stamp

    def keep_aside(self, location: str) -> str | None:
        """Move the blob at ``location`` to ``<name>.unreadable-<UTC time>`` in the same container (a copy made by
        Azure, waited for, then a delete, so a write-once Result can claim the name again)."""
        name = self.resolve(location)
        kept = kept_name(name)
        source, target = self.client.get_blob_client(name), self.client.get_blob_client(kept)
        try:
            with self._translated("keep aside", name):
                copy = target.start_copy_from_url(source.url)
        except ResultNotFound:
            return None
        with self._translated("keep aside", name):
            status, deadline = copy.get("copy_status"), time.monotonic() + _COPY_TIMEOUT
            while status == "pending" and time.monotonic() < deadline:  # a copy within one account is quick
                time.sleep(0.05)
                status = target.get_blob_properties().copy.status
            if status != "success":
                raise StorageError(
                    f"cannot keep aside az://{self.container}/{name}: Azure's copy to {kept!r} ended {status!r}; "
                    "the blob was left where it is"
                )
            source.delete_blob()
        self._remove_old_copies(name)
        return kept

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """The container's listing pages (up to 5,000 blobs each), in name order."""
        with self._translated("list", prefix + "*"):
            for blob in self.client.list_blobs(name_starts_with=prefix or None):
                yield StoredObject(blob.name, blob.size or 0, blob.last_modified, blob.etag, self._identity(blob),
                                   leased=blob.lease.state in _HELD_LEASE_STATES)

    def delete_object(self, name: str, version: str | None = None) -> bool:
        """A delete, only if the ETag is still ``version`` when one is given (a blob rewritten since it was listed
        is left alone)."""
        from azure.core import MatchConditions

        conditional = {} if version is None else {"etag": version, "match_condition": MatchConditions.IfNotModified}
        try:
            with self._translated("delete", name):
                self.client.delete_blob(name, **conditional)
        except ResultNotFound:
            return False
        except StorageError as exc:
            if getattr(exc.__cause__, "status_code", None) == 412:
                return False
            raise
        return True

    def take_lease(self, location: str, holder: Holder, ttl: float = 60.0) -> Any:
        """Azure's own blob lease on ``<name>.lease`` (``BlobLeaseClient``), which the service expires on its own
        clock: ``ttl`` is kept within Azure's 15 to 60 seconds. The blob is made empty, and the holder written into
        it under the lease, so a blob naming a holder when the lease is acquired was left by one that died."""
        from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
        from azure.storage.blob import BlobLeaseClient

        name = self.resolve(location) + LEASE_SUFFIX
        blob = self.client.get_blob_client(name)
        seconds = int(min(max(ttl, 15), 60))
        for _ in range(5):  # the lease blob deleted by its holder between our requests: make it again
            with self._translated("take the lease", name):
                try:
                    blob.upload_blob(b"", overwrite=False)
                except ResourceExistsError:
                    pass
                lease = BlobLeaseClient(blob)
                try:
                    lease.acquire(lease_duration=seconds)
                except ResourceNotFoundError:
                    continue
                except HttpResponseError as exc:
                    if exc.status_code != 409:  # LeaseAlreadyPresent
                        raise
                    try:
                        return Holder.from_json(blob.download_blob().readall())
                    except ResourceNotFoundError:
                        continue
                left = blob.download_blob(lease=lease).readall()
                if left:
                    log.warning("Took over the lease on az://%s/%s from %s: Azure let its lease expire (not renewed "
                                "for %d s)", self.container, name, Holder.from_json(left).describe(), seconds)
                blob.upload_blob(holder.to_json(), overwrite=True, lease=lease)
            return AzureLease(self, name, holder, float(seconds), lease)
        return Holder.unknown()

    def lease_holder(self, location: str) -> Holder | None:
        name = self.resolve(location) + LEASE_SUFFIX
        try:
            properties = self._look_up(name)
        except ResultNotFound:
            return None
        if properties.lease.state != "leased":
            return None
        with self._translated("read the lease", name):
            return Holder.from_json(self.client.get_blob_client(name).download_blob().readall())

    # -- helpers ------------------------------------------------------------------------------------------------

    def _identity(self, metadata: Any) -> dict[str, Any]:
        """The ETag without its quotes: a blob's properties quote it, a listing of the container does not."""
        return {"etag": str(metadata.etag).strip('"')}

    def _look_up(self, name: str) -> Any:
        """The blob's properties (a HEAD request: Azure names BlobNotFound or ContainerNotFound in a header)."""
        with self._translated("look up", name):
            return self.client.get_blob_client(name).get_blob_properties()

    def _translate(self, exc: Exception, action: str, name: str) -> ResultError | None:
        from azure.core import exceptions as azure_errors

        where = f"cannot {action} az://{self.container}/{name}"
        if isinstance(exc, azure_errors.HttpResponseError):
            raw_code = getattr(exc, "error_code", None)
            code = str(getattr(raw_code, "value", raw_code) or "")
            status = int(exc.status_code or 0)
            said = f"Azure said {status} {code or 'without an error code'}: {_first_line(exc.reason or str(exc))}"
            if code in _LOST_RACE_CODES and not self.overwrite:
                return LocationTaken(f"az://{self.container}/{name}", name)
            category, meaning = _ERROR_CODES.get(code) or _STATUSES.get(status, (StorageError, "the request failed"))
            return category(f"{where}: {meaning} ({said})")
        if isinstance(exc, (azure_errors.ServiceRequestError, azure_errors.ServiceResponseError)):
            return StorageError(
                f"{where}: the connection to the Azure endpoint {self.client.primary_endpoint} failed or did not "
                f"answer in time ({_first_line(str(exc))}); check the BlobEndpoint of the connection string and the "
                "network (client_kwargs' connection_timeout, read_timeout and retry_total set the bounds)"
            )
        if isinstance(exc, azure_errors.AzureError):
            return StorageError(f"{where}: {_first_line(str(exc))}")
        return None

    def __repr__(self) -> str:  # the connection string holds the account key: never show it
        return f"AzureResult(container={self.container!r}, location={self.location!r})"


_HELD_LEASE_STATES = ("leased", "breaking")
"""Azure's lease states of a blob whose lease still keeps others out (a breaking lease holds until it is broken)."""


class AzureLease(Renewing):
    """A held Azure blob lease, renewed by Azure's Renew Lease; released by deleting its blob under the lease."""

    def __init__(self, store: AzureResult, name: str, holder: Holder, ttl: float, lease: Any) -> None:
        self.store, self.name, self.lease = store, name, lease
        super().__init__(f"az://{store.container}/{name}", holder, ttl)

    def renew_once(self) -> bool:
        from azure.core.exceptions import HttpResponseError

        try:
            self.lease.renew()
        except HttpResponseError as exc:
            if exc.status_code == 409:  # the lease expired and another run acquired it
                return False
            raise
        return True

    def drop(self) -> None:
        with self.store._translated("release the lease", self.name):
            self.store.client.get_blob_client(self.name).delete_blob(lease=self.lease)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no message"
