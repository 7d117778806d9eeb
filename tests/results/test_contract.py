"""The storage contract every backend keeps (Luigi's FileSystemTargetTestMixin, as one parametrised suite).

Backends are listed in tests/results/backends.py. Tests read back from ``written.location``, the one place a
backend promises to have stored a value (legacy handlers choose their own URIs).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from compat import Result, ResultNotFound, SerializationError, ValidationError
from compat.results.serializers import SIGNING_KEY_VARIABLE
from tests.results.backends import BACKENDS


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Result:
    return BACKENDS[request.param](request, tmp_path)


class Unpicklable:
    def __reduce__(self):
        raise TypeError("this object refuses to be pickled")


def test_write_then_read_returns_the_value(backend: Result) -> None:
    written = backend.write({"rows": [1, 2, 3]})
    assert backend.read(written.location).value == {"rows": [1, 2, 3]}


def test_write_returns_a_new_result_and_leaves_the_receiver_alone(backend: Result) -> None:
    before = backend.location
    written = backend.write(42)
    assert written is not backend
    assert (written.value, backend.value, backend.location) == (42, None, before)


def test_read_returns_a_new_result_holding_value_and_location(backend: Result) -> None:
    written = backend.write("payload")
    read = backend.read(written.location)
    assert read is not backend
    assert (read.value, read.location) == ("payload", written.location)
    assert backend.value is None


def test_written_location_exists(backend: Result) -> None:
    written = backend.write(1)
    assert backend.exists(written.location) is True


def test_location_never_written_does_not_exist(backend: Result) -> None:
    assert backend.exists("never-written-location.pkl") is False


def test_reading_a_missing_location_raises_result_not_found(backend: Result) -> None:
    with pytest.raises(ResultNotFound) as info:
        backend.read("never-written-location.pkl")
    assert isinstance(info.value, FileNotFoundError)
    assert "never-written-location.pkl" in str(info.value)


def test_unserializable_value_raises_serialization_error_naming_type_and_serializer(backend: Result) -> None:
    with pytest.raises(SerializationError, match=r"Unpicklable.*PickleSerializer|PickleSerializer.*Unpicklable"):
        backend.write(Unpicklable())


def test_each_write_without_location_gets_its_own_location(backend: Result) -> None:
    first, second = backend.write("a"), backend.write("b")
    assert first.location != second.location
    assert (backend.read(first.location).value, backend.read(second.location).value) == ("a", "b")


def test_values_are_copied_not_shared(backend: Result) -> None:
    value = [1, 2]
    written = backend.write(value)
    value.append(3)
    assert backend.read(written.location).value == [1, 2]


def test_modified_at_is_recent_and_timezone_aware(backend: Result) -> None:
    written = backend.write(1)
    stamp = backend.modified_at(written.location)
    if stamp is None:
        pytest.skip(f"{type(backend).__name__} cannot tell when a location was modified")
    assert stamp.tzinfo is not None
    assert abs(datetime.now(timezone.utc) - stamp) < timedelta(minutes=5)


def test_cache_for_reuses_a_fresh_stored_value(backend: Result) -> None:
    written = backend.write("fresh")
    backend.cache_for = timedelta(hours=1)
    cached = backend.read_cached(written.location)
    assert cached is not None and cached.value == "fresh"


def test_cache_for_rejects_a_stored_value_past_the_window(backend: Result) -> None:
    written = backend.write("stale")
    backend.cache_for = timedelta(seconds=30)
    later = datetime.now(timezone.utc) + timedelta(minutes=1)
    assert backend.read_cached(written.location, now=later) is None


def test_cache_validators_see_the_stored_result(backend: Result) -> None:
    written = backend.write(7)
    backend.cache_validators = [lambda stored: stored.value > 5]
    assert backend.read_cached(written.location).value == 7
    backend.cache_validators = [lambda stored: stored.value > 10]
    assert backend.read_cached(written.location) is None


def test_read_cached_without_cache_settings_reuses_nothing(backend: Result) -> None:
    written = backend.write(1)
    assert backend.read_cached(written.location) is None


def test_a_cache_validator_that_raises_is_a_validation_error_naming_it(backend: Result) -> None:
    def explodes(stored: Result) -> bool:
        raise ZeroDivisionError("division by zero")

    written = backend.write(1)
    backend.cache_validators = [explodes]
    with pytest.raises(ValidationError, match=r"cache validator .*explodes.*raised ZeroDivisionError"):
        backend.read_cached(written.location)


def test_with_a_signing_key_values_round_trip_and_unsigned_ones_are_refused(
    backend: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SIGNING_KEY_VARIABLE, raising=False)
    unsigned = backend.write("written before signing")
    monkeypatch.setenv(SIGNING_KEY_VARIABLE, "k")
    signed = backend.write("signed")
    assert backend.read(signed.location).value == "signed"
    with pytest.raises(SerializationError, match="unsigned"):
        backend.read(unsigned.location)


def test_keep_aside_moves_the_bytes_elsewhere_or_says_it_cannot(backend: Result) -> None:
    written = backend.write("unwanted")
    kept = backend.keep_aside(backend.resolve(written.location))
    if kept is None:  # a backend that cannot move bytes leaves them where they are
        assert backend.read(written.location).value == "unwanted"
        return
    assert kept != written.location and backend.read(kept).value == "unwanted"
    assert backend.exists(written.location) is False
