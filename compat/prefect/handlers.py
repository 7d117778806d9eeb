"""Prefect 0.13's result handlers, restored for Prefect 1.x: ``ResultHandler`` and the seven built-ins.

Each behaves as in Prefect 0.13: ``write(value) -> uri`` stores wherever the handler chooses and ``read(uri)``
returns the value, in the same storage formats (raw cloudpickle files for ``LocalResultHandler``; base64 text of
the cloudpickle bytes in S3, GCS and Azure; the JSON text itself for ``JSONResultHandler``), so data stored by 0.13
stays readable here and by Prefect's own Results. Where 0.13 was wrong this is not: a failed read raises instead of
logging and returning None, local writes are atomic, and with ``$RESULTS_COMPAT_SIGNING_KEY`` set every pickle is
signed for where it is stored and verified before it is unpickled (as ``compat.PickleSerializer`` does).

Prefect is imported lazily (``prefect.config``, ``prefect.utilities.*``) and cloud client libraries only when a
handler first talks to its service, so constructing or unpickling a handler needs neither. Every built-in warns
when it is instantiated and every user subclass at its ``class`` statement, with the ``prefect`` profile's
message from the rename table.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, ClassVar

import cloudpickle

from compat.deprecations import LegacyHandlerWarning, LegacySubclassWarning, message, rename_for, warn
from compat.errors import ForbiddenArgument
from compat.legacy.base import _built_by_class_statement, _is_compat_class
from compat.prefect.credentials import aws_client_kwargs, azure_service, gcs_client
from compat.renames import PREFECT, Rename
from compat.results._atomic import atomic_write_bytes
from compat.results.serializers import PickleSerializer

__all__ = [
    "AzureResultHandler",
    "ConstantResultHandler",
    "GCSResultHandler",
    "JSONResultHandler",
    "LocalResultHandler",
    "ResultHandler",
    "S3ResultHandler",
    "SecretResultHandler",
]


class _LegacyHandlerType(type):
    """Warns when a built-in handler is instantiated (unpickling does not call the class, and stays silent)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        rename = cls.__dict__.get("_legacy_rename")
        if rename is not None:
            warn(LegacyHandlerWarning, message(rename, profile=PREFECT))
        return super().__call__(*args, **kwargs)


class ResultHandler(metaclass=_LegacyHandlerType):
    """Prefect 0.13's base class: ``write(result) -> uri`` and ``read(uri) -> value``; equal when of one type with
    equal public attributes (its ``logger`` aside).

    .. deprecated:: 0.1.0
        Subclass ``prefect.engine.result.Result`` (``read``/``write``/``exists``) instead; until then
        ``result_handler=`` wraps a subclass in ``prefect.engine.results.ResultHandlerResult``.
    """

    _legacy_rename: ClassVar[Rename | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if _is_compat_class(cls):
            cls._legacy_rename = PREFECT.find("class", cls.__name__)
            return
        cls._legacy_rename = None  # a user's subclass of a built-in is the user's class
        if _built_by_class_statement():
            rename = rename_for("class", "ResultHandler", PREFECT)
            warn(LegacySubclassWarning, message(rename, subject=cls.__qualname__, profile=PREFECT))

    _not_pickled: ClassVar[tuple[str, ...]] = ("_converted",)
    """Attributes ``__getstate__`` leaves out: weak references, and a subclass's cloud client."""

    def __init__(self) -> None:
        self.logger = logging.getLogger(f"prefect.{type(self).__name__}")

    def __setattr__(self, name: str, value: Any) -> None:
        """Set the attribute and, on every Result this handler became under ``result_handler=``, the setting the
        rename table maps it to: ``handler.dir = new`` after ``Task(result_handler=handler)`` moves the task's
        checkpoints, as it did in 0.13, where the task held the handler itself."""
        object.__setattr__(self, name, value)
        rename = type(self).__dict__.get("_legacy_rename")
        new = rename.arguments.get(name) if rename is not None else None
        if new is None:
            return
        for ref in self.__dict__.get("_converted", ()):
            result = ref()
            if result is not None:
                setattr(result, new, value)

    def _converted_into(self, result: object) -> None:
        """Called by the bridge's conversion: ``result`` was built from this handler's settings and follows them."""
        self.__dict__.setdefault("_converted", []).append(weakref.ref(result))

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in self._not_pickled}

    def write(self, result: Any) -> str | None:
        """Store ``result``; return the URI that ``read`` accepts. The base class is a pass-through that stores
        nothing and returns None, as Prefect's was (its ``abstractmethod`` markers had no ABCMeta to enforce them)."""
        return None

    def read(self, uri: str) -> Any:
        """The value stored at ``uri``; None from the pass-through base class."""
        return None

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return False
        return _public(self) == _public(other)

    __hash__ = None  # type: ignore[assignment]  # equal by mutable attributes, as in 0.13

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in _public(self).items())
        return f"{type(self).__name__}({shown})"


def _public(handler: object) -> dict[str, Any]:
    return {k: v for k, v in vars(handler).items() if not k.startswith("_") and k != "logger"}


