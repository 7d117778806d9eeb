"""Handlers as Prefect Results, and back: what ``result_handler=`` and ``.result_handler`` go through.

``to_result(obj)``: a Prefect ``Result`` as is; a built-in handler becomes its native Prefect Result with the same
settings (the class named by the ``prefect`` profile of the rename table, the constructor arguments mapped by its
``arguments``), so runtime and codemod cannot disagree; any other handler a ``ResultHandlerResult`` around it.
A handler that names a credentials Secret becomes the Prefect Result that reads that Secret (``S3ResultWithSecret``,
``AzureResultWithSecret``, ``GCSResultWithSecret``), since Prefect 1.x's own read only a fixed one; an
``AzureResultHandler`` where the 2.x Azure SDK is installed, which Prefect 1.x's ``AzureResult`` cannot use, runs
itself in a ``ResultHandlerResult``. ``to_handler(result)`` is the reverse view for legacy code that reads
``task.result_handler``.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

import cloudpickle
import prefect.engine.results
import prefect.engine.serializers
from prefect.engine.result import Result

from compat.adapters import HANDLER_EXPECTED, handler_has_stored
from compat.deprecations import HandlerKind, LegacyHandlerWarning, warn
from compat.errors import ArgumentTypeError
from compat.prefect.credentials import aws_credentials, azure_service, block_blob_sdk_installed, gcs_client
from compat.prefect.handlers import ResultHandler, _LegacyHandlerType
from compat.renames import PREFECT, Rename
from compat.results._cloud import unwrap_legacy_payload
from compat.results.serializers import PickleSerializer

__all__ = [
    "AzureResultWithSecret",
    "GCSResultWithSecret",
    "ResultAsHandler",
    "ResultHandlerResult",
    "S3ResultWithSecret",
    "SafeResult",
    "SigningPickleSerializer",
    "handler_kind",
    "to_handler",
    "to_result",
]

logger = logging.getLogger(__name__)


class ResultHandlerResult(Result):
    """Runs a legacy handler as a Prefect Result: ``write`` calls ``result_handler.write``, ``read`` its ``read``.

    ``exists(location)`` uses the handler's own ``exists(uri)`` if it has one, else reads and treats only "not
    found" errors as absence (any other error propagates), so a task whose ``target=`` names where the handler
    writes is ``Cached`` on the next run. Prefect 0.11-0.13 raised ``NotImplementedError`` there instead.
    """

    def __init__(self, result_handler: Any, **kwargs: Any) -> None:
        if not (callable(getattr(result_handler, "write", None)) and callable(getattr(result_handler, "read", None))):
            raise ArgumentTypeError("ResultHandlerResult: result_handler", result_handler, HANDLER_EXPECTED)
        self.result_handler = result_handler
        super().__init__(**kwargs)

    @classmethod
    def from_result_handler(cls, result_handler: Any) -> Result:
        """A built-in handler's native Prefect Result, or this adapter around any other handler."""
        rename = type(result_handler).__dict__.get("_legacy_rename")
        if isinstance(result_handler, ResultHandler) and rename is not None:
            return _native_result(result_handler, rename)
        return cls(result_handler)

    def read(self, location: str) -> Result:
        new = self.copy()
        new.location = location
        new.value = self.result_handler.read(location)
        return new

    def write(self, value_: Any, **kwargs: Any) -> Result:
        intended = self.format(**kwargs).location if self.location or self._formatter else None
        new = self.copy()
        new.value = value_
        new.location = self.result_handler.write(value_)
        if intended is not None and new.location != intended:
            logger.warning(
                "%s wrote to %r, not to the target %r, so the target is never found: a legacy handler chooses its "
                "own URI. Port it to a prefect.engine.result.Result subclass (write(value_, **kwargs) stores at "
                "the formatted location), or make its write() return the target's URI.",
                type(self.result_handler).__name__,
                new.location,
                intended,
            )
        return new

    def exists(self, location: str, **kwargs: Any) -> bool:
        return handler_has_stored(self.result_handler, location.format(**kwargs))

    def __repr__(self) -> str:
        return f"<ResultHandlerResult: {self.result_handler!r}>"


class S3ResultWithSecret(prefect.engine.results.S3Result):
    """Prefect's ``S3Result`` whose client authenticates with the AWS keys in the Prefect Secret
    ``aws_credentials_secret``, read when the client is made: what ``S3ResultHandler(aws_credentials_secret=...)``
    becomes (Prefect's own reads only the Secret ``AWS_CREDENTIALS``)."""

    def __init__(self, bucket: str, aws_credentials_secret: str, **kwargs: Any) -> None:
        self.aws_credentials_secret = aws_credentials_secret
        super().__init__(bucket=bucket, **kwargs)

    @property
    def client(self) -> Any:
        if getattr(self, "_client", None) is None:
            from prefect.utilities.aws import get_boto_client

            credentials = aws_credentials(self.aws_credentials_secret)
            self._client = get_boto_client("s3", credentials=credentials, **self.boto3_kwargs)
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value


