"""Running a script on Prefect 1.4.1 (this interpreter) or Prefect 3 the same way: offline, in a folder of its own
that holds its results, its call count and Prefect's home, with only what it prints on stdout kept."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PREFECT3_PYTHON = ROOT / ".cache" / "prefect3-venv" / "bin" / "python"


def run_script(python: Path, script: Path, folder: Path, *arguments: str) -> str:
    """Run ``script`` with ``arguments`` in ``folder``; what it printed (it must succeed)."""
    folder.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "RESULTS_DIR": str(folder / "results"),
        "CALLS": str(folder / "calls"),
        "PREFECT_HOME": str(folder / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300",
        "PREFECT_LOGGING_LEVEL": "ERROR",  # Prefect 3
        "PREFECT__LOGGING__LEVEL": "ERROR",  # Prefect 1
        "PREFECT__FLOWS__CHECKPOINTING": "true",
    }
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([str(python), str(script), *arguments], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def calls(folder: Path) -> int:
    """How many times the script's tasks ran (each appends a line to $CALLS)."""
    path = folder / "calls"
    return len(path.read_text().splitlines()) if path.exists() else 0
