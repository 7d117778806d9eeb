"""LocalResult.write/read against the same work done by hand at the same durability, side by side in one run.

Floors. Write: a temporary file beside the target (one ``open(O_EXCL)``), ``pickle.dump`` into it, fsync (durable
only), ``os.replace``. Read: ``pickle.load`` from the open file. LocalResult is measured with ``durable=True``
(the default) and ``durable=False``, each against its floor; fastest and median of the interleaved runs.
Peak memory of a read (tracemalloc, beyond the value itself, in multiples of the payload): the floor adds ~0.
Checkpointing: a flow of 1,000 independent tasks returning 1 KB, with no checkpoint (MemoryResult), LocalResult
durable and not; the cost per task of each checkpoint.

Records (issue 21): the same LocalResult write with and without a record (a ``Provenance`` set, as the engine sets
it), at 1 KB (target: the record costs <= 15% of a durable checkpoint) and 64 MB (target: the record costs nothing
beyond hashing the bytes once as they are written, so against a write without a record followed by one pass of
the record's own hash, BLAKE3 as ``HashingWriter`` makes it, over the bytes the ratio is about 1.0x); then a
1,000-task flow checkpointing 1 KB, records on and off (a LocalResult subclass with ``keeps_records = False``).

Then signed pickles (PickleSerializer(signing_key=...), keyed BLAKE3) against unsigned ones through the same
LocalResult: a signed file only we can change is verified where it lies (mapped), then unpickled from the file.
Targets (issue 22): 256 MB signed read <= 1.5x unsigned, write <= 1.25x; peak memory of a signed read no more than
one payload beyond the unsigned one; 1 KB signed read and write within +5 us of unsigned. The MACs that could sign
are timed over 256 MB in memory first (HMAC-SHA256, keyed BLAKE2b, keyed BLAKE3 on one thread and on all). The 1 KB
rows run on LocalResult and on MemoryResult too: in memory, the difference is what signing itself costs (binding,
header, MAC; on a read also the look-up of the target's record, for an older copy put back), without the spread of
a disk shared with other processes. The "1 KB read, recorded" row reads targets each written with its record, as a
task run's checkpoint is (a ``Provenance`` set): the signed read checks its bytes against the record file beside them
(an older copy put back is refused: one more open and read, the record's last fields, the file's ``fstat``); the
unsigned read of a target with its record (kept where LocalResult keeps an unsigned output's) reads only the bytes.

The two 1 KB signed rows on disk ("1 KB write", durable, and "1 KB write durable=False") run pair by pair
(``pair_by_pair``): one write of each side, one right after the other, each side first in every other pair, every
write timed, 2,000 pairs after 50 untimed ones. Each write's own disk work (the fsync, the rename over the old file,
freeing its block) varies by more than signing costs, and this VM's speed drifts between minutes: in rounds of 50
writes a side, the A/A difference (unsigned against unsigned through the same row) of the fastest swung by up to
25 us at durable=False and that of the medians by up to 800 us when durable (fsync medians of 0.2-3.5 ms, two
modes). Pairs meet the disk in the same moments, and their "+us paired" column is the median of the difference
within each pair (signed minus unsigned), which a median-of-each-side cannot be when fsync times have two modes.
They show more than the in-memory row, whose loop keeps signing's code and data in the caches: right after a
write to disk, which evicts them (as walking 4 MB of memory does), the same ``sign`` of 1 KB took 5.0-5.3 us here
against 2.2 us in a loop, and a checkpoint signs after its task's own work, not in a loop.
``--same unsigned`` (or ``signed``) makes both sides of every signed row alike: an A/A run, showing each row's
bias and spread (here, load 3.7-6.7: paired -0.2 to +1.7 us, fastest 0.0 to +2.9 us on both disk rows).

Under three 1 KB signed rows, a floor row does the same work by hand (``HandSigned``: no ``compat`` code runs while
timed), timed as the real row above it: how much of the real +us the format itself costs, how much is ours. Write
(durable and not, pair by pair): ``floor_write`` against the same calls writing the value pickled, then signed by
hand for its file name (the header as ``signing.header_bytes`` lays it out: the key id's prefix, time and length,
location; keyed BLAKE3 over header and payload, the tag appended). Read (interleaved rounds): ``floor_read``
against one read of the signed file through the same file object and system calls, the fixed header fields
parsed, key id and location compared, the ``os.access`` of a record beside it that LocalResult's signed read
makes, keyed BLAKE3 and ``hmac.compare_digest`` of the tag, ``pickle.loads`` of the payload. Before any timing,
``check_hand_signed`` checks the hand's bytes against ``signing.verify`` and a signing LocalResult both ways, so
the floor cannot drift from the format unnoticed. ``--same`` makes both floor sides alike too.

The 1 KB rows also run below a subdirectory of ``dir``, which LocalResult reaches one directory at a time without
following a link out of ``dir`` (a few more calls than the floor's one ``open``).

Targets: read of 100 MiB <= 1.15x ``pickle.load(f)``, adding <= 1.1x the payload to peak memory; 1 KB write and read
<= 1.15x the same-durability floor; ``durable=False`` checkpoint <= 0.5x the durable one of before (0.6-1.4 ms).
``--cpu`` times each round by the thread's CPU time (user and system) instead of wall time: other processes on a
shared machine disturb it less. The 1,000-task flow row too: its 1,000 fsyncs swing the wall time 2-3x.

Run: .venv/bin/python benchmarks/results_io.py [--quick] [--records] [--signed] [--cpu] [--repeats N] [--rounds N]
[--same unsigned|signed] (1 KB and 1 MB: 12 rounds of 50 runs per side, each side first in every other round;
100 MiB: 3 of 3; signed 256 MB: 5 rounds of 1; the signed 1 KB writes on disk: rounds x repeats pairs, 40 x 50 by
default; the records' 1,000-task flow: 20 rounds of one flow per side)
"""

