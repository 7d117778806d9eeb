"""Nothing leads out of a LocalResult's ``dir``, even while another process swaps a directory inside it for a link to
outside: writes, their temporary files, reads, look-ups and keep-aside stay inside, and every failure is one of
ours. Each race runs a bounded number of swaps (a few thousand, a couple of seconds) and must show zero escapes."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from compat import LocalResult, LocationError, ResultError

SWAPS = 3000
SECONDS = 2.0

SWAPPER = textwrap.dedent(
    """
    import os, sys, time

    sub, outside, rounds, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    away = sub + ".away"
    print("ready", flush=True)
    sys.stdin.readline()
    swaps, deadline = 0, time.monotonic() + seconds
    names = iter(range(10**9))  # a fresh name for each directory moved aside (two in one swap must not collide)
    while swaps < rounds and time.monotonic() < deadline:
        try:
            os.rename(sub, away)  # the real directory out of the way...
        except OSError:
            continue
        try:
            os.symlink(outside, sub)  # ...a link to outside in its place...
        except FileExistsError:  # the writer made a new directory meanwhile: keep it, drop the old one's name
            os.rename(away, f"{away}-{next(names)}")
            continue
        swaps += 1
        time.sleep(0.0001)  # each state held a moment, so that calls meet both
        os.unlink(sub)  # ...and the real directory back
        while True:
            try:
                os.rename(away, sub)
                break
            except OSError:  # the writer made a new directory meanwhile: move it aside too
                os.rename(sub, f"{away}-made-{next(names)}")
        time.sleep(0.0001)
    print(swaps, flush=True)
    """
)


class Planted:
    """A pickle whose loading touches ``marker``: proof that a file outside ``dir`` was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``results/sub`` (a real directory, to be swapped) and ``outside`` (what the link leads to)."""
    (tmp_path / "results" / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    return tmp_path / "results", tmp_path / "outside"


def race(layout: tuple[Path, Path], tmp_path: Path, operation: Callable[[], object]) -> dict[str, int]:
    """Run ``operation`` over and over while a separate process swaps ``results/sub`` for a link to outside;
    count how each call ended. Any exception that is not one of ours fails the test."""
    results, outside = layout
    script = tmp_path / "swapper.py"
    script.write_text(SWAPPER)
    swapper = subprocess.Popen(
        [sys.executable, str(script), str(results / "sub"), str(outside), str(SWAPS), str(SECONDS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert swapper.stdout is not None and swapper.stdin is not None
    assert swapper.stdout.readline().strip() == "ready"
    swapper.stdin.write("go\n")
    swapper.stdin.flush()
    ended = {"returned": 0, "refused as a link": 0, "other error of ours": 0}
    try:
        while swapper.poll() is None:
            try:
                operation()
                ended["returned"] += 1
            except LocationError as exc:
                ended["refused as a link" if "symbolic link" in str(exc) else "other error of ours"] += 1
            except ResultError:
                ended["other error of ours"] += 1
    finally:
        if swapper.poll() is None:
            swapper.kill()
        swapper.wait()
    assert swapper.returncode == 0, "the swapper failed"
    swaps = int(swapper.stdout.read().strip() or 0)
    assert swaps > 100, f"only {swaps} swaps: the race proved nothing"
    assert ended["refused as a link"] > 0, f"no call met the link: the race proved nothing ({ended})"
    return ended


@pytest.mark.skipif(os.name == "nt", reason="Windows has no O_NOFOLLOW nor dir_fd=: links are looked for first")
def test_posix_reaches_files_below_dir_through_directory_descriptors() -> None:
    from compat.results import _beneath

    assert _beneath.AT_SUPPORTED and _beneath.NOFOLLOW == os.O_NOFOLLOW


def everything_in(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


def test_writes_through_a_directory_swapped_for_a_link_never_land_outside(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    results, outside = layout
    result = LocalResult(dir=results, location="sub/v.pkl", durable=False)
    race(layout, tmp_path, lambda: result.write(b"x" * 1024))
    assert everything_in(outside) == [], "a write or its temporary file landed outside dir"


ABSOLUTE = pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute, as the engine passes it"])


def location_of(results: Path, absolute: bool) -> str:
    return str(results / "sub" / "v.pkl") if absolute else "sub/v.pkl"


@ABSOLUTE
def test_reads_through_a_directory_swapped_for_a_link_never_unpickle_outside(
    layout: tuple[Path, Path], tmp_path: Path, absolute: bool
) -> None:
    results, outside = layout
    marker = tmp_path / "ran"
    (outside / "v.pkl").write_bytes(pickle.dumps(Planted(marker)))
    LocalResult(dir=results, location="sub/v.pkl").write("mine")
    result = LocalResult(dir=results)
    location = location_of(results, absolute)
    ended = race(layout, tmp_path, lambda: result.read(location))
    assert not marker.exists(), "a file outside dir was unpickled"
    assert ended["returned"] > 0


def test_look_ups_through_a_directory_swapped_for_a_link_never_see_outside(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    results, outside = layout
    (outside / "v.pkl").write_bytes(b"outside")
    result = LocalResult(dir=results)
    found = []

    def look() -> None:
        if result.exists_at("sub/v.pkl"):  # nothing is stored inside: True could only come from outside
            found.append(result.modified_at("sub/v.pkl"))

    race(layout, tmp_path, look)
    assert found == []


@ABSOLUTE
def test_keep_aside_through_a_directory_swapped_for_a_link_never_moves_files_outside(
    layout: tuple[Path, Path], tmp_path: Path, absolute: bool
) -> None:
    results, outside = layout
    (outside / "v.pkl").write_bytes(b"not yours")
    result = LocalResult(dir=results, location="sub/v.pkl", durable=False)
    location = location_of(results, absolute)

    def keep_aside_again() -> None:
        try:
            (results / "sub" / "v.pkl").write_bytes(b"unreadable")  # may land outside: the swapper's doing, not ours
        except OSError:  # the directory is away for a moment
            pass
        result.keep_aside(location)

    race(layout, tmp_path, keep_aside_again)
    kept_outside = [name for name in everything_in(outside) if ".unreadable-" in name]
    assert kept_outside == [], "keep-aside renamed files outside dir"

