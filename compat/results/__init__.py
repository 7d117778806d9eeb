"""The PIN 16 Result interface: one module per storage backend. This package never imports the legacy one."""

from compat.results.azure import AzureResult
from compat.results.base import Result
from compat.results.constant import ConstantResult
from compat.results.gcs import GCSResult
from compat.results.json import JSONResult
from compat.results.local import LocalResult
from compat.results.memory import MemoryResult
from compat.results.s3 import S3Result
from compat.results.serializers import JSONSerializer, PickleSerializer, Serializer

__all__ = [
    "AzureResult",
    "ConstantResult",
    "GCSResult",
    "JSONResult",
    "JSONSerializer",
    "LocalResult",
    "MemoryResult",
    "PickleSerializer",
    "Result",
    "S3Result",
    "Serializer",
]
