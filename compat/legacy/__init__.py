"""The legacy storage interface: ``ResultHandler`` and the built-in handlers, working as they did.

Deprecated as a whole: each built-in warns when instantiated and each user subclass at its ``class`` statement,
naming the replacement in ``compat.results``. ``compat.adapters.as_result`` turns any handler into a Result.

The cloud handlers (S3, GCS, Azure) are imported on first use (``compat._lazy``), as their Results are.
"""

from typing import TYPE_CHECKING

from compat._lazy import lazy_names
from compat.legacy.base import ResultHandler
from compat.legacy.constant import ConstantResultHandler
from compat.legacy.json import JSONResultHandler
from compat.legacy.local import LocalResultHandler

if TYPE_CHECKING:
    from compat.legacy.azure import AzureResultHandler
    from compat.legacy.gcs import GCSResultHandler
    from compat.legacy.s3 import S3ResultHandler

if not TYPE_CHECKING:  # mypy sees the imports above; a __getattr__ would make every unknown name Any
    __getattr__, __dir__ = lazy_names(
        __name__,
        {
            "AzureResultHandler": "compat.legacy.azure",
            "GCSResultHandler": "compat.legacy.gcs",
            "S3ResultHandler": "compat.legacy.s3",
        },
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
