"""A MemoryResult that lists the look-ups made of it, for the tests of how often a plan and a run ask the store."""

from __future__ import annotations

from compat import MemoryResult


class LookUpCounting(MemoryResult):
    """MemoryResult that lists each look-up made of its stored outputs (``exists``) and their records (``record``),
    in order, in the class's ``asked`` (reset it before use)."""

    asked: list[tuple[str, str]] = []

    def exists_at(self, location: str) -> bool:
        LookUpCounting.asked.append(("exists", location))
        return super().exists_at(location)

    def record_bytes(self, location: str) -> bytes | None:
        LookUpCounting.asked.append(("record", location))
        return super().record_bytes(location)