from __future__ import annotations

import argparse
import gc
import hmac
import os
import pickle
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import blake3

from compat import Flow, LocalExecutor, LocalResult, MemoryResult, PickleSerializer, task
from compat.results.records import RECORD_SUFFIX, Provenance, new_hash
from compat.results.signing import (
    _FIXED, _TIME_LENGTH, FIXED_SIZE, SIGNED_MAGIC, TAG_SIZE, Keyring, keyring, verify,
)

SIZES = {"1 KB": 1024, "1 MB": 1024 * 1024, "100 MiB": 100 * 1024 * 1024}
RECORD_SIZES = {"1 KB": 1024, "64 MB": 64 * 1024 * 1024}
SIGNED_SIZES = {"1 KB": 1024, "256 MB": 256 * 1024 * 1024}


def floor_write(path: str, value: bytes, durable: bool) -> None:
    tmp = f"{path}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with open(fd, "wb") as f:
        pickle.dump(value, f, protocol=5)
        if durable:
            f.flush()
            os.fsync(fd)
    os.replace(tmp, path)


def floor_read(path: str) -> bytes:
    with open(path, "rb") as f:
        return pickle.load(f)  # type: ignore[no-any-return]


READ_AT_MOST = 1 << 16
"""The one read of a hand-verified read: a small file comes whole (a shorter answer than asked is its end)."""


