"""The errors results-compat raises, one tree so callers can catch as broadly or narrowly as they need.

Each class also subclasses the builtin that code written before this package already catches::

    ResultError (Exception)                  anything a Result could not do
    ├── TemplateError (KeyError)             a location template names a key the context lacks
    ├── LocationError (ValueError)           a rendered location is unusable (escapes the result's dir, ...)
    ├── ResultNotFound (FileNotFoundError)   nothing is stored at the location that was read
    ├── ConstantResultError (ValueError)     a ConstantResult was asked to store, or given a serializer
    ├── SerializationError (ValueError)      a value could not be serialized, or stored bytes deserialized
    │   └── UntrustedData                    stored bytes refused unread: unsigned while signing, another key, signed
    │                                        for another location, or changed since (names the key id that signed)
    ├── ValidationError (ValueError)         a validator rejected a value (names the validator and why)
    ├── StorageError (OSError)               the storage backend failed (permissions, network, missing bucket)
    ├── ConfigurationError (ValueError)      a setting cannot be used (an empty signing key, signed data but no
    │   │                                    key set): fix the setting; stored data is never blamed or moved
    │   └── ForbiddenArgument (AssertionError)  an argument never allowed where it is given, which Prefect 0.13
    │                                        refused with an assert (boto3_kwargs={'service_name': ...})
    ├── Unfingerprintable (TypeError)        a value has no deterministic content hash (names its type and how
    │                                        to register one)
    └── MissingDependency (ImportError)      an optional extra is not installed (says what to pip install)

    FlowError (ValueError)                   a flow cannot be built or run as given (a dependency cycle, an
                                             unknown or missing parameter, a task called outside a flow)
    ArgumentTypeError (TypeError)            an argument of the wrong type, refused when the Result, task,
                                             executor or flow run is built (names the argument, what it got, what
                                             to give)
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: ``import compat`` loads this module
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "ArgumentTypeError",
    "ConfigurationError",
    "ConstantResultError",
    "FlowError",
    "ForbiddenArgument",
    "LocationError",
    "MissingDependency",
    "ResultError",
    "ResultNotFound",
    "SerializationError",
    "StorageError",
    "TemplateError",
    "Unfingerprintable",
    "UntrustedData",
    "ValidationError",
]


class ResultError(Exception):
    """Base class of every error results-compat raises about storing, reading or checking a Result."""

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross processes (a DaskExecutor's workers send Failed states back): rebuild from the message and
        # attributes, since a subclass's __init__ takes its parts, not the message that pickle would pass it.
        return (_restore, (type(self), self.args, self.__dict__))


def _restore(cls: type[Exception], args: tuple[object, ...], attributes: dict[str, object]) -> Exception:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(attributes)
    return error


class TemplateError(ResultError, KeyError):
    """Raised when a location template names a key that the context does not provide."""

    def __init__(self, template: str, key: str, available: Iterable[str], problem: str | None = None) -> None:
        self.template = template
        self.key = key
        self.available = sorted(available)
        shown = ", ".join(self.available) if self.available else "(none)"
        if problem is None:
            problem = f"needs the key {key!r}, which the context does not have"
            import difflib  # only for the message: not worth its import at import compat

            close = difflib.get_close_matches(key, self.available, n=1)
            if close:
                problem += f" (did you mean {close[0]!r}?)"
        super().__init__(f"location template {template!r} {problem}; available keys: {shown}")

    def __str__(self) -> str:  # KeyError would repr() the message; show it as written
        return str(self.args[0])


class LocationError(ResultError, ValueError):
    """Raised when a rendered location cannot be used, e.g. a relative path that escapes the result's dir."""


class ResultNotFound(ResultError, FileNotFoundError):
    """Raised by ``read`` when nothing is stored at the location."""


class ConstantResultError(ResultError, ValueError):
    """Raised when a ``ConstantResult``, which holds one fixed value, is asked to write or given a serializer (a
    ``ValueError`` as in Prefect, whose ``ConstantResult`` raised one for both)."""


