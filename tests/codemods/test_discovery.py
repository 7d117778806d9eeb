"""Which files a run takes: Python files of the project, never its VCS data, virtualenvs, build output,
ignored or excluded paths, or files outside the tree reached through symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from codemods.results.discovery import discover


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(root: Path, *excludes: str) -> list[str]:
    return sorted(os.path.relpath(path, root) for path in discover([str(root)], excludes).files)


def test_python_files_are_found_recursively(project: Path) -> None:
    touch(project / "a.py")
    touch(project / "pkg" / "b.py")
    touch(project / "notes.txt")
    assert names(project) == ["a.py", os.path.join("pkg", "b.py")]


def test_vcs_virtualenvs_and_build_output_are_skipped(project: Path) -> None:
    touch(project / ".git" / "hooks" / "x.py")
    touch(project / ".venv" / "lib" / "y.py")
    touch(project / "env2" / "pyvenv.cfg")
    touch(project / "env2" / "lib" / "z.py")
    touch(project / "build" / "lib" / "w.py")
    touch(project / "keep.py")
    assert names(project) == ["keep.py"]


def test_gitignored_paths_are_skipped_including_nested_and_parent_ignores(project: Path) -> None:
    touch(project / ".gitignore", "generated/\n*_pb2.py\n")
    touch(project / "generated" / "a.py")
    touch(project / "api_pb2.py")
    touch(project / "sub" / ".gitignore", "local.py\n")
    touch(project / "sub" / "local.py")
    touch(project / "sub" / "kept.py")
    assert names(project) == [os.path.join("sub", "kept.py")]
    # run on the subdirectory: the repository root's .gitignore still applies
    touch(project / "sub" / "x_pb2.py")
    assert names(project / "sub") == ["kept.py"]


def test_exclude_globs_match_relative_paths_and_names(project: Path) -> None:
    touch(project / "migrations" / "m1.py")
    touch(project / "app" / "test_app.py")
    touch(project / "app" / "app.py")
    assert names(project, "migrations", "test_*.py") == [os.path.join("app", "app.py")]


def test_symlinks_out_of_the_tree_are_not_followed(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    touch(outside / "secret.py")
    (project / "linked_dir").symlink_to(outside, target_is_directory=True)
    (project / "linked_file.py").symlink_to(outside / "secret.py")
    touch(project / "own.py")
    assert names(project) == ["own.py"]


def test_a_symlink_inside_the_tree_is_listed_once_as_its_target(project: Path) -> None:
    target = touch(project / "real.py")
    (project / "alias.py").symlink_to(target)
    found = discover([str(project)]).files
    assert [os.path.realpath(p) for p in found] == [os.path.realpath(target)]


def test_symlink_loops_in_the_tree_are_skipped_and_reported_and_the_rest_is_found(project: Path) -> None:
    touch(project / "pkg" / "own.py")
    (project / "pkg" / "one.py").symlink_to("two.py")
    (project / "pkg" / "two.py").symlink_to("one.py")
    (project / "pkg" / "itself").symlink_to("itself")
    found = discover([str(project)])
    assert [os.path.relpath(path, project) for path in found.files] == [os.path.join("pkg", "own.py")]
    assert sorted((os.path.relpath(path, project), why) for path, why in found.skipped) == [
        (os.path.join("pkg", name), "a symlink loop") for name in ("itself", "one.py", "two.py")
    ]


def test_a_symlink_loop_given_as_a_path_is_reported_as_a_loop(project: Path) -> None:
    (project / "one.py").symlink_to("one.py")
    assert discover([str(project / "one.py")]).skipped == [(str(project / "one.py"), "a symlink loop")]


def test_paths_given_twice_are_processed_once(project: Path) -> None:
    touch(project / "a.py")
    assert len(discover([str(project), str(project / "a.py")]).files) == 1


def test_missing_paths_are_reported(project: Path) -> None:
    assert discover([str(project / "nope")]).missing == [str(project / "nope")]


def test_exclude_globs_also_match_the_path_as_given(project: Path, monkeypatch) -> None:
    touch(project / "src" / "legacy" / "old.py")
    touch(project / "src" / "new.py")
    monkeypatch.chdir(project)
    found = discover(["src"], ["src/legacy/*"]).files
    assert [os.path.normpath(p) for p in found] == [os.path.join("src", "new.py")]


def _tree(project: Path) -> None:
    touch(project / "cm3" / "custom.py")
    touch(project / "cm3" / "other.py")
    touch(project / "cm3" / "sub" / "deep.py")


def _found(paths: list[str], *excludes: str) -> list[str]:
    return sorted(os.path.relpath(p).replace(os.sep, "/") for p in discover(paths, excludes).files)


def test_exclude_globs_match_the_path_as_printed_relative_to_the_current_directory(project: Path, monkeypatch) -> None:
    _tree(project)
    monkeypatch.chdir(project)
    rest = ["cm3/other.py", "cm3/sub/deep.py"]
    assert _found(["cm3"], "cm3/custom.py") == rest
    assert _found(["cm3"], "*/custom.py") == rest
    assert _found(["cm3"], "./cm3/custom.py") == rest
    assert _found(["./cm3"], "cm3/custom.py") == rest
    assert _found([str(project / "cm3")], "cm3/custom.py") == rest  # an absolute PATH, a cwd-relative glob


def test_a_directory_glob_excludes_its_whole_subtree(project: Path, monkeypatch) -> None:
    _tree(project)
    monkeypatch.chdir(project)
    assert _found(["cm3"], "cm3/sub") == ["cm3/custom.py", "cm3/other.py"]
    assert _found(["."], "sub") == ["cm3/custom.py", "cm3/other.py"]
    assert _found(["."], "cm3/") == []


def test_a_path_argument_an_exclude_glob_matches_is_still_taken(project: Path, monkeypatch) -> None:
    _tree(project)
    monkeypatch.chdir(project)
    assert _found(["cm3"], "cm3") == ["cm3/custom.py", "cm3/other.py", "cm3/sub/deep.py"]
    assert _found(["cm3/sub"], "cm3") == ["cm3/sub/deep.py"]
    assert _found(["cm3/custom.py"], "cm3") == ["cm3/custom.py"]
    assert _found(["cm3"], "cm3", "deep.py") == ["cm3/custom.py", "cm3/other.py"]  # what is under it is still filtered


def test_force_exclude_skips_a_path_argument_an_exclude_glob_matches(project: Path, monkeypatch) -> None:
    _tree(project)
    monkeypatch.chdir(project)
    for paths in (["cm3"], ["cm3/sub"], ["cm3/custom.py"]):
        found = discover(paths, ["cm3"], force_exclude=True)
        assert found.files == [] and found.skipped == [(paths[0], "matches --exclude")]


def test_a_path_argument_an_enclosing_gitignore_ignores_is_still_taken(project: Path, monkeypatch) -> None:
    touch(project / ".gitignore", "generated/\n*.log\n")
    touch(project / "generated" / "a.py")
    touch(project / "generated" / "deep" / "b.py")
    touch(project / "generated" / "deep" / ".gitignore", "b.py\n")
    monkeypatch.chdir(project)
    assert _found(["generated"]) == ["generated/a.py"]
    assert _found(["generated/a.py"]) == ["generated/a.py"]
    monkeypatch.chdir(project / "generated")
    assert _found(["."]) == ["a.py"]


def test_force_exclude_skips_a_path_argument_an_enclosing_gitignore_ignores(project: Path, monkeypatch) -> None:
    touch(project / ".gitignore", "generated/\n")
    touch(project / "generated" / "a.py")
    monkeypatch.chdir(project)
    for given in ("generated", "generated/a.py"):
        found = discover([given], force_exclude=True)
        assert found.files == [] and found.skipped == [(given, "ignored by .gitignore")]


def test_the_current_directory_name_does_not_exclude_a_run_on_dot(project: Path, monkeypatch) -> None:
    _tree(project)
    monkeypatch.chdir(project)
    assert len(_found(["."], project.name)) == 3
