"""The one table of renames: every legacy name and what replaces it.

Everything that speaks of a legacy name reads it from here: the adapters' conversion table, the deprecation
messages, the typed overloads, the codemod's rules and the tables in MIGRATION.md (a test compares them). A rename
is changed in this file only.

The table holds data, not behaviour: it imports nothing from the rest of ``compat``, so any layer may read it. It
is read at start-up (``results-codemod --help`` lists its profiles, the Prefect bridge wraps ``Task`` at ``import
prefect``), so it imports nothing the interpreter has not loaded already: its records are made by ``_record``, not
``dataclasses`` (which imports ``inspect``, and ``typing`` besides, about half of the codemod's start-up).
"""

from __future__ import annotations

from types import MappingProxyType

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers read any name so spelled)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal, TypeVar

    from typing_extensions import dataclass_transform

    R = TypeVar("R", bound=type)
    V = TypeVar("V")
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda decorator: decorator

__all__ = [
    "COMPAT",
    "DEPRECATED_IN",
    "AUTO_PROFILES",
    "FlowShape",
    "PREFECT",
    "PREFECT3",
    "PROFILES",
    "REMOVED_IN",
    "RESULT_ACCESSORS",
    "Profile",
    "Rename",
    "rename_for",
]

DEPRECATED_IN = "0.1.0"
"""The version in which every legacy name below started warning."""

REMOVED_IN = "1.0.0"
"""The version in which the legacy names and their shims are deleted (declared once; a test enforces it)."""

RESULT_ACCESSORS: Mapping[str, str] = MappingProxyType({"write": "location", "read": "value"})
"""A handler's ``write(value)`` returned the location and ``read(uri)`` the value; a Result's return a Result that
holds them in these attributes: the codemod turns ``h.write(v)`` into ``h.write(v).location`` (and code
fingerprints see the two as the same code)."""

if TYPE_CHECKING:
    Kind = Literal["class", "keyword", "attribute", "module"]
    ValueKind = Literal["result", "as-is", "template"]


def _frozen(mapping: Mapping[str, V] | None = None) -> Mapping[str, V]:
    return MappingProxyType(dict(mapping or {}))


_NONE: Mapping[str, Any] = _frozen()
"""The default of a mapping field: read-only, so every record may share it."""


@dataclass_transform(frozen_default=True)
def _record(cls: R) -> R:
    """``cls`` as a frozen record, what ``@dataclass(frozen=True)`` makes of it: its annotated names are its fields,
    given by keyword or in order, with the class body's values as defaults; equal, hashed and shown by its fields;
    never changed once made."""
    names = tuple(cls.__annotations__)
    defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
    owner = cls.__name__

    def __init__(self: object, *args: object, **kwargs: object) -> None:
        if len(args) > len(names):
            raise TypeError(f"{owner}() takes {len(names)} positional arguments but {len(args)} were given")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}")
            if name in values:
                raise TypeError(f"{owner}() got multiple values for argument {name!r}")
            values[name] = value
        missing = [name for name in names if name not in values and name not in defaults]
        if missing:
            raise TypeError(f"{owner}() missing required arguments: {', '.join(map(repr, missing))}")
        fields = self.__dict__
        for name in names:
            fields[name] = values[name] if name in values else defaults[name]

    def _values(self: object) -> tuple[object, ...]:
        return tuple(self.__dict__[name] for name in names)

    def __eq__(self: object, other: object) -> bool:
        return _values(self) == _values(other) if other.__class__ is self.__class__ else NotImplemented

    def __hash__(self: object) -> int:
        return hash(_values(self))

    def __repr__(self: object) -> str:
        return f"{owner}({', '.join(f'{name}={value!r}' for name, value in zip(names, _values(self)))})"

    def __setattr__(self: object, name: str, value: object) -> None:
        raise AttributeError(f"a {owner} is frozen: {name!r} cannot be assigned")

    def __delattr__(self: object, name: str) -> None:
        raise AttributeError(f"a {owner} is frozen: {name!r} cannot be deleted")

    for method in (__init__, __eq__, __hash__, __repr__, __setattr__, __delattr__):
        method.__qualname__ = f"{owner}.{method.__name__}"
        setattr(cls, method.__name__, method)
    return cls


