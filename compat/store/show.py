"""What is stored at one location (``show``): its format, its signature status and its record, from the bytes and
the record alone. Nothing is ever unpickled: a signature is checked over the bytes with the keys in the
environment (``$RESULTS_COMPAT_SIGNING_KEY`` or ``$RESULTS_COMPAT_SIGNING_KEY_FILE``), as a reading Result would.
"""

from __future__ import annotations

import hmac
import json
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compat.errors import ResultError, SerializationError
from compat.results import signing
from compat.results._cloud import unwrap_legacy_payload
from compat.results.records import TargetRecord, algorithm_of, bytes_hash
from compat.results.trailer import trailer_of
from compat.store.listing import iso_time
from compat.store.roots import LocalRoot, ObjectRoot, Root, object_result

__all__ = ["Description", "describe", "split_location"]

UNSIGNED, VERIFIED, UNTRUSTED, UNCHECKED = "unsigned", "verified", "untrusted", "not checked"


@dataclass(frozen=True)
class Description:
    """What ``describe`` found at ``uri``: ``format`` of the bytes; ``signature`` (``unsigned``, ``verified``,
    ``untrusted`` or ``not checked``: signed, but no key is set) with the ``key_id`` that signed and the
    ``detail`` sentence; the ``record`` beside it (or ``record_note`` why there is none to show)."""

    uri: str
    size: int
    modified: datetime | None
    format: str
    signature: str
    key_id: str | None
    detail: str
    record: TargetRecord | None
    record_note: str

    @property
    def trusted(self) -> bool:
        return self.signature != UNTRUSTED

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "size": self.size,
            "modified": None if self.modified is None else self.modified.isoformat(),
            "format": self.format,
            "signature": self.signature,
            "key_id": self.key_id,
            "detail": self.detail,
            "record": None if self.record is None else self.record.to_dict(),
            "record_note": self.record_note,
        }


def split_location(text: str) -> tuple[Root, str]:
    """The root holding the output ``text`` names (a file path, or an ``s3://``, ``gs://``, ``az://`` URI) and its
    name there."""
    scheme, found, rest = text.partition("://")
    if found and scheme in ("s3", "gs", "az"):
        store, _, name = rest.partition("/")
        return ObjectRoot(object_result(scheme, store)), name
    path = os.path.abspath(text)
    return LocalRoot(os.path.dirname(path)), os.path.basename(path)


def describe(root: Root, name: str) -> Description:
    """Format, signature and record of the object ``name`` under ``root``; ``ResultNotFound`` if there is none."""
    data = root.read(name)
    uri = root.uri_of(name)
    modified = _modified(root, name)
    form, status, key, detail = _signature(data)
    record, note = _record(root, name, data)
    return Description(uri, len(data), modified, form, status, key, detail, record, note)


def _modified(root: Root, name: str) -> datetime | None:
    try:
        return root.result.modified_at(name)
    except (ResultError, OSError):
        return None


def _signature(data: bytes) -> tuple[str, str, str | None, str]:
    """(format, status, key id, sentence) of ``data``."""
    inner = unwrap_legacy_payload(data)
    legacy = " in a legacy handler's base64 text" if inner is not data else ""
    if inner.startswith(signing.SIGNED_MAGIC):
        return _signed(inner, legacy)
    if inner.startswith(signing.LEGACY_MAGIC):
        return _signed_legacy(inner, legacy)
    if inner[:1] == b"\x80" and len(inner) > 1:
        return (f"pickle (protocol {inner[1]}){legacy}", UNSIGNED, None,
                "reading it runs whatever code its writer put in it; sign what you store (PickleSerializer(signing_key=...))")
    try:
        json.loads(inner)
    except (ValueError, RecursionError):
        return "unknown bytes", UNSIGNED, None, "not a pickle or JSON this package writes"
    return "JSON", UNSIGNED, None, "JSON: reading it runs no code"


def _signed(data: bytes, legacy: str) -> tuple[str, str, str | None, str]:
    form = f"signed pickle (keyed BLAKE3){legacy}"
    try:
        header = signing.parse_header(data)
    except SerializationError as exc:
        return form, UNTRUSTED, None, f"a signed header that cannot be read: {exc}"
    said = f"signed with key id {header.key_id} for {header.location!r} at {iso_time(header.written_at)}"
    keys = signing.environment_keyring()
    if keys is None:
        return form, UNCHECKED, header.key_id, f"{said}; not checked: no signing key is set"
    try:
        signing.verify(keys, data, None)
    except SerializationError as exc:  # UntrustedData
        return form, UNTRUSTED, header.key_id, f"{said}; refused: {exc}"
    return form, VERIFIED, header.key_id, f"{said}; verified with a key in use"


def _signed_legacy(data: bytes, legacy: str) -> tuple[str, str, str | None, str]:
    form = f"signed pickle (earlier format: HMAC-SHA256, no key id){legacy}"
    keys = signing.environment_keyring()
    if keys is None:
        return form, UNCHECKED, None, "signed; not checked: no signing key is set"
    header, payload = data[: signing.LEGACY_HEADER_SIZE], data[signing.LEGACY_HEADER_SIZE :]
    tag = header[len(signing.LEGACY_MAGIC) :]
    if any(hmac.compare_digest(tag, signing.legacy_tag(key, payload)) for key in keys.keys):
        return form, VERIFIED, None, "verified with a key in use (this format binds neither location nor time)"
    return form, UNTRUSTED, None, "refused: the signature matches none of the keys in use"


def _record(root: Root, name: str, data: bytes) -> tuple[TargetRecord | None, str]:
    try:
        raw = root.read_record(name)
    except (ResultError, OSError):
        return None, "none"
    try:
        record = TargetRecord.from_json(raw)
    except ValueError as exc:
        return None, f"unreadable ({exc})"
    algorithm = algorithm_of(record.bytes_hash)
    own = trailer_of(data)  # a pickle followed by its record: a record describes the pickle alone
    try:
        matches = bytes_hash(data if own is None else memoryview(data)[: own[0]], algorithm) == record.bytes_hash
    except ValueError:
        return record, f"names an unknown hash {algorithm!r}"
    return record, "describes these bytes" if matches else "for other bytes (the output was replaced since)"