class HandSigned:
    """The signed format (``SIGNED_MAGIC``) written and checked by hand, for the signed floors: the header laid out
    as ``signing.header_bytes`` lays it out, keyed BLAKE3 over header and payload, the tag last. The key id and
    BLAKE3's key are taken from a ``Keyring`` once; no ``compat`` code runs per write or read."""

    def __init__(self, keys: Keyring) -> None:
        raw_id = bytes.fromhex(keys.signer_id)
        self.raw_id = raw_id
        self.prefix = SIGNED_MAGIC + raw_id
        mac_key = keys.mac_key(raw_id)
        assert mac_key is not None  # the signer's own id
        self.mac = blake3.blake3(key=mac_key)  # one keyed state, reset after each use

    def sign(self, location: str, payload: bytes) -> bytes:
        encoded = location.encode()
        signed = b"".join((self.prefix, _TIME_LENGTH.pack(time.time_ns(), len(encoded)), encoded, payload))
        mac = self.mac
        mac.update(signed)
        tag = mac.digest()
        mac.reset()
        return signed + tag

    def write(self, path: str, location: str, value: bytes, durable: bool) -> None:
        """``floor_write`` of the signed bytes: the same calls, the value pickled then signed for ``location``."""
        tmp = f"{path}.{os.urandom(4).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, "wb") as f:
            f.write(self.sign(location, pickle.dumps(value, protocol=5)))
            if durable:
                f.flush()
                os.fsync(fd)
        os.replace(tmp, path)

    def read(self, path: str, location: str) -> Any:
        """The value at ``path`` once its header (magic, key id, ``location``) and tag are checked; with the look for
        a record beside it that LocalResult's signed read makes (``os.access``), and ``floor_read``'s system calls."""
        with open(path, "rb") as f:
            data = f.read1(READ_AT_MOST)
        magic, raw_id, _, length = _FIXED.unpack_from(data)
        size = FIXED_SIZE + length
        end = len(data) - TAG_SIZE
        if magic != SIGNED_MAGIC or raw_id != self.raw_id or end < size or data[FIXED_SIZE:size] != location.encode():
            raise ValueError(f"{path!r}: not signed for {location!r} with this key")
        os.access(path + RECORD_SUFFIX, os.F_OK)  # a record to check it against (none here, as in the real row)
        mac = self.mac
        mac.update(data[:end])
        same = hmac.compare_digest(mac.digest(), data[end:])
        mac.reset()
        if not same:
            raise ValueError(f"{path!r}: the tag does not match")
        return pickle.loads(data[size:end])


CLOCK = [time.perf_counter]
"""What a run is timed by: wall time, or (``--cpu``) the thread's CPU time, user and system, which other processes
on a shared machine disturb far less (a wait for the disk is not counted either)."""


def timings(fn: Callable[[], object], repeats: int) -> list[float]:
    """Each run's time; with ``--cpu``, the mean of the round's runs once (reading the thread's CPU clock is a
    system call, which timing each run would add to both sides alike)."""
    clock = CLOCK[0]
    if clock is not time.perf_counter:
        start = clock()
        for _ in range(repeats):
            fn()
        return [(clock() - start) / repeats]
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def side_by_side(base_fn: Callable[[], object], ours_fn: Callable[[], object], repeats: int, rounds: int = 3
                 ) -> tuple[list[float], list[float]]:
    """Interleaved rounds of both sides, each side first in every other round, so drift on a shared machine and
    whatever the previous side left behind (dirty pages, a journal commit) hit both alike."""
    base_fn(), ours_fn()  # warm up
    base: list[float] = []
    ours: list[float] = []
    for i in range(rounds):
        if i % 2:
            ours += timings(ours_fn, repeats)
            base += timings(base_fn, repeats)
        else:
            base += timings(base_fn, repeats)
            ours += timings(ours_fn, repeats)
    return base, ours


WARM_PAIRS = 50
"""Pairs run untimed before ``pair_by_pair`` times any: the first replace of a file just created was faster here
than any after it (41-44 us against 57-62 us at durable=False), and alone made one side's fastest."""


def pair_by_pair(base_fn: Callable[[], object], ours_fn: Callable[[], object], pairs: int
                 ) -> tuple[list[float], list[float]]:
    """``pairs`` runs of each side, one run of each right after the other, each side first in every other pair,
    every run timed (``--cpu``: by the thread's CPU time, whose reading then adds to both sides alike). The n-th
    times of the two lists are one pair's, made in the same moments of a shared disk (``paired_median``)."""
    clock = CLOCK[0]
    for _ in range(WARM_PAIRS):
        base_fn(), ours_fn()
    base: list[float] = []
    ours: list[float] = []
    for i in range(pairs):
        first, second = (base_fn, ours_fn) if i % 2 == 0 else (ours_fn, base_fn)
        start = clock()
        first()
        middle = clock()
        second()
        end = clock()
        base_time, ours_time = (middle - start, end - middle) if i % 2 == 0 else (end - middle, middle - start)
        base.append(base_time)
        ours.append(ours_time)
    return base, ours


def paired_median(base: list[float], ours: list[float]) -> float:
    """The median of the difference within each pair of ``pair_by_pair``'s times (ours minus base)."""
    return statistics.median(o - b for b, o in zip(base, ours))


