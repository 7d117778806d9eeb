"""One small rule per kind of rewrite, applied in this order (later rules read what earlier ones rewrote)."""

from __future__ import annotations

from codemods.results.rules.attributes import Attributes
from codemods.results.rules.base import Context, RewriteRule
from codemods.results.rules.constructors import Constructors
from codemods.results.rules.direct_calls import DirectCalls
from codemods.results.rules.flows import Flows
from codemods.results.rules.follow_ups import DynamicAccess, OtherReferences, Subclasses
from codemods.results.rules.imports import Imports
from codemods.results.rules.keywords import Keywords
from codemods.results.rules.locations import Locations
from codemods.results.rules.saved_storage import SavedStorage
from codemods.results.rules.storage_attributes import StorageAttributes
from codemods.results.rules.task_classes import TaskClasses

__all__ = ["RULES", "Context", "RewriteRule"]

RULES: tuple[RewriteRule, ...] = (
    TaskClasses(),  # first: a class it leaves is left whole (kept from the others)
    StorageAttributes(),  # ... and so is a result set on a task afterwards
    Flows(),  # then: a flow it leaves as it is is left whole (its Flow(...) call is kept from the others)
    Locations(),  # before constructors: moves a Result's location= out of the call they rewrite
    Constructors(),  # the others ask which handler calls became Results
    Keywords(),
    SavedStorage(),  # after keywords: moves the storage they now pass
    Attributes(),
    DirectCalls(),
    Subclasses(),
    DynamicAccess(),
    OtherReferences(),  # after every rule that consumes or reports a reference
    Imports(),  # last: removes what the others left unused, adds what they introduced
)
