"""The streaming storage contract: a backend that can hands the serializer a stream, a serializer that can streams,
and everything else keeps the bytes path. Both paths store the same bytes, so each reads what the other wrote, and
so do the legacy handler and plain ``pickle``."""

from __future__ import annotations

import os
import pickle
import tracemalloc
import warnings
import zlib
from pathlib import Path
from typing import Any

import pytest

import compat.results._atomic as atomic
from compat import (
    JSONSerializer,
    LegacyResultWarning,
    LocalResult,
    PickleSerializer,
    Result,
    ResultNotFound,
    S3Result,
    SerializationError,
)
from compat.results.s3 import MULTIPART_THRESHOLD
from compat.results.serializers import SIGNED_MAGIC
from compat.results.signing import parse_header


def shout(text: str) -> str:
    return text.upper()


VALUES = {
    "small": {"rows": [1, 2, 3], "name": "x"},
    "large bytes": os.urandom(3 * 1024 * 1024),
    "function": shout,  # by value (cloudpickle): defined in a test module
}


class BytesOnlyLocal(LocalResult):
    """A user's subclass from before streaming existed: it overrides only the bytes methods (here: compression)."""

    calls: list[str] = []

    def write_bytes(self, location: str | None, data: bytes) -> str:
        self.calls.append("write_bytes")
        return super().write_bytes(location, zlib.compress(data))

    def read_bytes(self, location: str) -> bytes:
        self.calls.append("read_bytes")
        return zlib.decompress(super().read_bytes(location))


class DictResult(Result):
    """A user's own backend implementing only the bytes contract."""

    store: dict[str, bytes] = {}

    def write_bytes(self, location: str | None, data: bytes) -> str:
        self.store[location or "anonymous"] = data
        return location or "anonymous"

    def read_bytes(self, location: str) -> bytes:
        try:
            return self.store[location]
        except KeyError:
            raise ResultNotFound(location) from None

    def exists_at(self, location: str) -> bool:
        return location in self.store


class ShoutingPickle(PickleSerializer):
    """A user's serializer that overrides only the bytes methods of PickleSerializer."""

    def serialize(self, value: Any) -> bytes:
        return super().serialize(value.upper())

    def deserialize(self, data: bytes) -> Any:
        return super().deserialize(data).lower()


def signed_for(data: bytes) -> tuple[str | None, bytes]:
    """The location stored bytes are signed for (None: unsigned) and their payload: what two writes of one value at
    one place share (the signed time differs)."""
    if not data.startswith(SIGNED_MAGIC):
        return None, data
    header = parse_header(data)
    return header.location, data[header.size : -32]


@pytest.mark.parametrize("key", [None, "s3cret"], ids=["unsigned", "signed"])
@pytest.mark.parametrize("name", VALUES)
def test_streamed_and_bytes_paths_store_identical_bytes(tmp_path: Path, name: str, key: str | None) -> None:
    value = VALUES[name]
    serializer = PickleSerializer(signing_key=key)
    streamed = LocalResult(dir=tmp_path, location="v.pkl", serializer=serializer).write(value)
    DictResult.store = {}
    DictResult(serializer=serializer, location="v.pkl").write(value)

    assert (
        signed_for(Path(streamed.location).read_bytes())
        == signed_for(DictResult.store["v.pkl"])
        == signed_for(serializer.at("v.pkl").serialize(value))
    )
    from_file = LocalResult(dir=tmp_path, serializer=serializer).read("v.pkl").value
    from_bytes = DictResult(serializer=serializer).read("v.pkl").value
    if name == "function":
        assert from_file("a") == from_bytes("a") == "A"
    else:
        assert from_file == from_bytes == value


def test_a_streamed_file_is_read_by_the_legacy_handler_and_by_plain_pickle(tmp_path: Path) -> None:
    path = LocalResult(dir=tmp_path, location="v.pkl").write(VALUES["small"]).location
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        from compat.legacy import LocalResultHandler

        handler = LocalResultHandler(dir=tmp_path)
    assert handler.read(path) == VALUES["small"]
    assert pickle.loads(Path(path).read_bytes()) == VALUES["small"]