def _new_key() -> str:
    """Where 0.13's cloud handlers stored a value: ``Y/M/D/<uuid>.prefect_result`` (month and day unpadded)."""
    now = datetime.now(timezone.utc)
    return f"{now.year}/{now.month}/{now.day}/{uuid.uuid4()}.prefect_result"


def _pickled(value: Any, where: str) -> bytes:
    """``value`` pickled as 0.13 did, signed for ``where`` (relative to the handler's directory or bucket) when
    ``$RESULTS_COMPAT_SIGNING_KEY`` is set."""
    return PickleSerializer().at(where).serialize(value)


def _unpickled(data: bytes, where: str) -> Any:
    """The value in ``data``, unpickled only once its signature (for ``where``) is checked when a signing key is set:
    unsigned bytes raise what they always raised (pickle's errors); signing adds ``UntrustedData``."""
    return cloudpickle.loads(PickleSerializer().at(where).verified(data))


def _encode(value: Any, where: str) -> bytes:
    return base64.b64encode(_pickled(value, where))


def _decode(data: bytes | str, where: str) -> Any:
    return _unpickled(base64.b64decode(data), where)


def _inside(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # Windows: paths on different drives
        return False


class LocalResultHandler(ResultHandler):
    """Each value as a new cloudpickle file in ``dir``; returns its path.

    As in 0.13, no ``dir``, or one inside Prefect's home directory (``prefect.config.home_dir`` itself, say), means
    ``<prefect home>/results``, where Prefect 1.x's ``LocalResult`` puts it too. ``validate=True`` makes ``dir``
    absolute and creates it.
    """

    def __init__(self, dir: str | None = None, validate: bool = True) -> None:
        import prefect

        home = os.path.abspath(os.path.expanduser(prefect.config.home_dir))
        if dir is None or _inside(os.path.abspath(os.path.expanduser(dir)), home):
            dir = os.path.join(prefect.config.home_dir, "results")
        if validate:
            dir = os.path.abspath(os.path.expanduser(dir))
            os.makedirs(dir, exist_ok=True)
        self.dir = dir
        super().__init__()

    def write(self, result: Any) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dt%H-%M-%S-%f")
        name = f"prefect-result-{stamp}-{uuid.uuid4().hex[:8]}"
        path = os.path.join(self.dir, name)
        atomic_write_bytes(path, _pickled(result, name))
        return path

    def read(self, uri: str) -> Any:
        with open(uri, "rb") as f:
            data = f.read()
        return _unpickled(data, os.path.relpath(os.path.abspath(uri), os.path.abspath(self.dir)))


class S3ResultHandler(ResultHandler):
    """Each value as a new object in ``bucket``: the base64 text of its cloudpickle bytes; returns the key.

    The client is made on first use, as 0.13 made it: a new boto3 session, with the AWS keys in the Prefect Secret
    named ``aws_credentials_secret`` if one is named (read then, through ``prefect.context.secrets`` or Prefect's
    backend; they win over keys in ``boto3_kwargs``), else with ``boto3_kwargs``' keys or boto3's own lookup;
    ``boto3_kwargs`` go to ``client("s3", ...)``.
    """

    _not_pickled = ("_converted", "_client")

    def __init__(
        self, bucket: str, aws_credentials_secret: str | None = None, boto3_kwargs: dict[str, Any] | None = None
    ) -> None:
        self.bucket = bucket
        self.aws_credentials_secret = aws_credentials_secret
        self.boto3_kwargs = dict(boto3_kwargs or {})
        if "service_name" in self.boto3_kwargs:
            raise ForbiddenArgument(
                'Changing the boto3 "service_name" is not permitted! S3ResultHandler\'s client is always S3\'s: remove '
                "service_name from boto3_kwargs"
            )
        super().__init__()

    def initialize_client(self) -> None:
        """Make the client now (reading the credentials Secret), as 0.13's ``initialize_client`` did."""
        import boto3

        kwargs = aws_client_kwargs(self.aws_credentials_secret, self.boto3_kwargs)
        self.client = boto3.session.Session().client("s3", **kwargs)

    @property
    def client(self) -> Any:
        if getattr(self, "_client", None) is None:
            self.initialize_client()
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    def write(self, result: Any) -> str:
        key = _new_key()
        self.client.upload_fileobj(io.BytesIO(_encode(result, key)), Bucket=self.bucket, Key=key)
        return key

    def read(self, uri: str) -> Any:
        stream = io.BytesIO()
        self.client.download_fileobj(Bucket=self.bucket, Key=uri, Fileobj=stream)
        return _decode(stream.getvalue(), uri)

    def __repr__(self) -> str:  # boto3_kwargs may hold credentials
        return f"S3ResultHandler(bucket={self.bucket!r})"


class GCSResultHandler(ResultHandler):
    """Each value as a new blob in the Google Cloud Storage ``bucket`` (base64 text of its cloudpickle bytes).

    The client is Prefect's (``prefect.utilities.gcp.get_storage_client``), made on first use as 0.13 made it: with
    the service account key in the Prefect Secret ``credentials_secret`` if one is named (read then), else Prefect's
    own choice; ``google-cloud-storage`` is needed once it is used.
    """

    _not_pickled = ("_converted", "_gcs_bucket")

    def __init__(self, bucket: str | None = None, credentials_secret: str | None = None) -> None:
        self.bucket = bucket
        self.credentials_secret = credentials_secret
        super().__init__()

    def initialize_client(self) -> None:
        """Make the client now (reading the credentials Secret), as 0.13's ``initialize_client`` did."""
        self.gcs_bucket = gcs_client(self.credentials_secret).bucket(self.bucket)

    @property
    def gcs_bucket(self) -> Any:
        if getattr(self, "_gcs_bucket", None) is None:
            self.initialize_client()
        return self._gcs_bucket

    @gcs_bucket.setter
    def gcs_bucket(self, value: Any) -> None:
        self._gcs_bucket = value

    def write(self, result: Any) -> str:
        key = _new_key()
        self.gcs_bucket.blob(key).upload_from_string(_encode(result, key).decode())
        return key

    def read(self, uri: str) -> Any:
        return _decode(self.gcs_bucket.blob(uri).download_as_bytes(), uri)


class AzureResultHandler(ResultHandler):
    """Each value as a new blob in the Azure ``container`` (base64 text of its cloudpickle bytes).

    Authenticates with ``connection_string`` (default: ``AZURE_STORAGE_CONNECTION_STRING``), else with the Prefect
    Secret ``azure_credentials_secret`` (JSON with ``ACCOUNT_NAME`` and ``ACCOUNT_KEY`` or ``SAS_TOKEN``, or a
    connection string), read when the client is made; ``azure-storage-blob`` is needed once it is used: 12.x (the
    API Prefect 1.x uses), or the 2.x SDK Prefect 0.13's handler called (``BlockBlobService``), whichever is
    installed, speaking to the service in its own API.
    """

    _not_pickled = ("_converted", "_service")

    def __init__(
        self,
        container: str,
        connection_string: str | None = None,
        azure_credentials_secret: str = "AZ_CREDENTIALS",
    ) -> None:
        self.container = container
        self.connection_string = connection_string or os.getenv("AZURE_STORAGE_CONNECTION_STRING")
        self.azure_credentials_secret = azure_credentials_secret
        super().__init__()

    def initialize_service(self) -> None:
        """Make the client now (reading the credentials Secret unless a connection string is set), as 0.13's
        ``initialize_service`` did."""
        self.service = azure_service(self.connection_string, self.azure_credentials_secret)

    @property
    def service(self) -> Any:
        if getattr(self, "_service", None) is None:
            self.initialize_service()
        return self._service

    @service.setter
    def service(self, value: Any) -> None:
        self._service = value

    def write(self, result: Any) -> str:
        key = _new_key()
        text = _encode(result, key).decode()
        if _is_block_blob_service(self.service):
            self.service.create_blob_from_text(container_name=self.container, blob_name=key, text=text)
        else:
            self.service.get_blob_client(container=self.container, blob=key).upload_blob(text)
        return key

    def read(self, uri: str) -> Any:
        if _is_block_blob_service(self.service):
            return _decode(self.service.get_blob_to_text(container_name=self.container, blob_name=uri).content, uri)
        blob = self.service.get_blob_client(container=self.container, blob=uri)
        return _decode(blob.download_blob().readall(), uri)

    def __repr__(self) -> str:  # the connection string holds the account key
        return f"AzureResultHandler(container={self.container!r})"


def _is_block_blob_service(service: Any) -> bool:
    """Whether ``service`` speaks azure-storage-blob 2.x's API (``BlockBlobService``: ``create_blob_from_text``,
    ``get_blob_to_text``) rather than 12.x's (``BlobServiceClient.get_blob_client``)."""
    return callable(getattr(service, "create_blob_from_text", None))


class JSONResultHandler(ResultHandler):
    """The value's JSON text is the URI; nothing is stored anywhere."""

    def write(self, result: Any) -> str:
        return json.dumps(result)

    def read(self, uri: str) -> Any:
        return json.loads(uri)


class SecretResultHandler(ResultHandler):
    """For Secret tasks: ``write`` returns the secret's name, ``read`` fetches the secret again."""

    def __init__(self, secret_task: Any) -> None:
        self.secret_task = secret_task
        super().__init__()

    def write(self, result: Any) -> str:
        return str(self.secret_task.name)

    def read(self, uri: str) -> Any:
        return self.secret_task.run()


class ConstantResultHandler(ResultHandler):
    """``read`` returns ``value`` whatever the URI; ``write`` stores nothing and returns ``repr(value)``."""

    def __init__(self, value: Any) -> None:
        self.value = value
        super().__init__()

    def write(self, result: Any) -> str:
        return repr(self.value)

    def read(self, uri: str | None = None) -> Any:
        return self.value
