"""LocalResult.write/read against doing the same durable work by hand, side by side in one run.

Baseline write: pickle.dumps(protocol=5), a temporary file in the same directory, write, fsync, os.replace.
Baseline read: open + read + pickle.loads. Targets: 256 MB within 1.15x (write) and 1.10x (read); at 1 KB under
50 us added per operation. Then signed pickles (PickleSerializer(signing_key=...), HMAC-SHA256) against unsigned
ones through the same LocalResult: target 1.10x at 256 MB.
Run: .venv/bin/python benchmarks/results_io.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import pickle
import tempfile

from compat import LocalResult, PickleSerializer
from timing import median_time

SIZES = {"1 KB": 1024, "1 MB": 1024 * 1024, "256 MB": 256 * 1024 * 1024}
SIGNED_SIZES = {"1 KB": 1024, "256 MB": 256 * 1024 * 1024}


def baseline_write(directory: str, name: str, value: bytes) -> None:
    data = pickle.dumps(value, protocol=5)
    path = os.path.join(directory, name)
    fd, tmp = tempfile.mkstemp(dir=directory)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def baseline_read(directory: str, name: str) -> bytes:
    with open(os.path.join(directory, name), "rb") as f:
        return pickle.loads(f.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 256 MB payload")
    args = parser.parse_args()
    print(f"{'payload':>8} {'op':>5} {'baseline':>12} {'LocalResult':>12} {'ratio':>7} {'added/op':>10}")
    with tempfile.TemporaryDirectory() as directory:
        result = LocalResult(dir=directory, location="bench.pkl")
        for label, size in SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = 5 if size > 1024 * 1024 else 300
            # interleave the two sides so drift on a shared machine hits both alike
            pairs = [
                ("write", lambda: baseline_write(directory, "base.pkl", value), lambda: result.write(value)),
                ("read", lambda: baseline_read(directory, "base.pkl"), lambda: result.read("bench.pkl")),
            ]
            for op, base_fn, ours_fn in pairs:
                base_fn(), ours_fn()  # warm up
                base = min(median_time(base_fn, repeats), median_time(base_fn, repeats))
                ours = min(median_time(ours_fn, repeats), median_time(ours_fn, repeats))
                print(
                    f"{label:>8} {op:>5} {base * 1e3:>10.3f}ms {ours * 1e3:>10.3f}ms "
                    f"{ours / base:>6.2f}x {(ours - base) * 1e6:>8.1f}us"
                )

    print(f"\n{'payload':>8} {'op':>5} {'unsigned':>12} {'signed':>12} {'ratio':>7} {'added/op':>10}")
    with tempfile.TemporaryDirectory() as directory:
        unsigned = LocalResult(dir=directory, location="unsigned.pkl", serializer=PickleSerializer())
        signed = LocalResult(
            dir=directory, location="signed.pkl", serializer=PickleSerializer(signing_key=os.urandom(32))
        )
        for label, size in SIGNED_SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = 5 if size > 1024 * 1024 else 300
            pairs = [
                ("write", lambda: unsigned.write(value), lambda: signed.write(value)),
                ("read", lambda: unsigned.read("unsigned.pkl"), lambda: signed.read("signed.pkl")),
            ]
            for op, base_fn, ours_fn in pairs:
                base_fn(), ours_fn()
                base = min(median_time(base_fn, repeats), median_time(base_fn, repeats))
                ours = min(median_time(ours_fn, repeats), median_time(ours_fn, repeats))
                print(
                    f"{label:>8} {op:>5} {base * 1e3:>10.3f}ms {ours * 1e3:>10.3f}ms "
                    f"{ours / base:>6.2f}x {(ours - base) * 1e6:>8.1f}us"
                )


if __name__ == "__main__":
    main()
