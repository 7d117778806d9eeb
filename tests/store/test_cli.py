"""``results-compat``: each subcommand through ``main(argv)``, its exit codes, and the script in a fresh process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from compat.store.cli import main
from tests.store.helpers import output

FLOW = """\
import os
from compat import Flow, LocalResult, Parameter, task

@task(target="{flow_name}/raw-{day}.pkl")
def extract(day):
    return [1, 2, 3]

@task(target="{flow_name}/total-{day}.pkl")
def total(rows):
    return sum(rows)

with Flow("etl", result=LocalResult(dir=os.environ["FLOW_OUTPUTS"])) as flow:
    day = Parameter("day", default="2026-11-25")
    answer = total(extract(day))
"""


@pytest.fixture
def flow_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLOW_OUTPUTS", str(tmp_path / "out"))
    path = tmp_path / "flows.py"
    path.write_text(FLOW)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "exit codes:\n  0  done" in out and "\n  1  plan: a task would run" in out and "\n  2  usage error" in out


def test_a_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([], capsys)
    assert code == 2 and "required: COMMAND" in err


def test_plan_exits_1_while_a_task_would_run_and_0_once_all_is_cached(
    flow_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["plan", f"{flow_file}:flow"], capsys)
    assert code == 1 and "2 to run, 0 cached" in out
    from compat.store import load_flow

    load_flow(f"{flow_file}:flow").run()
    code, out, _ = run(["plan", f"{flow_file}:flow"], capsys)
    assert code == 0 and "0 to run, 2 cached" in out


def test_plan_takes_params_and_refresh(flow_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compat.store import load_flow

    load_flow(f"{flow_file}:flow").run()
    code, out, _ = run(["plan", f"{flow_file}:flow", "--param", "day=2026-11-26", "--json"], capsys)
    assert code == 1
    assert {step["task"]: step["action"] for step in json.loads(out)["tasks"]} == {
        "day": "run", "extract": "run", "total": "run"}
    code, out, _ = run(["plan", f"{flow_file}:flow", "--refresh", "total", "--json"], capsys)
    assert code == 1 and json.loads(out)["to_run"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "nowhere.py:flow"], "no flow file 'nowhere.py'"),
        (["plan", "{flow}:flow", "--param", "month=1"], "has no parameter 'month'"),
        (["plan", "{flow}:flow", "--param", "day"], "write NAME=VALUE"),
        (["plan", "{flow}:flow", "--refresh", "nope"], "nope"),
        (["ls", "{dir}/missing"], "does not exist"),
        (["ls", "ftp://host/x"], "unknown scheme 'ftp'"),
        (["ls", "{dir}", "--stale"], "--stale needs --flow"),
        (["show", "{dir}/missing.pkl"], "nothing is stored at"),
    ],
)
def test_errors_exit_2_with_one_line_saying_what_is_wrong(
    argv: list[str], message: str, flow_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [arg.format(flow=flow_file, dir=flow_file.parent) for arg in argv]
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("argv", [["gc", ".", "--older-than", "3"], ["gc", ".", "--keep-last", "-1"],
                                  ["gc", ".", "--max-size", "lots"], ["ls"], ["frobnicate"]])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv, capsys)[0] == 2


def test_ls_lists_outputs_with_their_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output(tmp_path, "etl/raw.pkl", task="extract", run_id="r1")
    (tmp_path / "etl" / "raw.pkl.unreadable-20261201T101010.123456Z").write_bytes(b"x")
    code, out, _ = run(["ls", str(tmp_path), "--json"], capsys)
    assert code == 0
    rows = {row["location"]: (row["kind"], row["task"], row["run_id"], row["record"])
            for row in json.loads(out)["entries"]}
    assert rows == {"etl/raw.pkl": ("output", "extract", "r1", "yes"),
                    "etl/raw.pkl.unreadable-20261201T101010.123456Z": ("kept-aside", None, None, "-")}


def test_ls_shows_a_name_with_a_newline_on_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output(tmp_path, "two\nlines.pkl")
    code, out, _ = run(["ls", str(tmp_path)], capsys)
    assert code == 0 and "two\\nlines.pkl" in out and len(out.splitlines()) == 3  # header, row, summary


def test_ls_shows_a_records_task_and_run_with_control_characters_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output(tmp_path, "out.pkl", task="evil\x1b[2J\nname", run_id="r\n1")  # as a record planted beside it could say
    code, out, _ = run(["ls", str(tmp_path)], capsys)
    assert code == 0 and "\x1b" not in out and len(out.splitlines()) == 3  # header, row, summary
    assert "evil\\x1b[2J\\nname" in out and "r\\n1" in out


def test_ls_flow_says_fresh_or_why_not(flow_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compat.store import load_flow

    load_flow(f"{flow_file}:flow").run()
    out_dir = flow_file.parent / "out"
    flow_file.write_text(FLOW.replace("return sum(rows)", "return sum(rows) + 0"))
    code, out, _ = run(["ls", str(out_dir), "--flow", f"{flow_file}:flow", "--json"], capsys)
    assert code == 0
    assert {row["location"]: row["status"] for row in json.loads(out)["entries"]} == {
        "etl/raw-2026-11-25.pkl": "fresh", "etl/total-2026-11-25.pkl": "code-changed"}


def test_ls_stale_lists_only_stale_outputs_and_exits_1(flow_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compat.store import load_flow

    load_flow(f"{flow_file}:flow").run()
    out_dir = flow_file.parent / "out"
    assert run(["ls", str(out_dir), "--flow", f"{flow_file}:flow", "--stale", "--json"], capsys)[:2] == (
        0, '{\n  "root": "%s",\n  "entries": []\n}\n' % out_dir)
    flow_file.write_text(FLOW.replace("return sum(rows)", "return sum(rows) + 0"))
    code, out, _ = run(["ls", str(out_dir), "--flow", f"{flow_file}:flow", "--stale", "--json"], capsys)
    assert code == 1
    assert [row["location"] for row in json.loads(out)["entries"]] == ["etl/total-2026-11-25.pkl"]


def test_gc_dry_run_prints_exactly_what_gc_then_removes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = (datetime.now(timezone.utc) - timedelta(days=60)).isoformat().replace("+00:00", "Z")
    for name in ("a.pkl", "sub dir/b\nc.pkl", "d.pkl"):
        output(tmp_path, name, written_at=old, run_id=name)
    output(tmp_path, "new.pkl", written_at=datetime.now(timezone.utc).isoformat())
    (tmp_path / "foreign.bin").write_bytes(b"not ours")
    code, would, _ = run(["gc", str(tmp_path), "--older-than", "30d", "--dry-run"], capsys)
    assert code == 1
    code, did, _ = run(["gc", str(tmp_path), "--older-than", "30d"], capsys)
    assert code == 0
    assert would.replace("would remove", "removed") == did
    assert did.count("\n") == 4
    code, again, _ = run(["gc", str(tmp_path), "--older-than", "30d", "--dry-run"], capsys)
    assert code == 0 and again.startswith("would remove 0 ")


def test_show_never_unpickles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pickle

    class Planted:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(tmp_path / "pwned"), "w"))

    (tmp_path / "x.pkl").write_bytes(pickle.dumps(Planted()))
    code, out, _ = run(["show", str(tmp_path / "x.pkl")], capsys)
    assert code == 0 and "unsigned" in out and "pickle (protocol" in out
    assert not (tmp_path / "pwned").exists()


def test_show_exits_1_on_bytes_signed_with_a_key_not_in_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from compat.results import signing

    (tmp_path / "x.pkl").write_bytes(signing.sign(signing.keyring("theirs"), "x.pkl", b"\x80\x05K\x01."))
    monkeypatch.setenv("RESULTS_COMPAT_SIGNING_KEY", "ours")
    code, out, _ = run(["show", str(tmp_path / "x.pkl"), "--json"], capsys)
    shown = json.loads(out)
    assert code == 1
    assert (shown["signature"], shown["key_id"]) == ("untrusted", signing.key_id("theirs"))


def test_the_script_plans_a_flow_file_in_a_fresh_process(flow_file: Path) -> None:
    script = shutil.which("results-compat", path=os.path.dirname(sys.executable))
    assert script is not None, "the console script is installed with the package"
    done = subprocess.run([script, "plan", "flows.py:flow", "--json"], cwd=flow_file.parent, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "FLOW_OUTPUTS": str(flow_file.parent / "out")})
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["to_run"] == 2
