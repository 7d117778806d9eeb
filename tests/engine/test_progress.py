"""flow.run(progress=True): a live bar with counts per state on a terminal, nothing when output is piped."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from compat import Flow, LocalResult, MissingDependency, task

# one plain task and one mapped over three elements: 2 tasks, 4 runs once the map expands
SCRIPT = textwrap.dedent(
    """
    from compat import Flow, task

    @task
    def one():
        return 1

    @task
    def square(x):
        return x * x

    with Flow("bar") as flow:
        one()
        square.map([1, 2, 3])
    assert flow.run(progress=True).is_successful()
    print("done")
    """
)


def run_with_stderr_on_a_terminal() -> tuple[str, str]:
    """Run SCRIPT with stderr on a real pseudo-terminal (120 columns); return (stdout, what the terminal got)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed its end of the terminal
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    stdout = proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, terminal.decode(errors="replace")
    return stdout.decode(), terminal.decode(errors="replace")


@pytest.mark.slow
def test_on_a_terminal_a_bar_counts_every_run_including_mapped_children_per_state() -> None:
    stdout, terminal = run_with_stderr_on_a_terminal()
    assert stdout == "done\n"
    final = terminal.replace("\r", "\n").strip().splitlines()[-1]
    assert final.startswith("flow 'bar': 100%") and "4/4" in final and "Success 4" in final


@pytest.mark.slow
def test_on_a_pipe_there_is_no_bar() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "done\n", "")


def test_progress_without_the_extra_names_the_package_and_the_install_command(
    monkeypatch: pytest.MonkeyPatch, calls: Counter[str]
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # what a missing package looks like to import

    @task
    def work() -> None:
        calls["work"] += 1

    with Flow("f") as flow:
        work()
    with pytest.raises(MissingDependency, match=r"needs the 'tqdm' package.*pip install 'results-compat\[progress\]'"):
        flow.run(progress=True)
    assert calls == Counter()


class Terminal(io.StringIO):
    """A stream that says it is a terminal, to read the bar's last state in-process."""

    def isatty(self) -> bool:
        return True


def test_the_bar_counts_runs_per_state_in_the_order_they_first_appear(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    @task
    def first() -> int:
        return 1

    @task(target="kept.pkl")
    def kept(x: int) -> int:
        return x

    @task
    def broken() -> None:
        raise RuntimeError("no")

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        kept(first())
        broken()
    flow.run()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    flow.run(prune=True, progress=True)
    final = terminal.getvalue().replace("\r", "\n").strip().splitlines()[-1]
    assert "3/3" in final and final.endswith("Skipped 1, Failed 1, Cached 1]")


def test_log_lines_print_above_the_bar_not_inside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    @task
    def step() -> int:
        return 1

    with Flow("f") as flow:
        step()
        step()
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    handler = logging.StreamHandler(terminal)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [handler])
    level = root.level
    root.setLevel(logging.INFO)
    try:
        flow.run(progress=True)
    finally:
        root.setLevel(level)
    lines = terminal.getvalue().replace("\r", "\n").splitlines()
    logged = [line for line in lines if "Task 'step': " in line]
    assert len(logged) == 4 and all(line.startswith("Task 'step': ") for line in logged)  # Running, Success x2
    assert root.handlers == [handler], "the redirection ends with the run"
