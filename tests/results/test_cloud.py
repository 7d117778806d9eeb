"""What the object-store Results share (compat/results/_cloud.py), where their servers cannot show it: a write-once
location that stays claimed but never holds a value ends in a clear error instead of looping, and telling a legacy
handler's base64 object from a raw pickle never alters the raw one."""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pytest

from compat import ResultNotFound, StorageError
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
