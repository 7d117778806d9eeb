"""LocalResult: paths, the default directory, refusing escapes, and errors that name the file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import cloudpickle
import pytest

from compat import ArgumentTypeError, LocalResult, LocationError, ResultNotFound, SerializationError


def test_write_returns_the_absolute_path_of_the_file(tmp_path: Path) -> None:
    written = LocalResult(dir=tmp_path, location="out/{name}.pkl").write([1], name="a")
    assert written.location == str(tmp_path / "out" / "a.pkl")
    assert os.path.isabs(written.location)


def test_read_accepts_a_path_relative_to_dir(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="x.pkl")
    result.write("v")
    assert result.read("x.pkl").value == "v"


def test_read_accepts_an_absolute_path(tmp_path: Path) -> None:
    written = LocalResult(dir=tmp_path).write("v")
    assert LocalResult(dir=tmp_path / "elsewhere").read(written.location).value == "v"


def test_files_hold_raw_cloudpickle_bytes(tmp_path: Path) -> None:
    written = LocalResult(dir=tmp_path, location="v.pkl").write({"a": 1})
    assert pickle.loads(Path(written.location).read_bytes()) == {"a": 1}


def test_a_file_written_by_plain_cloudpickle_is_readable(tmp_path: Path) -> None:
    (tmp_path / "legacy.pkl").write_bytes(cloudpickle.dumps({"old": True}))
    assert LocalResult(dir=tmp_path).read("legacy.pkl").value == {"old": True}


def test_a_relative_location_escaping_dir_is_refused(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path / "results", location="{param}/x.pkl")
    with pytest.raises(LocationError, match="outside the result directory"):
        result.write(1, param="../../etc")
    assert not (tmp_path / "etc").exists()


def test_reading_a_path_escaping_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match=r"'\.\./secret\.pkl' resolves to"):
        LocalResult(dir=tmp_path / "results").read("../secret.pkl")


def test_an_absolute_location_is_used_as_given(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "v.pkl"
    written = LocalResult(dir=tmp_path / "results", location=str(target)).write(3)
    assert written.location == str(target) and target.is_file()


def test_a_missing_file_raises_result_not_found_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFound, match=str(tmp_path / "gone.pkl")):
        LocalResult(dir=tmp_path).read("gone.pkl")


def test_a_truncated_file_raises_serialization_error_naming_the_path(tmp_path: Path) -> None:
    written = LocalResult(dir=tmp_path, location="t.pkl").write(list(range(1000)))
    data = Path(written.location).read_bytes()
    Path(written.location).write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match=str(tmp_path / "t.pkl")):
        LocalResult(dir=tmp_path).read("t.pkl")


def test_a_corrupt_file_raises_serialization_error(tmp_path: Path) -> None:
    (tmp_path / "c.pkl").write_bytes(b"\x00garbage")
    with pytest.raises(SerializationError, match="cannot read the result stored at"):
        LocalResult(dir=tmp_path).read("c.pkl")


def test_a_directory_is_not_a_location(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(LocationError, match="is a directory"):
        LocalResult(dir=tmp_path, location="d").write(1)


def test_an_empty_location_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="empty location"):
        LocalResult(dir=tmp_path).read("")


def test_default_dir_comes_from_results_compat_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_HOME", str(tmp_path))
    assert LocalResult().dir == str(tmp_path / "results")


def test_default_dir_falls_back_to_the_home_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESULTS_COMPAT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert LocalResult().dir == str(tmp_path / ".results-compat" / "results")


def test_dir_expands_the_user_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert LocalResult(dir="~/r").dir == str(tmp_path / "r")


def test_written_files_follow_the_umask_like_ordinary_files(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        written = LocalResult(dir=tmp_path).write(1)
    finally:
        os.umask(old)
    assert os.stat(written.location).st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_previous_value_and_no_temporary_file(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.write("old")

    class Unpicklable:
        def __reduce__(self):
            raise TypeError("no")

    with pytest.raises(SerializationError):
        result.write(Unpicklable())
    assert result.read("v.pkl").value == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.pkl"]


def test_a_location_naming_dir_itself_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="outside the result directory"):
        LocalResult(dir=tmp_path / "r").read(".")


def test_a_sibling_directory_sharing_the_prefix_is_outside(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="outside the result directory"):
        LocalResult(dir=tmp_path / "r").read("../r2/x.pkl")


def test_validate_dir_creates_the_directory_up_front(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path / "new" / "results", validate_dir=True)
    assert (tmp_path / "new" / "results").is_dir()


def test_without_validate_dir_nothing_is_created_until_a_write(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path / "later")
    assert not (tmp_path / "later").exists()


def test_validate_dir_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(LocationError, match="exists and is not a directory"):
        LocalResult(dir=tmp_path / "taken", validate_dir=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"validators": 5}, "validators must be a callable or a list of callables, not int"),
        ({"validators": "positive"}, "validators must be a callable or a list of callables, not str"),
        ({"cache_validators": 5}, "cache_validators must be a callable or a list of callables, not int"),
        ({"location": 5}, "location must be a location template str"),
        ({"location": b"x.pkl"}, "location must be a location template str"),
    ],
)
def test_a_constructor_argument_of_the_wrong_type_is_refused_up_front(
    tmp_path: Path, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ArgumentTypeError, match=match) as raised:
        LocalResult(dir=tmp_path, **kwargs)
    assert isinstance(raised.value, TypeError)


def test_a_long_name_kept_aside_is_never_cut_inside_a_utf8_character(tmp_path: Path) -> None:
    name = "a" + "é" * 124 + ".pkl"  # 253 bytes: the stamp's cut falls on the second byte of an "é"
    (tmp_path / name).write_bytes(b"unreadable")
    kept = LocalResult(dir=tmp_path).keep_aside(name)
    assert kept is not None
    kept_name = os.path.basename(kept)
    assert os.fsencode(kept_name).decode("utf-8", errors="strict").startswith("a" + "é" * 100)
    assert len(os.fsencode(kept_name)) <= 255 and (tmp_path / kept_name).read_bytes() == b"unreadable"


def test_the_paths_of_ten_thousand_locations_are_each_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan of 10,000 targets resolves each output and record path several times: all stay remembered."""
    import compat.results.local as local

    checked: list[str] = []
    real = local._check_path_text
    monkeypatch.setattr(local, "_check_path_text", lambda text, what: (checked.append(text), real(text, what))[1])
    result = LocalResult(dir=tmp_path)
    for _ in range(2):
        for i in range(10_000):
            result.resolve(f"sub/{i}.pkl")
    assert len([text for text in checked if text.startswith("sub/")]) == 10_000

