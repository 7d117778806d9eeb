"""code_fingerprint: cosmetic edits keep it, edits to what a task computes change it.

Edits are made to a module file, and each version is fingerprinted in a fresh process, as two runs of a program
would see it."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compat import Task, task
from compat.engine.fingerprints import code_fingerprint
from compat.errors import ArgumentTypeError
from tests.engine.fingerprints.conftest import REPO, functions_of

BASE = '''
import json

from compat import task

LIMIT = 3


def clip(rows):
    return rows[:LIMIT]


@task(target="{day}.pkl")
def report(rows, day: str = "today") -> dict:
    """Totals the day's rows."""
    kept = clip(rows)  # only the first few
    return {"day": day, "total": sum(kept), "as_json": json.dumps(kept)}
'''


def edited(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    """The fingerprint of ``report`` in BASE and in BASE with ``old`` replaced by ``new``, each in a fresh process."""
    assert old in BASE
    found = []
    for side, source in (("before", BASE), ("after", BASE.replace(old, new))):
        (tmp_path / side).mkdir()
        found.append(functions_of(tmp_path / side / "tasks.py", source)["report"])
    return found[0], found[1]


def test_a_docstring_edit_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, '"""Totals the day\'s rows."""', '"""Sums the rows of one day.\n\n    More."""')
    assert after == before


def test_removing_the_docstring_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, '    """Totals the day\'s rows."""\n', "")
    assert after == before


def test_a_comment_edit_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, "  # only the first few", "  # the first LIMIT rows\n    # and a new line")
    assert after == before


def test_a_formatting_edit_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(
        tmp_path,
        '    return {"day": day, "total": sum(kept), "as_json": json.dumps(kept)}',
        "    return {\n        'day': day,\n        'total': sum(kept),\n        'as_json': (json.dumps(kept)),\n    }",
    )
    assert after == before


def test_an_annotation_edit_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, 'def report(rows, day: str = "today") -> dict:',
                           'def report(rows: list[int], day="today") -> "dict[str, object]":')
    assert after == before


def test_a_decorator_edit_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, '@task(target="{day}.pkl")', '@task(\n    target="{day}-v2.pkl", checkpoint=True\n)')
    assert after == before


def test_moving_the_function_down_the_file_keeps_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, "LIMIT = 3\n", "LIMIT = 3\n\n\n\n# a new section\n")
    assert after == before


def test_a_body_edit_changes_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, '"total": sum(kept)', '"total": sum(kept) + 1')
    assert after != before


def test_a_default_argument_edit_changes_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, 'day: str = "today"', 'day: str = "yesterday"')
    assert after != before


def test_a_global_constant_edit_changes_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, "LIMIT = 3", "LIMIT = 4")
    assert after != before


def test_an_edit_to_a_helper_it_calls_changes_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, "return rows[:LIMIT]", "return rows[-LIMIT:]")
    assert after != before


def test_a_different_module_under_the_same_name_changes_the_fingerprint(tmp_path: Path) -> None:
    before, after = edited(tmp_path, "import json\n", "import pickle as json\n")
    assert after != before


def _make_task(offset: Any) -> Any:
    def shifted(x: int) -> int:
        return x + offset

    return shifted


def test_identical_source_with_different_closure_values_differs() -> None:
    assert code_fingerprint(_make_task(1)) != code_fingerprint(_make_task(2))


def test_identical_source_with_equal_closure_values_is_the_same() -> None:
    assert code_fingerprint(_make_task([1, 2])) == code_fingerprint(_make_task([1, 2]))


def test_a_closure_cell_rebound_after_a_first_fingerprint_is_seen() -> None:
    limit = 1

    def capped(x: int) -> int:
        return min(x, limit)

    first = code_fingerprint(capped)
    limit = 2
    assert code_fingerprint(capped) != first
    assert capped(5) == 2


_FACTOR = 2


def _scaled(x: int) -> int:
    return x * _FACTOR


def test_a_global_rebound_after_a_first_fingerprint_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    first = code_fingerprint(_scaled)
    monkeypatch.setattr(sys.modules[__name__], "_FACTOR", 3)
    assert code_fingerprint(_scaled) != first


def test_a_replaced_code_object_is_seen() -> None:
    def f(x: int) -> int:
        return x + 1

    first = code_fingerprint(f)
    f.__code__ = (lambda x: x + 2).__code__
    assert code_fingerprint(f) != first


def test_a_task_counts_by_its_function() -> None:
    def double(x: int) -> int:
        return 2 * x

    assert code_fingerprint(task(double)) == code_fingerprint(double)


def test_a_task_subclass_counts_by_its_run() -> None:
    class Double(Task):
        def run(self, x: int) -> int:
            return 2 * x

    assert code_fingerprint(Double(name="double")) == code_fingerprint(Double.run)


def _ping(n: int) -> int:
    return 0 if n <= 0 else _pong(n - 1)


def _pong(n: int) -> int:
    return 0 if n <= 0 else _ping(n - 1)


def test_helpers_that_call_each_other_give_the_same_fingerprint_whatever_is_fingerprinted_first() -> None:
    script = (
        "import json, sys; sys.path.insert(0, {repo!r})\n"
        "from compat.engine.fingerprints import code_fingerprint\n"
        "from tests.engine.fingerprints.test_code import _ping, _pong\n"
        "order = [_ping, _pong] if sys.argv[1] == 'ping' else [_pong, _ping]\n"
        "print(json.dumps(sorted(code_fingerprint(f) for f in order)))\n"
    ).format(repo=str(REPO))
    results = [_run(script, first) for first in ("ping", "pong")]
    assert results[0] == results[1]
    assert code_fingerprint(_ping) != code_fingerprint(_pong)


def test_a_method_counts_by_its_function() -> None:
    class Job:
        def run(self, x: int) -> int:
            return x

    assert code_fingerprint(Job().run) == code_fingerprint(Job.run)


def test_a_partial_counts_its_arguments() -> None:
    assert code_fingerprint(functools.partial(_scaled, 1)) != code_fingerprint(functools.partial(_scaled, 2))


def test_a_decorated_function_counts_by_the_function_it_wraps() -> None:
    def logged(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any) -> Any:
            return fn(*args)

        return wrapper

    assert code_fingerprint(logged(_scaled)) == code_fingerprint(_scaled)


def test_lambdas_with_different_bodies_differ() -> None:
    assert code_fingerprint(lambda x: x + 1) != code_fingerprint(lambda x: x + 2)


def test_functions_without_source_count_by_their_compiled_code() -> None:
    made: dict[str, Any] = {}
    exec("def f(x):\n    return x + 1\ndef g(x):\n    return x + 2\ndef h(x):\n    return x + 1\n", made)
    assert code_fingerprint(made["f"]) != code_fingerprint(made["g"])
    assert code_fingerprint(made["f"]) == code_fingerprint(made["h"])


def test_a_builtin_counts_by_its_name() -> None:
    assert code_fingerprint(len) != code_fingerprint(sum)


def test_what_is_not_a_function_is_refused() -> None:
    with pytest.raises(ArgumentTypeError, match="code_fingerprint's fn must be a function"):
        code_fingerprint(5)  # type: ignore[arg-type]


def test_code_fingerprints_are_the_same_in_processes_with_different_hash_seeds(tmp_path: Path) -> None:
    source = BASE + "\nKEYS = {'a', 'b', 'c', 'd', 'e'}\n\ndef keyed(x):\n    return x in KEYS\n"
    found = []
    for seed in ("1", "2"):
        (tmp_path / seed).mkdir()
        found.append(functions_of(tmp_path / seed / "tasks.py", source, env={"PYTHONHASHSEED": seed}))
    assert found[0] == found[1]


def _run(script: str, *args: str) -> Any:
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env=os.environ)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)



def test_a_second_call_is_served_from_the_memo(tmp_path: Path) -> None:
    """Nothing the function reads changed, so its file is not read again (here: edited behind its back)."""
    import importlib.util
    import linecache

    path = tmp_path / "memo_module.py"
    path.write_text("def f(x):\n    return x + 1\n")
    spec = importlib.util.spec_from_file_location("memo_module", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = code_fingerprint(module.f)
    path.write_text("def f(x):\n    return x + 2\n")
    linecache.clearcache()
    assert code_fingerprint(module.f) == first
