"""Leases on the object stores (issue 25), against the real servers: S3 (conditional PUT on moto's server), Azure
(Azurite's blob leases) and GCS (fake-gcs-server, which enforces ``if_generation_match`` on uploads, for exclusion,
renewal and takeover; gcp-storage-emulator, which enforces none, for the rest)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from compat import Lease
from compat.results.leases import Holder, lease_body
from tests.results.stores import Store

ENFORCED = pytest.mark.parametrize("store", ["azure", "gcs-strict", "s3"], indirect=True)
"""The servers that refuse a conditional write (or a second lease) themselves."""

VERSIONED = pytest.mark.parametrize("store", ["gcs-strict", "s3"], indirect=True)
"""The compare-and-swap lease whose takeover and renewal are ours (Azure's are the service's)."""


@ENFORCED
def test_a_second_take_while_held_gets_the_holder(store: Store) -> None:
    result = store.result()
    held = result.take_lease("t.pkl", Holder.new("first"), 15)
    try:
        other = result.take_lease("t.pkl", Holder.new("second"), 15)
        assert isinstance(other, Holder) and other.task == "first"
        assert result.lease_holder("t.pkl") == held.holder
    finally:
        held.release()


def test_a_released_lease_leaves_no_object_and_can_be_taken_again(store: Store) -> None:
    result = store.result()
    result.take_lease("t.pkl", Holder.new("first"), 15).release()
    assert "t.pkl.lease" not in store.names()
    assert result.lease_holder("t.pkl") is None
    again = result.take_lease("t.pkl", Holder.new("second"), 15)
    assert not isinstance(again, Holder)
    again.release()


@VERSIONED
def test_a_lease_not_renewed_within_its_ttl_is_taken_over_with_a_warning(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.put("t.pkl.lease", lease_body(Holder.new("the dead one"), 0.3, 0))
    result = store.result()
    first = result.take_lease("t.pkl", Holder.new("taker"), 0.3)
    assert isinstance(first, Holder) and first.task == "the dead one"
    time.sleep(0.4)
    with caplog.at_level(logging.WARNING, logger="compat.results.leases"):
        taken = result.take_lease("t.pkl", Holder.new("taker"), 0.3)
    try:
        assert not isinstance(taken, Holder)
        assert "Took over the lease" in caplog.text and "'the dead one'" in caplog.text
    finally:
        taken.release()


@VERSIONED
def test_a_holder_renewing_its_lease_is_never_taken_over(store: Store) -> None:
    result = store.result()
    held = result.take_lease("t.pkl", Holder.new("alive"), 0.3)
    try:
        for _ in range(4):  # each look sees a new version: the ttl never runs out
            other = result.take_lease("t.pkl", Holder.new("taker"), 0.3)
            assert isinstance(other, Holder) and other.task == "alive"
            time.sleep(0.35)
    finally:
        held.release()


RUN = textwrap.dedent("""
    import cloudpickle, json, os, sys, time
    from compat import Flow, task

    result = cloudpickle.loads(bytes.fromhex(sys.argv[1]))
    directory = sys.argv[2]

    @task(target="answer.pkl", result=result)
    def answer():
        with open(os.path.join(directory, "count"), "a") as f:
            f.write(f"{os.getpid()}\\n")
        time.sleep(1)
        return 42

    with Flow("once") as flow:
        answer()

    open(os.path.join(directory, f"ready-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(directory, "go")) and time.monotonic() < deadline:
        time.sleep(0.01)
    state = next(iter(flow.run().result.values()))
    print(json.dumps({"state": type(state).__name__, "code": state.code, "value": state.result}))
""")


@ENFORCED
def test_four_processes_needing_one_target_in_a_store_run_its_task_once(store: Store, tmp_path: Path) -> None:
    payload = cloudpickle.dumps(store.result(lease=Lease(ttl=15, poll=0.05))).hex()
    processes = [
        subprocess.Popen([sys.executable, "-c", RUN, payload, str(tmp_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outcomes: list[dict[str, Any]] = []
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("ready-*"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        (tmp_path / "go").touch()
        for process in processes:
            out, err = process.communicate(timeout=180)
            assert process.returncode == 0, err
            outcomes.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for process in processes:
            process.kill()
            process.wait()
    assert len((tmp_path / "count").read_text().split()) == 1
    assert [o["value"] for o in outcomes] == [42] * 4
    assert "answer.pkl.lease" not in store.names()
    assert os.path.exists(tmp_path / "count")


HOLD = textwrap.dedent("""
    import sys, time
    import cloudpickle
    from compat.results.leases import Holder

    result = cloudpickle.loads(bytes.fromhex(sys.argv[1]))
    held = result.take_lease("t.pkl", Holder.new("the dead one"), 15)
    print("refused" if isinstance(held, Holder) else "taken", flush=True)
    time.sleep(120)  # renewing, until killed
""")


@pytest.mark.parametrize("store", ["azure"], indirect=True)
def test_an_azure_lease_whose_holder_was_killed_is_taken_over_once_azure_ends_it(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, cloudpickle.dumps(store.result()).hex()],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    taken: Any = None
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "taken"
        result = store.result()
        assert isinstance(result.take_lease("t.pkl", Holder.new("taker"), 15), Holder)
        holder.kill()
        holder.wait(timeout=30)
        killed = time.monotonic()
        with caplog.at_level(logging.WARNING):
            while time.monotonic() < killed + 45:  # Azure's shortest lease is 15 s, renewed every 5 s
                taken = result.take_lease("t.pkl", Holder.new("taker"), 15)
                if not isinstance(taken, Holder):
                    break
                time.sleep(0.5)
        assert not isinstance(taken, Holder), "the lease of the killed holder was never taken over"
        assert time.monotonic() - killed > 5  # not before Azure ended it: at least 10 s after its last renewal
        assert "Took over the lease" in caplog.text and "'the dead one'" in caplog.text
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if taken is not None and not isinstance(taken, Holder):
            taken.release()
