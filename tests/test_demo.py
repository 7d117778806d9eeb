"""`make demo` end to end: the legacy example migrated in a real subprocess, every check of the demo passing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.py"


@pytest.mark.slow
def test_the_demo_migrates_the_legacy_example_and_every_check_passes() -> None:
    proc = subprocess.run([sys.executable, str(DEMO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[FAILED]" not in proc.stdout
    assert proc.stdout.count("[ok]") == 11
    assert "The legacy project is migrated" in proc.stdout
