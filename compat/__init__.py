"""results-compat: PIN 16 Results and Targets, and a bridge from legacy ResultHandlers.

This module only re-exports the public names; the implementation lives in the subpackages. The cloud Results,
DaskExecutor, Plan and register_fingerprint are imported on first use (``compat._lazy``): ``import compat`` does
not pay for what a program may never touch.
"""

from typing import TYPE_CHECKING

from compat import renames  # bound as an attribute even when the codemod loaded the table first (it skips this file)
from compat._lazy import lazy_names
from compat.adapters import ResultHandlerResult, as_result, as_result_handler
from compat.deprecations import (
    LegacyAttributeWarning,
    LegacyHandlerWarning,
    LegacyImportWarning,
    LegacyKeywordWarning,
    LegacyResultWarning,
    LegacySubclassWarning,
)
from compat.engine import (
    Cached,
    Executor,
    Failed,
    LocalExecutor,
    Parameter,
    Pending,
    Running,
    Skipped,
    State,
    Success,
    ThreadExecutor,
    TriggerFailed,
    ValidationFailed,
    unmapped,
)
from compat.errors import (
    ArgumentTypeError,
    ConfigurationError,
    FlowError,
    LocationError,
    MissingDependency,
    ResultError,
    ResultNotFound,
    SerializationError,
    StorageError,
    TemplateError,
    Unfingerprintable,
    UntrustedData,
    ValidationError,
)
from compat.kwargs import Flow, Task, task  # the engine's, with the legacy result_handler= translation applied
from compat.results import (
    ConstantResult,
    JSONResult,
    JSONSerializer,
    Lease,
    LocalResult,
    MemoryResult,
    PickleSerializer,
    Result,
    Serializer,
    TargetRecord,
)

if TYPE_CHECKING:
    from compat.engine import DaskExecutor, Plan
    from compat.engine.fingerprints import register_fingerprint
    from compat.results import AzureResult, GCSResult, S3Result

_LAZY = {
    "AzureResult": "compat.results",
    "DaskExecutor": "compat.engine",
    "GCSResult": "compat.results",
    "Plan": "compat.engine",
    "S3Result": "compat.results",
    "register_fingerprint": "compat.engine.fingerprints",
}

__version__ = "0.1.0"

__all__ = [
    "ArgumentTypeError",
    "AzureResult",
    "Cached",
    "ConfigurationError",
    "ConstantResult",
    "DaskExecutor",
    "Executor",
    "Failed",
    "Flow",
    "FlowError",
    "GCSResult",
    "JSONResult",
    "JSONSerializer",
    "Lease",
    "LegacyAttributeWarning",
    "LegacyHandlerWarning",
    "LegacyImportWarning",
    "LegacyKeywordWarning",
    "LegacyResultWarning",
    "LegacySubclassWarning",
    "LocalExecutor",
    "LocalResult",
    "LocationError",
    "MemoryResult",
    "MissingDependency",
    "Parameter",
    "Pending",
    "PickleSerializer",
    "Plan",
    "Result",
    "ResultError",
    "ResultHandlerResult",
    "ResultNotFound",
    "Running",
    "S3Result",
    "SerializationError",
    "Serializer",
    "Skipped",
    "State",
    "StorageError",
    "Success",
    "TargetRecord",
    "Task",
    "TemplateError",
    "ThreadExecutor",
    "TriggerFailed",
    "Unfingerprintable",
    "UntrustedData",
    "ValidationError",
    "ValidationFailed",
    "as_result",
    "as_result_handler",
    "register_fingerprint",
    "task",
    "unmapped",
]

# Tracebacks and reprs show the public path (compat.LocalResult), not the private module it lives in (the lazy
# names get it when first loaded, in compat._lazy).
for _name in __all__:
    if _name not in _LAZY:
        globals()[_name].__module__ = "compat"
del _name

if not TYPE_CHECKING:  # mypy sees the imports above; a __getattr__ would make every unknown name Any
    __getattr__, __dir__ = lazy_names(__name__, _LAZY)
