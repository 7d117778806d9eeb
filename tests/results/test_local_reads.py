"""How LocalResult opens its files: links are checked as a file is opened (so a link planted after a location was
rendered or looked up is still refused), small files are read whole and large ones streamed, with the same values
and the same errors either way, and locations are resolved from a memo that a changed ``dir`` cannot mislead."""

from __future__ import annotations

import os
import pickle
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import compat.results.local as local
from compat.results import _beneath
from compat import (
    ConfigurationError, LegacyResultWarning, LocalResult, LocationError, PickleSerializer, Result, ResultNotFound,
    SerializationError, StorageError,
)

SIZES = {"small": 1000, "large": 2 * local._SMALL}


class Planted:
    """A pickle whose loading touches ``marker``: proof that a file outside ``dir`` was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture(params=["O_NOFOLLOW", "no O_NOFOLLOW"])
def nofollow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each link test runs as on POSIX and as where ``open`` cannot refuse a link (Windows: looked for first)."""
    if request.param == "no O_NOFOLLOW":
        monkeypatch.setattr(_beneath, "AT_SUPPORTED", False)
    return str(request.param)


def outside_secret(tmp_path: Path) -> tuple[Path, Path]:
    """A planted pickle outside the result directory, and the marker its unpickling would create."""
    marker = tmp_path / "ran"
    secret = tmp_path / "outside" / "secret.pkl"
    secret.parent.mkdir()
    secret.write_bytes(pickle.dumps(Planted(marker)))
    return secret, marker


def test_a_link_named_as_the_file_that_stays_inside_dir_is_read(tmp_path: Path, nofollow: str) -> None:
    LocalResult(dir=tmp_path, location="real.pkl").write("v")
    os.symlink(tmp_path / "real.pkl", tmp_path / "link.pkl")
    assert LocalResult(dir=tmp_path).read("link.pkl").value == "v"


def test_a_relative_link_named_as_the_file_that_stays_inside_dir_is_read(tmp_path: Path, nofollow: str) -> None:
    LocalResult(dir=tmp_path, location="sub/real.pkl").write("v")
    os.symlink("sub/real.pkl", tmp_path / "link.pkl")
    assert LocalResult(dir=tmp_path).read("link.pkl").value == "v"


@pytest.mark.parametrize("checked_by", ["render", "exists"])
def test_a_link_to_outside_planted_after_the_location_was_checked_is_refused_when_read(
    tmp_path: Path, nofollow: str, checked_by: str
) -> None:
    results = tmp_path / "results"
    result = LocalResult(dir=results, location="{name}.pkl")
    result.write("mine", name="v")
    secret, marker = outside_secret(tmp_path)
    if checked_by == "render":
        location = result.format(name="v").location
    else:
        assert result.exists(result.template, name="v")
        location = "v.pkl"
    os.unlink(results / "v.pkl")
    os.symlink(secret, results / "v.pkl")
    with pytest.raises(LocationError, match="symbolic link"):
        result.read(location)
    assert not marker.exists()


def test_a_subdirectory_replaced_by_a_link_to_outside_after_render_is_refused_when_read(
    tmp_path: Path, nofollow: str
) -> None:
    results = tmp_path / "results"
    result = LocalResult(dir=results, location="sub/secret.pkl")
    result.write("mine")
    location = result.format().location
    secret, marker = outside_secret(tmp_path)
    (results / "sub" / "secret.pkl").unlink()
    (results / "sub").rmdir()
    os.symlink(secret.parent, results / "sub")
    with pytest.raises(LocationError, match="symbolic link"):
        result.read(location)
    assert not marker.exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda result: result.read_stream("v.pkl", pickle.load),
        lambda result: result.exists_at("v.pkl"),
        lambda result: result.write_stream("v.pkl", lambda f: f.write(b"x")),
    ],
    ids=["read_stream", "exists_at", "write_stream"],
)
def test_a_link_to_outside_named_as_the_file_is_refused_and_left_alone(
    tmp_path: Path, nofollow: str, call: Callable[[LocalResult], object]
) -> None:
    secret, marker = outside_secret(tmp_path)
    before = secret.read_bytes()
    (tmp_path / "results").mkdir()
    os.symlink(secret, tmp_path / "results" / "v.pkl")
    with pytest.raises(LocationError, match="symbolic link"):
        call(LocalResult(dir=tmp_path / "results"))
    assert not marker.exists()  # never unpickled
    assert secret.read_bytes() == before  # never written through


