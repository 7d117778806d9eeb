"""value_fingerprint: a content hash per kind of value, the same in every process, and never a guess."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import os
import pathlib
import subprocess
import sys
import uuid
from collections import Counter, OrderedDict, namedtuple
from typing import Any

import pytest

import compat
from compat.engine.fingerprints import register_fingerprint, value_fingerprint
from compat.errors import ArgumentTypeError, ResultError, Unfingerprintable


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Mode(str, enum.Enum):
    FAST = "fast"


@dataclasses.dataclass
class Point:
    x: int
    y: int
    cache: dict[str, int] = dataclasses.field(default_factory=dict, compare=False)


Pair = namedtuple("Pair", "a b")

EXAMPLES: list[Any] = [
    None, True, False, 0, -1, 2**100, 1.5, float("nan"), 1 + 2j, "text", "\udcff", b"bytes", bytearray(b"ba"),
    (1, "a"), [1, [2, [3]]], {"a": 1, "b": [2]}, {1, 2, 3}, frozenset({"x", "y"}),
    datetime.datetime(2026, 12, 5, 21, 0, tzinfo=datetime.timezone.utc), datetime.date(2026, 12, 5),
    datetime.time(12, 30), datetime.timedelta(days=1, seconds=2), decimal.Decimal("1.10"),
    pathlib.PurePosixPath("/data/x"), uuid.UUID(int=7), Colour.RED, Mode.FAST, Point(1, 2), Pair(1, 2),
    OrderedDict(a=1), Counter("aab"),
]


def test_fingerprint_is_a_sha256_of_the_content() -> None:
    fingerprint = value_fingerprint([1, 2])
    assert fingerprint.startswith("sha256:") and len(fingerprint) == len("sha256:") + 64


@pytest.mark.parametrize("value", EXAMPLES, ids=lambda v: type(v).__name__)
def test_an_equal_copy_has_the_same_fingerprint(value: Any) -> None:
    import copy

    assert value_fingerprint(copy.deepcopy(value)) == value_fingerprint(value)


def test_every_example_has_its_own_fingerprint() -> None:
    fingerprints = [value_fingerprint(value) for value in EXAMPLES]
    assert len(set(fingerprints)) == len(EXAMPLES)


@pytest.mark.parametrize(
    ("one", "other"),
    [(1, 1.0), (1, True), (0, False), ("1", 1), ([1], (1,)), ({1}, frozenset({1})), (b"a", bytearray(b"a")),
     (b"a", "a"), ({1: 2}, {1: 3}), ({1: 2}, {2: 1}), ([1, 2], [2, 1]), ((1, (2, 3)), ((1, 2), 3)), ("ab", ["ab"]),
     ([], ()), (Pair(1, 2), (1, 2)), (Colour.RED, 1), (Mode.FAST, "fast"), (decimal.Decimal("1.0"), 1.0),
     (datetime.date(2026, 1, 1), datetime.datetime(2026, 1, 1)), ([None], []), ("", b"")],
    ids=repr,
)
def test_different_values_have_different_fingerprints(one: Any, other: Any) -> None:
    assert value_fingerprint(one) != value_fingerprint(other)


def test_a_dicts_insertion_order_does_not_count() -> None:
    assert value_fingerprint({"a": 1, "b": 2}) == value_fingerprint({"b": 2, "a": 1})


def test_an_ordered_dicts_order_counts() -> None:
    assert value_fingerprint(OrderedDict(a=1, b=2)) != value_fingerprint(OrderedDict(b=2, a=1))


def test_a_subclass_of_a_builtin_type_differs_from_the_builtin() -> None:
    class Name(str):
        pass

    assert value_fingerprint(Name("x")) != value_fingerprint("x")


def test_a_dataclass_counts_by_the_fields_it_compares() -> None:
    assert value_fingerprint(Point(1, 2, {"seen": 1})) == value_fingerprint(Point(1, 2))
    assert value_fingerprint(Point(1, 2)) != value_fingerprint(Point(1, 3))


def test_an_unknown_type_is_refused_with_its_name_path_and_the_way_out() -> None:
    with pytest.raises(Unfingerprintable) as raised:
        value_fingerprint({"rows": [1, object()]})
    message = str(raised.value)
    assert "builtins.object" in message and "value['rows'][1]" in message
    assert "compat.register_fingerprint(object, fn)" in message
    assert raised.value.type_name == "builtins.object"


def test_unfingerprintable_is_a_result_error_and_a_type_error() -> None:
    assert issubclass(Unfingerprintable, ResultError) and issubclass(Unfingerprintable, TypeError)


def test_a_function_value_is_refused() -> None:
    with pytest.raises(Unfingerprintable, match="builtins.function"):
        value_fingerprint(lambda: 1)


def test_a_container_holding_itself_is_refused() -> None:
    rows: list[Any] = [1]
    rows.append(rows)
    with pytest.raises(Unfingerprintable, match="contains itself"):
        value_fingerprint(rows)


def test_a_value_shared_twice_is_not_taken_for_a_cycle() -> None:
    shared = [1]
    assert value_fingerprint([shared, shared]) == value_fingerprint([[1], [1]])


class Money:
    def __init__(self, amount: int, currency: str) -> None:
        self.amount, self.currency = amount, currency


class Opaque:
    pass


def test_a_registered_type_counts_by_what_its_function_returns() -> None:
    register_fingerprint(Money, lambda money: (money.amount, money.currency))
    assert value_fingerprint(Money(5, "EUR")) == value_fingerprint(Money(5, "EUR"))
    assert value_fingerprint(Money(5, "EUR")) != value_fingerprint(Money(5, "USD"))
    assert value_fingerprint(Money(5, "EUR")) != value_fingerprint((5, "EUR"))


def test_register_fingerprint_works_as_a_decorator() -> None:
    class Meters(float):
        pass

    @register_fingerprint(Meters)
    def _meters(value: Meters) -> str:
        return "always"

    assert value_fingerprint(Meters(1.0)) == value_fingerprint(Meters(2.0))


def test_a_registered_function_returning_its_own_type_is_refused() -> None:
    register_fingerprint(Opaque, lambda value: value)
    with pytest.raises(Unfingerprintable, match="returned a Opaque again"):
        value_fingerprint(Opaque())


def test_register_fingerprint_refuses_what_is_not_a_class() -> None:
    with pytest.raises(ArgumentTypeError, match="register_fingerprint's cls must be a class"):
        register_fingerprint("Money", str)  # type: ignore[arg-type]


def test_register_fingerprint_is_public() -> None:
    assert compat.register_fingerprint is register_fingerprint
    assert compat.Unfingerprintable is Unfingerprintable


SCRIPT = """
import datetime, json, sys
from compat.engine.fingerprints import value_fingerprint
values = [{"a", "b", "c", "d"}, frozenset({"x", ("y", 1)}), {"k": {"z", "w"}, 3: [1.5, None]}, "text",
          datetime.datetime(2026, 12, 5)]
print(json.dumps([value_fingerprint(v) for v in values]))
"""


def test_fingerprints_are_the_same_in_processes_with_different_hash_seeds() -> None:
    seen = []
    for seed in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        assert proc.returncode == 0, proc.stderr
        seen.append(proc.stdout)
    assert seen[0] == seen[1]
