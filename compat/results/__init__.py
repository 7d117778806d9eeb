"""The PIN 16 Result interface: one module per storage backend. This package never imports the legacy one.

The cloud backends (S3, GCS, Azure) are imported on first use (``compat._lazy``).
"""

from typing import TYPE_CHECKING

from compat._lazy import lazy_names, show_as_public
from compat.results.base import Result
from compat.results.constant import ConstantResult
from compat.results.json import JSONResult
from compat.results.leases import Lease
from compat.results.local import LocalResult
from compat.results.memory import MemoryResult
from compat.results.records import TargetRecord
from compat.results.serializers import JSONSerializer, PickleSerializer, Serializer

if TYPE_CHECKING:
    from compat.results.azure import AzureResult
    from compat.results.gcs import GCSResult
    from compat.results.s3 import S3Result

if not TYPE_CHECKING:  # mypy sees the imports above; a __getattr__ would make every unknown name Any
    __getattr__, __dir__ = lazy_names(
        __name__,
        {"AzureResult": "compat.results.azure", "GCSResult": "compat.results.gcs", "S3Result": "compat.results.s3"},
    )

__all__ = [
    "AzureResult",
    "ConstantResult",
    "GCSResult",
    "JSONResult",
    "JSONSerializer",
    "Lease",
    "LocalResult",
    "MemoryResult",
    "PickleSerializer",
    "Result",
    "S3Result",
    "Serializer",
    "TargetRecord",
]

show_as_public(globals())