def test_an_absolute_location_through_a_link_is_read_as_given(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path / "elsewhere", location="v.pkl").write("v")
    os.symlink(tmp_path / "elsewhere" / "v.pkl", tmp_path / "link.pkl")
    assert LocalResult(dir=tmp_path / "results").read(str(tmp_path / "link.pkl")).value == "v"


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_files_read_back_the_value_written(tmp_path: Path, size: str) -> None:
    value = os.urandom(SIZES[size])
    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.write(value)
    assert result.read("v.pkl").value == value


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_signed_files_are_verified_and_read(tmp_path: Path, size: str) -> None:
    value = os.urandom(SIZES[size])
    serializer = PickleSerializer(signing_key="k")
    LocalResult(dir=tmp_path, location="v.pkl", serializer=serializer).write(value)
    assert LocalResult(dir=tmp_path, serializer=serializer).read("v.pkl").value == value
    with pytest.raises(SerializationError, match="not among the"):
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="other")).read("v.pkl")


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_unsigned_files_are_refused_while_signing(tmp_path: Path, size: str) -> None:
    LocalResult(dir=tmp_path, location="v.pkl").write(os.urandom(SIZES[size]))
    with pytest.raises(SerializationError, match="unsigned"):
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("v.pkl")


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_signed_files_read_without_a_key_say_the_key_is_missing(
    tmp_path: Path, size: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESULTS_COMPAT_SIGNING_KEY", raising=False)
    monkeypatch.delenv("RESULTS_COMPAT_SIGNING_KEY_FILE", raising=False)
    serializer = PickleSerializer(signing_key="k")
    LocalResult(dir=tmp_path, location="v.pkl", serializer=serializer).write(os.urandom(SIZES[size]))
    with pytest.raises(ConfigurationError, match="no signing key is set"):
        LocalResult(dir=tmp_path).read("v.pkl")


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_files_starting_like_a_signature_but_not_one_are_serialization_errors(
    tmp_path: Path, size: str
) -> None:
    (tmp_path / "v.pkl").write_bytes(b"\x00" + os.urandom(SIZES[size]))
    with pytest.raises(SerializationError, match="cannot read the result stored at"):
        LocalResult(dir=tmp_path).read("v.pkl")


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_files_of_the_legacy_handler_are_read(tmp_path: Path, size: str) -> None:
    value = os.urandom(SIZES[size])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        from compat.legacy import LocalResultHandler

        uri = LocalResultHandler(dir=tmp_path).write(value)
    assert LocalResult(dir=tmp_path).read(os.path.basename(uri)).value == value


@pytest.mark.parametrize("size", SIZES)
def test_small_and_large_truncated_files_are_serialization_errors(tmp_path: Path, size: str) -> None:
    path = LocalResult(dir=tmp_path, location="v.pkl").write(os.urandom(SIZES[size])).location
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match="cannot read the result stored at"):
        LocalResult(dir=tmp_path).read("v.pkl")


