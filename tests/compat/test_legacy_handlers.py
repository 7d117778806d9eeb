"""The legacy handlers behave as they did: write returns a URI string, read returns the value."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cloudpickle
import pytest

from compat import LocalResult, LocationError, PickleSerializer, SerializationError
from compat.legacy import ConstantResultHandler, JSONResultHandler, LocalResultHandler, ResultHandler

pytestmark = pytest.mark.usefixtures("quiet")


def test_local_handler_write_returns_an_absolute_path_inside_dir(tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=tmp_path).write({"a": 1})
    assert os.path.isabs(uri) and os.path.dirname(uri) == str(tmp_path)


def test_local_handler_writes_raw_cloudpickle_bytes(tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=tmp_path).write([1, 2, 3])
    assert cloudpickle.loads(Path(uri).read_bytes()) == [1, 2, 3]


def test_local_handler_reads_back_what_it_wrote(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=tmp_path)
    assert handler.read(handler.write({"k": "v"})) == {"k": "v"}


def test_local_handler_gives_each_write_a_new_file(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=tmp_path)
    first, second = handler.write("a"), handler.write("b")
    assert first != second and (handler.read(first), handler.read(second)) == ("a", "b")


def test_local_handler_validate_creates_the_directory(tmp_path: Path) -> None:
    LocalResultHandler(dir=tmp_path / "new" / "dir")
    assert (tmp_path / "new" / "dir").is_dir()


def test_local_handler_without_validate_creates_nothing(tmp_path: Path) -> None:
    LocalResultHandler(dir=tmp_path / "later", validate=False)
    assert not (tmp_path / "later").exists()


def test_local_handler_refuses_a_file_as_dir(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(LocationError, match="not a directory"):
        LocalResultHandler(dir=tmp_path / "file")


def test_local_handler_reading_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        LocalResultHandler(dir=tmp_path).read(str(tmp_path / "missing"))


def test_json_handler_uri_is_the_json_text() -> None:
    uri = JSONResultHandler().write({"x": [1, 2]})
    assert json.loads(uri) == {"x": [1, 2]}
    assert JSONResultHandler().read(uri) == {"x": [1, 2]}


def test_constant_handler_reads_its_value_whatever_the_uri() -> None:
    assert ConstantResultHandler(7).read("anything") == 7


def test_constant_handler_write_stores_nothing_and_returns_the_repr_of_its_value() -> None:
    assert ConstantResultHandler("seven").write(99) == "'seven'"


def test_handlers_are_equal_by_type_and_attributes(tmp_path: Path) -> None:
    assert LocalResultHandler(dir=tmp_path) == LocalResultHandler(dir=str(tmp_path))
    assert LocalResultHandler(dir=tmp_path) != LocalResultHandler(dir=tmp_path / "other")
    assert ConstantResultHandler(1) != JSONResultHandler()




# -- data written before stays readable ------------------------------------------------------------------------------


def test_local_result_reads_a_file_written_by_the_legacy_handler(tmp_path: Path) -> None:
    uri = LocalResultHandler(dir=tmp_path).write({"legacy": True})
    assert LocalResult(dir=tmp_path).read(uri).value == {"legacy": True}


def test_legacy_handler_reads_a_file_written_by_local_result(tmp_path: Path) -> None:
    written = LocalResult(dir=tmp_path).write({"new": True}, task_name="t")
    assert LocalResultHandler(dir=tmp_path).read(written.location) == {"new": True}


def test_handlers_survive_cloudpickle(tmp_path: Path) -> None:
    handler = LocalResultHandler(dir=tmp_path)
    clone = cloudpickle.loads(cloudpickle.dumps(handler))
    assert clone == handler and clone.read(handler.write(5)) == 5


def test_local_handler_signs_and_verifies_with_the_signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "k")
    handler = LocalResultHandler(dir=tmp_path)
    uri = handler.write({"a": 1})
    assert handler.read(uri) == {"a": 1}
    assert PickleSerializer(signing_key="k").deserialize(Path(uri).read_bytes()) == {"a": 1}


def test_local_handler_refuses_an_unsigned_pickle_when_a_key_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "planted"
    planted.write_bytes(cloudpickle.dumps(1))
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "k")
    with pytest.raises(SerializationError, match="unsigned"):
        LocalResultHandler(dir=tmp_path).read(str(planted))
