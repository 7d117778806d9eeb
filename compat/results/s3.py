"""``S3Result``: results stored as objects in an S3 bucket (or any S3-compatible store), through boto3.

The rendered location is the object key. boto3 is imported when the first request is made, never at
``import compat``; without it the backend raises ``MissingDependency`` naming the extra to install.

botocore's errors are translated here, at the boundary, by one table from S3 error codes to ours, and every
message names the bucket, the key, what S3 said and what to do about it.
"""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from datetime import datetime
from typing import Any, BinaryIO, TypeVar

from compat.errors import (
    ArgumentTypeError,
    ConfigurationError,
    LocationError,
    MissingDependency,
    ResultError,
    ResultNotFound,
    SerializationError,
    StorageError,
)
from compat.results._cloud import SIGNED_BASE64 as _SIGNED_BASE64
from compat.results._cloud import (
    Gathered,
    LocationTaken,
    ObjectStoreResult,
    StoredObject,
    checked_kwargs,
    checked_store_name,
    kept_name,
    name_in_store,
    unique_name,
    unwrap_legacy_payload,
)
from compat.results.serializers import PickleSerializer

__all__ = ["S3Result"]

T = TypeVar("T")

MULTIPART_THRESHOLD = 8 * 1024 * 1024
"""By default, values of at least this many bytes are uploaded in parts (boto3's default threshold and part size):
on S3 the parts travel in parallel. ``S3Result(multipart_threshold=...)`` sets it per Result."""

_MIN_THRESHOLD = 5 * 1024 * 1024  # S3's smallest part but the last
_MAX_SINGLE_PUT = 5 * 1024**3  # S3's largest object sent in one PUT

PART_SIZE = MULTIPART_THRESHOLD
"""Bytes in each part of a multipart upload but the last (more when 10,000 parts would not hold the value)."""

_READ_BUFFER = 1024 * 1024  # bytes read from the network at a time while a value is loaded from the stream

CONNECT_TIMEOUT = 5
"""Seconds to wait for a connection to the S3 endpoint (botocore's default is 60)."""

READ_TIMEOUT = 20
"""Seconds to wait for the endpoint to answer or send more bytes (botocore's default is 60; a large object is not
bounded by it as a whole, only each wait for the next bytes is)."""

MAX_ATTEMPTS = 3
"""Attempts of one call, the first included, unless AWS_MAX_ATTEMPTS or AWS_RETRY_MODE say otherwise."""

MAX_CONNECTIONS = 32
"""Connections the client keeps open at most (botocore's default is 10): ``results-compat ls`` reads records with
32 threads, and a thread finding the pool full would open (and drop) a connection of its own."""

PART_WORKERS = 8
"""Threads that send the parts of one multipart upload (boto3's managed transfer uses 10)."""

_MAX_PARTS = 10_000  # S3's limit on the parts of one multipart upload
_MAX_KEY_BYTES = 1024  # S3's limit on the length of a key, in UTF-8 bytes
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # characters AWS advises keys to avoid: ASCII control characters
_BUCKET_NAME = re.compile(r"arn:\S+|[a-zA-Z0-9._-]{1,255}")  # what botocore accepts: a bucket name or an ARN
_BUCKET_RULES = "letters, digits, '.', '-' and '_', at most 255 characters, or an access point ARN"

_CREDENTIALS = (
    "check the credentials (boto3_kwargs, the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment variables or the "
    "AWS profile)"
)
_ACCESS = (
    f"access was refused; {_CREDENTIALS} and that they may use this bucket (without s3:ListBucket, S3 also "
    "refuses a lookup of a key that does not exist)"
)
_NOT_FOUND = "nothing is stored under this key"
_WRONG_REGION = "the bucket lives in another region; set region_name in boto3_kwargs (or AWS_DEFAULT_REGION)"

