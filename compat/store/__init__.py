"""What is stored, from Python and from the ``results-compat`` command line (``compat.store.cli``, a thin layer
over these functions): plan a flow, list what is stored under a directory or a bucket prefix, describe one output
without unpickling it, and collect old outputs, kept-aside copies and abandoned temporary files.

- ``open_root(text)``: a ``Root`` for a directory or an ``s3://``, ``gs://``, ``az://`` prefix.
- ``list_root(root) -> Listing``: one ``Entry`` per output (with its record), kept-aside copy, temporary file...
- ``describe(root, name) -> Description``: format, signature status (key id) and record of one output.
- ``collect(root, Rules(...), dry_run=...) -> Collection``: remove by age, count per task, size; ``decide`` is the
  choice alone.
- ``touch(flow, ...)``: a record for each stored target, with the fingerprints a run would record now.
- ``invalidate_locations([...])``, ``invalidate_tasks(flow, [...])``: mark records so the next run rebuilds (or
  ``delete=True``).
- ``load_flow("flows.py:flow")``, ``parse_params(["day=2026-11-30"])``, ``plan_flow(flow, ...)``.
"""

from compat.store.accept import Touched, touch
from compat.store.flows import load_flow, parse_params, plan_flow
from compat.store.gc import Collection, Removal, Rules, collect, decide
from compat.store.invalidation import Invalidated, invalidate, invalidate_locations, invalidate_tasks
from compat.store.listing import Entry, Listing, list_root
from compat.store.roots import LocalRoot, ObjectRoot, Root, open_root
from compat.store.show import Description, describe, split_location

__all__ = [
    "Collection",
    "Description",
    "Entry",
    "Invalidated",
    "Listing",
    "LocalRoot",
    "ObjectRoot",
    "Removal",
    "Root",
    "Rules",
    "Touched",
    "collect",
    "decide",
    "describe",
    "invalidate",
    "invalidate_locations",
    "invalidate_tasks",
    "list_root",
    "load_flow",
    "open_root",
    "parse_params",
    "plan_flow",
    "split_location",
    "touch",
]