def row(label: str, base: list[float], ours: list[float]) -> None:
    fast_b, fast_o = min(base), min(ours)
    med_b, med_o = statistics.median(base), statistics.median(ours)
    print(f"{label:>26} {fast_b * 1e3:>9.3f} {fast_o * 1e3:>9.3f} {fast_o / fast_b:>6.2f}x "
          f"{med_b * 1e3:>9.3f} {med_o * 1e3:>9.3f} {med_o / med_b:>6.2f}x")


def peak_added(fn: Callable[[], object], payload: int) -> float:
    """Peak traced memory while ``fn`` runs, beyond what it returns, in multiples of ``payload``."""
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del value
    finally:
        tracemalloc.stop()
    return (peak - payload) / payload


@task
def one_kb(i: int) -> bytes:
    return bytes(1024)


def flow_seconds(result: object, n: int = 1000) -> float:
    with Flow("checkpoints", result=result) as flow:  # type: ignore[arg-type]
        for i in range(n):
            one_kb(i)
    clock = CLOCK[0]  # with --cpu, the thread's CPU time: the record's work without the fsyncs' swing
    start = clock()
    state = flow.run(executor=LocalExecutor())
    assert state.is_successful(), state.message
    return clock() - start


class Unrecorded(LocalResult):
    """LocalResult with records turned off: the side without them."""

    keeps_records = False


def recording(result: LocalResult) -> LocalResult:
    made = result.copy()
    made.provenance = Provenance(flow="bench", task="write", run_id="r", code="sha256:0", inputs={"i": "sha256:1"})
    return made


def record_rows(directory: str, quick: bool, repeats_given: int, rounds_given: int) -> None:
    """The record's cost on a write, at 1 KB and 64 MB, and on a flow of 1 KB checkpoints."""
    print(f"{'without / with record, ms':>26} {'without':>9} {'with':>9} {'ratio':>7}")
    for label, size in RECORD_SIZES.items():
        if quick and size > 1024 * 1024:
            continue
        value = os.urandom(size)
        repeats = repeats_given or (3 if size > 1024 * 1024 else 50)
        rounds = rounds_given or (3 if size > 1024 * 1024 else 12)
        plain = LocalResult(dir=directory, location="plain.pkl")
        recorded = recording(LocalResult(dir=directory, location="recorded.pkl"))
        base, ours = side_by_side(lambda: plain.write(value), lambda: recorded.write(value), repeats, rounds)
        row(f"{label} write", base, ours)
        if size > 1024 * 1024:
            def plain_then_hash() -> None:  # one pass of the record's own hash (BLAKE3) over the bytes, no copy
                plain.write(value)
                hashing = new_hash()
                hashing.update(value)
                hashing.digest()

            base, ours = side_by_side(plain_then_hash, lambda: recorded.write(value), repeats, rounds)
            row(f"{label} write+1 hash pass", base, ours)
        del value
    # 20 rounds of one 1,000-task flow per side (each side first in every other round): a round's 1,000 fsyncs swing
    # its wall time 2-3x on a shared disk, so 6 rounds left the fastest and the median to one or two lucky rounds
    flows = rounds_given or 20
    off: list[float] = []
    on: list[float] = []
    for i in range(flows):  # interleaved, each side first in every other round
        sides = [(off, Unrecorded), (on, LocalResult)]
        for times, kind in sides if i % 2 == 0 else sides[::-1]:
            times.append(flow_seconds(kind(dir=os.path.join(directory, f"flow-{kind.__name__}-{i}"))))
    row("1,000-task flow, 1 KB", off, on)


def mac_rates(size: int = 256 * 1024 * 1024, rounds: int = 3) -> None:
    """GB/s of each MAC that could sign, over ``size`` bytes in memory (fastest of ``rounds``)."""
    import hashlib
    import hmac

    import blake3

    data, key = os.urandom(size), os.urandom(32)
    macs: dict[str, Callable[[], object]] = {
        "HMAC-SHA256": lambda: hmac.new(key, data, "sha256").digest(),
        "keyed BLAKE2b": lambda: hashlib.blake2b(data, key=key).digest(),
        "keyed BLAKE3, 1 thread": lambda: blake3.blake3(data, key=key).digest(),
        "keyed BLAKE3, AUTO threads": lambda: blake3.blake3(data, key=key, max_threads=blake3.blake3.AUTO).digest(),
    }
    print(f"MAC over {size // 2**20} MiB in memory (fastest of {rounds}): " + ", ".join(
        f"{name} {size / min(timings(fn, rounds)) / 1e9:.2f} GB/s" for name, fn in macs.items()
    ))


