"""The error tree: errors keep their message and attributes across processes (pickled, as dask sends them)."""

from __future__ import annotations

import pickle

import pytest

from compat.errors import (
    ArgumentTypeError,
    ConfigurationError,
    ForbiddenArgument,
    UntrustedData,
    LocationError,
    MissingDependency,
    ResultError,
    ResultNotFound,
    SerializationError,
    StorageError,
    TemplateError,
    Unfingerprintable,
    ValidationError,
)


@pytest.mark.parametrize(
    "error",
    [
        TemplateError("{dayy}.pkl", "dayy", ["day"]),
        ValidationError("positive", "returned False"),
        MissingDependency("distributed", "dask", "DaskExecutor"),
        LocationError("escapes its dir"),
        ResultNotFound("nothing at x.pkl"),
        SerializationError("cannot unpickle"),
        StorageError("permission denied"),
        ConfigurationError("the signing key is empty"),
        ForbiddenArgument("boto3_kwargs cannot set service_name"),
        UntrustedData("signed for another location", key_id="0123456789abcdef"),
        ArgumentTypeError("validators", 5, "a list of callables"),
        Unfingerprintable("socket.socket").inside("['conn']"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_survives_pickling_with_its_message_and_attributes(error: Exception) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
