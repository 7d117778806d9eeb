"""S3Result.write/read against raw boto3 doing the same requests with the same bytes, side by side in one run.

A moto S3 server is started in a child process on 127.0.0.1 (so it does not share this process's GIL) and both
sides talk to it over HTTP with one client each. The payload is ``os.urandom(size)``: S3Result pickles the value
straight into the upload (the value's bytes are sent from where they are) and unpickles it as it arrives.

Rows (fastest and median of interleaved runs):
- ``write``: one PUT each side, ``put_object`` of the bytes against ``S3Result(multipart_threshold=...)`` set above
  the payload. ``read``: ``get_object(...)["Body"].read()`` against ``S3Result.read`` (which also unpickles).
- ``write*`` (64 MB): S3Result's default, a multipart upload of 8 MiB parts sent by its own threads, against
  boto3's managed transfer (``upload_fileobj``, the same parts). ``write**``: the same default against
  ``put_object``, to show what a multipart upload costs on this server: moto assembles the parts in Python after
  the last one arrives, which S3 does not make the client wait for in that way, so this row is the server's, not
  this package's (the default stays multipart: on S3 parts travel in parallel).
Targets: 64 MB write <= 1.15x the same requests by hand, read <= 1.10x get_object.
Run: .venv/bin/python benchmarks/s3_io.py [--quick]
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import boto3

from compat import S3Result

SIZES = {"1 KB": 1024, "64 MB": 64 * 1024 * 1024}
BUCKET = "bench"


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in a child process; yields its endpoint URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def side_by_side(
    raw_fn: Callable[[], object], ours_fn: Callable[[], object], repeats: int
) -> tuple[list[float], list[float]]:
    """Times of the two sides, run alternately so that drift on a shared machine hits both alike."""
    raw, ours = [], []
    for _ in range(repeats):
        raw.append(timed(raw_fn))
        ours.append(timed(ours_fn))
    return raw, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 64 MB payload")
    args = parser.parse_args()
    with moto_server() as endpoint:
        boto3_kwargs = {
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        client = boto3.session.Session().client("s3", **boto3_kwargs)
        client.create_bucket(Bucket=BUCKET)
        result = S3Result(bucket=BUCKET, boto3_kwargs=boto3_kwargs, location="ours.pkl")
        one_put = S3Result(bucket=BUCKET, boto3_kwargs=boto3_kwargs, location="ours.pkl",
                           multipart_threshold=2 * max(SIZES.values()))
        print("load average (1, 5, 15 min) before: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
        print(f"{'':>15} {'-- fastest --':>31} {'-- median --':>31}")
        print(f"{'payload':>8} {'op':>6} {'raw boto3':>11} {'S3Result':>11} {'ratio':>7} {'raw boto3':>11} "
              f"{'S3Result':>11} {'ratio':>7} {'(de)serializing':>16}")
        for label, size in SIZES.items():
            if args.quick and size > 1024 * 1024:
                continue
            value = os.urandom(size)
            repeats = 9 if size > 1024 * 1024 else 300
            data = result.serializer.serialize(value)
            rows: list[tuple[str, Callable[[], object], Callable[[], object], Callable[[], object]]] = [
                (
                    "write",
                    lambda: client.put_object(Bucket=BUCKET, Key="raw.bin", Body=value),
                    lambda: one_put.write(value),
                    lambda: result.serializer.serialize(value),
                ),
                (
                    "read",
                    lambda: client.get_object(Bucket=BUCKET, Key="raw.bin")["Body"].read(),
                    lambda: result.read("ours.pkl"),
                    lambda: result.serializer.deserialize(data),
                ),
            ]
            if size > 1024 * 1024:
                rows.append(
                    (
                        "write*",
                        lambda: client.upload_fileobj(io.BytesIO(value), BUCKET, "managed.bin"),
                        lambda: result.write(value),
                        lambda: result.serializer.serialize(value),
                    )
                )
                rows.append(
                    (
                        "write**",
                        lambda: client.put_object(Bucket=BUCKET, Key="raw.bin", Body=value),
                        lambda: result.write(value),
                        lambda: result.serializer.serialize(value),
                    )
                )
            for op, raw_fn, ours_fn, serializing_fn in rows:
                raw_fn(), ours_fn()  # warm up (connections, first-call imports)
                raws, ourss = side_by_side(raw_fn, ours_fn, repeats)
                serializing = statistics.median(timed(serializing_fn) for _ in range(repeats))
                line = f"{label:>8} {op:>6}"
                for raw, ours in ((min(raws), min(ourss)), (statistics.median(raws), statistics.median(ourss))):
                    line += f" {raw * 1e3:>9.2f}ms {ours * 1e3:>9.2f}ms {ours / raw:>6.2f}x"
                print(f"{line} {serializing * 1e3:>14.2f}ms")
        print("write: one PUT each side (S3Result(multipart_threshold=...) above the payload)")
        print("write*: S3Result's default multipart upload against boto3's managed transfer (upload_fileobj) of the "
              "same bytes in the same 8 MiB parts")
        print("write**: the same default multipart upload against one put_object: the cost of moto's multipart "
              "assembly, not a target")
        print("(de)serializing: serialize/deserialize of the value alone (one copy of it), which streaming avoids")
        print("load average (1, 5, 15 min) after: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
