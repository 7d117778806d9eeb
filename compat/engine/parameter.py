"""``Parameter``: a named flow input whose value is given to ``flow.run(parameters=...)``.

A Parameter is a Task without work: the flow run gives it its value (or its default) and passes that value
to the tasks it feeds. A Parameter created inside ``with Flow(...)`` belongs to that flow; one passed to a task
joins the flow it is passed in. Its value is never checkpointed: it is known before the run.
"""

from __future__ import annotations

from typing import Any

from compat.engine.context import active_flow
from compat.engine.task import Task
from compat.errors import ArgumentTypeError

__all__ = ["Parameter"]

_NO_DEFAULT: Any = object()


class Parameter(Task):
    """A flow input named ``name``; without ``default`` it is required, and a run that omits it is an error."""

    def __init__(self, name: str, default: Any = _NO_DEFAULT) -> None:
        if not isinstance(name, str) or not name:
            raise ArgumentTypeError("Parameter: name", name, "a non-empty str, e.g. Parameter('day')")
        super().__init__(name=name, checkpoint=False)
        # a flag, not the sentinel, survives pickling: flows are shipped to workers with cloudpickle
        self.required = default is _NO_DEFAULT
        self.default = None if self.required else default
        flow = active_flow()
        if flow is not None:
            flow.add_task(self)

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"
