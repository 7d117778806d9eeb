"""The legacy import path of the handlers: ``from compat.result_handlers import LocalResultHandler`` keeps working.

.. deprecated:: 0.1.0
    Import the replacements from ``compat.results`` (``LocalResult``, ``JSONResult``, ``ConstantResult``...);
    ``results-codemod <path>`` rewrites these imports. Importing this module warns once per process.
"""

from compat.deprecations import LegacyImportWarning, message, rename_for, warn
from compat.legacy import (
    AzureResultHandler,
    ConstantResultHandler,
    GCSResultHandler,
    JSONResultHandler,
    LocalResultHandler,
    ResultHandler,
    S3ResultHandler,
)

__all__ = [
    "AzureResultHandler",
    "ConstantResultHandler",
    "GCSResultHandler",
    "JSONResultHandler",
    "LocalResultHandler",
    "ResultHandler",
    "S3ResultHandler",
]

warn(LegacyImportWarning, message(rename_for("module", __name__)), at_import=True)