def test_a_file_written_by_the_legacy_handler_is_read_through_the_stream(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        from compat.legacy import LocalResultHandler

        uri = LocalResultHandler(dir=tmp_path).write(VALUES["large bytes"])
    assert LocalResult(dir=tmp_path).read(uri).value == VALUES["large bytes"]


def test_a_subclass_overriding_only_the_bytes_methods_is_still_called(tmp_path: Path) -> None:
    BytesOnlyLocal.calls = []
    result = BytesOnlyLocal(dir=tmp_path, location="v.pkl")
    written = result.write(VALUES["small"])
    assert result.read("v.pkl").value == VALUES["small"]
    assert BytesOnlyLocal.calls == ["write_bytes", "read_bytes"]
    assert Path(written.location).read_bytes() == zlib.compress(PickleSerializer().serialize(VALUES["small"]))


def test_a_backend_with_only_the_bytes_contract_works() -> None:
    DictResult.store = {}
    result = DictResult(location="{name}.pkl")
    assert result.write([1, 2], name="a").location == "a.pkl"
    assert result.read("a.pkl").value == [1, 2]
    with pytest.raises(ResultNotFound):
        result.read("b.pkl")


def test_a_serializer_overriding_only_the_bytes_methods_is_still_called(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl", serializer=ShoutingPickle())
    path = result.write("quiet").location
    assert pickle.loads(Path(path).read_bytes()) == "QUIET"
    assert result.read("v.pkl").value == "quiet"


def test_a_serializer_that_cannot_stream_stores_its_own_bytes(tmp_path: Path) -> None:
    path = LocalResult(dir=tmp_path, location="v.json", serializer=JSONSerializer()).write({"a": 1}).location
    assert Path(path).read_bytes() == b'{"a": 1}'
    assert LocalResult(dir=tmp_path, serializer=JSONSerializer()).read("v.json").value == {"a": 1}


def test_reading_a_large_value_does_not_hold_a_second_copy_of_it(tmp_path: Path) -> None:
    size = 16 * 1024 * 1024
    result = LocalResult(dir=tmp_path, location="big.pkl")
    result.write(os.urandom(size))
    tracemalloc.start()
    try:
        value = result.read("big.pkl").value
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(value) == size
    assert peak < 1.25 * size, f"reading {size} bytes peaked at {peak / size:.2f}x their size"


def test_a_signed_value_changed_on_disk_is_refused_before_unpickling(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl", serializer=PickleSerializer(signing_key="k"))
    path = Path(result.write(VALUES["large bytes"]).location)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="does not match the bytes"):
        result.read("v.pkl")


def test_an_unsigned_value_is_refused_while_signing(tmp_path: Path) -> None:
    LocalResult(dir=tmp_path, location="v.pkl").write(VALUES["small"])
    with pytest.raises(SerializationError, match="unsigned"):
        LocalResult(dir=tmp_path, serializer=PickleSerializer(signing_key="k")).read("v.pkl")
    trusting = PickleSerializer(signing_key="k", trust_unsigned=True)
    assert LocalResult(dir=tmp_path, serializer=trusting).read("v.pkl").value == VALUES["small"]


def test_a_value_that_cannot_be_pickled_leaves_nothing_behind(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.write("old")
    with pytest.raises(SerializationError, match="cannot serialize"):
        result.write((x for x in ()))
    assert result.read("v.pkl").value == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.pkl"]


@pytest.mark.parametrize("durable, fsyncs", [(True, 1), (False, 0)])
def test_durable_decides_whether_a_write_is_fsynced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool, fsyncs: int
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    result = LocalResult(dir=tmp_path, location="v.pkl", durable=durable)
    result.write(VALUES["small"])
    assert len(synced) == fsyncs
    assert result.read("v.pkl").value == VALUES["small"]


# -- S3: the pickle streamed into the upload, and read as it arrives ------------------------------------------------


class BytesOnlyS3(S3Result):
    """A user's S3Result subclass from before streaming existed, overriding only the bytes methods."""

    calls: list[str] = []

    def write_bytes(self, location: str | None, data: bytes) -> str:
        self.calls.append("write_bytes")
        return super().write_bytes(location, data)

    def read_bytes(self, location: str) -> bytes:
        self.calls.append("read_bytes")
        return super().read_bytes(location)


def stored_object(s3_client: Any, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]


@pytest.mark.parametrize("key", [None, "s3cret"], ids=["unsigned", "signed"])
@pytest.mark.parametrize("size", [1024, MULTIPART_THRESHOLD + 4096], ids=["one PUT", "multipart"])
def test_s3_streamed_upload_stores_the_bytes_of_serialize(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any, size: int, key: str | None
) -> None:
    value = os.urandom(size)
    serializer = PickleSerializer(signing_key=key)
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, location="v.pkl", serializer=serializer)
    result.write(value)
    assert signed_for(stored_object(s3_client, s3_bucket, "v.pkl")) == signed_for(serializer.at("v.pkl").serialize(value))
    assert result.read("v.pkl").value == value


def test_s3_subclass_overriding_only_the_bytes_methods_is_still_called(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any]
) -> None:
    BytesOnlyS3.calls = []
    result = BytesOnlyS3(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, location="v.pkl")
    result.write(VALUES["small"])
    assert result.read("v.pkl").value == VALUES["small"]
    assert BytesOnlyS3.calls == ["write_bytes", "read_bytes"]


def test_s3_object_of_the_legacy_handler_is_read_through_the_stream(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyResultWarning)
        from compat.legacy import S3ResultHandler

        uri = S3ResultHandler(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).write(VALUES["small"])
    assert S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs).read(uri).value == VALUES["small"]


def test_s3_object_changed_in_the_bucket_is_refused_when_signed(
    s3_bucket: str, s3_boto3_kwargs: dict[str, Any], s3_client: Any
) -> None:
    serializer = PickleSerializer(signing_key="k")
    result = S3Result(bucket=s3_bucket, boto3_kwargs=s3_boto3_kwargs, location="v.pkl", serializer=serializer)
    result.write(VALUES["small"])
    data = bytearray(stored_object(s3_client, s3_bucket, "v.pkl"))
    data[-3] ^= 1
    s3_client.put_object(Bucket=s3_bucket, Key="v.pkl", Body=bytes(data))
    with pytest.raises(SerializationError, match="does not match the bytes"):
        result.read("v.pkl")
