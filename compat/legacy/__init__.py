"""The legacy storage interface: ``ResultHandler`` and the built-in handlers, working as they did.

Deprecated as a whole: each built-in warns when instantiated and each user subclass at its ``class`` statement,
naming the replacement in ``compat.results``. ``compat.adapters.as_result`` turns any handler into a Result.
"""

from compat.legacy.azure import AzureResultHandler
from compat.legacy.base import ResultHandler
from compat.legacy.constant import ConstantResultHandler
from compat.legacy.gcs import GCSResultHandler
from compat.legacy.json import JSONResultHandler
from compat.legacy.local import LocalResultHandler
from compat.legacy.s3 import S3ResultHandler

__all__ = [
    "AzureResultHandler",
    "ConstantResultHandler",
    "GCSResultHandler",
    "JSONResultHandler",
    "LocalResultHandler",
    "ResultHandler",
    "S3ResultHandler",
]