def signed_rows(directory: str, args: argparse.Namespace) -> None:
    """Signed against unsigned through the same LocalResult, interleaved; peak memory of the 256 MB read."""
    if not args.quick:
        mac_rates()
    print(f"{'unsigned / signed, ms':>26} {'unsigned':>9} {'signed':>9} {'ratio':>7} {'unsigned':>9} {'signed':>9} "
          f"{'ratio':>7} {'+us fastest':>11} {'+us median':>10} {'+us paired':>10}")
    secret = os.urandom(32)
    plain, key = PickleSerializer(), PickleSerializer(signing_key=secret)
    hand = HandSigned(keyring(secret))
    check_hand_signed(hand, key, directory)
    if args.same:  # A/A: both sides alike, each still at its own location
        print(f"A/A: both sides {args.same}")
        plain = key = plain if args.same == "unsigned" else key
    unsigned = LocalResult(dir=directory, location="unsigned.pkl", serializer=plain)
    signed = LocalResult(dir=directory, location="signed.pkl", serializer=key)
    floor = (  # the floor rows' sides, each at its own path: A/A as the real ones
        (args.same or "unsigned", os.path.join(directory, "floor-base.pkl")),
        (args.same or "signed", os.path.join(directory, "floor-ours.pkl")),
    )
    pairs = (args.rounds or 40) * (args.repeats or 50)
    for label, size in SIGNED_SIZES.items():
        if args.quick and size > 1024 * 1024:
            continue
        value = os.urandom(size)
        repeats = args.repeats or (1 if size > 1024 * 1024 else 50)
        rounds = args.rounds or (5 if size > 1024 * 1024 else 12)
        if size <= 1024:  # each write's disk work varies by more than signing costs: pair by pair
            base, ours = pair_by_pair(lambda: unsigned.write(value), lambda: signed.write(value), pairs)
            signed_row(f"{label} write", base, ours, paired=True)
            base_side, ours_side = (floor_writer(hand, kind, path, value, True) for kind, path in floor)
            base, ours = pair_by_pair(base_side, ours_side, pairs)
            signed_row(f"{label} write, floor", base, ours, paired=True)
        else:
            base, ours = side_by_side(lambda: unsigned.write(value), lambda: signed.write(value), repeats, rounds)
            signed_row(f"{label} write", base, ours)
        base, ours = side_by_side(
            lambda: unsigned.read("unsigned.pkl"), lambda: signed.read("signed.pkl"), repeats, rounds
        )
        signed_row(f"{label} read", base, ours)
        if size <= 1024:
            base_side, ours_side = (floor_reader(hand, kind, path) for kind, path in floor)
            base, ours = side_by_side(base_side, ours_side, repeats, rounds)
            signed_row(f"{label} read, floor", base, ours)
        if size <= 1024:  # each written with its record, as a task run writes a checkpoint (Provenance set)
            recording(unsigned).write(value)  # the record where LocalResult keeps it; an unsigned read never reads it
            recording(signed).write(value)  # the record file beside it, which the signed read checks it against
            base, ours = side_by_side(
                lambda: unsigned.read("unsigned.pkl"), lambda: signed.read("signed.pkl"), repeats, rounds
            )
            signed_row(f"{label} read, recorded", base, ours)
        if size > 1024 * 1024:
            plain_peak = peak_added(lambda: unsigned.read("unsigned.pkl").value, size)
            signed_peak = peak_added(lambda: signed.read("signed.pkl").value, size)
            print(f"{label} read, peak memory beyond the value: unsigned {plain_peak:.2f}x, signed {signed_peak:.2f}x "
                  "the payload")
        if size <= 1024:  # in memory: what signing itself costs, without a disk whose spread hides microseconds
            memory_unsigned = MemoryResult(location="bench-unsigned.pkl", serializer=plain)
            memory_signed = MemoryResult(location="bench-signed.pkl", serializer=key)
            base, ours = side_by_side(
                lambda: memory_unsigned.write(value), lambda: memory_signed.write(value), repeats, rounds
            )
            signed_row(f"{label} write in memory", base, ours)
            base, ours = side_by_side(
                lambda: memory_unsigned.read("bench-unsigned.pkl"), lambda: memory_signed.read("bench-signed.pkl"),
                repeats, rounds,
            )
            signed_row(f"{label} read in memory", base, ours)
        if size <= 1024 * 1024:  # without fsync, whose spread hides a few microseconds
            scratch_unsigned = LocalResult(dir=directory, location="unsigned.pkl", serializer=plain, durable=False)
            scratch_signed = LocalResult(dir=directory, location="signed.pkl", serializer=key, durable=False)
            base, ours = pair_by_pair(lambda: scratch_unsigned.write(value), lambda: scratch_signed.write(value), pairs)
            signed_row(f"{label} write durable=False", base, ours, paired=True)
            if size <= 1024:
                base_side, ours_side = (floor_writer(hand, kind, path, value, False) for kind, path in floor)
                base, ours = pair_by_pair(base_side, ours_side, pairs)
                signed_row(f"{label} write d=False, floor", base, ours, paired=True)
        del value