def test_a_large_pickle_of_protocol_4_or_later_is_read_without_a_file_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = os.urandom(SIZES["large"])
    LocalResult(dir=tmp_path, location="v.pkl").write(value)

    def no_file_object(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a file object was made")

    monkeypatch.setattr(local, "open", no_file_object, raising=False)
    assert LocalResult(dir=tmp_path).read("v.pkl").value == value


def test_a_pickle_larger_than_one_read_gives_is_read_through_a_buffered_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = os.urandom(SIZES["large"])
    LocalResult(dir=tmp_path, location="v.pkl").write(value)
    monkeypatch.setattr(local, "_ONE_READ", SIZES["large"] // 2, raising=False)  # as 2 GiB is on Linux
    made: list[Any] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(args)
        return open(*args, **kwargs)

    monkeypatch.setattr(local, "open", counted, raising=False)
    assert LocalResult(dir=tmp_path).read("v.pkl").value == value
    assert len(made) == 1  # a buffered file reads again until it has what pickle asked for


def test_a_large_pickle_of_an_older_protocol_is_read(tmp_path: Path) -> None:
    value = list(range(SIZES["large"] // 4))  # protocol 2 has no frames: an opcode at a time
    (tmp_path / "v.pkl").write_bytes(pickle.dumps(value, protocol=2))
    assert os.path.getsize(tmp_path / "v.pkl") > local._SMALL
    assert LocalResult(dir=tmp_path).read("v.pkl").value == value


def test_a_large_framed_pickle_holding_text_opcodes_is_read(tmp_path: Path) -> None:
    count = SIZES["large"] // 8
    data = b"\x80\x04(" + b"".join(b"I%d\n" % i for i in range(count)) + b"l."  # INT takes a line: readline
    (tmp_path / "v.pkl").write_bytes(data)
    assert len(data) > local._SMALL
    assert LocalResult(dir=tmp_path).read("v.pkl").value == list(range(count))


@pytest.mark.parametrize("beyond", [0, 1], ids=["at the limit", "one byte over"])
def test_files_at_the_small_limit_and_one_byte_over_are_read(tmp_path: Path, beyond: int) -> None:
    overhead = len(pickle.dumps(bytes(local._SMALL), protocol=5)) - local._SMALL
    value = os.urandom(local._SMALL + beyond - overhead)
    path = tmp_path / "v.pkl"
    path.write_bytes(pickle.dumps(value, protocol=5))
    assert path.stat().st_size == local._SMALL + beyond
    assert LocalResult(dir=tmp_path).read("v.pkl").value == value


def test_reading_a_directory_is_a_location_error(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(LocationError, match="is a directory"):
        LocalResult(dir=tmp_path).read("d")


def test_reading_a_missing_file_through_read_bytes_is_result_not_found(tmp_path: Path) -> None:
    with pytest.raises(ResultNotFound, match="no such file"):
        LocalResult(dir=tmp_path).read_bytes("gone.pkl")


def test_reading_below_a_regular_file_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "f.pkl").write_bytes(b"x")
    with pytest.raises(StorageError, match="cannot read the result file"):
        LocalResult(dir=tmp_path).read("f.pkl/v.pkl")


@pytest.mark.parametrize("call", ["read", "read_bytes"])
def test_a_fifo_at_the_location_is_refused_without_blocking(tmp_path: Path, call: str) -> None:
    os.mkfifo(tmp_path / "v.pkl")  # no writer ever opens it: a blocking open would never return
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            getattr(LocalResult(dir=tmp_path), call)("v.pkl")
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)  # a blocked reader never keeps the test process alive
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert isinstance(outcome[0], LocationError) and "not a regular file" in str(outcome[0])


def test_a_changed_dir_resolves_the_same_location_under_the_new_dir(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path / "a")
    assert result.resolve("v.pkl") == str(tmp_path / "a" / "v.pkl")
    result.dir = tmp_path / "b"
    assert result.resolve("v.pkl") == str(tmp_path / "b" / "v.pkl")


def test_a_location_inside_one_dir_is_still_refused_for_a_dir_it_climbs_out_of(tmp_path: Path) -> None:
    assert LocalResult(dir=tmp_path / "a").resolve("../a/v.pkl") == str(tmp_path / "a" / "v.pkl")
    with pytest.raises(LocationError, match="outside the result directory"):
        LocalResult(dir=tmp_path / "b").resolve("../a/v.pkl")


def test_the_memo_of_resolved_locations_stays_bounded(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path)
    for i in range(local._PATHS_KEPT + 10):
        result.resolve(f"{i}.pkl")
    assert 0 < len(local._PATHS) <= local._PATHS_KEPT


def test_a_location_that_is_a_str_subclass_is_resolved_by_its_text(tmp_path: Path) -> None:
    class Odd(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    assert LocalResult(dir=tmp_path).resolve(Odd("v.pkl")) == str(tmp_path / "v.pkl")
    assert LocalResult(dir=tmp_path).resolve("w.pkl") == str(tmp_path / "w.pkl")


def test_a_subclass_that_resolves_its_own_way_is_used_by_read_write_and_exists(tmp_path: Path) -> None:
    class Renamed(LocalResult):
        def resolve(self, location: str) -> str:
            return super().resolve(location.replace("logical", "physical"))

    result = Renamed(dir=tmp_path, location="logical.pkl")
    assert result.write(1).location == str(tmp_path / "physical.pkl")
    assert result.exists("logical.pkl") and result.read("logical.pkl").value == 1


def test_rendering_still_refuses_a_link_to_outside_named_as_the_file(tmp_path: Path) -> None:
    secret, _ = outside_secret(tmp_path)
    (tmp_path / "results").mkdir()
    os.symlink(secret, tmp_path / "results" / "v.pkl")
    with pytest.raises(LocationError, match="symbolic link"):
        LocalResult(dir=tmp_path / "results", location="{name}.pkl").format(name="v")


def test_write_refuses_a_link_to_outside_named_as_the_file_and_leaves_its_target_alone(tmp_path: Path) -> None:
    secret, _ = outside_secret(tmp_path)
    before = secret.read_bytes()
    (tmp_path / "results").mkdir()
    os.symlink(secret, tmp_path / "results" / "v.pkl")
    with pytest.raises(LocationError, match="symbolic link"):
        LocalResult(dir=tmp_path / "results", location="{name}.pkl").write("x", name="v")
    assert secret.read_bytes() == before and os.path.islink(tmp_path / "results" / "v.pkl")


def test_write_keeps_the_mode_of_the_file_a_link_inside_dir_leads_to(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path, location="real.pkl").write(1)
    os.chmod(tmp_path / "real.pkl", 0o600)
    os.symlink(tmp_path / "real.pkl", tmp_path / "link.pkl")
    LocalResult(dir=tmp_path, location="link.pkl").write(2)
    assert (tmp_path / "link.pkl").stat().st_mode & 0o777 == 0o600


def test_a_subclass_that_renders_its_own_way_is_used_by_write(tmp_path: Path) -> None:
    class Prefixed(LocalResult):
        def render(self, location: Any, context: Any) -> str | None:
            rendered = super().render(location, context)
            return None if rendered is None else "prefixed-" + rendered

    assert Prefixed(dir=tmp_path, location="v.pkl").write(1).location == str(tmp_path / "prefixed-v.pkl")


def test_a_result_mixin_after_local_result_that_renders_its_own_way_is_used_by_write(tmp_path: Path) -> None:
    class Prefixing(Result):
        def render(self, location: Any, context: Any) -> str | None:
            rendered = super().render(location, context)
            return None if rendered is None else "prefixed-" + rendered

    class Prefixed(LocalResult, Prefixing):  # LocalResult's render calls Prefixing's (its next in the MRO)
        pass

    assert Prefixed(dir=tmp_path, location="v.pkl").write(1).location == str(tmp_path / "prefixed-v.pkl")
