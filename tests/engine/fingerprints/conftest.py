"""Helpers for the fingerprint tests: fingerprint module files in a fresh Python process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
FINGERPRINT_MODULE = Path(__file__).with_name("fingerprint_module.py")


def fingerprints_in_fresh_process(*paths: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``{path: {"functions": {qualname: fingerprint}, "error": type name or None}}``, from a new interpreter."""
    proc = subprocess.run(
        [sys.executable, str(FINGERPRINT_MODULE), *map(str, paths)],
        capture_output=True, text=True, timeout=120, cwd=REPO, env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])  # the last line: a module may print as it loads


def functions_of(path: Path, source: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """Write ``source`` to ``path`` and fingerprint its functions in a fresh process (which must import it)."""
    path.write_text(source)
    found = fingerprints_in_fresh_process(path, env=env)[str(path)]
    assert found["error"] is None, found
    return found["functions"]