@_record
class Rename:
    """One legacy name and its replacement.

    ``kind``: ``class`` (a handler class), ``keyword`` (a call keyword), ``attribute`` (an object attribute) or
    ``module`` (an import path). ``old``/``new``: the bare names (``LocalResultHandler`` -> ``LocalResult``; for
    a module, the dotted path). For classes, ``positional`` lists the legacy constructor's positional parameters in
    order and ``arguments`` maps each legacy keyword to the new one (None: no equivalent, kept and flagged).
    ``applies_to``: for keywords and attributes, the bare names of the callables/classes that take them.
    ``anchor``: the MIGRATION.md section that explains it. ``note``: what a human should know beyond the rename.
    ``wrap_value``: for keywords, the name of the function that adapts a value the codemod cannot resolve
    (``as_result``), so users' own handler subclasses keep working.
    """

    kind: Kind
    old: str
    new: str
    anchor: str
    positional: tuple[str, ...] = ()
    arguments: Mapping[str, str | None] = _NONE
    applies_to: tuple[str, ...] = ()
    wrap_value: str | None = None
    note: str = ""
    deprecated_in: str = DEPRECATED_IN
    removed_in: str = REMOVED_IN
    value: ValueKind = "result"
    """For keywords, what the value becomes: a Result (``result``, the handler it is given rewritten), the same
    expression (``as-is``), or a target template with its fields translated (``template``)."""
    adds: str = ""
    """For keywords, a keyword the rewrite adds beside the new one unless the call gives it already
    (``persist_result=True``: Prefect 3 stores a result only when asked)."""
    extra: str = ""
    """For a class whose replacement is in another distribution, the package that provides it (``prefect-aws``)."""
    module: str | None = None
    """For a class whose replacement is not in the profile's ``new_module`` (Prefect's base ``Result`` lives in
    ``prefect.engine.result``), the module it is in."""
    keyword: str = ""
    """For a class whose replacement is no storage but goes to another keyword of the task (a serializer): the
    keyword a ``result=`` given one becomes (``result_serializer``)."""

    def new_keyword(self, old_keyword: str) -> str | None:
        """The new name of a legacy constructor keyword; None when it has no equivalent."""
        return self.arguments.get(old_keyword)


@_record
class FlowShape:
    """How the legacy engine's flows and Task classes are spelled in the target engine (the codemod's flows and
    task classes rules); every name and keyword the rewrite knows is here.

    ``with Flow("name", ...) as flow:`` whose body holds only ``Parameter``s and task calls becomes a function
    decorated with ``decorator``; ``flow.run(parameters={...})`` becomes a call of it. A keyword or method with no
    entry, or one mapped to None, leaves the flow as it is, listed with ``reasons[name]`` (or a general reason).
    """

    flow_class: str
    parameter_class: str
    task_class: str
    decorator: str
    module: str
    """The module the legacy classes and the new decorator are imported from (both ``prefect``)."""
    flow_keywords: Mapping[str, str | None]
    """``Flow(...)``'s keywords -> ``@flow(...)``'s (the first positional argument is ``name``); a renamed one
    (``result=``) is rewritten by the keyword renames, whose ``applies_to`` names ``flow_class``."""
    parameter_keywords: tuple[str, ...]
    """What a ``Parameter`` may be given besides its name: it becomes an argument of the flow function."""
    call_keywords: Mapping[str, str | None]
    """Keywords of a task call inside the flow block that the engine itself takes (``upstream_tasks``)."""
    run_method: str
    run_keywords: Mapping[str, str | None]
    """``flow.run(...)``'s keywords: ``parameters`` becomes the call's arguments; the others leave it listed."""
    kept_calls: tuple[str, ...]
    """Functions of ``module`` a flow body may call that mean the same in the target engine (``unmapped``)."""
    task_options: Mapping[str, str | None]
    """Keywords of a Task subclass's instantiation -> the ``with_options`` keyword of the ``@task`` function it
    becomes (names already renamed by the keyword renames count as they are)."""
    reasons: Mapping[str, str]
    """Why a flow keyword, a ``flow.<method>`` or a construct stays as it is, and what to do instead."""


