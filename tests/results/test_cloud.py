"""What the object-store Results share (compat/results/_cloud.py), where their servers cannot show it: a write-once
location that stays claimed but never holds a value ends in a clear error instead of looping, telling a legacy
handler's base64 object from a raw pickle never alters the raw one, and arguments of the wrong type are refused
alike by S3Result, GCSResult and AzureResult when they are made."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest

from compat import ArgumentTypeError, AzureResult, GCSResult, LocationError, ResultNotFound, S3Result, StorageError
from compat.results._cloud import WRITE_ONCE_ATTEMPTS, LocationTaken, first_write_wins, unwrap_legacy_payload


def test_a_location_claimed_but_never_filled_ends_in_a_storage_error_naming_it() -> None:
    attempts: list[str] = []

    def write() -> str:
        attempts.append("write")
        raise LocationTaken("az://c/target.pkl", "target.pkl")

    def read(location: str) -> str:
        raise ResultNotFound(f"nothing at {location}")

    with pytest.raises(StorageError, match=r"could not write once to az://c: .* held no value after 5 attempts"):
        first_write_wins(write, read, "az://c")
    assert len(attempts) == WRITE_ONCE_ATTEMPTS


def test_the_stored_value_is_returned_once_the_winner_has_written_it() -> None:
    reads: list[str] = []

    def read(location: str) -> str:
        reads.append(location)
        if len(reads) < 2:
            raise ResultNotFound("the winner's upload is still being committed")
        return "winner"

    def write() -> str:
        raise LocationTaken("gs://b/target.pkl", "target.pkl")

    assert first_write_wins(write, read, "gs://b") == "winner"
    assert reads == ["target.pkl", "target.pkl"]


@pytest.mark.parametrize("protocol", range(2, pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize(
    "value", [b"", b"g" * 100, "g", 0, None, [b"Z2dn"] * 3, {"g": b"."}, base64.b64encode(pickle.dumps(1))]
)
def test_format_detection_never_alters_a_raw_pickle(protocol: int, value: Any) -> None:
    raw = pickle.dumps(value, protocol=protocol)
    assert unwrap_legacy_payload(raw) is raw


def test_format_detection_leaves_base64_of_non_pickles_alone() -> None:
    text = base64.b64encode(b"\x80 not a pickle, it lacks the STOP opcode")
    assert unwrap_legacy_payload(text) is text


def test_format_detection_leaves_text_that_is_not_base64_alone() -> None:
    text = b"g is for grapes, and this is no base64"
    assert unwrap_legacy_payload(text) is text


STORES = [(S3Result, "bucket"), (GCSResult, "bucket"), (AzureResult, "container")]
"""Each object-store Result and the argument that names its bucket or container."""

CLIENT_KWARGS = [(S3Result, "boto3_kwargs", "boto3.client('s3', ...)"),
                 (GCSResult, "client_kwargs", "google.cloud.storage.Client"),
                 (AzureResult, "client_kwargs", "BlobServiceClient")]  # fmt: skip
"""Each object-store Result, the argument holding its SDK client's keyword arguments, and that client."""


@pytest.mark.parametrize(("result_class", "store"), STORES)
def test_a_store_name_that_is_not_a_str_is_an_argument_type_error(result_class: type, store: str) -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        result_class(**{store: None})
    assert str(raised.value) == (
        f"{result_class.__name__}: {store} must be the name of a {store} (a str), e.g. {store}='results', "
        "not NoneType (None)"
    )


@pytest.mark.parametrize(("result_class", "store"), STORES)
def test_an_empty_store_name_is_a_location_error_giving_the_rules(result_class: type, store: str) -> None:
    with pytest.raises(LocationError, match=rf"^{result_class.__name__}: '' is not a valid {store} name \(.+\)$"):
        result_class(**{store: ""})


@pytest.mark.parametrize(("result_class", "argument", "client"), CLIENT_KWARGS)
def test_client_kwargs_that_are_not_a_mapping_are_an_argument_type_error_that_hides_them(
    result_class: type, argument: str, client: str
) -> None:
    with pytest.raises(ArgumentTypeError) as raised:
        result_class("results", **{argument: [("credential", "sekrit")]})
    assert str(raised.value) == (
        f"{result_class.__name__}: {argument} must be a mapping of {client} keyword arguments, or None, "
        "not list (not shown: it may hold a secret)"
    )
