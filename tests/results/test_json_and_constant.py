"""JSONResult keeps the value in the location string; ConstantResult returns a fixed value."""

from __future__ import annotations

import pytest

from compat import ConstantResult, JSONResult, ResultError, SerializationError


def test_json_result_write_puts_the_json_in_the_location() -> None:
    written = JSONResult().write({"n": 1})
    assert (written.location, written.value) == ('{"n": 1}', {"n": 1})


def test_json_result_read_parses_the_location() -> None:
    assert JSONResult().read("[1, 2]").value == [1, 2]


def test_json_result_read_of_invalid_json_names_the_location() -> None:
    with pytest.raises(SerializationError, match="'{not json' is not valid JSON"):
        JSONResult().read("{not json")


def test_json_result_refuses_values_json_cannot_hold() -> None:
    with pytest.raises(SerializationError, match="JSONSerializer"):
        JSONResult().write(object())


def test_json_result_exists_for_valid_json_only() -> None:
    assert JSONResult().exists('{"a": 1}') and not JSONResult().exists("{nope")


def test_constant_result_reads_its_value_whatever_the_location() -> None:
    assert ConstantResult(value=5).read("anything").value == 5


def test_constant_result_always_exists() -> None:
    assert ConstantResult(value=None).exists("x") is True


def test_constant_result_cannot_be_written_and_says_what_to_use() -> None:
    with pytest.raises(ResultError, match="cannot store a new one.*LocalResult"):
        ConstantResult(value=1).write(2)
