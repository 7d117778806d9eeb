"""MemoryResult's process-wide store, as the cyclic garbage collector sees it."""

from __future__ import annotations

import gc

from compat import MemoryResult


def test_the_store_stays_with_the_collector_after_a_full_pass() -> None:
    # a store of tuples was untracked at each full pass and tracked again, among the youngest objects, by the next
    # write: each young collection then walked all its entries (200,000 in a 100,000-task run)
    MemoryResult.clear()
    MemoryResult(location="kept").write(1)
    gc.collect()
    assert gc.is_tracked(MemoryResult._store)


def test_the_store_gives_back_what_was_written_when_and_by_which_write() -> None:
    MemoryResult.clear()
    first = MemoryResult(location="a").write("one")
    second = MemoryResult(location="a").write("two")
    memory = MemoryResult()
    assert memory.read("a").value == "two" and first.location == second.location == "a"
    assert memory.stored_identity("a")["version"] > 0 and memory.modified_at("a") is not None
    version = memory.stored_identity("a")
    MemoryResult(location="a").write("three")
    assert memory.stored_identity("a") != version
