"""The same transform as a libcst codemod command, for projects that drive their codemods with libcst's tool::

    python -m libcst.tool codemod -x codemods.results.command.ResultsCodemod --no-format PATH

libcst's tool parses every file before the command sees it; ``python -m codemods.results`` skips files that
cannot mention a legacy name without parsing them, which is why it is the faster way to run this codemod.
"""

from __future__ import annotations

import argparse

import libcst as cst
from libcst.codemod import CodemodCommand, CodemodContext, SkipFile

from compat.renames import PROFILES
from codemods.results.transform import may_mention, transform_source

__all__ = ["ResultsCodemod"]


class ResultsCodemod(CodemodCommand):
    DESCRIPTION: str = "Rewrite legacy ResultHandler code to the Result API (the transform of codemods.results)."

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--profile", choices=["auto", *sorted(PROFILES)], default="auto",
                                help="which legacy API to migrate (default: auto, by the package a file imports)")

    def __init__(self, context: CodemodContext, profile: str = "auto") -> None:
        super().__init__(context)
        self.profile = PROFILES.get(profile)

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        code = tree.code
        if not may_mention(code.encode("utf-8", "surrogatepass"), self.profile):
            raise SkipFile("no legacy names")
        result = transform_source(code, self.profile)
        for site in result.sites:
            if site.action == "manual":
                self.warn(f"line {site.line}, column {site.column}: {site.rule}: {site.reason}")
        if not result.changed:
            return tree
        return cst.parse_module(result.code)