@_record
class Profile:
    """A family of legacy names: where they are imported from and where their replacements live.

    ``legacy_modules``: every import path that exposes the legacy classes. ``new_module``: where the
    replacements are imported from. ``engine_modules``: the import paths that expose ``Task``, ``Flow`` and
    ``task`` (whose ``result_handler=`` keyword and attribute are renamed). ``adapter_module``: where
    ``wrap_value`` functions are imported from, or None when the target API takes handlers' replacements only.
    """

    name: str
    legacy_modules: tuple[str, ...]
    new_module: str
    engine_modules: tuple[str, ...]
    adapter_module: str | None
    renames: tuple[Rename, ...]
    keyword_kept_by: tuple[str, ...] = ()
    """Qualified names of callables outside the engine that take the legacy keyword themselves and keep it in the
    target version (Prefect's own ``Result``/``SafeResult``): no rewrite is advised there; ``keyword_kept_note``
    says what is true instead."""
    keyword_kept_note: str = ""
    dropped_keywords: Mapping[str, str | None] = _NONE
    """Legacy keywords of the engine's callables that have no equivalent -> what to do instead (a follow-up)."""
    template_fields: Mapping[str, str | None] = _NONE
    """For ``template`` keywords: each context field of a legacy template -> the field that stands for it now
    (None: none does, a follow-up); any other field is the task's input of that name."""
    storage_keyword: str = ""
    """A keyword whose storage, built in the call, must be saved before it is passed (Prefect 3's
    ``result_storage``): the codemod saves it above the statement."""
    input_field: str = "{}"
    """For ``template`` keywords: how a task input named ``x`` is spelled in the new template."""
    flows: FlowShape | None = None
    """For a profile that moves code to another engine: how its flows and Task classes are rewritten."""
    moved_arguments: Mapping[str, str] = _NONE
    """A Result's constructor argument that moves to the task the Result is given to, as the legacy keyword
    named here (``location=`` -> the task's ``target=``, which the keyword renames turn into
    ``result_storage_key=``, its template translated)."""
    dropped_classes: Mapping[str, str] = _NONE
    """Legacy Results with no equivalent in the target -> what to do instead (a ``result=`` given one is listed)."""

    def new_path(self, rename: Rename) -> str:
        """The importable path of a class rename's replacement (``compat.results.LocalResult``)."""
        return f"{rename.module or self.new_module}.{rename.new}"

    def of_kind(self, kind: Kind) -> tuple[Rename, ...]:
        return tuple(rename for rename in self.renames if rename.kind == kind)

    def find(self, kind: Kind, old: str) -> Rename | None:
        """The rename of ``kind`` whose legacy name is ``old``, or None."""
        for rename in self.renames:
            if rename.kind == kind and rename.old == old:
                return rename
        return None


_ENGINE_CALLABLES = ("Task", "Flow", "task")

