"""The usage example in compat.engine's docstring runs as written (it is the engine's README section)."""

from __future__ import annotations

import textwrap

import compat.engine


def docstring_example() -> str:
    """The literal block after the first ``::`` of compat.engine's docstring."""
    doc = compat.engine.__doc__ or ""
    block = doc.split("::\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith("    "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


def test_the_engine_docstring_example_runs() -> None:
    code = docstring_example()
    assert "flow.run()" in code
    exec(compile(code, "compat.engine docstring", "exec"), {"__name__": "example"})
