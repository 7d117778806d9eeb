"""LocalResult writes are all-or-nothing, proven with real processes killed mid-write and racing writers."""

from __future__ import annotations

import itertools
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import compat.results._atomic as atomic
from compat import LocalResult, ResultNotFound, StorageError
from compat.results._atomic import _HOST, TEMP_PREFIX, remove_stale_temp_files

PAYLOAD = 8 * 1024 * 1024  # large enough that a kill usually lands inside a write

WRITER = textwrap.dedent(
    """
    import os, sys
    from compat import LocalResult, ResultNotFound

    directory, name, size, marker = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    result = LocalResult(dir=directory, location=name, durable=os.environ.get("DURABLE", "1") == "1")
    print("ready", flush=True)
    sys.stdin.readline()  # wait for "go", so racing writers start together
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else None
    i = 0
    while rounds is None or i < rounds:
        result.write(bytes([(marker + i) % 256]) * size)
        i += 1
    """
)


def start_writer(
    tmp_path: Path, marker: int, rounds: int | None = None, durable: bool = True
) -> subprocess.Popen[str]:
    script = tmp_path / "writer.py"
    if not script.exists():
        script.write_text(WRITER)
    args = [sys.executable, str(script), str(tmp_path / "out"), "value.pkl", str(PAYLOAD), str(marker)]
    if rounds is not None:
        args.append(str(rounds))
    env = {**os.environ, "DURABLE": "1" if durable else "0"}
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


def assert_complete_value(tmp_path: Path) -> None:
    value = LocalResult(dir=tmp_path / "out").read("value.pkl").value
    assert len(value) == PAYLOAD
    assert value == bytes([value[0]]) * PAYLOAD, "the stored value mixes two writes"


@pytest.mark.slow
@pytest.mark.parametrize("durable", [True, False], ids=["durable", "not-durable"])
def test_a_writer_killed_mid_write_never_leaves_a_partial_file(tmp_path: Path, durable: bool) -> None:
    rng = random.Random(16)
    kills = 15
    for attempt in range(kills):
        proc = start_writer(tmp_path, marker=attempt, durable=durable)
        go(proc)
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        location = tmp_path / "out" / "value.pkl"
        if location.exists():
            assert_complete_value(tmp_path)
    assert (tmp_path / "out" / "value.pkl").exists(), "no write completed in any attempt; the test proved nothing"


@pytest.mark.slow
def test_concurrent_writers_to_one_location_leave_exactly_one_complete_value(tmp_path: Path) -> None:
    writers = [start_writer(tmp_path, marker=m * 50, rounds=6) for m in range(3)]
    for proc in writers:
        go(proc)
    reads = 0
    while any(proc.poll() is None for proc in writers):  # a reader racing the writers sees whole values only
        try:
            assert_complete_value(tmp_path)
            reads += 1
        except ResultNotFound:
            pass
    for proc in writers:
        assert proc.wait(timeout=120) == 0
    assert_complete_value(tmp_path)
    leftovers = [p.name for p in (tmp_path / "out").iterdir() if p.name != "value.pkl"]
    assert leftovers == [], f"temporary files left behind: {leftovers}"
    assert reads > 0, "the reader never overlapped the writers; the test proved nothing"