COMPAT = Profile(
    name="compat",
    legacy_modules=("compat.result_handlers", "compat.legacy"),
    new_module="compat.results",
    engine_modules=("compat", "compat.engine"),
    adapter_module="compat",
    renames=(
        Rename(
            kind="module",
            old="compat.result_handlers",
            new="compat.results",
            anchor="imports",
            note="the legacy handlers are re-exported there only until their removal",
        ),
        Rename(
            kind="class",
            old="ResultHandler",
            new="Result",
            anchor="custom-handlers",
            note="a subclass must be ported by hand: implement write_bytes/read_bytes/exists_at on a Result "
            "subclass; until then wrap instances with as_result(handler)",
        ),
        Rename(
            kind="class",
            old="LocalResultHandler",
            new="LocalResult",
            anchor="localresulthandler",
            positional=("dir", "validate"),
            arguments=_frozen({"dir": "dir", "validate": "validate_dir"}),
            note="validate= becomes validate_dir=: create and check the directory up front (LocalResultHandler did "
            "by default, LocalResult only when asked; either creates it when it writes)",
        ),
        Rename(
            kind="class",
            old="JSONResultHandler",
            new="JSONResult",
            anchor="jsonresulthandler",
        ),
        Rename(
            kind="class",
            old="ConstantResultHandler",
            new="ConstantResult",
            anchor="constantresulthandler",
            positional=("value",),
            arguments=_frozen({"value": "value"}),
        ),
        Rename(
            kind="class",
            old="S3ResultHandler",
            new="S3Result",
            anchor="s3resulthandler",
            positional=("bucket", "boto3_kwargs"),
            arguments=_frozen({"bucket": "bucket", "boto3_kwargs": "boto3_kwargs"}),
        ),
        Rename(
            kind="class",
            old="GCSResultHandler",
            new="GCSResult",
            anchor="gcsresulthandler",
            positional=("bucket", "credentials_secret"),
            arguments=_frozen({"bucket": "bucket", "credentials_secret": None}),
            note="credentials_secret= has no equivalent: GCSResult uses Google's standard credentials "
            "(GOOGLE_APPLICATION_CREDENTIALS) or client_kwargs={'credentials': ...}",
        ),
        Rename(
            kind="class",
            old="AzureResultHandler",
            new="AzureResult",
            anchor="azureresulthandler",
            positional=("container", "connection_string", "azure_credentials_secret"),
            arguments=_frozen(
                {"container": "container", "connection_string": "connection_string", "azure_credentials_secret": None}
            ),
            note="azure_credentials_secret= has no equivalent: pass connection_string= or set "
            "AZURE_STORAGE_CONNECTION_STRING",
        ),
        Rename(
            kind="keyword",
            old="result_handler",
            new="result",
            anchor="result-handler-keyword",
            applies_to=_ENGINE_CALLABLES,
            wrap_value="as_result",
            note="a handler that is not a built-in one is wrapped with as_result(...)",
        ),
        Rename(
            kind="attribute",
            old="result_handler",
            new="result",
            anchor="result-handler-attribute",
            applies_to=("Task", "Flow"),
        ),
    ),
)

_PREFECT_HANDLERS = "prefect.engine.result_handlers"