class SerializationError(ResultError, ValueError):
    """Raised when a value cannot be serialized, or stored bytes cannot be deserialized."""


class UntrustedData(SerializationError):
    """Raised when stored bytes must not be unpickled: unsigned while a signing key is set, signed with a key not in
    use, signed for another location, or changed since they were signed. ``key_id`` names the key that signed them
    (None: unsigned). The engine keeps such bytes aside and runs the task again."""

    def __init__(self, message: str, key_id: str | None = None) -> None:
        super().__init__(message)
        self.key_id = key_id


class ValidationError(ResultError, ValueError):
    """Raised when a validator rejects a value; ``validator`` names it and ``reason`` says why."""

    def __init__(self, validator: str, reason: str) -> None:
        self.validator = validator
        self.reason = reason
        super().__init__(f"validator {validator} rejected the value: {reason}")


class StorageError(ResultError, OSError):
    """Raised when the storage backend fails for a reason other than "not found"."""


class ConfigurationError(ResultError, ValueError):
    """Raised when a setting cannot be used, e.g. an empty signing key in ``$RESULTS_COMPAT_SIGNING_KEY``: the fix is
    the setting, so the engine never treats it as unreadable data (nothing is moved aside), and a flow run checks
    the settings it can before any task runs."""


class ForbiddenArgument(ConfigurationError, AssertionError):
    """Raised when an argument is never allowed where it is given (``S3ResultHandler(boto3_kwargs={'service_name':
    ...})``): also an ``AssertionError``, since Prefect 0.13 refused it with an ``assert`` and code written for 0.13
    catches that."""


class Unfingerprintable(ResultError, TypeError):
    """Raised when a value has no deterministic content hash: never a silent stand-in (an ``id()``, a pickle), since
    two different values must never look equal. ``type_name`` is the value's type, ``path`` where it sits inside
    the value given (``[2]['rows']``), ``reason`` what is wrong when it is not the type (a container holding
    itself)."""

    def __init__(self, type_name: str, path: str = "", reason: str = "") -> None:
        self.type_name = type_name
        self.path = path
        self.reason = reason
        super().__init__(self._message())

    def inside(self, step: str) -> Unfingerprintable:
        """Prefix where the value sits in its container (called on the way out, so the happy path pays nothing)."""
        self.path = step + self.path
        self.args = (self._message(),)
        return self

    def _message(self) -> str:
        where = f" at value{self.path}" if self.path else ""
        if self.reason:
            return f"cannot fingerprint the {self.type_name}{where}: {self.reason}"
        short = self.type_name.rpartition(".")[2]
        return (
            f"cannot fingerprint the {self.type_name}{where}: it has no deterministic content hash; register one "
            f"with compat.register_fingerprint({short}, fn), fn returning what identifies its content (bytes, a "
            "str, a tuple of its fields), or pass a value of a type that has one"
        )


class MissingDependency(ResultError, ImportError):
    """Raised when a backend is used whose optional extra is not installed."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{feature} needs the {package!r} package, which is not installed; "
            f"install it with: pip install 'results-compat[{extra}]'"
        )


class FlowError(ValueError):
    """Raised while building or starting a flow run: a dependency cycle, an unknown or missing parameter, a task
    called outside ``with Flow(...)``, a dask scheduler that does not answer. Failures *during* a run never raise:
    they end as ``Failed`` states."""


class ArgumentTypeError(TypeError):
    """Raised when a Result, task, executor or flow run is given an argument of the wrong type (``validators=5``,
    ``parameters=5``): refused when it is built, not deep inside a run; a ``TypeError`` as Python's own."""

    def __init__(self, argument: str, got: object, expected: str, *, secret: bool = False) -> None:
        self.argument = argument
        shown = "not shown: it may hold a secret" if secret else _short(got)  # a key, a connection string
        super().__init__(f"{argument} must be {expected}, not {type(got).__name__} ({shown})")

    def __reduce__(self) -> tuple[object, ...]:  # rebuilt from its message, as a ResultError is
        return (_restore, (type(self), self.args, self.__dict__))


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
