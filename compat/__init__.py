"""results-compat: PIN 16 Results and Targets, and a bridge from legacy ResultHandlers.

This module only re-exports the public names; the implementation lives in the subpackages.
"""

from compat.adapters import ResultHandlerResult, as_result, as_result_handler
from compat.deprecations import (
    LegacyAttributeWarning,
    LegacyHandlerWarning,
    LegacyImportWarning,
    LegacyKeywordWarning,
    LegacyResultWarning,
    LegacySubclassWarning,
)
from compat.errors import (
    LocationError,
    MissingDependency,
    ResultError,
    ResultNotFound,
    SerializationError,
    StorageError,
    TemplateError,
    ValidationError,
)
from compat.results import (
    ConstantResult,
    JSONResult,
    JSONSerializer,
    LocalResult,
    MemoryResult,
    PickleSerializer,
    Result,
    S3Result,
    Serializer,
)

__version__ = "0.1.0"

__all__ = [
    "ConstantResult",
    "JSONResult",
    "JSONSerializer",
    "LegacyAttributeWarning",
    "LegacyHandlerWarning",
    "LegacyImportWarning",
    "LegacyKeywordWarning",
    "LegacyResultWarning",
    "LegacySubclassWarning",
    "LocalResult",
    "LocationError",
    "MemoryResult",
    "MissingDependency",
    "PickleSerializer",
    "Result",
    "ResultError",
    "ResultHandlerResult",
    "ResultNotFound",
    "S3Result",
    "SerializationError",
    "Serializer",
    "StorageError",
    "TemplateError",
    "ValidationError",
    "as_result",
    "as_result_handler",
]

# Tracebacks and reprs show the public path (compat.LocalResult), not the private module it lives in.
for _name in __all__:
    globals()[_name].__module__ = "compat"
del _name