PREFECT = Profile(
    name="prefect",
    legacy_modules=(
        _PREFECT_HANDLERS,
        f"{_PREFECT_HANDLERS}.result_handler",
        f"{_PREFECT_HANDLERS}.local_result_handler",
        f"{_PREFECT_HANDLERS}.s3_result_handler",
        f"{_PREFECT_HANDLERS}.gcs_result_handler",
        f"{_PREFECT_HANDLERS}.azure_result_handler",
        f"{_PREFECT_HANDLERS}.json_result_handler",
        f"{_PREFECT_HANDLERS}.secret_result_handler",
        f"{_PREFECT_HANDLERS}.constant_result_handler",
    ),
    new_module="prefect.engine.results",
    engine_modules=("prefect", "prefect.core", "prefect.core.task", "prefect.core.flow", "prefect.utilities.tasks"),
    adapter_module=None,
    renames=(
        Rename(
            kind="module",
            old=_PREFECT_HANDLERS,
            new="prefect.engine.results",
            anchor="prefect",
            note="Prefect 0.11 replaced result handlers with Results",
        ),
        Rename(
            kind="class",
            old="SafeResult",
            new="Result",
            anchor="prefect",
            module="prefect.engine.result",
            positional=("value", "result_handler"),
            arguments=_frozen({"value": "location"}),  # result_handler: the Result that stored the value reads it
            note="Prefect 0.14 removed SafeResult (prefect.engine.result) with the handlers: where "
            "SafeResult(location, handler).to_result().value read a stored value, the Result that stored it reads it, "
            "result.read(location).value",
        ),
        Rename(
            kind="class",
            old="ResultHandler",
            new="Result",
            anchor="prefect",
            module="prefect.engine.result",
            note="a subclass must be ported by hand to a prefect.engine.result.Result subclass (Prefect 0.11-0.13 "
            "still ran one through prefect.engine.results.ResultHandlerResult; 0.14 removed it)",
        ),
        Rename(
            kind="class",
            old="LocalResultHandler",
            new="LocalResult",
            anchor="prefect",
            positional=("dir", "validate"),
            arguments=_frozen({"dir": "dir", "validate": "validate_dir"}),
        ),
        Rename(
            kind="class",
            old="S3ResultHandler",
            new="S3Result",
            anchor="prefect",
            positional=("bucket", "aws_credentials_secret", "boto3_kwargs"),
            arguments=_frozen({"bucket": "bucket", "aws_credentials_secret": None, "boto3_kwargs": "boto3_kwargs"}),
            note="aws_credentials_secret= has no equivalent: S3Result reads the AWS_CREDENTIALS secret from context, so "
            "store the keys under that name (until the rewrite, the bridge reads the secret named here)",
        ),
        Rename(
            kind="class",
            old="GCSResultHandler",
            new="GCSResult",
            anchor="prefect",
            positional=("bucket", "credentials_secret"),
            arguments=_frozen({"bucket": "bucket", "credentials_secret": None}),
            note="credentials_secret= has no equivalent: GCSResult reads the GCP_CREDENTIALS secret from context, so "
            "store the key under that name (until the rewrite, the bridge reads the secret named here)",
        ),
        Rename(
            kind="class",
            old="AzureResultHandler",
            new="AzureResult",
            anchor="prefect",
            positional=("container", "connection_string", "azure_credentials_secret"),
            arguments=_frozen(
                {"container": "container", "connection_string": "connection_string", "azure_credentials_secret": None}
            ),
            note="azure_credentials_secret= has no equivalent: pass connection_string=, set "
            "AZURE_STORAGE_CONNECTION_STRING or name a Secret holding a connection string with "
            "connection_string_secret= (until the rewrite, the bridge reads the account in the secret named here)",
        ),
        Rename(
            kind="class",
            old="JSONResultHandler",
            new="PrefectResult",
            anchor="prefect",
            note="PrefectResult stores JSON-serializable values in Prefect's database, as JSONResultHandler did",
        ),
        Rename(
            kind="class",
            old="SecretResultHandler",
            new="SecretResult",
            anchor="prefect",
            positional=("secret_task",),
            arguments=_frozen({"secret_task": "secret_task"}),
        ),
        Rename(
            kind="class",
            old="ConstantResultHandler",
            new="ConstantResult",
            anchor="prefect",
            positional=("value",),
            arguments=_frozen({"value": "value"}),
        ),
        Rename(
            kind="keyword",
            old="result_handler",
            new="result",
            anchor="prefect",
            applies_to=_ENGINE_CALLABLES,
            note="a handler of your own keeps running here, wrapped in ResultHandlerResult, which Prefect itself "
            "removed in 0.14: port it to a prefect.engine.result.Result subclass by hand",
        ),
        Rename(
            kind="attribute",
            old="result_handler",
            new="result",
            anchor="prefect",
            applies_to=("Task", "Flow"),
        ),
    ),
    keyword_kept_by=tuple(
        f"prefect.engine.result{base}.{name}" for base in ("", ".base") for name in ("Result", "SafeResult")
    ),
    keyword_kept_note="Prefect's own Result and SafeResult still take result_handler= in 0.11-0.13 (0.14 removed "
    "it, with ResultHandlerResult): keep it for 0.11-0.13; for 0.14 and later store the value with a Result of "
    "prefect.engine.results instead",
)
"""Prefect 0.10's result handlers -> Prefect 0.11's Results, so the codemod also migrates real Prefect projects."""

_P3_NO_LOCATION = ("location= (a templated location) has no equivalent on a storage block: given as a task's "
                   "result=, it becomes the task's result_storage_key= (unless the task has a target=); elsewhere "
                   "give the task result_storage_key= instead")

