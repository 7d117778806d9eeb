"""``touch`` (accept stored outputs: the next run is all Cached, even with invalidate_on) and ``invalidate`` (the
next run rebuilds, in every mode), through the API, the command line and a fresh process."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from compat.results.records import checked
from compat.store import load_flow
from compat.store.cli import main
from compat.store.invalidation import invalidate_locations
from compat.store.accept import touch

FLOW = """\
import os
from compat import Flow, LocalResult, Parameter, task

@task(target="{flow_name}/raw-{day}.pkl")
def extract(day):
    return [1, 2, 3]

@task(target="{flow_name}/total-{day}.pkl")
def total(rows):
    return sum(rows)

with Flow("etl", result=LocalResult(dir=os.environ["FLOW_OUTPUTS"]), invalidate_on=("code", "inputs")) as flow:
    day = Parameter("day", default="2026-11-25")
    answer = total(extract(day))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOW_OUTPUTS", str(tmp_path / "out"))
    (tmp_path / "flows.py").write_text(FLOW)
    return tmp_path


def legacy_outputs(project: Path) -> None:
    """Outputs as a legacy handler or an earlier version left them: the right bytes, no records."""
    (project / "out" / "etl").mkdir(parents=True)
    (project / "out" / "etl" / "raw-2026-11-25.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    (project / "out" / "etl" / "total-2026-11-25.pkl").write_bytes(pickle.dumps(6))


def run_codes(project: Path) -> dict[str, tuple[str, str]]:
    """Each task's State and code after a run of the flow in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys; sys.path.insert(0, sys.argv[1]); import flows\n"
         "state = flows.flow.run()\n"
         "print(json.dumps({t.name: [type(s).__name__, s.code] for t, s in state.result.items()}))", str(project)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return {name: tuple(pair) for name, pair in json.loads(done.stdout).items()}  # type: ignore[misc]


def test_touch_then_a_run_is_all_cached(project: Path) -> None:
    legacy_outputs(project)
    done = touch(load_flow(f"{project}/flows.py:flow"))
    assert [(item.task, item.record is not None) for item in done] == [("extract", True), ("total", True)]
    assert run_codes(project) == {"day": ("Success", "parameter"), "extract": ("Cached", "exists"),
                                  "total": ("Cached", "exists")}


def test_touch_accepts_outputs_after_a_code_change(project: Path) -> None:
    run_codes(project)
    source = project / "flows.py"
    source.write_text(FLOW.replace("return sum(rows)", "return sum(rows) + 0"))
    assert load_flow(f"{source}:flow").plan()["total"].code == "code-changed"
    assert main(["touch", f"{source}:flow", "--task", "total"]) == 0
    assert run_codes(project)["total"] == ("Cached", "exists")


def test_touch_leaves_a_task_with_nothing_stored_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    legacy_outputs(project)
    (project / "out" / "etl" / "total-2026-11-25.pkl").unlink()
    assert main(["touch", f"{project}/flows.py:flow", "--json"]) == 1
    rows = {row["task"]: (row["touched"], row["why"]) for row in json.loads(capsys.readouterr().out)["tasks"]}
    assert rows["extract"] == (True, "accepted as up to date")
    assert rows["total"][0] is False and "no target at" in rows["total"][1]


def test_touch_of_an_unknown_task_is_refused(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["touch", f"{project}/flows.py:flow", "--task", "nope"]) == 2
    assert "has no task 'nope'" in capsys.readouterr().err


def test_an_invalidated_output_is_rebuilt_even_without_invalidate_on(project: Path) -> None:
    source = project / "flows.py"
    source.write_text(FLOW.replace(', invalidate_on=("code", "inputs")', ""))
    run_codes(project)
    target = project / "out" / "etl" / "raw-2026-11-25.pkl"
    (item,) = invalidate_locations([str(target)])
    assert item.record is not None and item.record.invalidated
    assert target.exists()  # not deleted
    plan = load_flow(f"{source}:flow").plan()
    assert (plan["extract"].action, plan["extract"].code) == ("run", "invalidated")
    codes = run_codes(project)
    assert codes["extract"] == ("Success", "invalidated")
    assert codes["total"][0] == "Cached"  # the same bytes again: early cutoff


def test_an_output_without_a_record_can_be_invalidated(project: Path) -> None:
    legacy_outputs(project)
    assert main(["invalidate", "--flow", f"{project}/flows.py:flow", "--task", "total"]) == 0
    assert load_flow(f"{project}/flows.py:flow").plan()["total"].code == "invalidated"


def test_invalidate_delete_removes_the_output_and_its_record(project: Path) -> None:
    run_codes(project)
    target = project / "out" / "etl" / "total-2026-11-25.pkl"
    assert main(["invalidate", str(target), "--delete"]) == 0
    assert sorted(path.name for path in target.parent.iterdir()) == ["raw-2026-11-25.pkl"]


@pytest.mark.parametrize(("argv", "message"), [
    (["invalidate"], "give LOCATION... or --task"),
    (["invalidate", "--task", "total"], "--task needs --flow"),
    (["invalidate", "{out}/nothing.pkl"], "nothing is stored"),
])
def test_invalidate_usage_errors_exit_2(argv: list[str], message: str, project: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    (project / "out").mkdir()
    assert main([arg.format(out=project / "out") for arg in argv]) == 2
    assert message in capsys.readouterr().err


def test_an_invalidated_record_is_signed_and_cannot_be_quietly_undone(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "a long random secret")
    flow = load_flow(f"{project}/flows.py:flow")
    flow.run()
    target = project / "out" / "etl" / "raw-2026-11-25.pkl"
    (item,) = invalidate_locations([str(target)])
    assert item.record is not None and item.record.key_id is not None
    assert flow.plan()["extract"].code == "invalidated"  # believed: signed with the key in use
    record_path = Path(str(target) + ".record.json")
    undone = json.loads(checked(record_path.read_bytes()))
    undone["invalidated"] = None
    record_path.write_text(json.dumps(undone))
    assert flow.plan()["extract"].code == "no-record"  # the signature no longer matches: the record is ignored