class AzureResultWithSecret(prefect.engine.results.AzureResult):
    """Prefect's ``AzureResult`` that, without a connection string, authenticates with the Azure account in the
    Prefect Secret ``azure_credentials_secret`` (``ACCOUNT_NAME`` and ``ACCOUNT_KEY`` or ``SAS_TOKEN``, or a
    connection string), read when the client is made: what ``AzureResultHandler`` becomes without one."""

    def __init__(self, container: str, azure_credentials_secret: str, **kwargs: Any) -> None:
        self.azure_credentials_secret = azure_credentials_secret
        super().__init__(container=container, **kwargs)

    def initialize_service(self) -> None:
        self._service = azure_service(self.connection_string, self.azure_credentials_secret)


class GCSResultWithSecret(prefect.engine.results.GCSResult):
    """Prefect's ``GCSResult`` whose client authenticates with the service account key in the Prefect Secret
    ``credentials_secret``, read when the client is made: what ``GCSResultHandler(credentials_secret=...)`` becomes
    (Prefect's own reads only the Secret ``GCP_CREDENTIALS``)."""

    def __init__(self, bucket: str, credentials_secret: str, **kwargs: Any) -> None:
        self.credentials_secret = credentials_secret
        super().__init__(bucket=bucket, **kwargs)

    @property
    def gcs_bucket(self) -> Any:
        if getattr(self, "_gcs_bucket", None) is None:
            self._gcs_bucket = gcs_client(self.credentials_secret).bucket(self.bucket)
        return self._gcs_bucket

    @gcs_bucket.setter
    def gcs_bucket(self, value: Any) -> None:
        self._gcs_bucket = value


def _bridged(handler: ResultHandler) -> Result | None:
    """The Result that reads the credentials Secret ``handler`` names, or None where Prefect's own does as well."""
    name = type(handler).__name__
    if name == "S3ResultHandler" and handler.aws_credentials_secret:  # type: ignore[attr-defined]
        return S3ResultWithSecret(
            bucket=handler.bucket,  # type: ignore[attr-defined]
            aws_credentials_secret=handler.aws_credentials_secret,  # type: ignore[attr-defined]
            boto3_kwargs=handler.boto3_kwargs,  # type: ignore[attr-defined]
            serializer=SigningPickleSerializer(),
        )
    if name == "GCSResultHandler" and handler.credentials_secret:  # type: ignore[attr-defined]
        return GCSResultWithSecret(
            bucket=handler.bucket,  # type: ignore[attr-defined]
            credentials_secret=handler.credentials_secret,  # type: ignore[attr-defined]
            serializer=SigningPickleSerializer(),
        )
    if name == "AzureResultHandler" and not handler.connection_string:  # type: ignore[attr-defined]
        return AzureResultWithSecret(
            container=handler.container,  # type: ignore[attr-defined]
            azure_credentials_secret=handler.azure_credentials_secret,  # type: ignore[attr-defined]
            serializer=SigningPickleSerializer(),
        )
    return None


class SafeResult(Result, metaclass=_LegacyHandlerType):
    """Prefect 0.13's ``prefect.engine.result.SafeResult``: where a value was stored (``value``, the URI its
    ``result_handler`` wrote) and the handler that reads it. ``to_result()`` reads the value back; ``location`` is
    the URI too, as Prefect 1.x's Results name where they stored a value.

    .. deprecated:: Prefect 0.14
        Read with the Result that stored the value: ``result.read(location).value``.
    """

    _legacy_rename = PREFECT.find("class", "SafeResult")

    def __init__(self, value: Any, result_handler: Any) -> None:
        super().__init__(value=value, location=value if isinstance(value, str) else None)
        self.result_handler = result_handler

    @property
    def safe_value(self) -> SafeResult:
        return self

    def to_result(self, result_handler: Any = None) -> Result:
        """A Result holding the value read back (by ``result_handler`` if given, which then replaces this one's,
        as in 0.13), with this SafeResult as its ``safe_value``."""
        if result_handler is not None:
            self.result_handler = result_handler
        read = Result(value=self.result_handler.read(self.value), location=self.location)
        read.safe_value = self  # type: ignore[attr-defined]
        return read

    def __repr__(self) -> str:
        return f"<SafeResult: {self.value!r} read by {self.result_handler!r}>"


class ResultAsHandler(ResultHandler):
    """A Prefect Result seen as a legacy handler (what ``task.result_handler`` returns for a native Result)."""

    def __init__(self, result: Result) -> None:
        self.result = result
        super().__init__()

    def write(self, result: Any) -> str:
        return self.result.write(result).location  # type: ignore[no-any-return]

    def read(self, uri: str) -> Any:
        return self.result.read(uri).value

    def exists(self, uri: str) -> bool:
        return bool(self.result.exists(uri))

    def __getattr__(self, name: str) -> Any:
        if name == "result":  # not set yet (mid-unpickling): do not recurse
            raise AttributeError(name)
        return getattr(self.result, _result_attribute(self.result, name))

    def __setattr__(self, name: str, value: Any) -> None:
        """Legacy code that configures its handler (``flow.result_handler.dir = new``) configures the Result in
        use, under the name the rename table gives the setting (``validate`` -> ``validate_dir``)."""
        if name in ("result", "logger") or name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self.result, _result_attribute(self.result, name), value)

    def __repr__(self) -> str:
        return f"ResultAsHandler({self.result!r})"


