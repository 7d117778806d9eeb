"""Source text as the codemod handles it: decoded with the file's own encoding, addressed the way ``ast`` does.

``ast`` positions are (1-based line, UTF-8 byte column), lines ending at ``\\n``, ``\\r\\n`` or a lone ``\\r``.
``Source`` turns them into byte offsets into the UTF-8 text and applies edits there, so every byte outside a
rewritten span stays exactly as it was: no round trip through a code generator for the file as a whole.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from collections.abc import Iterable

from codemods.results.model import Edit

__all__ = ["Source", "decode", "encode", "newline_of"]

_LINE_END = re.compile(rb"\r\n|\r|\n")


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a Python file's bytes, honouring a BOM or a coding cookie (PEP 263).

    Raises ``SyntaxError`` for an unknown encoding and ``UnicodeDecodeError`` for bytes the encoding rejects.
    """
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)  # utf-8-sig strips the BOM; encode() puts it back
    return text, encoding


def encode(text: str, encoding: str) -> bytes:
    return codecs.encode(text, encoding)


def newline_of(text: str) -> str:
    """The file's newline style: that of its first line ending (libcst decides the same way)."""
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


class Source:
    """The UTF-8 bytes of a module and the offsets of its lines, for ``ast`` positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode("utf-8", "surrogatepass")
        self.line_starts = [0] + [m.end() for m in _LINE_END.finditer(self.data)]
        self.newline = newline_of(text)

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[line - 1] + column

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def line_start(self, line: int) -> int:
        return self.line_starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the line's terminator (or the end of the file)."""
        return self.line_starts[line] if line < len(self.line_starts) else len(self.data)

    def segment(self, start: int, end: int) -> str:
        return self.data[start:end].decode("utf-8", "surrogatepass")

    def column(self, node: ast.AST) -> int:
        """The 1-based character column of a node, for reports."""
        line_start = self.line_start(node.lineno)  # type: ignore[attr-defined]
        return len(self.segment(line_start, line_start + node.col_offset)) + 1  # type: ignore[attr-defined]

    def apply(self, edits: Iterable[Edit]) -> str:
        """The text with every edit applied; overlapping replacements are a bug in a rule and raise."""
        pieces: list[bytes] = []
        position = 0
        for edit in sorted(edits):
            if edit.start < position:
                raise ValueError(f"overlapping edits at byte {edit.start}: {edit.text!r}")
            pieces.append(self.data[position : edit.start])
            pieces.append(edit.text.encode("utf-8", "surrogatepass"))
            position = edit.end
        pieces.append(self.data[position:])
        return b"".join(pieces).decode("utf-8", "surrogatepass")
