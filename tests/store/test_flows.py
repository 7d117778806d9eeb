"""Naming a flow (``MODULE_OR_FILE:FLOW``) and its parameters (``--param NAME=VALUE``) on the command line."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from compat import Flow
from compat.errors import FlowError
from compat.store import load_flow, parse_params

FLOW_FILE = """\
from compat import Flow, task

@task
def one():
    return 1

with Flow("etl") as flow:
    one()

if __name__ == "__main__":
    raise SystemExit("the __main__ block ran")
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def test_a_flow_is_loaded_from_a_file_without_running_its_main_block(tmp_path: Path) -> None:
    path = write(tmp_path / "flows.py", FLOW_FILE)
    flow = load_flow(f"{path}:flow")
    assert isinstance(flow, Flow) and flow.name == "etl"


def test_a_flow_file_can_import_its_neighbours(tmp_path: Path) -> None:
    write(tmp_path / "helpers_for_flow.py", "NAME = 'from a neighbour'\n")
    path = write(tmp_path / "flows.py", "from compat import Flow\nimport helpers_for_flow\n"
                                        "flow = Flow(helpers_for_flow.NAME)\n")
    assert load_flow(f"{path}:flow").name == "from a neighbour"
    assert str(tmp_path) not in sys.path  # the directory is on the path only while the file loads


def test_a_flow_is_loaded_from_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pipelines_for_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write(package / "daily.py", FLOW_FILE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    assert load_flow("pipelines_for_test.daily:flow").name == "etl"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("flows.py", "does not name a flow; write MODULE_OR_FILE:FLOW"),
        ("missing.py:flow", "no flow file 'missing.py': no such file"),
        ("no_such_module_here:flow", "no module named 'no_such_module_here'"),
        ("{dir}/flows.py:nope", "has no attribute 'nope'; the flows it defines at its top level: flow"),
        ("{dir}/flows.py:one", "is a FunctionTask, not a Flow"),
        ("{dir}/broken.py:flow", r"loading .*broken.py' failed: ZeroDivisionError: division by zero \(at .*broken.py:2\)"),
    ],
)
def test_what_cannot_be_loaded_is_said_with_the_way_out(tmp_path: Path, spec: str, message: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "flows.py", FLOW_FILE)
    write(tmp_path / "broken.py", "x = 1\ny = 1 / 0\n")
    with pytest.raises(FlowError, match=message):
        load_flow(spec.format(dir=tmp_path))


def test_an_import_error_inside_a_module_is_not_called_a_missing_module(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "imports_missing_for_test.py", "import not_installed_anywhere\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(FlowError, match="importing 'imports_missing_for_test' failed: ModuleNotFoundError"):
        load_flow("imports_missing_for_test:flow")


def test_param_values_are_json_when_they_are_json_and_text_otherwise() -> None:
    given = ["day=2026-11-30", "n=3", "ratio=1.5", "on=true", "none=null", 'text="3"', "list=[1, 2]", "empty=",
             "eq=a=b"]
    assert parse_params(given) == {"day": "2026-11-30", "n": 3, "ratio": 1.5, "on": True, "none": None,
                                   "text": "3", "list": [1, 2], "empty": "", "eq": "a=b"}


@pytest.mark.parametrize(("items", "message"), [(["day"], "write NAME=VALUE"), (["=1"], "write NAME=VALUE"),
                                                (["a=1", "a=2"], "given twice")])
def test_a_malformed_param_is_refused(items: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_params(items)
