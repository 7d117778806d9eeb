"""Activation without code changes: the .pth hook in fresh interpreters, with no conftest.py or sitecustomize.

Each test runs a new ``python`` from an empty directory, so nothing this test session imported can hide a missing
hook: what works there works for a user who installed the ``prefect`` extra.
"""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import compat.prefect

ROOT = Path(__file__).resolve().parents[2]
PTH = ROOT / "results_compat_prefect.pth"
LEGACY_IMPORT = "from prefect.engine.result_handlers import LocalResultHandler"


def run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RESULTS_COMPAT_PREFECT")}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env={**environ, **env}, capture_output=True, text=True, timeout=120
    )


def test_the_installed_pth_file_is_the_repository_one() -> None:
    installed = [Path(entry) / PTH.name for entry in sys.path if (Path(entry) / PTH.name).is_file()]
    assert installed, f"{PTH.name} is not installed in any site directory"
    assert installed[0].read_text() == PTH.read_text()


def test_the_pth_line_is_one_line_that_imports_only_os_and_sys() -> None:
    lines = PTH.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("import ")
    tree = ast.parse(lines[0])
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"os", "sys"}  # both are loaded before site runs .pth files
    dynamic = [node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, "id", None) == "__import__"]
    assert dynamic == ["_results_compat_prefect"]  # only inside the finder, when prefect is imported


def test_start_up_imports_nothing_of_the_bridge(tmp_path: Path) -> None:
    modules = ("compat", "wrapt", "prefect", "_results_compat_prefect")
    code = f"import sys; print(sorted(m for m in {modules!r} if m in sys.modules))"
    assert run(code, tmp_path).stdout.strip() == "[]"


BRIDGE_ON_DEMAND = (
    "compat.adapters", "compat.deprecations", "compat.engine", "compat.legacy", "compat.prefect.handlers",
    "compat.prefect.results", "compat.results",
)  # fmt: skip
"""What the bridge imports only when a legacy use needs it, never during ``import prefect``."""


def test_import_prefect_activates_the_bridge_without_its_legacy_layer(tmp_path: Path) -> None:
    code = (
        "import sys, prefect, compat.prefect\n"
        f"print(compat.prefect.is_active(), sorted(m for m in {BRIDGE_ON_DEMAND!r} if m in sys.modules))\n"
    )
    proc = run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True []"


def test_the_restored_names_are_imported_on_first_use(tmp_path: Path) -> None:
    code = (
        "import sys, prefect\n"
        "from prefect.engine.results import ResultHandlerResult\n"
        "from prefect.engine.result.base import SafeResult\n"
        "import prefect.engine.result\n"
        "print(ResultHandlerResult.__module__, SafeResult is prefect.engine.result.SafeResult,\n"
        "      issubclass(ResultHandlerResult, prefect.engine.result.Result))\n"
    )
    proc = run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["compat.prefect.results", "True", "True"]


def test_start_up_arms_the_finder_once(tmp_path: Path) -> None:
    code = "import sys; print(sum(type(f).__name__ == 'AwaitPrefect' for f in sys.meta_path))"
    assert run(code, tmp_path).stdout.strip() == "1"


@pytest.mark.slow
def test_legacy_prefect_code_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('ignore', DeprecationWarning)\n"
        f"{LEGACY_IMPORT}\n"
        "from prefect import Flow, task\n"
        f"@task(result_handler=LocalResultHandler(dir={str(tmp_path)!r}))\n"
        "def double(x):\n"
        "    return 2 * x\n"
        "with Flow('f') as flow:\n"
        "    y = double(21)\n"
        "print(flow.run().result[y].result, type(double.result).__name__)\n"
    )
    proc = run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["42", "LocalResult"]


@pytest.mark.slow
def test_the_warning_lands_on_the_line_of_a_fresh_script(tmp_path: Path) -> None:
    script = tmp_path / "flow.py"
    script.write_text(f"import warnings\nwarnings.simplefilter('always')\n{LEGACY_IMPORT}\n")
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert f"{script}:3: LegacyImportWarning" in proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize("off", ["0", "false", "off"])
def test_results_compat_prefect_0_turns_the_hook_off(tmp_path: Path, off: str) -> None:
    proc = run(f"import prefect, compat.prefect\nprint(compat.prefect.is_active())\n{LEGACY_IMPORT}", tmp_path,
               RESULTS_COMPAT_PREFECT=off)
    assert proc.stdout.strip() == "False"
    assert "No module named 'prefect.engine.result_handlers'" in proc.stderr