def _result_attribute(result: Result, legacy: str) -> str:
    """The attribute of ``result`` (one of Prefect's Results, or a subclass) that the legacy handler setting
    ``legacy`` maps to in the rename table; the same name where the table says nothing."""
    natives = [rename for rename in PREFECT.of_kind("class") if rename.module is None]
    for cls in type(result).__mro__:
        for rename in natives:
            if rename.new == cls.__name__:
                return rename.arguments.get(legacy) or legacy
    return legacy


def to_result(obj: Any) -> Result:
    """What ``result=`` gets for ``result_handler=obj``."""
    if isinstance(obj, Result):
        return obj
    if isinstance(obj, ResultAsHandler):
        return obj.result
    return ResultHandlerResult.from_result_handler(obj)


def handler_kind(obj: Any) -> HandlerKind:
    """What ``to_result`` makes of ``obj``, for the ``result_handler=`` warning: a built-in handler's rename (it
    becomes that Prefect Result), ``"own handler"`` (run by ``ResultHandlerResult``) or ``"result"`` (kept)."""
    if isinstance(obj, (Result, ResultAsHandler)):
        return "result"
    rename = type(obj).__dict__.get("_legacy_rename") if isinstance(obj, ResultHandler) else None
    return "own handler" if rename is None else rename


def to_handler(result: Any) -> Any:
    """What ``.result_handler`` shows for ``.result``: the handler a Result was made from, else a handler view."""
    if isinstance(result, ResultHandlerResult):
        return result.result_handler
    if isinstance(result, Result):
        return ResultAsHandler(result)
    return result


@functools.cache
def _defaults(handler_class: type) -> dict[str, Any]:
    """The constructor's defaults by parameter name (once per class: a flow may build thousands of handlers)."""
    parameters = inspect.signature(handler_class.__init__).parameters.values()  # type: ignore[misc]
    return {p.name: p.default for p in parameters if p.default is not p.empty}


class SigningPickleSerializer(prefect.engine.serializers.PickleSerializer):  # type: ignore[misc]
    """Prefect's ``PickleSerializer`` that signs and verifies with ``$RESULTS_COMPAT_SIGNING_KEY`` (or its key file)
    when one is set, as ``compat.PickleSerializer`` does: the serializer of the Prefect Result a built-in handler
    runs as, so a pickle planted at a legacy flow's target is refused unread. Prefect's Results give a serializer
    the bytes alone, so the signature is checked against the keys, not the location (``compat.LocalResult``
    checks both). Without a key it is Prefect's own (0.13's base64 pickles included)."""

    def serialize(self, value: Any) -> bytes:
        return PickleSerializer().serialize(value)

    def deserialize(self, value: bytes) -> Any:
        ours = PickleSerializer()
        if ours.keyring is None:
            return super().deserialize(value)  # signed bytes without a key: cloudpickle refuses their 0x00 byte
        return cloudpickle.loads(ours.verified(unwrap_legacy_payload(value)))


_PICKLING = frozenset({"LocalResult", "S3Result", "GCSResult", "AzureResult"})
"""Prefect Results that pickle with their serializer: a built-in handler mapped to one signs and verifies."""


def _native_result(handler: ResultHandler, rename: Rename) -> Result:
    """The Prefect Result the rename table names for a built-in handler, with the handler's settings."""
    if rename.old == "AzureResultHandler" and block_blob_sdk_installed():
        return ResultHandlerResult(handler)  # Prefect 1.x's AzureResult needs the 12.x SDK; the handler speaks both
    kept = _bridged(handler)
    if kept is not None:
        handler._converted_into(kept)
        return kept
    result_class = getattr(prefect.engine.results, rename.new, None)
    if not (isinstance(result_class, type) and issubclass(result_class, Result)):
        raise LookupError(f"the rename table maps {rename.old} to {rename.new}, which {PREFECT.new_module} lacks")
    kwargs = {
        new: getattr(handler, old) for old, new in rename.arguments.items() if new is not None and hasattr(handler, old)
    }
    defaults = _defaults(type(handler))
    lost = [
        old
        for old, new in rename.arguments.items()
        if new is None and old in defaults and getattr(handler, old, None) != defaults[old]
    ]
    if lost:
        warn(
            LegacyHandlerWarning,
            f"{rename.old}({', '.join(f'{old}=...' for old in lost)}) runs as "
            f"{PREFECT.new_module}.{rename.new}, which has no such setting: {rename.note}",
        )
    if rename.new in _PICKLING:
        kwargs["serializer"] = SigningPickleSerializer()
    result: Result = result_class(**kwargs)
    handler._converted_into(result)  # the handler's later settings (handler.dir = ...) reach this Result
    return result