PREFECT3 = Profile(
    name="prefect3",
    legacy_modules=(*PREFECT.legacy_modules, "prefect.engine.results", "prefect.engine.results.local_result",
                    "prefect.engine.results.s3_result", "prefect.engine.results.gcs_result",
                    "prefect.engine.results.azure_result"),
    new_module="prefect.filesystems",
    engine_modules=PREFECT.engine_modules,
    adapter_module=None,
    renames=(
        Rename(
            kind="class",
            old="LocalResultHandler",
            new="LocalFileSystem",
            anchor="moving-to-prefect-3",
            positional=("dir", "validate"),
            arguments=_frozen({"dir": "basepath", "validate": None}),
            note="a block: the task's result_storage_key= (from target=) names the file under basepath",
        ),
        Rename(
            kind="class",
            old="LocalResult",
            new="LocalFileSystem",
            anchor="moving-to-prefect-3",
            positional=("dir", "validate_dir", "location"),
            arguments=_frozen({"dir": "basepath", "validate_dir": None, "location": None}),
            note=_P3_NO_LOCATION,
        ),
        Rename(
            kind="class",
            old="S3ResultHandler",
            new="S3Bucket",
            anchor="moving-to-prefect-3",
            module="prefect_aws",
            extra="prefect-aws",
            positional=("bucket", "aws_credentials_secret", "boto3_kwargs"),
            arguments=_frozen({"bucket": "bucket_name", "aws_credentials_secret": None, "boto3_kwargs": None}),
            note="credentials go in an AwsCredentials block (credentials=)",
        ),
        Rename(
            kind="class",
            old="S3Result",
            new="S3Bucket",
            anchor="moving-to-prefect-3",
            module="prefect_aws",
            extra="prefect-aws",
            positional=("bucket", "location", "boto3_kwargs"),
            arguments=_frozen({"bucket": "bucket_name", "location": None, "boto3_kwargs": None}),
            note="credentials go in an AwsCredentials block (credentials=)",
        ),
        Rename(
            kind="class",
            old="GCSResultHandler",
            new="GcsBucket",
            anchor="moving-to-prefect-3",
            module="prefect_gcp",
            extra="prefect-gcp",
            positional=("bucket", "credentials_secret"),
            arguments=_frozen({"bucket": "bucket", "credentials_secret": None}),
            note="credentials go in a GcpCredentials block (gcp_credentials=)",
        ),
        Rename(
            kind="class",
            old="GCSResult",
            new="GcsBucket",
            anchor="moving-to-prefect-3",
            module="prefect_gcp",
            extra="prefect-gcp",
            positional=("bucket", "location"),
            arguments=_frozen({"bucket": "bucket", "location": None}),
            note="credentials go in a GcpCredentials block (gcp_credentials=)",
        ),
        Rename(
            kind="class",
            old="AzureResultHandler",
            new="AzureBlobStorageContainer",
            anchor="moving-to-prefect-3",
            module="prefect_azure",
            extra="prefect-azure",
            positional=("container", "connection_string", "azure_credentials_secret"),
            arguments=_frozen(
                {"container": "container_name", "connection_string": None, "azure_credentials_secret": None}
            ),
            note="the connection string goes in an AzureBlobStorageCredentials block "
            "(credentials=)",
        ),
        Rename(
            kind="class",
            old="AzureResult",
            new="AzureBlobStorageContainer",
            anchor="moving-to-prefect-3",
            module="prefect_azure",
            extra="prefect-azure",
            positional=("container", "connection_string", "connection_string_secret", "location"),
            arguments=_frozen({"container": "container_name", "connection_string": None,
                               "connection_string_secret": None, "location": None}),
            note="the connection string goes in an AzureBlobStorageCredentials block "
            "(credentials=)",
        ),
        Rename(
            kind="class",
            old="JSONResultHandler",
            new="JSONSerializer",
            anchor="moving-to-prefect-3",
            module="prefect.serializers",
            keyword="result_serializer",
            note="given as result=, it becomes result_serializer=: the value is stored as JSON in the task's result "
            "storage (the flow's, or Prefect's default)",
        ),
        Rename(
            kind="class",
            old="PrefectResult",
            new="JSONSerializer",
            anchor="moving-to-prefect-3",
            module="prefect.serializers",
            keyword="result_serializer",
            note="given as result=, it becomes result_serializer=: the value is stored as JSON in the task's result "
            "storage (Prefect 3 keeps no values in its database)",
        ),
        Rename(
            kind="keyword",
            old="result_handler",
            new="result_storage",
            anchor="moving-to-prefect-3",
            applies_to=("Task", "task", "Flow"),
            adds="persist_result=True",
            note="a handler or Result of your own has no Prefect 3 equivalent: store the value in a block of "
            "prefect.filesystems, or write it in the task",
        ),
        Rename(
            kind="keyword",
            old="result",
            new="result_storage",
            anchor="moving-to-prefect-3",
            applies_to=("Task", "task", "Flow"),
            adds="persist_result=True",
            note="a Result of your own has no Prefect 3 equivalent: store the value in a block of "
            "prefect.filesystems, or write it in the task",
        ),
        Rename(
            kind="keyword",
            old="target",
            new="result_storage_key",
            anchor="moving-to-prefect-3",
            applies_to=("Task", "task"),
            value="template",
            adds="persist_result=True",
            note="the task loads the result stored at the key instead of running; template fields are translated",
        ),
        Rename(
            kind="keyword",
            old="checkpoint",
            new="persist_result",
            anchor="moving-to-prefect-3",
            applies_to=("Task", "task"),
            value="as-is",
        ),
        Rename(
            kind="keyword",
            old="cache_for",
            new="cache_expiration",
            anchor="moving-to-prefect-3",
            applies_to=("Task", "task"),
            value="as-is",
        ),
    ),
    dropped_keywords=_frozen({
        "cache_validator": "Prefect 3 has no cache validators: a cache_key_fn= (or cache_policy=) decides when a "
        "cached result is reused; remove cache_validator= and key the cache on what it checked",
        "validators": "Prefect 3 has no cache validators: a cache_key_fn= (or cache_policy=) decides when a "
        "cached result is reused; remove validators= and key the cache on what they checked",
    }),
    template_fields=_frozen({
        "task_name": "task_run.task_name",
        "task_full_name": "task_run.name",
        "task_run_id": "task_run.id",
        "task_run_name": "task_run.name",
        "flow_name": "flow_run.flow_name",
        "flow_run_id": "flow_run.id",
        "flow_run_name": "flow_run.name",
        "scheduled_start_time": "flow_run.scheduled_start_time",
        "map_index": None,
        "date": None,
        "today": None,
        "yesterday": None,
        "tomorrow": None,
        "today_nodash": None,
        "yesterday_nodash": None,
        "tomorrow_nodash": None,
        "task_slug": None,
        "task_id": None,
        "flow_id": None,
        "parameters": None,
        "config": None,
    }),
    input_field="parameters[{}]",
    storage_keyword="result_storage",
    moved_arguments=_frozen({"location": "target"}),
    dropped_classes=_frozen({
        "SecretResultHandler": "Prefect 3 keeps secrets in blocks, not results: save the value once as a "
        "prefect.blocks.system.Secret and read it in the task with Secret.load(name).get(); drop result=",
        "SecretResult": "Prefect 3 keeps secrets in blocks, not results: save the value once as a "
        "prefect.blocks.system.Secret and read it in the task with Secret.load(name).get(); drop result=",
        "ConstantResultHandler": "a constant needs no result storage in Prefect 3: drop result= and return the "
        "value (persist_result=False keeps it unstored)",
        "ConstantResult": "a constant needs no result storage in Prefect 3: drop result= and return the value "
        "(persist_result=False keeps it unstored)",
    }),
    flows=FlowShape(
        flow_class="Flow",
        parameter_class="Parameter",
        task_class="Task",
        decorator="flow",
        module="prefect",
        flow_keywords=_frozen({"name": "name", "result": "result_storage", "result_handler": "result_storage",
                               "schedule": None, "executor": None,
                               "environment": None, "run_config": None, "storage": None, "state_handlers": None,
                               "on_failure": None, "terminal_state_handler": None, "tasks": None, "edges": None,
                               "reference_tasks": None, "validate": None}),
        parameter_keywords=("default", "required"),
        call_keywords=_frozen({"upstream_tasks": "wait_for", "mapped": None, "task_args": None, "flow": None}),
        run_method="run",
        run_keywords=_frozen({"parameters": "parameters"}),
        kept_calls=("unmapped",),
        task_options=_frozen({"name": "name", "tags": "tags", "max_retries": "retries",
                              "timeout": "timeout_seconds", "log_stdout": "log_prints",
                              "result_storage": "result_storage", "result_storage_key": "result_storage_key",
                              "persist_result": "persist_result", "cache_expiration": "cache_expiration"}),
        reasons=_frozen({
            "schedule": "a Prefect 3 schedule belongs to a deployment: serve the flow with flow.serve(cron=...) or "
            "deploy it with flow.deploy(...)",
            "executor": "Prefect 3 runs a flow's tasks with a task runner: @flow(task_runner=ThreadPoolTaskRunner()) "
            "(prefect.task_runners), or prefect-dask's DaskTaskRunner for a Dask cluster",
            "environment": "Prefect 3 runs flows on a deployment's work pool: flow.deploy(work_pool_name=...)",
            "run_config": "Prefect 3 runs flows on a deployment's work pool: flow.deploy(work_pool_name=...)",
            "storage": "Prefect 3 loads a deployed flow's code with flow.from_source(...): there is no flow storage",
            "state_handlers": "Prefect 3 calls state hooks instead: @flow(on_completion=[...], on_failure=[...]) "
            "with functions of (flow, flow_run, state)",
            "on_failure": "Prefect 3's @flow(on_failure=[...]) takes functions of (flow, flow_run, state)",
            "terminal_state_handler": "Prefect 3 calls state hooks instead: @flow(on_completion=[...], "
            "on_failure=[...])",
            "tasks": "a Prefect 3 flow is the function's body: call each task in it",
            "edges": "a Prefect 3 flow is the function's body: call each task in it, in order or with wait_for=",
            "reference_tasks": "a Prefect 3 flow's state is that of its return value: return the reference "
                               "task's result",
            "validate": "a Prefect 3 flow is validated when it is called",
            "mapped": "call task.map(...) instead",
            "task_args": "give the options with task.with_options(...) before calling it",
            "flow": "a Prefect 3 task runs in the flow that calls it",
            "register": "a Prefect 3 flow is deployed instead: flow.serve(...) or flow.deploy(...)",
            "visualize": "Prefect 3 shows a flow run's graph in its UI",
            "run": "Prefect 3 calls the flow function; give parameters= as its arguments and the other run "
                   "options to @flow(...) or the deployment",
        }),
    ),
)
"""Prefect 0.10-1.x results and targets -> Prefect 3's result storage, storage keys and persistence. It moves code
to another engine, so it runs only when asked (``--profile prefect3``), never under ``--profile auto``."""

PROFILES: Mapping[str, Profile] = MappingProxyType({COMPAT.name: COMPAT, PREFECT.name: PREFECT,
                                                   PREFECT3.name: PREFECT3})
"""Every profile by name; the codemod's ``--profile`` chooses one."""

AUTO_PROFILES: Mapping[str, Profile] = MappingProxyType({COMPAT.name: COMPAT, PREFECT.name: PREFECT})
"""The profiles ``--profile auto`` chooses among, and whose rewrites code fingerprints see through: those that move
code within its engine."""


def rename_for(kind: str, old: str, profile: Profile = COMPAT) -> Rename:
    """The table's entry for a legacy name; a KeyError here means the table lost an entry the shims rely on."""
    rename = profile.find(kind, old)  # type: ignore[arg-type]
    if rename is None:
        raise KeyError(f"compat.renames.{profile.name.upper()} has no {kind} rename for {old!r}")
    return rename
