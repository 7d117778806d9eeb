"""JSONResult keeps the value in the location string; ConstantResult returns a fixed value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compat import (
    ArgumentTypeError, ConstantResult, JSONResult, JSONSerializer, LocalResult, ResultError, SerializationError,
)


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


@pytest.mark.parametrize(
    ("value", "said"),
    [({1: (1, 2)}, "dict key 1, which JSON gives back as the str '1'"), ((1, 2), "tuple (1, 2)"),
     ({"a": [{None: 1}]}, "dict key None, which JSON gives back as the str 'null'")],
    ids=["int key", "tuple", "nested None key"],
)  # fmt: skip
def test_json_result_refuses_a_value_json_would_give_back_changed(value: object, said: str) -> None:
    with pytest.raises(SerializationError, match=re.escape(said)):
        JSONResult().write(value)


def test_a_json_file_at_a_target_refuses_a_value_json_would_give_back_changed(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="tuple"):
        LocalResult(dir=tmp_path, location="v.json", serializer=JSONSerializer()).write({"pair": (1, 2)})
    assert not (tmp_path / "v.json").exists()


def test_json_result_read_of_a_non_str_names_the_argument() -> None:
    with pytest.raises(ArgumentTypeError, match=r"JSONResult.read: location must be the JSON text .*not int \(123\)"):
        JSONResult().read(123)  # type: ignore[arg-type]


def test_json_result_exists_for_valid_json_only() -> None:
    assert JSONResult().exists('{"a": 1}') and not JSONResult().exists("{nope")


def test_constant_result_reads_its_value_whatever_the_location() -> None:
    assert ConstantResult(value=5).read("anything").value == 5


def test_constant_result_always_exists() -> None:
    assert ConstantResult(value=None).exists("x") is True


def test_constant_result_cannot_be_written_and_says_what_to_use() -> None:
    with pytest.raises(ResultError, match="cannot store a new one.*LocalResult"):
        ConstantResult(value=1).write(2)
