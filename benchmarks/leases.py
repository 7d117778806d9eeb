"""What a lease costs (issue 25), measured side by side in one run.

1. Local, uncontended: take + release of a LocalResult lease (open, flock, write the holder, unlink, close) beside
   the look-up a run makes anyway (``exists_at`` of the target), nine interleaved rounds; fastest and median round.
   Target: under 1 ms per take + release.
2. S3 (moto's server on 127.0.0.1): the HTTP requests per take, renewal and release, counted with botocore's
   events. Target: one each (a held lease: a second one, the read naming its holder).
3. A waiting run: two threads run the same flow; the time from the holder's ``flow.run()`` returning to the
   waiter's, with ``poll`` = 0.1 s, over five runs. Target: within ``poll`` (plus reading the output).
Run: .venv/bin/python benchmarks/leases.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from typing import Any

from compat import Flow, Lease, LocalResult, S3Result, task
from compat.results.leases import Holder
from timing import median_time

REPEATS = 2000
ROUNDS = 9


def local_cost() -> None:
    directory = tempfile.mkdtemp()
    result = LocalResult(directory)
    holder = Holder.new("bench")

    def lease() -> None:
        result.take_lease("target.pkl", holder).release()

    def look_up() -> None:
        result.exists_at("target.pkl")

    leases, looks = [], []
    for _ in range(ROUNDS):
        leases.append(median_time(lease, REPEATS))
        looks.append(median_time(look_up, REPEATS))
    print(f"local take+release: fastest {min(leases) * 1e6:.0f} us, median {statistics.median(leases) * 1e6:.0f} us;"
          f" exists_at of the target: fastest {min(looks) * 1e6:.0f} us, median {statistics.median(looks) * 1e6:.0f}"
          f" us; ratio (median) {statistics.median(leases) / statistics.median(looks):.1f}x")


def s3_requests() -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        kwargs = {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1",
                  "aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        boto3.client("s3", **kwargs).create_bucket(Bucket="bench")
        result = S3Result(bucket="bench", boto3_kwargs=kwargs)
        sent: list[str] = []
        result.client.meta.events.register("before-send", lambda request, **_: sent.append(request.method))
        held = result.take_lease("target.pkl", Holder.new("bench"), 60)
        took = len(sent)
        result.take_lease("target.pkl", Holder.new("other"), 60)
        refused = len(sent) - took
        held.renew()
        renewed = len(sent) - took - refused
        held.release()
        released = len(sent) - took - refused - renewed
        print(f"S3 requests: take {took}, take while held {refused} (conditional PUT refused + read of the holder), "
              f"renew {renewed}, release {released}")
    finally:
        server.stop()


def waiter_latency() -> None:
    lags = []
    for round_ in range(5):
        directory = tempfile.mkdtemp()
        ends: dict[str, float] = {}

        @task(target="answer.pkl", result=LocalResult(directory, lease=Lease(poll=0.1)))
        def answer() -> int:
            time.sleep(0.5)
            return 42

        def run(who: str, delay: float) -> None:
            time.sleep(delay)
            with Flow("once") as flow:
                answer()
            flow.run()
            ends[who] = time.monotonic()

        threads = [threading.Thread(target=run, args=("holder", 0)), threading.Thread(target=run, args=("waiter", 0.1))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lags.append(ends["waiter"] - ends["holder"])
    print(f"waiter noticed the output (poll 0.1 s): fastest {min(lags) * 1e3:.0f} ms, median "
          f"{statistics.median(lags) * 1e3:.0f} ms, slowest {max(lags) * 1e3:.0f} ms after the holder's run returned")


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f}")
    local_cost()
    s3_requests()
    waiter_latency()


if __name__ == "__main__":
    main()
