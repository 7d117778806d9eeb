"""What GCSResult and AzureResult share (compat/results/_cloud.py), where their servers cannot show it: a write-once
location that stays claimed but never holds a value ends in a clear error instead of looping."""

from __future__ import annotations

import pytest

from compat import ResultNotFound, StorageError
from compat.results._cloud import WRITE_ONCE_ATTEMPTS, LocationTaken, first_write_wins


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
