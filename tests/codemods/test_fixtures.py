"""Every before/after fixture: exact text, output that parses, a no-op second run, and the --check exit codes."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst
import pytest

from compat.renames import PROFILES
from codemods.results import transform_source
from codemods.results.cli import main
from tests.codemods.conftest import fixture_pairs, read_pair

PAIRS = fixture_pairs()
IDS = [f"{profile}/{name}" for profile, name in PAIRS]

# The manual follow-ups each fixture must report (rule names, in source order); every other fixture reports none.
EXPECTED_MANUAL = {
    "compat/ambiguous": ["constructor"],
    "compat/attributes": ["attribute"],
    "compat/cloud_handlers": ["constructor", "constructor"],
    "compat/custom_subclass": ["subclass"],
    "compat/direct_calls": ["direct-call"],
    "compat/imports_grouped": ["subclass"],
    "compat/keywords": ["direct-call"],
    "compat/manual_cases": ["keyword", "direct-call", "dynamic", "dynamic", "constructor", "reference"],
    "compat/name_taken": ["constructor"],
    "compat/nested_scopes": ["direct-call"] * 4,
    "compat/star_import": ["import"],
    "compat/unfollowed_handlers": ["direct-call"] * 9,
    "prefect/dropped_argument": ["constructor", "constructor"],
    "prefect/prefect_custom": ["subclass", "keyword"],
    "prefect/prefect_flow": ["constructor"],
    "prefect3/flows_left": ["flow"] * 4,
    "prefect3/results": ["constructor", "constructor", "keyword", "keyword"],
    "prefect3/result_kinds": ["keyword", "keyword"],
    "prefect3/task_classes": ["task-class", "task-class"],
}


def test_there_are_fixtures_for_every_profile() -> None:
    assert {profile for profile, _ in PAIRS} == set(PROFILES)


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_fixture_is_rewritten_to_the_expected_text(profile: str, name: str) -> None:
    before, after = read_pair(profile, name)
    assert transform_source(before, PROFILES[profile]).code == after


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_fixture_output_parses(profile: str, name: str) -> None:
    _, after = read_pair(profile, name)
    ast.parse(after)
    assert libcst.parse_module(after).code == after


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_second_run_is_a_no_op(profile: str, name: str) -> None:
    _, after = read_pair(profile, name)
    again = transform_source(after, PROFILES[profile])
    assert not again.changed
    assert again.code == after


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_fixture_reports_its_manual_follow_ups(profile: str, name: str) -> None:
    before, _ = read_pair(profile, name)
    sites = transform_source(before, PROFILES[profile]).sites
    assert [site.rule for site in sites if site.action == "manual"] == EXPECTED_MANUAL.get(f"{profile}/{name}", [])


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_check_exit_codes(profile: str, name: str, tmp_path: Path) -> None:
    before, after = read_pair(profile, name)
    path = tmp_path / f"{name}.py"
    path.write_bytes(before.encode("utf-8"))
    manual_before = bool(EXPECTED_MANUAL.get(f"{profile}/{name}"))
    expected = 1 if before != after or manual_before else 0
    assert main(["--check", "--quiet", "--profile", profile, str(path)]) == expected
    assert path.read_bytes() == before.encode("utf-8"), "--check must not write"

    path.write_bytes(after.encode("utf-8"))
    manual_after = any(s.action == "manual" for s in transform_source(after, PROFILES[profile]).sites)
    assert main(["--check", "--quiet", "--profile", profile, str(path)]) == (1 if manual_after else 0)


@pytest.mark.parametrize(("profile", "name"), PAIRS, ids=IDS)
def test_crlf_file_is_rewritten_with_crlf(profile: str, name: str) -> None:
    before, after = read_pair(profile, name)
    crlf_before, crlf_after = before.replace("\n", "\r\n"), after.replace("\n", "\r\n")
    assert transform_source(crlf_before, PROFILES[profile]).code == crlf_after
