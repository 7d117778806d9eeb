"""Making stored outputs stale without deleting them (``invalidate``), or deleting them with their records.

An invalidated output stays where it is; its record says when it was invalidated (``TargetRecord.invalidated``),
signed like the rest of it when the Result signs, and the next run rebuilds it whatever ``invalidate_on`` says
(reason code ``invalidated``). An output without a record that describes it (a legacy handler's, one written by
hand) gets one, naming the hash of its stored bytes (read, never unpickled). The invalidated record names the
output's identity as the store reports it now, so it is read before the record the output carries in its own file
(``compat.results.trailer``), and only while the output is unchanged. ``delete=True`` removes the output and
then its record instead.

Outputs are named by location (``invalidate_locations``) or as a flow's tasks (``invalidate_tasks``: where the
plan of the flow, with its parameters, says each task's target is).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from compat.engine.flow import Flow
from compat.engine.parameter import Parameter
from compat.engine.targets import choose_result
from compat.errors import FlowError, ResultNotFound, StorageError
from compat.results._cloud import ObjectStoreResult
from compat.results.base import Result
from compat.results.local import LocalResult
from compat.results.records import RECORD_SUFFIX, Provenance, TargetRecord, signed, utc_now
from compat.results.serializers import PickleSerializer
from compat.store.flows import plan_flow
from compat.store.roots import LocalRoot, Root
from compat.store.show import split_location
from compat.store.accept import _stored_hash

__all__ = ["Invalidated", "invalidate", "invalidate_locations", "invalidate_tasks"]


@dataclass(frozen=True)
class Invalidated:
    """What became of one output: ``deleted``, or invalidated with ``record`` (the record now stored)."""

    location: str
    deleted: bool = False
    record: TargetRecord | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "deleted": self.deleted,
                "invalidated": None if self.record is None else self.record.invalidated}


def invalidate(result: Result, location: str, delete: bool = False) -> Invalidated:
    """Invalidate (or ``delete``) the output stored at ``location`` of ``result``; ``ResultNotFound`` if none is."""
    if not result.exists_at(result.resolve(location)):
        raise ResultNotFound(f"nothing is stored at {location!r}, so there is nothing to invalidate")
    if delete:
        _delete(result, location)
        return Invalidated(location, deleted=True)
    record = result.record(location)
    if record is None:
        digest, size = _stored_hash(result, location)
        record = TargetRecord(bytes_hash=digest, size=size, location=location, written_at=utc_now(),
                              serializer=type(result.serializer).__name__,
                              stored=result.stored_identity(result.resolve(location)))
    marked = signed(replace(record, invalidated=utc_now(), key_id=None, signature=None,
                            stored=result.stored_identity(result.resolve(location))), result.serializer)
    result.write_record_bytes(location + RECORD_SUFFIX, marked.to_json())
    return Invalidated(location, record=marked)


def invalidate_locations(locations: Iterable[str], delete: bool = False) -> list[Invalidated]:
    """``invalidate`` each output named by a path or an ``s3://``, ``gs://``, ``az://`` URI (records are read and
    signed with the keys of the environment)."""
    done = []
    for text in locations:
        root, name = split_location(text)
        done.append(replace(invalidate(_reading(root), name, delete), location=root.uri_of(name)))
    return done


def invalidate_tasks(flow: Flow, tasks: Iterable[str], parameters: Mapping[str, Any] | None = None,
                     delete: bool = False) -> list[Invalidated]:
    """``invalidate`` the stored output of each named task of ``flow`` (with ``parameters``), at the location its
    plan renders; a task whose location is only known during a run is an error saying so."""
    names = list(tasks)
    plan = plan_flow(flow, parameters)
    known = {step.task.name for step in plan if not isinstance(step.task, Parameter)}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise FlowError(f"flow {flow.name!r} has no task {', '.join(map(repr, unknown))}; its tasks: "
                        f"{', '.join(sorted(known))}")
    done = []
    for step in plan:
        if step.task.name not in names:
            continue
        if step.location is None:
            raise FlowError(f"task {step.task.name!r}: its location is not known before a run ({step.reason}); "
                            "invalidate its output by location instead")
        done.append(invalidate(choose_result(step.task, flow.result), step.location, delete))
    return done


def _reading(root: Root) -> Result:
    """The Result of ``root`` with the environment's signing keys: it reads as a run does and signs records."""
    result = root.result.copy()
    result.serializer = PickleSerializer()
    return result


def _delete(result: Result, location: str) -> None:
    """Remove the output, then its record (a crash between leaves an orphaned record, which ``gc`` removes)."""
    for name in (location, location + RECORD_SUFFIX):
        resolved = result.resolve(name)
        if isinstance(result, LocalResult):
            LocalRoot(os.path.dirname(resolved)).unlink(os.path.basename(resolved))
        elif isinstance(result, ObjectStoreResult):
            result.delete_object(resolved)
        else:
            raise StorageError(f"cannot delete from a {type(result).__name__}; invalidate the output instead")
