"""Arranging stored outputs for the store tests: files and records written as this package writes them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

RECORD_SUFFIX = ".record.json"


def record_json(location: str, data: bytes, stored: dict[str, Any] | None, *, flow: str = "etl", task: str = "t",
                run_id: str = "run-1", written_at: str = "2026-01-01T00:00:00.000000Z") -> bytes:
    """A record in the shape of issue 21's ``TargetRecord.to_json()``."""
    return json.dumps({
        "schema": 1, "bytes_hash": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data),
        "location": location, "flow": flow, "task": task, "run_id": run_id, "written_at": written_at,
        "serializer": "PickleSerializer", "code": None, "inputs": {}, "package_version": "0.1.0", "stored": stored,
        "key_id": None, "signature": None,
    }, sort_keys=True).encode()


def file_identity(path: Path) -> dict[str, int]:
    info = os.lstat(path)
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "inode": info.st_ino}


def output(root: Path, name: str, data: bytes = b"\x80\x05K\x01.", *, record: bool = True, **fields: Any) -> Path:
    """A stored output at ``root/name`` and, ``record``, the record that describes it."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if record:
        (root / (name + RECORD_SUFFIX)).write_bytes(record_json(name, data, file_identity(path), **fields))
    return path


def tree(root: Path) -> list[str]:
    """Every name under ``root`` (links included, not followed), sorted."""
    names = []
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory) / name
            if path.is_symlink() or not path.is_dir():
                names.append(str(path.relative_to(root)))
    return sorted(names)