def temp_files(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return [p.name for p in directory.iterdir() if p.name.startswith(TEMP_PREFIX)]


@pytest.mark.slow
def test_temp_files_of_sigkilled_writers_are_removed_by_the_next_write(tmp_path: Path) -> None:
    left = 0
    for attempt in range(6):
        proc = start_writer(tmp_path, marker=attempt)
        go(proc)
        deadline = time.monotonic() + 10
        while not temp_files(tmp_path / "out") and time.monotonic() < deadline:  # kill it inside a write
            time.sleep(0.001)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        left = max(left, len(temp_files(tmp_path / "out")))
    assert left > 0, "no writer was killed inside a write; the test proved nothing"
    LocalResult(dir=tmp_path / "out", location="other.pkl").write(1)
    assert temp_files(tmp_path / "out") == []


def test_the_temp_file_of_a_live_writer_is_kept(tmp_path: Path) -> None:
    live = tmp_path / f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{time.time_ns():x}-0000.tmp"
    live.write_bytes(b"in progress")
    assert remove_stale_temp_files(str(tmp_path)) == []
    assert live.exists()


def test_a_temp_file_whose_pid_now_belongs_to_a_younger_process_is_removed(tmp_path: Path) -> None:
    reused = tmp_path / f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{0:x}-0000.tmp"  # created at the epoch
    reused.write_bytes(b"left by a dead writer")
    assert remove_stale_temp_files(str(tmp_path)) == [str(reused)]


def test_a_temp_file_name_someone_else_took_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time_ns()  # after this process started: the sweeper takes the file for a live writer's
    monkeypatch.setattr(atomic, "time", SimpleNamespace(time_ns=lambda: now, monotonic=time.monotonic))
    monkeypatch.setattr(atomic, "_count", itertools.count(7))
    taken = tmp_path / f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{now:x}-7.tmp"
    taken.write_bytes(b"someone else's")
    LocalResult(dir=tmp_path, location="v.pkl").write(1)
    assert taken.read_bytes() == b"someone else's" and LocalResult(dir=tmp_path).read("v.pkl").value == 1


def test_an_overwrite_keeps_the_file_mode(tmp_path: Path) -> None:
    result = LocalResult(dir=tmp_path, location="private.pkl")
    result.write(1)
    os.chmod(tmp_path / "private.pkl", 0o600)
    result.write(2)
    assert stat.S_IMODE(os.stat(tmp_path / "private.pkl").st_mode) == 0o600
    assert result.read("private.pkl").value == 2


def test_an_overwrite_drops_setuid_setgid_and_world_write_from_a_planted_file(tmp_path: Path) -> None:
    planted = tmp_path / "v.pkl"
    planted.write_bytes(b"planted")
    os.chmod(planted, 0o6777)
    LocalResult(dir=tmp_path, location="v.pkl").write(1)
    assert stat.S_IMODE(os.stat(planted).st_mode) == 0o664
    assert LocalResult(dir=tmp_path).read("v.pkl").value == 1


@pytest.mark.parametrize(
    "value", [b"x" * 1000, list(range(100)), b"x" * (1024 * 1024)], ids=["small plain", "object", "large"]
)
def test_an_overwrite_keeps_group_write_that_the_umask_would_take(tmp_path: Path, value: object) -> None:
    result = LocalResult(dir=tmp_path, location="shared.pkl")
    result.write(1)
    os.chmod(tmp_path / "shared.pkl", 0o664)
    old = os.umask(0o022)
    try:
        result.write(value)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "shared.pkl").st_mode) == 0o664
    assert result.read("shared.pkl").value == value


