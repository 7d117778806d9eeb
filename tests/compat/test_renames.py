"""The rename table's records (``compat.renames``): frozen, compared by their fields, and cheap to import, since the
codemod's ``--help`` and the Prefect bridge's hook at ``import prefect`` read the table at start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from compat.renames import COMPAT, PREFECT, Rename


def test_importing_the_rename_table_imports_nothing_beyond_compat_s_own_start_up() -> None:
    code = "import json, sys; before = set(sys.modules); import compat.renames; " \
           "print(json.dumps(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["compat", "compat._lazy", "compat.errors", "compat.renames"]


def test_a_rename_takes_its_fields_by_position_or_keyword_with_the_defaults_of_the_class() -> None:
    by_position = Rename("class", "A", "B", "a")
    assert by_position == Rename(kind="class", old="A", new="B", anchor="a")
    assert (by_position.positional, dict(by_position.arguments), by_position.value) == ((), {}, "result")


def test_records_are_equal_only_to_records_of_the_same_fields() -> None:
    assert COMPAT.find("class", "LocalResultHandler") == COMPAT.find("class", "LocalResultHandler")
    assert COMPAT.find("class", "LocalResultHandler") != PREFECT.find("class", "LocalResultHandler")
    assert Rename("class", "A", "B", "a") != ("class", "A", "B", "a")


def test_a_record_cannot_be_changed() -> None:
    rename = Rename("class", "A", "B", "a")
    with pytest.raises(AttributeError, match="a Rename is frozen: 'new' cannot be assigned"):
        rename.new = "C"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="a Rename is frozen"):
        del rename.new  # type: ignore[misc]
    assert rename.new == "B"


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("class", "A"), {}, "Rename() missing required arguments: 'new', 'anchor'"),
        (("class", "A", "B", "a"), {"old": "C"}, "Rename() got multiple values for argument 'old'"),
        (("class", "A", "B", "a"), {"olde": "C"}, "Rename() got an unexpected keyword argument 'olde'"),
        (tuple("x" * 20), {}, "Rename() takes 16 positional arguments but 20 were given"),
    ],
)
def test_a_record_made_with_wrong_arguments_says_which(args: tuple[str, ...], kwargs: dict[str, str],
                                                        message: str) -> None:
    with pytest.raises(TypeError) as raised:
        Rename(*args, **kwargs)
    assert str(raised.value) == message


def test_a_record_shows_its_fields() -> None:
    assert repr(Rename("module", "a", "b", "x")).startswith("Rename(kind='module', old='a', new='b', anchor='x', ")
