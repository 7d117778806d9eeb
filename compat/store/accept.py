"""Accepting stored outputs as up to date (``touch``, make's ``-t``): a record for each target that is stored,
with the fingerprints a run of the flow would record now, so the next run reuses them (``exists``) even with
``invalidate_on``. The step after migrating data written by legacy handlers, which carries no records.

The flow is planned as a run would plan it (``compat.engine.plan.Planner``), in dependency order; each task whose
target is stored gets a record naming the hash of its stored bytes (read as a run reads them, never unpickled), its
code's fingerprint and each input's: parameters and constants by value, an upstream output by the record just
written for it (as a run takes it from its upstream's record). An input known only once a run computes it (an
upstream task kept in memory, a mapped one) cannot be fingerprinted before the run: the task is touched and the
report says which input a run with ``invalidate_on`` including ``inputs`` will still find changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from compat.engine.context import flow_run_context
from compat.engine.flow import Flow
from compat.engine.flow_run import resolve_parameters
from compat.engine.parameter import Parameter
from compat.engine.plan import Planner, _topological
from compat.engine.staleness import input_fingerprint
from compat.engine.targets import choose_result
from compat.engine.task import Task
from compat.errors import FlowError
from compat.results.base import Result
from compat.results.records import HashingReader, Provenance, TargetRecord
from compat.results.trailer import payload_size

__all__ = ["STORED_CODES", "Touched", "touch"]

STORED_CODES = frozenset({"exists", "no-record", "code-changed", "inputs-changed", "upstream-changed", "write-once",
                          "fresh"})
"""Plan codes of a task whose target is stored (and can be accepted)."""


@dataclass(frozen=True)
class Touched:
    """What ``touch`` did for one task: ``record`` written for the output at ``location`` (None: nothing stored to
    accept, ``why``); ``unknown`` inputs that only a run can fingerprint."""

    task: str
    location: str | None
    record: TargetRecord | None
    why: str = ""
    unknown: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "location": self.location, "touched": self.record is not None, "why": self.why,
                "unknown_inputs": list(self.unknown), "record": None if self.record is None else self.record.to_dict()}


def touch(flow: Flow, parameters: Mapping[str, Any] | None = None, tasks: Iterable[str] = ()) -> list[Touched]:
    """Write a record for every stored target of ``flow`` (only ``tasks``, by name, when given), in flow order."""
    values = resolve_parameters(flow, parameters, "plan")
    context = flow_run_context(flow.name, values)
    planner = Planner(flow, values, context, None)
    chosen = _chosen(flow, tasks)
    done: dict[Task, Touched] = {}
    for task in _topological(flow):
        step = planner.steps[task] = planner.decide(task)
        if isinstance(task, Parameter) or task not in chosen:
            continue
        if step.location is None or step.code not in STORED_CODES:
            done[task] = Touched(task.name, step.location, None, f"not touched: {step.reason}")
            continue
        result = choose_result(task, flow.result)
        inputs, unknown = _inputs(planner, task)
        provenance = Provenance(flow.name, task.name, context["flow_run_id"], planner.code(task), inputs)
        digest, size = _stored_hash(result, step.location)
        record = result.write_record(step.location, provenance, digest, size)
        planner.steps[task] = replace(step, record=record)
        why = "accepted as up to date" + (f"; input {', '.join(map(repr, unknown))} is only known when a run "
                                          "computes it" if unknown else "")
        done[task] = Touched(task.name, step.location, record, why, tuple(unknown))
    return [done[task] for task in flow.calls if task in done]


def _chosen(flow: Flow, names: Iterable[str]) -> set[Task]:
    wanted = list(names)
    if not wanted:
        return set(flow.calls)
    known = {task.name for task in flow.calls}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise FlowError(f"flow {flow.name!r} has no task {', '.join(map(repr, unknown))}; its tasks: "
                        f"{', '.join(sorted(known))}")
    return {task for task in flow.calls if task.name in wanted}


def _inputs(planner: Planner, task: Task) -> tuple[dict[str, str], list[str]]:
    """Each input's fingerprint as a run would take it, and the inputs that cannot be known before a run."""
    inputs = {key: input_fingerprint(value) for key, value in planner.known_inputs(task).items()}
    unknown = []
    call = planner.flow.calls[task]
    for up, key in zip(call.upstream, call.keys):
        if key is None or isinstance(up, Parameter):
            continue
        record = planner.steps[up].record
        if record is None or planner.flow.calls[up].mapped is not None:
            unknown.append(key)
        else:
            inputs[key] = record.bytes_hash
    return inputs, unknown


def _stored_hash(result: Result, location: str) -> tuple[str, int]:
    """The hash and size of the bytes stored at ``location`` as a run reads them (a legacy handler's base64 text
    decoded, as the run decodes it; a pickle without the record it carries, ``compat.results.trailer``), streamed
    through the hash, never unpickled."""

    def hashed(stream: Any) -> tuple[str, int]:
        reader = HashingReader(stream, limit=payload_size(stream))
        digest = reader.finish()
        return digest, reader.size

    return result.read_stream(result.resolve(location), hashed)  # type: ignore[no-any-return]