def counting_os_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each ``os.write`` the atomic writes make from now on; making a file object fails the test."""
    writes: list[int] = []
    real_write = os.write

    def counted(fd: int, data: bytes) -> int:
        writes.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr(atomic, "open", lambda *args, **kwargs: pytest.fail("a file object was made"), raising=False)
    monkeypatch.setattr(atomic.os, "write", counted)
    return writes


def test_a_small_plain_value_is_written_in_one_call_without_a_file_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.write(b"old")
    writes = counting_os_writes(monkeypatch)
    result.write(b"x" * 1000)
    assert len(writes) == 1
    assert LocalResult(dir=tmp_path).read("v.pkl").value == b"x" * 1000


def test_a_small_value_whose_write_is_cut_short_is_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def short(fd: int, data: Any) -> int:  # as a write interrupted by a signal: some of it
        return real_write(fd, bytes(data[:100]))

    monkeypatch.setattr(atomic.os, "write", short)
    value = os.urandom(1000)
    LocalResult(dir=tmp_path, location="v.pkl").write(value)
    monkeypatch.undo()
    assert LocalResult(dir=tmp_path).read("v.pkl").value == value


def test_a_small_plain_value_with_a_record_is_written_in_one_call_and_its_record_names_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat.results.records import Provenance, bytes_hash
    from tests.records import payload

    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.provenance = Provenance(flow="f", task="t", run_id="r", code="code:1", inputs={})
    result.write(b"old")
    writes = counting_os_writes(monkeypatch)
    written = result.write(b"x" * 1000)
    stored = (tmp_path / "v.pkl").read_bytes()
    assert writes == [len(stored)]  # the value's bytes and its record after them, in one call, and nothing else
    assert written.written_record is not None and written.written_record.bytes_hash == bytes_hash(
        payload(tmp_path / "v.pkl")
    )
    assert not (tmp_path / "v.pkl.record.json").exists()
    assert result.record("v.pkl") == written.written_record


def test_a_small_plain_value_signed_is_written_in_one_call_for_its_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat import PickleSerializer
    from compat.results.signing import parse_header

    signed = LocalResult(dir=tmp_path, location="sub/v.pkl", serializer=PickleSerializer(signing_key="k"))
    signed.write(b"old")
    writes = counting_os_writes(monkeypatch)
    signed.write(b"x" * 1000)
    assert len(writes) == 1
    assert parse_header((tmp_path / "sub" / "v.pkl").read_bytes()).location == "sub/v.pkl"
    assert signed.read("sub/v.pkl").value == b"x" * 1000


@pytest.mark.parametrize("mode", [0o600, 0o660], ids=["already right", "taken by the umask"])
def test_a_file_system_refusing_modes_fails_a_write_only_if_the_mode_is_not_already_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    result = LocalResult(dir=tmp_path, location="v.pkl")
    result.write(1)
    os.chmod(tmp_path / "v.pkl", mode)

    def refused(fd: int, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(atomic, "_FCHMOD", refused)
    old = os.umask(0o022)  # leaves 0o600 as it is, takes group write from 0o660
    try:
        if mode == 0o600:
            result.write(2)
            assert LocalResult(dir=tmp_path).read("v.pkl").value == 2
        else:
            with pytest.raises(StorageError, match="Operation not permitted"):
                result.write(2)
            assert LocalResult(dir=tmp_path).read("v.pkl").value == 1
    finally:
        os.umask(old)


NAMESPACED_WRITER = textwrap.dedent(
    """
    import os, sys
    from compat import LocalResult

    directory, pid = sys.argv[1], int(sys.argv[2])
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:  # the writer gets the pid asked for, in its namespace
        f.write(str(pid - 1))
    child = os.fork()
    if child == 0:
        def dump(stream):
            stream.write(b"half")
            print("writing", flush=True)
            sys.stdin.readline()  # held mid-write until the test says so
            stream.write(b" and the rest")
        LocalResult(dir=directory, location="v.pkl").write_stream("v.pkl", dump)
        os._exit(0)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    """
)
UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]


def pid_free_here() -> int:
    """A pid no process of this PID namespace has, nor is likely to get during the test."""
    top = int(Path("/proc/sys/kernel/pid_max").read_text())
    return next(pid for pid in range(top // 2, top, 997) if not os.path.exists(f"/proc/{pid}"))


def test_the_temp_file_of_a_live_writer_in_another_pid_namespace_with_the_same_host_name_is_kept(
    tmp_path: Path,
) -> None:
    if subprocess.run([*UNSHARE, "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare cannot make a user and PID namespace here")
    pid = pid_free_here()  # the container's writer has a pid that, seen from here, is dead
    script = tmp_path / "writer.py"
    script.write_text(NAMESPACED_WRITER)
    writer = subprocess.Popen(
        [*UNSHARE, sys.executable, str(script), str(tmp_path), str(pid)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert writer.stdin is not None and writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "writing"
        (temp,) = temp_files(tmp_path)
        assert f"-{pid}-" in temp
        assert remove_stale_temp_files(str(tmp_path)) == []
        LocalResult(dir=tmp_path, location="other.pkl").write(1)  # a write here sweeps the directory too
        assert temp_files(tmp_path) == [temp]
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert (tmp_path / "v.pkl").read_bytes() == b"half and the rest"


def test_a_small_plain_value_without_a_location_is_written_in_one_call_without_a_file_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checkpoint of a task without a target (no location: ``new_location``) takes the one-call write too."""
    from compat.results.records import Provenance, bytes_hash
    from tests.records import payload

    result = LocalResult(dir=tmp_path)
    result.provenance = Provenance(flow="f", task="t", run_id="r", code="code:1", inputs={})
    writes = counting_os_writes(monkeypatch)
    written = result.write(b"x" * 1000)
    assert written.location is not None and os.path.dirname(written.location) == str(tmp_path)
    assert writes == [os.path.getsize(written.location)]  # no file object either (counting_os_writes)
    assert written.written_record is not None
    assert written.written_record.bytes_hash == bytes_hash(payload(written.location))
    assert LocalResult(dir=tmp_path).read(written.location).value == b"x" * 1000
