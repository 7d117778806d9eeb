"""results-compat: PIN 16 Results and Targets, and a bridge from legacy ResultHandlers.

This module only re-exports the public names; the implementation lives in the subpackages. Every name but the
errors is imported on first use (``compat._lazy``): ``import compat`` costs a few milliseconds, a program that uses
the engine and the Results pays for those when it first names them, and only a legacy use (a handler,
``result_handler=``, a warning category) imports the legacy layer, the rename table and the warnings machinery.
"""

import os
import sys

from compat._lazy import lazy_names
from compat.errors import (
    ArgumentTypeError,
    ConfigurationError,
    FlowError,
    ForbiddenArgument,
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

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing, which costs more than the rest of this module
if TYPE_CHECKING:
    from compat import renames
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
        DaskExecutor,
        Executor,
        Failed,
        LocalExecutor,
        Parameter,
        Pending,
        Plan,
        Running,
        Skipped,
        State,
        Success,
        ThreadExecutor,
        TriggerFailed,
        ValidationFailed,
        unmapped,
    )
    from compat.engine.fingerprints import register_fingerprint
    from compat.kwargs import Flow, Task, task
    from compat.results import (
        AzureResult,
        ConstantResult,
        GCSResult,
        JSONResult,
        JSONSerializer,
        Lease,
        LocalResult,
        MemoryResult,
        PickleSerializer,
        Result,
        S3Result,
        Serializer,
        TargetRecord,
    )

_ENGINE = ("Cached", "DaskExecutor", "Executor", "Failed", "LocalExecutor", "Parameter", "Pending", "Plan", "Running",
           "Skipped", "State", "Success", "ThreadExecutor", "TriggerFailed", "ValidationFailed", "unmapped")
_RESULTS = ("AzureResult", "ConstantResult", "GCSResult", "JSONResult", "JSONSerializer", "Lease", "LocalResult",
            "MemoryResult", "PickleSerializer", "Result", "S3Result", "Serializer", "TargetRecord")
_WARNINGS = ("LegacyAttributeWarning", "LegacyHandlerWarning", "LegacyImportWarning", "LegacyKeywordWarning",
             "LegacyResultWarning", "LegacySubclassWarning")
_LAZY = {
    **dict.fromkeys(_ENGINE, "compat.engine"),
    **dict.fromkeys(_RESULTS, "compat.results"),
    **dict.fromkeys(_WARNINGS, "compat.deprecations"),
    **dict.fromkeys(("Flow", "Task", "task"), "compat.kwargs"),  # the engine's, with result_handler= translated
    **dict.fromkeys(("ResultHandlerResult", "as_result", "as_result_handler"), "compat.adapters"),
    "register_fingerprint": "compat.engine.fingerprints",
}
"""Every public name but the errors, by the module it is imported from on first use."""

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
    "ForbiddenArgument",
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

# RESULTS_COMPAT_LEGACY and -W options naming our categories take effect at ``import compat``, before filters the
# program sets after it (compat.deprecations applies them when it is imported)
if os.environ.get("RESULTS_COMPAT_LEGACY", "").strip() or any("compat." in option for option in sys.warnoptions):
    import compat.deprecations
