"""The codemod that rewrites legacy ResultHandler code to the Result API: ``python -m codemods.results PATH...``.

``transform_source(text, profile)`` rewrites one module's text; ``cli.main`` runs it over a tree;
``command.ResultsCodemod`` is the same transform as a libcst codemod command. The rules are read from
``compat.renames``, the one table of renames.
"""

from codemods.results._table import load_rename_table

load_rename_table()  # before any module below imports from compat.renames: it must not import all of compat

__all__ = ["Transformed", "transform_source"]


def __getattr__(name: str) -> object:
    """``transform_source`` and ``Transformed`` are imported on first use: ``results-codemod --help`` and a usage
    error need neither the transform nor its rules."""
    if name in __all__:
        from codemods.results import transform

        return getattr(transform, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
