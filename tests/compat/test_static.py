"""Type checkers flag legacy uses before anything runs (PEP 702 ``@deprecated``), with the package's own types."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import compat

REPO = Path(compat.__file__).resolve().parent.parent


def mypy(tmp_path: Path, code: str) -> list[str]:
    """mypy's error lines for ``code`` (deprecations enabled; errors inside compat itself are not reported)."""
    snippet = tmp_path / "legacy_snippet.py"
    snippet.write_text(textwrap.dedent(code))
    proc = subprocess.run(
        [
            sys.executable, "-m", "mypy", "--enable-error-code", "deprecated", "--follow-imports=silent",
            "--no-error-summary", "--cache-dir", str(tmp_path / ".mypy_cache"), str(snippet),
        ],
        capture_output=True, text=True, cwd=tmp_path, env={"MYPYPATH": str(REPO), "PATH": ""}, timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [line.partition("legacy_snippet.py:")[2] for line in proc.stdout.splitlines()]


def test_package_ships_a_py_typed_marker() -> None:
    assert (Path(compat.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_mypy_flags_legacy_handler_classes(tmp_path: Path) -> None:
    errors = mypy(
        tmp_path,
        """
        from compat.result_handlers import LocalResultHandler
        from compat.legacy import ResultHandler
        from compat import LocalResult

        LocalResult(dir="/tmp/results")
        """,
    )
    assert errors == [
        "2: error: class compat.legacy.local.LocalResultHandler is deprecated: LocalResultHandler is deprecated; "
        "use compat.LocalResult (results-codemod <path> rewrites it)  [deprecated]",
        "3: error: class compat.legacy.base.ResultHandler is deprecated: ResultHandler is deprecated; "
        "use compat.Result (results-codemod <path> rewrites it)  [deprecated]",
    ]


@pytest.mark.slow
def test_mypy_flags_the_result_handler_keyword_and_attribute_but_not_result(tmp_path: Path) -> None:
    errors = mypy(
        tmp_path,
        """
        from compat import Flow, LocalResult, Result, Task, task

        def legacy(handler: Result) -> None:
            t = Task(name="a", result_handler=handler)
            Flow("f", result_handler=handler)

            @task(result_handler=handler)
            def g() -> int:
                return 1

            t.result_handler = handler
            print(t.result_handler)

        def current() -> None:
            t = Task(name="b", result=LocalResult())
            Flow("g", LocalResult())

            @task(result=LocalResult(), max_retries=1)
            def g() -> int:
                return 1

            @task
            def h() -> int:
                return 1

            print(t.result, h.result)
        """,
    )
    flagged = [(line.partition(":")[0], line.rpartition("[")[2]) for line in errors]
    assert flagged == [(n, "deprecated]") for n in ("5", "6", "8", "12", "13")], errors
    assert all("use result=" in line or "use Task/Flow.result" in line for line in errors)


# -- the typed declarations in compat/kwargs.py cannot drift from the engine or the rename table ----------------------

REQUIRED = object()


def _typed_declarations() -> dict[str, list[ast.FunctionDef]]:
    """The overloads under ``if TYPE_CHECKING:`` in compat/kwargs.py: {"Task": [...], "Flow": [...], "task": [...]}."""
    tree = ast.parse((REPO / "compat" / "kwargs.py").read_text())
    (block,) = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    found: dict[str, list[ast.FunctionDef]] = {}
    for node in block.body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"]
        elif isinstance(node, ast.FunctionDef):
            found.setdefault(node.name, []).append(node)
    return found


def _deprecation_of(fn: ast.FunctionDef) -> str | None:
    for decorator in fn.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "deprecated":
            return ast.literal_eval(decorator.args[0])
    return None


def _declared(fn: ast.FunctionDef) -> dict[str, object]:
    """Parameter name -> default (REQUIRED if none), self excluded."""
    positional = fn.args.posonlyargs + fn.args.args
    defaults = [REQUIRED] * (len(positional) - len(fn.args.defaults)) + [ast.literal_eval(d) for d in fn.args.defaults]
    params = dict(zip([a.arg for a in positional], defaults))
    for arg, default in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
        params[arg.arg] = REQUIRED if default is None else ast.literal_eval(default)
    params.pop("self", None)
    return params


def _runtime(callable_: object) -> dict[str, object]:
    signature = inspect.signature(inspect.unwrap(callable_))
    return {
        name: REQUIRED if p.default is inspect.Parameter.empty else p.default
        for name, p in signature.parameters.items()
        if name != "self"
    }


def test_typed_overloads_match_the_engine_and_the_rename_table() -> None:
    from compat.deprecations import rename_for, static_message
    from compat.engine import Flow, Task, task

    keyword = rename_for("keyword", "result_handler")
    engine = {"Task": Task.__init__, "Flow": Flow.__init__, "task": task}
    declarations = _typed_declarations()
    assert set(keyword.applies_to) <= set(declarations)
    for name in keyword.applies_to:
        overloads = [fn for fn in declarations[name] if any(ast.unparse(d) == "overload" for d in fn.decorator_list)]
        current = [fn for fn in overloads if _deprecation_of(fn) is None]
        legacy = [fn for fn in overloads if _deprecation_of(fn) is not None]
        expected = _runtime(engine[name])
        assert _declared(current[-1]) == expected, name
        assert _declared(legacy[0]) == {**{k: v for k, v in expected.items() if k != keyword.new}, keyword.old: REQUIRED}
        assert _deprecation_of(legacy[0]) == static_message(keyword)


def test_typed_attribute_alias_message_comes_from_the_rename_table() -> None:
    from compat.deprecations import rename_for, static_message

    tree = ast.parse((REPO / "compat" / "kwargs.py").read_text())
    messages = {
        ast.literal_eval(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "deprecated"
    }
    expected = {static_message(rename_for(kind, "result_handler")) for kind in ("keyword", "attribute")}
    assert messages == expected


@pytest.mark.slow
def test_mypy_sees_the_lazily_imported_names_and_still_flags_a_misspelt_one(tmp_path: Path) -> None:
    errors = mypy(
        tmp_path,
        """
        import compat
        from compat import AzureResult, GCSResult, S3Result

        s3: int = S3Result(bucket="b")
        dask: int = compat.DaskExecutor()
        clouds: tuple[type[compat.Result], ...] = (AzureResult, GCSResult)
        compat.S3Reslt
        """,
    )
    assert errors == [
        '5: error: Incompatible types in assignment (expression has type "S3Result", variable has type "int")  '
        "[assignment]",
        '6: error: Incompatible types in assignment (expression has type "DaskExecutor", variable has type "int")  '
        "[assignment]",
        '8: error: Module has no attribute "S3Reslt"; maybe "S3Result" or "Result"?  [attr-defined]',
    ]
