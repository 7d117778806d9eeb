"""``load_while_downloading``: a value loaded on a thread of its own while the download writes it, with real
threads and a download function standing in for an SDK's (it writes chunks to the file object it is given)."""

from __future__ import annotations

import io
import os
import pickle
import threading
import time

import pytest

from compat.results import _cloud
from compat.results._cloud import ReadStopped, load_while_downloading

CHUNK = 8192


def _chunks(data: bytes) -> list[bytes]:
    return [data[at : at + CHUNK] for at in range(0, len(data), CHUNK)]


@pytest.fixture(autouse=True)
def _small_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cloud, "_PIPE_SPILL", 64 * 1024)
    monkeypatch.setattr(_cloud, "_PIPE_LIMIT", 128 * 1024)
    monkeypatch.setattr(_cloud, "_PIPE_WAKE", 16 * 1024)


def test_a_large_value_is_loaded_on_another_thread_while_the_download_writes_it() -> None:
    data = pickle.dumps(bytes(range(256)) * 4096)  # 1 MB: past the spill
    loaded_on: list[threading.Thread] = []

    def load(stream: io.BufferedReader) -> object:
        loaded_on.append(threading.current_thread())
        return pickle.load(stream)

    value = load_while_downloading(lambda file: [file.write(chunk) for chunk in _chunks(data)], load)
    assert value == pickle.loads(data)
    assert loaded_on != [threading.current_thread()]


def test_a_small_value_is_loaded_here_once_it_has_arrived() -> None:
    data = pickle.dumps("small")
    loaded_on: list[threading.Thread] = []

    def load(stream: io.BufferedReader) -> object:
        loaded_on.append(threading.current_thread())
        return pickle.load(stream)

    assert load_while_downloading(lambda file: file.write(data), load) == "small"
    assert loaded_on == [threading.current_thread()]


def test_the_download_never_runs_more_than_the_limit_ahead_of_the_loader() -> None:
    data = pickle.dumps(b"x" * 2_000_000)
    waiting: list[int] = []

    def download(file: _cloud.Piped) -> None:
        for chunk in _chunks(data):
            file.write(chunk)
            waiting.append(file._written - file._read)  # bytes written and not yet read by the loader

    def slow_load(stream: io.BufferedReader) -> object:
        parts = []
        while part := stream.read(4096):  # a loader far slower than the download
            parts.append(part)
        return pickle.loads(b"".join(parts))

    assert load_while_downloading(download, slow_load) == pickle.loads(data)
    assert max(waiting) <= _cloud._PIPE_LIMIT + CHUNK


def test_a_download_that_fails_raises_its_error_not_what_the_loader_made_of_the_bytes() -> None:
    data = pickle.dumps(b"y" * 1_000_000)

    def download(file: io.RawIOBase) -> None:
        for chunk in _chunks(data)[:40]:  # past the spill, then the connection breaks
            file.write(chunk)
        raise ConnectionError("cut short")

    with pytest.raises(ConnectionError, match="cut short"):
        load_while_downloading(download, pickle.load)


def test_a_load_that_fails_stops_the_download_at_its_next_write() -> None:
    writes_after_the_failure: list[int] = []
    failed = threading.Event()

    def download(file: io.RawIOBase) -> None:
        for _ in range(10_000):  # 80 MB if nothing stopped it
            if failed.is_set():
                writes_after_the_failure.append(1)
            file.write(b"z" * CHUNK)

    def load(stream: io.BufferedReader) -> object:
        stream.read(1)
        failed.set()
        raise ValueError("untrusted")

    with pytest.raises(ValueError, match="untrusted"):
        load_while_downloading(download, load)
    assert len(writes_after_the_failure) <= (_cloud._PIPE_LIMIT // CHUNK) + 2


def test_read_stopped_is_what_the_download_meets_once_the_loader_stopped() -> None:
    pipe = _cloud.Piped(on_spill=lambda: None)
    pipe.stop()
    with pytest.raises(ReadStopped):
        pipe.write(b"late")


def _reading(pipe: _cloud.Piped, size: int) -> tuple[threading.Thread, list[bytes]]:
    """A reader thread making one ``readinto`` of ``size`` bytes, started once it is given the download's bytes."""
    got: list[bytes] = []

    def read() -> None:
        buffer = bytearray(size)
        got.append(bytes(buffer[: pipe.readinto(buffer)]))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(500):  # at most 5 s for the reader to hand its buffer to the download
        if pipe._target is not None or not reader.is_alive():
            break
        time.sleep(0.01)
    return reader, got


def test_a_large_read_is_written_into_by_the_download_after_what_was_queued_before() -> None:
    pipe = _cloud.Piped(on_spill=lambda: None)
    pipe.write(b"a" * 10)  # queued: no reader yet
    reader, got = _reading(pipe, 64 * 1024)
    assert pipe._target is not None  # the reader waits for its buffer to fill
    for _ in range(7):
        pipe.write(b"b" * CHUNK)
    pipe.write(b"c" * CHUNK)  # fills the buffer and goes past it
    reader.join(timeout=10)
    assert got == [b"a" * 10 + b"b" * 7 * CHUNK + b"c" * (CHUNK - 10)]
    assert pipe._written == 10 + 10  # only what went through the queue: the 10 bytes before, the 10 after
    rest = bytearray(100)
    pipe.end()
    assert bytes(rest[: pipe.readinto(rest)]) == b"c" * 10


def test_a_large_read_waiting_when_the_download_ends_gets_what_arrived() -> None:
    pipe = _cloud.Piped(on_spill=lambda: None)
    reader, got = _reading(pipe, 64 * 1024)
    pipe.write(b"d" * 100)
    pipe.end()
    reader.join(timeout=10)
    assert got == [b"d" * 100]


@pytest.mark.parametrize("chunk", [CHUNK, 1000, 100_000])
def test_values_load_whole_whatever_the_download_s_chunks(chunk: int) -> None:
    data = pickle.dumps([os.urandom(300_000), b"x" * 5, os.urandom(700_000)], protocol=5)
    for _ in range(20):  # the reader hands over its buffer at a different moment each time
        value = load_while_downloading(
            lambda file: [file.write(data[at : at + chunk]) for at in range(0, len(data), chunk)], pickle.load
        )
        assert value == pickle.loads(data)
