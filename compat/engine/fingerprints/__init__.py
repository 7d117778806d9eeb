"""Fingerprints: what made a stored output, as short stable strings a record keeps and a later run compares.

``code_fingerprint(fn)`` says what a task's code computes (docstrings, comments, formatting, annotations and the
codemod's rewrites do not count; the values it reads do), ``value_fingerprint(value)`` what a value holds. Both
are ``"sha256:<hex>"``, the same in every process (no ``id()``, no hash randomisation), and raise
``Unfingerprintable`` rather than guess. ``register_fingerprint`` teaches ``value_fingerprint`` a type.
"""

from compat.engine.fingerprints.code import code_fingerprint
from compat.engine.fingerprints.values import register_fingerprint, value_fingerprint

__all__ = ["code_fingerprint", "register_fingerprint", "value_fingerprint"]