_CLIENT_ERRORS: Mapping[str, tuple[type[ResultError], str]] = {
    "NoSuchKey": (ResultNotFound, _NOT_FOUND),
    "NotFound": (ResultNotFound, _NOT_FOUND),
    "404": (ResultNotFound, _NOT_FOUND),  # HEAD responses carry no body, so only the status is known
    "NoSuchBucket": (StorageError, "the bucket does not exist; create it, or correct the bucket name"),
    "KeyTooLongError": (LocationError, f"the key is longer than S3's {_MAX_KEY_BYTES} bytes; shorten the location"),
    "InvalidBucketName": (LocationError, "the bucket name is not valid; see S3's bucket naming rules"),
    **dict.fromkeys(
        (
            "AccessDenied",
            "403",
            "Forbidden",
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "InvalidToken",
            "AllAccessDisabled",
        ),
        (StorageError, _ACCESS),
    ),
    **dict.fromkeys(
        ("PermanentRedirect", "301", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"),
        (StorageError, _WRONG_REGION),
    ),
}
"""botocore ``ClientError`` codes -> (our error, what it means and the way out). Other codes: ``StorageError``."""

_LOST_RACE_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
"""A conditional write (``If-None-Match: *``) was refused: the key holds a value, or another write is in flight."""


def _import_boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise MissingDependency("boto3", "s3", "S3Result") from exc
    return boto3


class S3Result(ObjectStoreResult):
    """Stores each value as one object (cloudpickle bytes by default) in ``bucket``.

    ``boto3_kwargs`` go to ``boto3.client("s3", ...)`` (``endpoint_url``, ``region_name``, credentials,
    ``config``); whatever they leave out comes from the standard AWS environment variables and config files.
    Calls are bounded: ``CONNECT_TIMEOUT``, ``READ_TIMEOUT`` and ``MAX_ATTEMPTS`` unless a ``botocore.config.Config``
    given as ``config`` sets its own (a stalled endpoint fails the call with ``StorageError`` instead of hanging).
    A location is a key (``"runs/{flow_name}/{task_name}.pkl"``) or ``s3://<bucket>/<key>`` for this bucket.

    Writes are atomic from a reader's view: one PUT, or a multipart upload that S3 completes at once; an upload that
    fails or is interrupted by an exception is aborted (a killed process cannot abort its own: give the bucket a
    lifecycle rule that aborts incomplete multipart uploads after a day, see README.md's "Trust"). With
    ``overwrite=False`` a write only succeeds if the key is empty (S3's ``If-None-Match: *``), so runs racing on
    one target cannot overwrite each other: the first wins and ``write`` returns the winner's value to the others.
    Objects written by the legacy ``S3ResultHandler`` (base64 text of a cloudpickle) are read transparently.

    ``multipart_threshold``: values of at least this many bytes (8 MiB by default, as boto3's) are sent as a
    multipart upload whose parts travel in parallel; smaller ones in one PUT. Raise it (up to 5 GiB) for an
    S3-compatible store where multipart uploads are slow or lack conditional completion: one PUT holds no more
    memory, since the value's bytes are sent from where they are either way.
    """

    def __init__(
        self,
        bucket: str,
        boto3_kwargs: Mapping[str, Any] | None = None,
        *,
        overwrite: bool = True,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        **kwargs: Any,
    ) -> None:
        super().__init__(overwrite=overwrite, **kwargs)
        self.multipart_threshold = _checked_threshold(multipart_threshold)
        self.bucket = checked_store_name("S3Result", "bucket", bucket, _BUCKET_NAME, _BUCKET_RULES)
        self.boto3_kwargs = checked_kwargs("S3Result", "boto3_kwargs", boto3_kwargs, "boto3.client('s3', ...)")

    @property
    def store_uri(self) -> str:
        return f"s3://{self.bucket}"

    def _build_client(self) -> Any:
        boto3 = _import_boto3()
        kwargs = {**self.boto3_kwargs, "config": _bounded(self.boto3_kwargs.get("config"))}
        try:
            # a Session per client: boto3's default session is not safe to share between threads
            return boto3.session.Session().client("s3", **kwargs)
        except TypeError as exc:
            raise TypeError(
                f"boto3_kwargs {sorted(self.boto3_kwargs)} are not all accepted by boto3's client('s3', ...): {exc}"
            ) from exc

    # -- the storage contract -----------------------------------------------------------------------------------

    def resolve(self, location: str) -> str:
        key = name_in_store(
            location, scheme="s3", store_kind="bucket", store=self.bucket, owner="an S3Result", thing="object key"
        )
        if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
            raise LocationError(
                f"the key {key[:60]!r}... is longer than S3's limit of {_MAX_KEY_BYTES} bytes; shorten the location"
            )
        control = _CONTROL.search(key)
        if control is not None:
            raise LocationError(
                f"the key {key!r} contains the control character {control[0]!r} (a line break, say), which S3 cannot "
                "be relied on to store and list (its XML answers cannot carry most of them); check the values "
                "rendered into the location"
            )
        return key

    def write_bytes(self, location: str | None, data: bytes) -> str:
        return self.write_stream(location, lambda stream: stream.write(data))

    def write_stream(self, location: str | None, dump: Callable[[BinaryIO], object]) -> str:
        """Upload what ``dump`` writes: large ``bytes`` it writes (a pickled value's payload) are sent from where
        they are, never joined into one more copy; one PUT below ``multipart_threshold``, else a multipart upload."""
        key = self.resolve(location if location is not None else unique_name())
        gathered = Gathered()
        dump(gathered)  # type: ignore[arg-type]
        client = self.client
        with self._translated("write", key):
            if gathered.size < self.multipart_threshold:
                conditional = {} if self.overwrite else {"IfNoneMatch": "*"}
                client.put_object(Bucket=self.bucket, Key=key, Body=gathered.body(0, gathered.size), **conditional)
            else:
                self._upload_parts(key, gathered)
        return key

    def read_bytes(self, location: str) -> bytes:
        return self.read_stream(location, lambda stream: stream.read())

    def read_stream(self, location: str, load: Callable[[BinaryIO], T]) -> T:
        """``load`` reads the object as it arrives; an object written by the legacy ``S3ResultHandler`` (base64
        text) is recognised by its first bytes and decoded first, when the serializer is a ``PickleSerializer``."""
        key = self.resolve(location)
        client = self.client
        with self._translated("read", key):
            response = client.get_object(Bucket=self.bucket, Key=key)
        with closing(response["Body"]) as body, self._translated("read", key):
            chunks = _Chunked(body)
            stream = io.BufferedReader(chunks, _READ_BUFFER)
            try:
                if isinstance(self.serializer, PickleSerializer) and stream.peek(len(_SIGNED_BASE64)).startswith(
                    (b"g", _SIGNED_BASE64)
                ):
                    legacy = unwrap_legacy_payload(stream.read())
                    stream = io.BufferedReader(io.BytesIO(legacy))  # type: ignore[arg-type]
                value = load(stream)  # type: ignore[arg-type]
            except SerializationError:
                if chunks.failure is None:
                    raise  # the bytes arrived whole and are wrong
                raise StorageError(  # the serializer saw the end of what arrived, not of what is stored
                    f"cannot read s3://{self.bucket}/{key}: the download was cut short ({chunks.failure}); the stored "
                    "value is left as it is: retry, and check the network if it keeps happening"
                ) from chunks.failure
            stream.read()  # to the end: botocore checks the length and the checksum there
        return value

    def modified_at(self, location: str) -> datetime | None:
        stamp: datetime = self._look_up(self.resolve(location))["LastModified"]  # botocore parses it tz-aware
        return stamp

    def keep_aside(self, location: str) -> str | None:
        """Move the object at ``location`` to ``<key>.unreadable-<UTC time>`` in the same bucket (copy, then delete,
        so a write-once Result can claim the key again)."""
        key = self.resolve(location)
        kept = kept_name(key)
        client = self.client
        try:
            with self._translated("keep aside", key):
                client.copy_object(Bucket=self.bucket, Key=kept, CopySource={"Bucket": self.bucket, "Key": key})
        except ResultNotFound:
            return None
        with self._translated("keep aside", key):
            client.delete_object(Bucket=self.bucket, Key=key)
        self._remove_old_copies(key)
        return kept

    def list_objects(self, prefix: str = "") -> Iterator[StoredObject]:
        """``ListObjectsV2`` pages (1,000 keys each), in key order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        with self._translated("list", prefix + "*", missing_bucket=True):
            for page in pages:
                for item in page.get("Contents", ()):
                    yield StoredObject(item["Key"], item["Size"], item["LastModified"], item["ETag"], self._identity(item))

    def delete_object(self, name: str, version: str | None = None) -> bool:
        """``DeleteObject``, with ``If-Match: <ETag>`` when ``version`` is given (a key rewritten since it was
        listed is left alone)."""
        conditional = {} if version is None else {"IfMatch": version}
        try:
            with self._translated("delete", name):
                self.client.delete_object(Bucket=self.bucket, Key=name, **conditional)
        except ResultNotFound:  # If-Match on a key deleted meanwhile
            return False
        except StorageError as exc:
            if isinstance(exc.__cause__, Exception) and _error_code(exc.__cause__) in _LOST_RACE_CODES:
                return False
            raise
        return True

    def _lease_put(self, name: str, data: bytes, version: str | None) -> str | None:
        """``PutObject`` with ``If-None-Match: *`` (take) or ``If-Match: <ETag>`` (renew, take over)."""
        conditional = {"IfNoneMatch": "*"} if version is None else {"IfMatch": version}
        try:
            with self._translated("write the lease", name):
                response = self.client.put_object(Bucket=self.bucket, Key=name, Body=data, **conditional)
        except ResultNotFound:  # If-Match on a lease object deleted meanwhile
            return None
        except StorageError as exc:
            if isinstance(exc.__cause__, Exception) and _error_code(exc.__cause__) in _LOST_RACE_CODES:
                return None
            raise
        return str(response["ETag"])

    def _lease_get(self, name: str) -> tuple[bytes, str] | None:
        try:
            with self._translated("read the lease", name):
                response = self.client.get_object(Bucket=self.bucket, Key=name)
                return response["Body"].read(), str(response["ETag"])
        except ResultNotFound:
            return None

    # -- helpers ------------------------------------------------------------------------------------------------

    def _identity(self, metadata: Any) -> dict[str, Any]:
        return {"etag": metadata["ETag"]}

    def _look_up(self, key: str) -> dict[str, Any]:
        """HEAD the object; a 404 is ``ResultNotFound`` only once the bucket is known to exist."""
        client = self.client
        try:
            with self._translated("look up", key):
                response: dict[str, Any] = client.head_object(Bucket=self.bucket, Key=key)
                return response
        except ResultNotFound:
            # HEAD says 404 for a missing bucket too; tell the two apart so a typo in the bucket is not "absent"
            with self._translated("look up", key, missing_bucket=True):
                client.head_bucket(Bucket=self.bucket)
            raise

    def _upload_parts(self, key: str, data: Gathered) -> None:
        """A multipart upload, its parts sent by ``PART_WORKERS`` threads, completed with ``If-None-Match: *`` when
        write-once. boto3's managed transfer can do neither that nor stop when the caller is interrupted (it
        completes the upload after a KeyboardInterrupt), so this is done here.

        Parts are invisible until the completion, which S3 applies atomically. An upload that raises anything,
        KeyboardInterrupt included, stops its parts and is aborted, so no incomplete upload is left to pay for.
        Where the client adds checksums to requests (botocore's default), the upload declares CRC32 as boto3's
        managed transfer does: S3 checks each part and keeps a checksum of the whole (and moto assembles such an
        upload about a third faster).
        """
        from concurrent.futures import ThreadPoolExecutor

        client = self.client
        part_size = max(PART_SIZE, math.ceil(data.size / _MAX_PARTS))
        checksum = _part_checksum(client)
        member = f"Checksum{checksum.get('ChecksumAlgorithm', '').upper()}"

        def send(number: int, start: int) -> dict[str, Any]:
            body = data.body(start, min(start + part_size, data.size))
            response = client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body, **checksum
            )
            part = {"ETag": response["ETag"], "PartNumber": number}
            if checksum and member in response:  # S3 asks for each part's checksum back when completing
                part[member] = response[member]
            return part

        upload_id = client.create_multipart_upload(Bucket=self.bucket, Key=key, **checksum)["UploadId"]
        pool = ThreadPoolExecutor(max_workers=PART_WORKERS, thread_name_prefix="s3-part")
        try:
            starts = range(0, data.size, part_size)
            sent = [pool.submit(send, number, start) for number, start in enumerate(starts, start=1)]
            parts = [future.result() for future in sent]
            conditional = {} if self.overwrite else {"IfNoneMatch": "*"}
            client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}, **conditional
            )
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # no part may land after the abort
            try:
                client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except Exception:  # the original failure is the one worth reporting
                pass
            raise
        finally:
            pool.shutdown(wait=False)

    def _translate(self, exc: Exception, action: str, key: str, missing_bucket: bool = False) -> ResultError | None:
        from botocore import exceptions as boto_errors

        where = f"cannot {action} s3://{self.bucket}/{key}"
        if isinstance(exc, boto_errors.ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", "Unknown"))
            said = f"S3 said {code}: {error.get('Message') or 'no message'}"
            if code in _LOST_RACE_CODES and not self.overwrite:
                return LocationTaken(f"s3://{self.bucket}/{key}", key)
            if missing_bucket and code in ("404", "NotFound", "NoSuchBucket"):
                code = "NoSuchBucket"
            category, meaning = _CLIENT_ERRORS.get(code, (StorageError, "the request was refused"))
            return category(f"{where}: {meaning} ({said})")
        if isinstance(exc, (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError)):
            return StorageError(f"{where}: no usable AWS credentials ({exc}); {_CREDENTIALS}")
        if isinstance(exc, (boto_errors.ConnectionError, boto_errors.HTTPClientError)):
            endpoint = self.client.meta.endpoint_url
            return StorageError(
                f"{where}: the connection to the S3 endpoint {endpoint} failed ({exc}); check endpoint_url "
                "(boto3_kwargs, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3) and the network"
            )
        if isinstance(exc, boto_errors.ParamValidationError):
            return LocationError(f"{where}: boto3 refused the bucket or key before sending it ({exc})")
        if isinstance(exc, boto_errors.BotoCoreError):
            return StorageError(f"{where}: {exc}")
        return None

    def __repr__(self) -> str:
        return f"S3Result(bucket={self.bucket!r}, location={self.location!r})"


class _Chunked(io.RawIOBase):
    """A response body read at most ``_READ_BUFFER`` bytes per call, even when the reader asks for far more (pickle
    reads a large ``bytes`` value into one buffer): urllib3 reads into a temporary object and copies it over, and a
    small temporary is reused from the allocator's free memory, where one the size of the value would be fresh
    pages and a second whole copy (measured on 64 MB: 1.2x ``get_object`` down to 1.0x). botocore's length and
    checksum checks still see every byte."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    failure: Exception | None = None
    """What the transport raised while the body was read (cut short, a timeout): then whatever the serializer made
    of the bytes before it is no verdict on the stored value."""

    def readinto(self, buffer: Any) -> int:
        try:
            return self.body.readinto(memoryview(buffer).cast("B")[:_READ_BUFFER])  # type: ignore[no-any-return]
        except Exception as exc:
            self.failure = exc
            raise


def _error_code(exc: Exception) -> str:
    """The S3 error code of a botocore ``ClientError`` (empty for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _part_checksum(client: Any) -> dict[str, str]:
    """``ChecksumAlgorithm`` for a multipart upload: botocore's default one where the client computes checksums
    whenever an operation supports them (its default since 1.36), else none (``when_required``, older botocore)."""
    if getattr(client.meta.config, "request_checksum_calculation", None) != "when_supported":
        return {}
    from botocore.httpchecksum import DEFAULT_CHECKSUM_ALGORITHM

    return {"ChecksumAlgorithm": DEFAULT_CHECKSUM_ALGORITHM}


def _checked_threshold(threshold: Any) -> int:
    """``multipart_threshold`` as given, if S3 can honour it: parts are at least 5 MiB, one PUT at most 5 GiB."""
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise ArgumentTypeError("multipart_threshold", threshold, "a number of bytes (an int), e.g. 64 * 1024 * 1024")
    if not _MIN_THRESHOLD <= threshold <= _MAX_SINGLE_PUT:
        raise ConfigurationError(
            f"multipart_threshold={threshold} cannot be honoured by S3: a multipart upload's parts are at least "
            f"{_MIN_THRESHOLD} bytes (5 MiB) and one PUT holds at most {_MAX_SINGLE_PUT} bytes (5 GiB); give a "
            "threshold between the two"
        )
    return threshold


def _bounded(config: Any) -> Any:
    """``config`` (a ``botocore.config.Config`` or None) over this module's timeouts and attempts: what the caller
    sets wins; retries are left to AWS_MAX_ATTEMPTS/AWS_RETRY_MODE when those are set."""
    from botocore.config import Config

    if config is not None and not isinstance(config, Config):
        raise ArgumentTypeError("S3Result: boto3_kwargs['config']", config, "a botocore.config.Config")
    defaults: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT,
                                "max_pool_connections": MAX_CONNECTIONS}
    if not (os.environ.get("AWS_MAX_ATTEMPTS") or os.environ.get("AWS_RETRY_MODE")):
        defaults["retries"] = {"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"}
    bounded = Config(**defaults)
    return bounded if config is None else bounded.merge(config)
