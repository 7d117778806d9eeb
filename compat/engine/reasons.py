"""Reason codes: one stable string for every decision a plan step or a target-decided State carries (``code``).

Tools match on the code, people read the sentence beside it (``Step.reason``, ``State.message``). The table below
is the one list: README's "Stale or fresh?" table is checked against it, and a code once published keeps its
meaning.
"""

from __future__ import annotations

__all__ = ["REASONS", "STALE"]

REASONS: dict[str, str] = {
    "no-target": "no location to look up (no Result, no location template, or one that is new every run): it runs",
    "missing": "nothing is stored at its target yet: it runs",
    "exists": "its target is stored and its record agrees with the code and inputs now: reused",
    "fresh": "a caching Result (cache_for, cache_validators) found a stored output fresh enough: reused",
    "expired": "a caching Result found a stored output, but not fresh enough: it runs",
    "no-record": "its target is stored without a record that describes it (written by a legacy handler, an "
                 "earlier version, by hand, or changed since): reused, as existence is enough",
    "code-changed": "the task's code changed since its target was written: stale (it runs when invalidate_on "
                    "includes 'code', else it is reused and the plan says so)",
    "inputs-changed": "a parameter or constant input changed since its target was written, or cannot be "
                      "fingerprinted: stale (it runs when invalidate_on includes 'inputs')",
    "upstream-changed": "an upstream task's output changed (or is rebuilt first) since its target was written: "
                        "stale (it runs when invalidate_on includes 'inputs'); an upstream output rebuilt with the "
                        "same bytes changes nothing (early cutoff)",
    "invalidated": "results-compat invalidate marked its record: it runs in every mode and overwrites its target "
                   "and record (a write-once Result keeps it)",
    "refresh": "refresh= names it or a task upstream of it: it runs and overwrites its target and record",
    "unreadable": "the stored bytes cannot be read: they are moved aside and it runs",
    "untrusted": "the stored bytes are refused unread (unsigned while signing, another key, changed since "
                 "signed, an older copy than its record names): they are moved aside and it runs",
    "invalid": "a validator rejected the stored value: it runs and overwrites it",
    "write-once": "its Result is write-once (overwrite=False): a stored output stands, even when stale or "
                  "refreshed, and a value another run stored first is the result",
    "not-needed": "skipped (prune=True): every task that uses its output is cached or skipped",
    "mapped": "a mapped task: each child checks its own target when it runs (one record per child)",
    "upstream-location": "its location depends on an upstream output, so its target is looked up when it runs",
    "bad-location": "its location cannot be rendered: the run fails there",
    "check-failed": "its target cannot be looked up (the storage failed): the run fails there",
    "parameter": "a flow parameter: its value is known before the run",
    "leased": "another run holds its lease and is making it now (the plan names the holder and since when): the "
              "run waits for that output, and fails naming the holder if Lease(wait=) runs out",
    "made-elsewhere": "another run held its lease and made it while this run waited: its output is read, the task "
                      "does not run",
}  # fmt: skip
"""Every reason code and what it means."""

STALE = frozenset({"code-changed", "inputs-changed", "upstream-changed", "invalidated"})
"""The codes of a stored target whose record disagrees with now."""