def check_hand_signed(hand: HandSigned, key: PickleSerializer, directory: str) -> None:
    """The floor's format is the real one, checked before anything is timed: bytes signed by hand verify with
    ``signing.verify``, a file written by hand reads back by hand and through a signing LocalResult, and a file the
    LocalResult signs reads back by hand."""
    value = os.urandom(1024)
    keys = key.keyring
    assert keys is not None
    payload = pickle.dumps(value, protocol=5)
    if bytes(verify(keys, hand.sign("floor.pkl", payload), "floor.pkl")[1]) != payload:
        raise RuntimeError("bytes signed by hand do not verify as signing.verify reads them: fix HandSigned")
    hand.write(os.path.join(directory, "floor.pkl"), "floor.pkl", value, False)
    real = LocalResult(dir=directory, location="floor-real.pkl", serializer=key)
    real.write(value)
    if not (
        hand.read(os.path.join(directory, "floor.pkl"), "floor.pkl") == value
        and real.read("floor.pkl").value == value
        and hand.read(os.path.join(directory, "floor-real.pkl"), "floor-real.pkl") == value
    ):
        raise RuntimeError("the hand-signed floor and LocalResult disagree on a value: fix HandSigned")


def floor_writer(hand: HandSigned, kind: str, path: str, value: bytes, durable: bool) -> Callable[[], object]:
    """A write floor row's side at ``path``: ``floor_write`` (``unsigned``) or ``HandSigned.write`` (``signed``)."""
    if kind == "unsigned":
        return lambda: floor_write(path, value, durable)
    location = os.path.basename(path)
    return lambda: hand.write(path, location, value, durable)


def floor_reader(hand: HandSigned, kind: str, path: str) -> Callable[[], object]:
    """A read floor row's side at ``path``: ``floor_read`` (``unsigned``) or ``HandSigned.read`` (``signed``)."""
    if kind == "unsigned":
        return lambda: floor_read(path)
    location = os.path.basename(path)
    return lambda: hand.read(path, location)


