"""The codemod that rewrites legacy ResultHandler code to the Result API: ``python -m codemods.results PATH...``.

``transform_source(text, profile)`` rewrites one module's text; ``cli.main`` runs it over a tree;
``command.ResultsCodemod`` is the same transform as a libcst codemod command. The rules are read from
``compat.renames``, the one table of renames.
"""

from codemods.results._table import load_rename_table

load_rename_table()  # before any module below imports from compat.renames: it must not import all of compat

from codemods.results.transform import Transformed, transform_source  # noqa: E402

__all__ = ["Transformed", "transform_source"]
