"""The task-run pipeline of PIN 16: one run of one task (or one mapped child), ending as a State.

``TaskRun.pipeline`` reads as the six steps:

1. choose the Result: the task's ``result``, else the flow's default; ``target=`` overrides its location, the
   task's ``validators=`` are appended and its ``cache_for``/``cache_validators`` set on a copy;
2. target check: if the rendered location holds a value, read it, validate it, and finish ``Cached``;
3. cache check: if the Result caches, a stored output fresh within ``cache_for`` (and accepted by every
   ``cache_validators``) is reused: ``Cached``. A caching Result decides by freshness, not mere existence;
4. run the task, retrying up to ``max_retries`` times;
5. validate the value: a rejection ends ``ValidationFailed`` naming the validator and why;
6. checkpoint: write the value, ``Success`` with the ``location`` it was written to.

A stored value that cannot be deserialized or fails validation is not trusted: a WARNING says why and the task runs
again. Bytes that cannot be read (foreign, corrupt, unsigned while pickles are signed) are moved aside before the new
output is written, never overwritten, and a WARNING names where they were kept. A write-once Result that another run
wrote first gives back the stored value: the state carries that value (and says so), and downstream tasks get it.
A storage failure (``StorageError``, an unusable location) fails the run
with the backend's message rather than silently rerunning.

Records and staleness (``compat.engine.staleness``): a stored target's record is compared with the fingerprints of
the task's code and inputs now; what disagrees makes it stale, which reruns the task for the kinds it invalidates on
(``invalidate_on``) and is only reported otherwise. The checkpoint stores a record beside the output. Every State a
target or cache decided carries its reason ``code`` (``compat.engine.reasons``).

Where outputs go when nothing is configured: a task with no ``result`` in a flow with no default Result keeps its
output only in memory (validated, never written; ``location`` is None), unless it has a ``target``, which
needs storage: then it uses ``LocalResult()`` (files under ``$RESULTS_COMPAT_HOME/results``, by default
``~/.results-compat/results``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

from compat.engine.context import task_run_context
from compat.engine.staleness import (
    NO_RECORD, NOT_INVALIDATED, Change, InvalidateSettings, Verdict, code_of, input_fingerprint, judge,
)
from compat.engine.states import Cached, Failed, Running, State, Success, ValidationFailed
from compat.engine.targets import (
    KEPT_IN_MEMORY, cache_terms, choose_result, keeps_in_memory, literal, stored_at, write_once,
)
from compat.engine.task import Task
from compat.errors import ConfigurationError, ResultError, ResultNotFound, SerializationError, UntrustedData, ValidationError
from compat.results.base import KEPT_ASIDE_COPIES, Result
from compat.results.leases import LEASING, Holder, Lease
from compat.results.records import Provenance, TargetRecord

__all__ = ["TaskRun", "interrupted", "log_state"]

log = logging.getLogger(__name__)


def interrupted(exc: BaseException) -> Failed:
    """The State of a task run that raised instead of returning one (it was interrupted, or could not start)."""
    return Failed(f"the task run was interrupted: {type(exc).__name__}: {exc}", exception=exc)


def log_state(name: str, state: State) -> None:
    """One INFO line per state change, saying why (with the traceback when the task's own code raised)."""
    if not log.isEnabledFor(logging.INFO):
        return
    exception = state.exception if isinstance(state, Failed) else None
    raised = exception if not isinstance(exception, ResultError) else None  # the task's own code, not storage
    log.info("Task %r: %s: %s", name, type(state).__name__, state.message, exc_info=raised)


class TaskRun:
    """One run of ``task`` with ``inputs`` (``map_index`` set for a mapped child); ``run()`` returns its State.

    ``refresh``: skip steps 2 and 3, so the task runs and overwrites its stored output. ``pruned``: the upstream
    tasks ``prune`` skipped because this task was planned ``Cached``; if no stored output is found after all,
    the task cannot run without their outputs and fails saying so."""

    __slots__ = ("changes", "code", "code_fingerprint", "context", "default_result", "fingerprints", "flow_lease",
                 "inputs", "invalidate", "known", "location", "name", "pruned", "refresh", "result", "task",
                 "unreadable", "upstream_keys", "why")

    def __init__(
        self,
        task: Task,
        inputs: dict[str, Any],
        map_index: int | None,
        flow_context: Mapping[str, Any],
        default_result: Result | None,
        refresh: bool = False,
        pruned: tuple[str, ...] = (),
        invalidate: InvalidateSettings = NOT_INVALIDATED,
        known: Mapping[str, str] | None = None,
        upstream_keys: frozenset[str] = frozenset(),
        code: str | None = None,
        flow_lease: Lease | bool | None = None,
    ) -> None:
        self.task = task
        self.flow_lease = flow_lease
        self.invalidate = invalidate
        self.known = known or {}  # input fingerprints taken from upstream records
        self.upstream_keys = upstream_keys
        self.fingerprints: tuple[str | None, dict[str, str]] | None = None
        self.code_fingerprint = code
        self.code = "no-target"
        self.changes: tuple[Change, ...] = ()
        self.refresh = refresh
        self.pruned = pruned
        self.inputs = inputs
        self.default_result = default_result
        self.context = task_run_context(flow_context, task.name, map_index, inputs)
        self.name: str = self.context["task_full_name"]
        self.result: Result = KEPT_IN_MEMORY
        self.location: str | None = None
        self.unreadable: SerializationError | None = None  # why the bytes there cannot be read: keep them aside
        self.why = "no target or location template, so there is no stored output to look up"

    def run(self) -> State:
        """Run the pipeline; whatever goes wrong, the outcome is a State (and one log line)."""
        try:
            state = self.pipeline()
        except Exception as exc:  # a backend or validator failing in a way no step anticipated
            state = Failed(f"the engine could not complete the run: {type(exc).__name__}: {exc}", exception=exc)
        except (SystemExit, KeyboardInterrupt) as exc:
            if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
                raise  # Ctrl-C lands in the main thread: on LocalExecutor it stops the flow run, as Python's does
            state = interrupted(exc)  # the task's own: it ends the task, never the process (a worker) running it
        log_state(self.name, state)
        return state

    def pipeline(self) -> State:
        self.result = self.choose_result()  # 1
        try:
            self.location = self.result.render(self.result.template, self.context)
        except Exception as exc:  # TemplateError, LocationError, or whatever a target callable raised
            return Failed(f"cannot render the output location: {_describe(exc)}", exception=exc)
        if self.refresh:
            self.why = "refresh= asks for a rerun, so any stored output is ignored and overwritten"
            self.code = "refresh"
        else:
            stored = self.check_target() or self.check_cache()  # 2, 3
            if stored is not None:
                return stored
        if self.pruned:
            names = ", ".join(repr(name) for name in self.pruned)
            were = "task " + names + " was" if len(self.pruned) == 1 else "tasks " + names + " were"
            return Failed(f"the plan expected a stored output, but {self.why}, and its upstream {were} skipped "
                          "(prune=True), so it cannot run; run the flow again without prune to rebuild it")
        settings = self.lease_settings()
        held = None
        if settings is not None:
            held, decided = self.take_lease(settings)
            if decided is not None:
                return decided
        try:
            log_state(self.name, Running(self.why))
            value, failed = self.run_with_retries()  # 4
            if failed is not None:
                return failed
            return self.validate(value) or self.checkpoint(value)  # 5, 6
        finally:
            if held is not None:
                self.release(held)

    # -- leases: one run makes a target, the others wait for its output ---------------------------------------

    def lease_settings(self) -> Lease | None:
        """The Result's ``lease=``, else the flow's; None when off or when there is no stored target to lease."""
        if self.location is None or not self.task.checkpoint or keeps_in_memory(self.result):
            return None
        own = getattr(self.result, "lease", None)  # a Result subclass may skip Result.__init__
        setting = own if own is not None else self.flow_lease
        if not setting:
            return None
        if not self.result.can_lease:
            raise ConfigurationError(f"lease= is set, but {type(self.result).__name__} cannot take leases (leases "
                                     f"work with {LEASING}); give this task's Result lease=False")
        return setting  # type: ignore[return-value]

    def take_lease(self, settings: Lease) -> tuple[Any, State | None]:
        """Take the target's lease, or wait (polling) for the run holding it: ``(held lease, None)`` to run the
        task, or ``(None, state)`` when the holder's output was read (``made-elsewhere``) or the wait failed."""
        holder = Holder.new(self.name)
        deadline = time.monotonic() + settings.wait
        try:
            replacing = self.stored_version() if self.refresh else None
        except ResultError as exc:
            return None, Failed(f"cannot check the target {self.location!r}: {exc}", exception=exc,
                                code="check-failed")
        waited_for: Holder | None = None
        assert self.location is not None
        while True:
            try:
                taken = self.result.take_lease(self.location, holder, settings.ttl)
            except ResultError as exc:
                return None, Failed(f"cannot take the lease on {self.location!r}: {exc}", exception=exc,
                                    code="check-failed")
            if not isinstance(taken, Holder):
                made = self.made_elsewhere(replacing)  # its holder may have finished between our look and our take
                if made is not None:
                    self.release(taken)
                    return None, made
                if waited_for is not None:
                    log.info("Task %r: took the lease on %r after %s left it without an output; running the task",
                             self.name, self.location, waited_for.describe())
                return taken, None
            if waited_for is None:
                log.info("Task %r: %r is being made by another run (%s); waiting up to %g s for its output",
                         self.name, self.location, taken.describe(), settings.wait)
            waited_for = taken
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, Failed(
                    f"waited {settings.wait:g} s for {self.location!r}, which another run is making: it holds the "
                    f"lease ({taken.describe()}) and has not written it yet; wait longer with "
                    "Lease(wait=...), or find out what that run is doing",
                    code="leased",
                )
            time.sleep(min(settings.poll, remaining))
            made = self.made_elsewhere(replacing)
            if made is not None:
                return None, made

    def made_elsewhere(self, replacing: Any = None) -> State | None:
        """The target check again: a stored output that is now valid (and not stale) was made by another run. A
        refresh replaces the output stored when it began (``replacing``, its ``stored_version``): only an output
        written since, by a refresh that held the lease meanwhile, is made elsewhere."""
        if self.refresh:
            if self.stored_version() == replacing:
                return None
            why, code = self.why, self.code
            state = self.check_target() or self.check_cache()
            if state is None:
                self.why, self.code = why, code  # still a refresh, whatever the check found
        else:
            state = self.check_target() or self.check_cache()
        if isinstance(state, Cached):
            return Cached(f"{state.message}; another run made it while this one waited", result=state.result,
                          location=state.location, code="made-elsewhere", changes=state.changes, record=state.record)
        return state

    def stored_version(self) -> Any:
        """What the store says of the output at the target now (``Result.stored_identity``), None if there is none."""
        assert self.location is not None
        try:
            return self.result.stored_identity(self.result.resolve(self.location))
        except ResultNotFound:
            return None

    def release(self, held: Any) -> None:
        try:
            held.release()
        except Exception as exc:  # the output is written; a lease that could not be released lapses on its own
            log.warning("Task %r: could not release the lease on %r: %s: %s", self.name, self.location,
                        type(exc).__name__, exc)

    # -- 1. choose the Result -----------------------------------------------------------------------------------

    def choose_result(self) -> Result:
        return choose_result(self.task, self.default_result)  # shared with the plan (compat.engine.targets)

    # -- 2. target check ----------------------------------------------------------------------------------------

    def check_target(self) -> State | None:
        if self.location is None or self.result.caches:  # a caching Result decides by freshness: step 3
            return None
        try:
            if not stored_at(self.result, self.location):  # a target not stored yet costs this one look-up
                self.why, self.code = f"no target at {self.location!r}", "missing"
                return None
            record = self.result.record(self.location)
            verdict = self.judge(record)
            stale = verdict.deciding(self.invalidate[self.task])
            if stale is not None and not write_once(self.result):
                self.why = f"the stored output at {self.location!r} is stale: {verdict.sentence()}"
                self.code, self.changes = stale, verdict.changes
                return None
            if record is not None:
                stored, described = self.result.read_checked(self.location, record)
                if not described:  # the record names this object but other bytes: it says nothing of these
                    record, verdict = None, NO_RECORD
            else:
                stored = self.result.read(self.location)
        except ResultNotFound:
            self.why, self.code = f"the target at {self.location!r} disappeared before it could be read", "missing"
            return None
        except SerializationError as exc:
            self.distrust(f"cannot be read: {exc}", unreadable=exc, code=_unreadable_code(exc))
            return None
        except ResultError as exc:
            return Failed(f"cannot check the target {self.location!r}: {exc}", exception=exc, code="check-failed")
        rejection = self.rejection(stored)
        if rejection is not None:
            self.distrust(rejection, code="invalid")
            return None
        message, code = f"target {self.location!r} exists and is valid", verdict.code
        if stale is not None:  # write-once: a stale output stands
            message += f"; it is stale ({verdict.sentence()}), but its Result is write-once, so it stands"
            code = "write-once"
        elif verdict.changes:
            message += f"; it is stale ({verdict.sentence()}), reused as invalidate_on does not ask to rebuild it"
        return Cached(message, result=stored.value, location=_where(stored), code=code, changes=verdict.changes,
                      record=record)

    def judge(self, record: TargetRecord | None) -> Verdict:
        """``record`` against the fingerprints of the task's code and inputs now (taken only when there is one)."""
        if record is None:
            return NO_RECORD
        code, inputs = self.fingerprinted()
        return judge(record, code, inputs, self.upstream_keys)

    def fingerprinted(self) -> tuple[str | None, dict[str, str]]:
        """The fingerprints of the task's code and of each input (from the upstream record where there is one)."""
        if self.fingerprints is None:
            known = self.known
            inputs: dict[str, str] = {}
            for key, value in self.inputs.items():  # a loop, not a comprehension: no function call of its own
                inputs[key] = known.get(key) or input_fingerprint(value)
            code = self.code_fingerprint if self.code_fingerprint is not None else code_of(self.task)
            self.fingerprints = code, inputs
        return self.fingerprints

    # -- 3. cache check -----------------------------------------------------------------------------------------

    def check_cache(self) -> State | None:
        if not self.result.caches:
            return None
        if self.location is None:
            log.warning(
                "Task %r: %s is set, but its Result has no location template or target, so each run writes a new "
                "file and no stored output can be reused; give the Result a location such as "
                "'{task_full_name}-{today}.pkl', or the task a target=",
                self.name, cache_terms(self.result),
            )
            return None
        try:
            fresh = self.result.read_cached(self.location)
            if fresh is None:
                self.code = "expired" if self.result.exists_at(self.result.resolve(self.location)) else "missing"
        except SerializationError as exc:
            self.distrust(f"cannot be read: {exc}", unreadable=exc, code=_unreadable_code(exc))
            return None
        except ValidationError as exc:
            self.distrust(f"cannot be checked for freshness: {exc}", code="invalid")
            return None
        except ResultError as exc:
            return Failed(f"cannot check the cached output at {self.location!r}: {exc}", exception=exc,
                          code="check-failed")
        if fresh is None:
            self.why = f"no output at {self.location!r} is fresh enough to reuse ({cache_terms(self.result)})"
            return None
        rejection = self.rejection(fresh)
        if rejection is not None:
            self.distrust(rejection, code="invalid")
            return None
        return Cached(
            f"output at {self.location!r} is fresh ({cache_terms(self.result)}) and valid",
            result=fresh.value,
            location=_where(fresh),
            code="fresh",
            record=self.result.record(self.location),
        )

    def rejection(self, stored: Result) -> str | None:
        """Why a stored value must not be trusted, or None when its validators accept it."""
        if not self.result.run_validators:
            return None
        error = stored.validation_error()
        return None if error is None else f"fails validation: {error}"

    def distrust(self, reason: str, unreadable: SerializationError | None = None, code: str = "unreadable") -> None:
        then = "move it aside and write anew" if unreadable is not None else "overwrite it"
        log.warning("Task %r: the stored output at %r %s; running the task again to %s",
                    self.name, self.location, reason, then)
        self.why = f"the stored output at {self.location!r} {reason}"
        self.unreadable = unreadable
        self.code = code

    # -- 4. run, with retries -----------------------------------------------------------------------------------

    def run_with_retries(self) -> tuple[Any, Failed | None]:
        attempts = self.task.max_retries + 1
        attempt = 1
        while True:
            self.context["task_run_count"] = attempt
            try:
                return self.task.run(**self.inputs), None
            except Exception as exc:
                if attempt == attempts:
                    after = f" (attempt {attempt} of {attempts})" if attempts > 1 else ""
                    return None, Failed(f"raised {type(exc).__name__}: {exc}{after}", exception=exc)
                log.info("Task %r: Retrying: attempt %d of %d raised %s: %s", self.name, attempt, attempts,
                         type(exc).__name__, exc)
            if self.task.retry_delay:
                time.sleep(self.task.retry_delay)
            attempt += 1

    # -- 5. validate --------------------------------------------------------------------------------------------

    def validate(self, value: Any) -> ValidationFailed | None:
        if not (self.result.run_validators and self.result.validators):
            return None
        candidate = self.result.copy()
        candidate.value = value
        error = candidate.validation_error()
        if error is None:
            return None
        return ValidationFailed(str(error), result=value, exception=error)

    # -- 6. checkpoint ------------------------------------------------------------------------------------------

    def checkpoint(self, value: Any) -> State:
        why = {"code": self.code, "changes": self.changes}
        if not self.task.checkpoint:
            return Success("ran; checkpoint=False, so the output is kept in memory only", result=value, **why)
        target = self.result.copy()
        if target.keeps_records:
            code, inputs = self.fingerprinted()
            context = self.context
            target.provenance = Provenance.of(context["flow_name"], self.name, context["flow_run_id"], code, inputs)
        try:
            if self.context["task_run_count"] > 1:  # after retries: a template may name the attempt
                self.location = self.result.render(self.result.template, self.context)
            target.location = literal(self.location)
            if self.unreadable is not None and self.location is not None:
                self.keep_aside(target, self.location, getattr(self.unreadable, "key_id", None))
            written = target.write(value)
        except ResultError as exc:
            return Failed(f"ran, but its output could not be checkpointed: {exc}", result=value, exception=exc, **why)
        location = _where(written)
        if location is None:
            if not keeps_in_memory(self.result):
                return Success(f"ran; its Result ({self.result!r}) stored the output but gave no location for it, "
                               "so it cannot be found again", result=value, **why)
            return Success("ran; no Result is configured, so the output is kept in memory only", result=value, **why)
        if self.task.target is not None and location != target.resolve(self.location):
            log.warning(
                "Task %r: its target is %r, but %s stored the output at %r, so the target can never be found and "
                "the task will run every time. %s",
                self.name, self.location, type(self.result).__name__, location, self.result.unreachable_target_hint,
            )
        if written.value is not value:  # write-once: another run stored its output first, and that value stands
            return Success(
                f"ran, but another run had already stored its output at {location!r} (write-once), so this run's "
                "value was discarded: the result is the stored value, and downstream tasks get it",
                result=written.value,
                location=location,
                code="write-once",
            )
        return Success.stored(value, location, record=written.written_record_or_maker, **why)

    def keep_aside(self, target: Result, location: str, signed_by: str | None) -> None:
        kept = target.keep_aside(target.resolve(location))
        if kept is not None:
            signer = "" if signed_by is None else f" (signed with key id {signed_by})"
            log.warning("Task %r: kept the unreadable bytes%s that were at %r in %r; the new output replaces them "
                        "(the newest %d such copies of a target are kept)",
                        self.name, signer, location, kept, KEPT_ASIDE_COPIES)


def _unreadable_code(exc: SerializationError) -> str:
    """``untrusted`` for bytes refused unread (their signature), ``unreadable`` for bytes that could not be read."""
    return "untrusted" if isinstance(exc, UntrustedData) else "unreadable"


def _describe(exc: Exception) -> str:
    """Our errors' messages say what went wrong; a foreign exception also needs its type to make sense."""
    return str(exc) if isinstance(exc, ResultError) else f"{type(exc).__name__}: {exc}"


def _where(stored: Result) -> str | None:
    """The concrete location a read or written Result holds (read/write always leave a str or None there)."""
    return stored.location if isinstance(stored.location, str) else None