@pytest.mark.slow
def test_install_turns_the_bridge_on_explicitly_and_is_idempotent(tmp_path: Path) -> None:
    code = (
        "import compat.prefect\ncompat.prefect.install()\ncompat.prefect.install()\n"
        "import prefect\nprint(compat.prefect.is_active())\n"
        "compat.prefect.install()\n"
        "import inspect\nprint(list(inspect.signature(prefect.Task).parameters).count('result_handler'))\n"
    )
    proc = run(code, tmp_path, RESULTS_COMPAT_PREFECT="0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "1"]


@pytest.mark.slow
def test_install_after_prefect_was_imported_activates_at_once(tmp_path: Path) -> None:
    code = f"import prefect, compat.prefect\ncompat.prefect.install()\n{LEGACY_IMPORT}\nprint('ok')"
    proc = run(code, tmp_path, RESULTS_COMPAT_PREFECT="0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@pytest.mark.slow
def test_prefect_purged_from_sys_modules_and_imported_again_gets_the_legacy_api_again(tmp_path: Path) -> None:
    code = (
        "import sys, warnings\nwarnings.simplefilter('ignore')\nimport prefect\n"
        "for name in [n for n in sys.modules if n == 'prefect' or n.startswith('prefect.')]:\n"
        "    del sys.modules[name]\n"
        f"import prefect, compat.prefect\n{LEGACY_IMPORT}\n"
        "from prefect.engine.result import Result\n"
        "task = prefect.Task(result_handler=LocalResultHandler(dir=sys.argv[0]))\n"
        "print(compat.prefect.is_active(), isinstance(task.result, Result), type(task.result).__name__,\n"
        "      issubclass(prefect.engine.results.ResultHandlerResult, Result))\n"
    )
    proc = run(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "LocalResult", "True"]


@pytest.mark.parametrize("version", ["0.13.19", "2.14.0"])
def test_unsupported_prefect_versions_are_left_alone_and_say_why_at_debug(caplog, version: str) -> None:
    fake = types.ModuleType("prefect")
    fake.__version__ = version  # type: ignore[attr-defined]
    with caplog.at_level(logging.DEBUG, logger="compat.prefect"):
        compat.prefect.activate(fake)
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert f"does nothing on Prefect {version}" in record.getMessage()
    assert "before 0.14 has its own result handlers" in record.getMessage()
    assert "Prefect 2 has no Result API" in record.getMessage()


MODERN_FLOW = """
import os
import sys
from prefect import Flow, Parameter, Task, task
from prefect.engine.results import LocalResult, PrefectResult

@task(result=LocalResult(dir=sys.argv[1]), target="{task_name}-{x}.pkl")
def double(x):
    return 2 * x

class Add(Task):
    def __init__(self, **kwargs):
        super().__init__(result=PrefectResult(), **kwargs)

    def run(self, a, b):
        return a + b

with Flow("modern", result=PrefectResult()) as flow:
    doubled = double(Parameter("x", default=3))
    total = Add()(doubled, 1)

for _ in range(2):
    state = flow.run()
    print(type(state.result[doubled]).__name__, type(state.result[total]).__name__, state.result[total].result)
print(sorted(os.listdir(sys.argv[1])), type(flow.result).__name__)
"""


@pytest.mark.slow
def test_a_flow_without_legacy_names_runs_the_same_with_the_bridge_on_and_off(tmp_path: Path) -> None:
    outputs = {}
    for switch in ("1", "0"):
        environ = {
            **os.environ,
            "RESULTS_COMPAT_PREFECT": switch,
            "RESULTS_COMPAT_LEGACY": "error",
            "PREFECT__FLOWS__CHECKPOINTING": "true",
            "PREFECT__LOGGING__LEVEL": "WARNING",
        }
        proc = subprocess.run(
            [sys.executable, "-c", MODERN_FLOW, str(tmp_path / f"results-{switch}")],
            cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        outputs[switch] = proc.stdout
    assert outputs["1"] == outputs["0"]
    assert outputs["1"].splitlines() == [
        "Success Success 7",
        "Cached Success 7",
        "['double-3.pkl'] PrefectResult",
    ]
