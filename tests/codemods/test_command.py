"""The transform as a libcst codemod command gives the CLI's output and passes on its follow-ups as warnings."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.codemod import CodemodContext, SkipFile, TransformSuccess, transform_module

from codemods.results.command import ResultsCodemod
from tests.codemods.conftest import read_pair


def test_command_output_matches_the_fixture() -> None:
    before, after = read_pair("compat", "keywords")
    result = transform_module(ResultsCodemod(CodemodContext()), before)
    assert isinstance(result, TransformSuccess)
    assert result.code == after


def test_command_uses_the_profile_it_is_given() -> None:
    before, after = read_pair("prefect", "prefect_flow")
    result = transform_module(ResultsCodemod(CodemodContext(), profile="prefect"), before)
    assert isinstance(result, TransformSuccess)
    assert result.code == after


def test_command_reports_manual_follow_ups_as_warnings() -> None:
    before, _ = read_pair("compat", "custom_subclass")
    result = transform_module(ResultsCodemod(CodemodContext()), before)
    assert isinstance(result, TransformSuccess)
    assert any("DirectoryHandler" in warning for warning in result.warning_messages)


def test_command_skips_files_without_legacy_names() -> None:
    with pytest.raises(SkipFile):
        ResultsCodemod(CodemodContext()).transform_module_impl(cst.parse_module("import os\n"))
