"""Serializers: bytes in, values out, and errors that name the type and the serializer."""

from __future__ import annotations

import os
import pickle
from typing import Any

import cloudpickle
import pytest

from compat import JSONSerializer, LocalResult, PickleSerializer, SerializationError
from compat.results.signing import parse_header


def test_pickle_serializer_writes_protocol_5_raw_bytes() -> None:
    data = PickleSerializer().serialize({"a": 1})
    assert data[:2] == b"\x80\x05"
    assert pickle.loads(data) == {"a": 1}


def test_pickle_serializer_handles_lambdas_through_cloudpickle() -> None:
    fn = PickleSerializer().deserialize(PickleSerializer().serialize(lambda x: x * 2))
    assert fn(21) == 42


PLAIN_VALUES = [None, True, False, 0, -1, 2**70, -(2**1000), 0.5, float("inf"), b"", os.urandom(1024),
                os.urandom(3 * 1024 * 1024), "", "\u00e9\ud800", "s" * 100_000]


@pytest.mark.parametrize("value", PLAIN_VALUES, ids=lambda value: f"{type(value).__name__}-{len(repr(value))}")
def test_plain_values_are_stored_byte_for_byte_as_cloudpickle_stores_them(value: Any) -> None:
    assert PickleSerializer().serialize(value) == cloudpickle.dumps(value, protocol=5)


@pytest.mark.parametrize("value", PLAIN_VALUES[:4], ids=repr)
def test_plain_values_are_signed_over_the_bytes_cloudpickle_stores(value: Any) -> None:
    signed = PickleSerializer(signing_key="k").serialize(value)
    assert signed[parse_header(signed).size : -32] == cloudpickle.dumps(value, protocol=5)


def test_a_subclass_of_a_plain_type_is_pickled_by_cloudpickle() -> None:
    class Named(int):
        pass

    assert PickleSerializer().deserialize(PickleSerializer().serialize(Named(3))).__class__.__name__ == "Named"


def test_json_serializer_round_trips_json_types() -> None:
    value = {"a": [1, 2.5, None, "x"]}
    assert JSONSerializer().deserialize(JSONSerializer().serialize(value)) == value


def test_json_serializer_names_the_type_it_cannot_store() -> None:
    with pytest.raises(SerializationError, match="type set with JSONSerializer"):
        JSONSerializer().serialize({1, 2})


def test_corrupt_pickle_bytes_raise_serialization_error() -> None:
    with pytest.raises(SerializationError, match="PickleSerializer cannot deserialize"):
        PickleSerializer().deserialize(b"not a pickle")


class _Unloadable:
    """Pickles fine; loading it raises an exception with no message (as a MemoryError usually has none)."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _raise_bare_lookup_error, ()


def _raise_bare_lookup_error() -> None:
    raise LookupError()


def test_an_exception_without_a_message_is_named_by_its_type() -> None:
    data = pickle.dumps(_Unloadable())
    with pytest.raises(SerializationError, match=r"not written by a pickle serializer\): LookupError$"):
        PickleSerializer().deserialize(data)


def test_an_exception_with_a_message_is_named_by_type_and_message() -> None:
    with pytest.raises(SerializationError, match=r"serializer\): UnpicklingError: pickle data was truncated$"):
        PickleSerializer().deserialize(pickle.dumps(b"x" * 100)[:-10])


def test_local_result_with_json_serializer_stores_readable_json(tmp_path) -> None:
    written = LocalResult(dir=tmp_path, location="v.json", serializer=JSONSerializer()).write({"k": [1]})
    assert (tmp_path / "v.json").read_text() == '{"k": [1]}'
    assert written.location == str(tmp_path / "v.json")


def test_a_serializer_without_the_protocol_is_refused() -> None:
    with pytest.raises(TypeError, match="serialize"):
        LocalResult(serializer=object())


def deeply_nested(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def test_json_serializer_refuses_a_value_nested_too_deeply_with_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="nested deeper than Python's recursion limit"):
        JSONSerializer().serialize(deeply_nested(100_000))


def test_json_serializer_refuses_bytes_nested_too_deeply_with_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="nest deeper than Python's recursion limit"):
        JSONSerializer().deserialize(b"[" * 100_000 + b"]" * 100_000)
