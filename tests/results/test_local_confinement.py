"""A LocalResult location stays inside ``dir``: values rendered into a template cannot make it absolute, climb out
or follow a symlink out; what no file system accepts is refused before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compat import Flow, Failed, LocalResult, LocationError, TemplateError, task


def test_a_value_cannot_make_a_relative_template_absolute(tmp_path: Path) -> None:
    victim = tmp_path / "victim.conf"
    victim.write_text("keep me")
    result = LocalResult(dir=tmp_path / "results", location="{name}")
    with pytest.raises(LocationError, match="may not choose where the file goes"):
        result.write(1, name=str(victim))
    assert victim.read_text() == "keep me"


def test_a_value_cannot_make_a_target_absolute_in_a_flow_and_the_task_does_not_run(tmp_path: Path) -> None:
    victim = tmp_path / "victim.conf"
    victim.write_text("keep me")
    ran = []

    @task(target="{name}")
    def make(name: str) -> int:
        ran.append(name)
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path / "results")) as flow:
        node = make(str(victim))
    state = flow.run().result[node]
    assert type(state) is Failed and "may not choose where the file goes" in state.message
    assert ran == [] and victim.read_text() == "keep me"


def test_an_absolute_value_is_not_read_as_a_cached_target(tmp_path: Path) -> None:
    elsewhere = LocalResult(dir=tmp_path / "elsewhere", location="secret.pkl").write("secret").location
    with pytest.raises(LocationError, match="may not choose"):
        LocalResult(dir=tmp_path / "results").exists("{name}", name=elsewhere)


def test_a_literal_absolute_template_keeps_working(tmp_path: Path) -> None:
    template = str(tmp_path / "abs" / "{name}.pkl")
    written = LocalResult(dir=tmp_path / "results", location=template).write(3, name="v")
    assert written.location == str(tmp_path / "abs" / "v.pkl")


def test_a_value_cannot_climb_out_of_a_literal_absolute_template(tmp_path: Path) -> None:
    template = str(tmp_path / "abs" / "{name}.pkl")
    with pytest.raises(LocationError, match="climbs out of"):
        LocalResult(dir=tmp_path / "results", location=template).write(3, name="../escaped")
    assert not (tmp_path / "escaped.pkl").exists()


def test_a_symlinked_subdirectory_cannot_send_a_write_outside_dir(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "results" / "link")
    with pytest.raises(LocationError, match="symbolic link"):
        LocalResult(dir=tmp_path / "results", location="link/{name}.pkl").write(1, name="x")
    assert list((tmp_path / "outside").iterdir()) == []


def test_a_symlink_inside_dir_that_stays_inside_is_followed(tmp_path: Path) -> None:
    (tmp_path / "results" / "real").mkdir(parents=True)
    os.symlink(tmp_path / "results" / "real", tmp_path / "results" / "link")
    LocalResult(dir=tmp_path / "results", location="link/x.pkl").write(1)
    assert (tmp_path / "results" / "real" / "x.pkl").is_file()


def test_a_dir_that_is_itself_a_symlink_works(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "results")
    written = LocalResult(dir=tmp_path / "results", location="x.pkl").write(1)
    assert written.location == str(tmp_path / "results" / "x.pkl") and (tmp_path / "real" / "x.pkl").is_file()


def test_a_nul_byte_in_a_rendered_location_is_refused_before_the_task_runs(tmp_path: Path) -> None:
    ran = []

    @task(target="{name}.pkl")
    def make(name: str) -> int:
        ran.append(name)
        return 1

    with Flow("f", result=LocalResult(dir=tmp_path)) as flow:
        node = make("a\0b")
    state = flow.run().result[node]
    assert type(state) is Failed and isinstance(state.exception, LocationError) and "NUL byte" in state.message
    assert ran == []


def test_a_name_of_255_bytes_can_be_written(tmp_path: Path) -> None:
    name = "n" * 251 + ".pkl"
    LocalResult(dir=tmp_path, location=name).write(1)
    assert LocalResult(dir=tmp_path).read(name).value == 1


def test_a_name_longer_than_255_bytes_is_refused_when_rendered(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="file name of 256 bytes"):
        LocalResult(dir=tmp_path, location="{name}.pkl").format(name="n" * 252)


def test_a_format_spec_asking_for_gigabytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="99999999999 characters wide"):
        LocalResult(dir=tmp_path, location="{n:>99999999999}.pkl").write(1, n=1)


def test_a_nested_format_spec_asking_for_gigabytes_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="1000000000 characters wide"):
        LocalResult(dir=tmp_path, location="{n:>{w}}.pkl").format(n=1, w=10**9)


def test_an_empty_dir_is_refused_instead_of_meaning_the_current_directory() -> None:
    with pytest.raises(LocationError, match="dir is empty"):
        LocalResult(dir="")


def test_a_bytes_dir_is_refused_with_a_clear_error() -> None:
    with pytest.raises(LocationError, match="dir must be a str path, not bytes"):
        LocalResult(dir=b"/tmp/results")  # type: ignore[arg-type]


def test_a_dir_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(LocationError, match="dir must be a str or os.PathLike path, not int"):
        LocalResult(dir=3)  # type: ignore[arg-type]
