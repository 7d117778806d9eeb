"""``load_while_downloading``: a value loaded on a thread of its own while the download writes it, with real
threads and a download function standing in for an SDK's (it writes chunks to the file object it is given)."""

from __future__ import annotations

import io
import pickle
import threading

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
