"""Memory is bounded: a file past ``--max-file-size`` is never parsed (a 5 MB generated module took 18 s and
1.33 GB); if its bytes mention a legacy name it fails saying how to process it, else it is filtered as ever."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from codemods.results.cli import main
from codemods.results.runner import MAX_FILE_SIZE, Options, run
from codemods.results.transform import may_mention_in

LEGACY = "from compat.result_handlers import JSONResultHandler\n\nh = JSONResultHandler()\n"
MIGRATED = "from compat.results import JSONResult\n\nh = JSONResult()\n"


def generated(path: Path, header: str, size: int) -> Path:
    """A generated module of at least ``size`` bytes: ``header``, then a data table."""
    rows = (size - len(header)) // 40 + 1
    path.write_text(header + "DATA = [\n" + "".join(f"    ({i:12d}, 'row {i:12d}'),\n" for i in range(rows)) + "]\n")
    return path


def test_a_file_past_the_limit_that_mentions_a_legacy_name_fails_unparsed_naming_the_flag(tmp_path: Path) -> None:
    path = generated(tmp_path / "table.py", LEGACY, MAX_FILE_SIZE + 1)
    before = path.read_bytes()
    [outcome] = run([str(path)], Options())
    assert outcome.status == "failed"
    assert outcome.error.startswith("not analysed: ")
    assert "is larger than --max-file-size 1.0 MiB" in outcome.error
    assert "pass --max-file-size with a larger size to rewrite it, or --exclude it if it is generated" in outcome.error
    assert path.read_bytes() == before


def test_a_file_past_the_limit_without_legacy_names_is_filtered(tmp_path: Path) -> None:
    path = generated(tmp_path / "table.py", "import os\n", MAX_FILE_SIZE + 1)
    assert [o.status for o in run([str(path)], Options())] == ["filtered"]


def test_a_legacy_name_cut_by_a_chunk_boundary_is_still_found() -> None:
    data = b"x" * 1000 + b"JSONResultHandler" + b"y" * 1000
    for chunk in (7, 1005, 1010, 4096):
        assert may_mention_in(io.BytesIO(data), None, chunk=chunk)
    assert not may_mention_in(io.BytesIO(b"x" * 5000), None, chunk=1000)


def test_a_raised_max_file_size_rewrites_a_large_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = generated(tmp_path / "table.py", LEGACY, MAX_FILE_SIZE + 1)
    assert main(["-j", "1", "--max-file-size", "2M", str(path)]) == 0
    assert path.read_text().startswith(MIGRATED)


def test_the_command_line_reports_the_refused_file_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = generated(tmp_path / "table.py", LEGACY, 3000)
    assert main(["-j", "1", "--max-file-size", "2K", str(path)]) == 2
    assert f"{path}: not analysed: " in capsys.readouterr().err


@pytest.mark.parametrize("given", ["lots", "0", "-1M"])
def test_a_max_file_size_that_is_not_a_size_is_a_usage_error(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--max-file-size", given, "."]) == 2
    assert "--max-file-size" in capsys.readouterr().err
