"""What the codemod does with each site the session saw: rewrites it, lists it for a human, or does not see it.

The codemod is run as the tool it is (``python -I -m codemods.results --check --report json``, in a process of
its own, writing nothing) on the first-party files that have sites: ``compat`` never imports ``codemods``, and
``-I`` keeps a project's own ``codemods`` package off the path. Its static records are matched to each runtime
site by the statement that holds it; a site no static record covers is a use the codemod does not see (a
handler reached through a variable, a factory, ``getattr``): it is left by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from compat.audit.sites import Site

__all__ = ["CodemodUnavailable", "with_verdicts"]

_TIMEOUT = 300  # seconds for the whole codemod run; a stalled run must not hang the session


class CodemodUnavailable(RuntimeError):
    """The codemod could not be run or its report not read; the audit says so and gives no verdicts."""


def with_verdicts(sites: Sequence[Site], rootdir: str) -> list[Site]:
    """The sites, each first-party one with the codemod's verdict (``codemod``, ``reason``, ``own_handler``)."""
    paths = sorted({site.path for site in sites if site.first_party and os.path.isfile(site.path)})
    if not paths:
        return [replace(s, codemod="unseen") if s.first_party else s for s in sites]
    records = _static_records(paths, rootdir)
    by_file: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_file.setdefault(os.path.normpath(os.path.join(rootdir, record["file"])), []).append(record)
    return [_verdict(site, by_file.get(site.path, [])) if site.first_party else site for site in sites]


def _static_records(paths: list[str], rootdir: str) -> list[dict[str, Any]]:
    command = [sys.executable, "-I", "-m", "codemods.results", "--check", "--report", "json", "-q", "-j", "1",
               "--", *paths]
    try:
        done = subprocess.run(command, cwd=rootdir, capture_output=True, text=True, timeout=_TIMEOUT,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CodemodUnavailable(f"the codemod did not run: {exc}") from exc
    try:
        return list(json.loads(done.stdout)["sites"])
    except (ValueError, KeyError, TypeError) as exc:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CodemodUnavailable(f"the codemod gave no report (exit {done.returncode}: {last})") from exc


def _verdict(site: Site, records: list[dict[str, Any]]) -> Site:
    first, last = site.span
    covering = [r for r in records if first <= r["line"] <= last and r.get("codemod") in ("rewrites", "lists")]
    same_rule = [r for r in covering if r["rule"] == site.rule]
    chosen = same_rule or covering
    if not chosen:
        return replace(site, codemod="unseen", reason="the codemod does not see this use (a handler reached "
                       "through a variable, a factory or getattr): change it by hand")
    listed = [r for r in chosen if r["codemod"] == "lists"]
    picked = listed or chosen
    own = site.rule == "subclass" or any("of your own" in r["reason"] for r in picked)
    return replace(site, codemod="lists" if listed else "rewrites", reason=picked[0]["reason"], own_handler=own)