def signed_row(label: str, base: list[float], ours: list[float], paired: bool = False) -> None:
    """``paired``: the times are ``pair_by_pair``'s, and the row ends with their ``paired_median``."""
    fast_b, fast_o = min(base), min(ours)
    med_b, med_o = statistics.median(base), statistics.median(ours)
    print(f"{label:>26} {fast_b * 1e3:>9.3f} {fast_o * 1e3:>9.3f} {fast_o / fast_b:>6.2f}x "
          f"{med_b * 1e3:>9.3f} {med_o * 1e3:>9.3f} {med_o / med_b:>6.2f}x "
          f"{(fast_o - fast_b) * 1e6:>11.1f} {(med_o - med_b) * 1e6:>10.1f}"
          + (f" {paired_median(base, ours) * 1e6:>10.1f}" if paired else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 100 MiB payload")
    parser.add_argument("--records", action="store_true", help="only the records' rows")
    parser.add_argument("--signed", action="store_true", help="only the MACs and signed against unsigned")
    parser.add_argument("--repeats", type=int, default=0, help="runs per round (default: by payload size)")
    parser.add_argument("--rounds", type=int, default=0, help="interleaved rounds (default: by payload size)")
    parser.add_argument("--cpu", action="store_true", help="time by the thread's CPU time instead of wall time")
    parser.add_argument("--same", choices=("unsigned", "signed"), default="",
                        help="A/A: both sides of the signed rows unsigned (or signed), to show their bias and spread")
    args = parser.parse_args()
    if args.cpu:
        CLOCK[0] = time.thread_time
        print("timed by the thread's CPU time (user + system), not wall time")
    print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    print(f"{'ms':>26} {'floor':>9} {'ours':>9} {'ratio':>7} {'floor':>9} {'ours':>9} {'ratio':>7}")
    print(f"{'':>26} {'-- fastest --':>27} {'-- median --':>27}")
    if args.records or args.signed:
        with tempfile.TemporaryDirectory() as directory:
            if args.records:
                record_rows(directory, args.quick, args.repeats, args.rounds)
            if args.signed:
                signed_rows(directory, args)
        print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
        return
    with tempfile.TemporaryDirectory() as directory:
        for label, size in SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = args.repeats or (3 if size > 1024 * 1024 else 50)
            rounds = args.rounds or (3 if size > 1024 * 1024 else 12)
            base_path = os.path.join(directory, "floor.pkl")
            for durable in (True, False):
                result = LocalResult(dir=directory, location="ours.pkl", durable=durable)
                base, ours = side_by_side(
                    lambda: floor_write(base_path, value, durable), lambda: result.write(value), repeats, rounds
                )
                row(f"{label} write durable={durable}", base, ours)
            base, ours = side_by_side(
                lambda: floor_read(base_path), lambda: result.read("ours.pkl"), repeats, rounds
            )
            row(f"{label} read", base, ours)
            if size == 1024:  # below dir: reached through its directory, one name at a time (compat.results._beneath)
                below = LocalResult(dir=directory, location="sub/ours.pkl", durable=False)
                floor_below = os.path.join(directory, "sub", "floor.pkl")
                os.makedirs(os.path.dirname(floor_below), exist_ok=True)
                base, ours = side_by_side(
                    lambda: floor_write(floor_below, value, False), lambda: below.write(value), repeats, rounds
                )
                row(f"{label} sub/ write d=False", base, ours)
                base, ours = side_by_side(
                    lambda: floor_read(floor_below), lambda: below.read("sub/ours.pkl"), repeats, rounds
                )
                row(f"{label} sub/ read", base, ours)
            if size > 1024 * 1024:
                floor_peak = peak_added(lambda: floor_read(base_path), size)
                ours_peak = peak_added(lambda: result.read("ours.pkl").value, size)
                print(f"{label} read, peak memory beyond the value: floor {floor_peak:.2f}x, ours {ours_peak:.2f}x "
                      "the payload")
            del value

        memory = [flow_seconds(MemoryResult()) for _ in range(2)]
        durable_flow = [flow_seconds(LocalResult(dir=os.path.join(directory, "d"))) for _ in range(2)]
        scratch_flow = [flow_seconds(LocalResult(dir=os.path.join(directory, "s"), durable=False)) for _ in range(2)]
        per_task = {
            "durable=True": (min(durable_flow) - min(memory)) / 1000,
            "durable=False": (min(scratch_flow) - min(memory)) / 1000,
        }
        print(f"1,000-task flow, 1 KB each: MemoryResult {min(memory):.2f}s; checkpoint per task: "
              + ", ".join(f"{name} {cost * 1e3:.3f} ms" for name, cost in per_task.items())
              + f" ({per_task['durable=False'] / per_task['durable=True']:.2f}x)")

        record_rows(directory, args.quick, args.repeats, args.rounds)

        signed_rows(directory, args)
    print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
