"""``results-compat``: the command line over ``compat.store`` (plan, ls, show, touch, invalidate, gc).

Each subcommand parses its arguments, calls the Python API and prints: a table on stdout, or with ``--json`` one
JSON document. Errors go to stderr as one line saying what is wrong and what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timezone
from operator import attrgetter
from typing import Any

from compat.engine.parameter import Parameter
from compat.engine.plan import _shown
from compat.engine.reasons import STALE
from compat.errors import ArgumentTypeError, FlowError, ResultError
from compat.store.flows import load_flow, parse_params, plan_flow
from compat.store.gc import Rules, collect, parse_age, parse_size
from compat.store.lease_watch import LEASE_WATCH
from compat.store.invalidation import invalidate_locations, invalidate_tasks
from compat.store.listing import KEPT, OUTPUT, TEMPORARY, Listing, bulk, iso_time, list_root
from compat.store.roots import open_root
from compat.store.show import UNTRUSTED, describe, split_location
from compat.store.accept import touch

__all__ = ["main"]

OK, FOUND, ERROR = 0, 1, 2

FRESH_CODES = frozenset({"exists", "fresh"})
"""Plan codes of a stored output that is up to date (``ls --flow``); any other code is shown as it is."""

_EPILOG = """\
exit codes:
  0  done; nothing to do or found
  1  plan: a task would run; ls --stale: a stale output is listed; show: the signature is untrusted;
     touch: a task has no stored output to accept; gc --dry-run: something would be removed
  2  usage error, a flow or location that cannot be found or loaded, or a storage error

a TARGET_ROOT is a directory, or an s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or az://CONTAINER/PREFIX; the clients
take endpoints and credentials from the environment (AWS_* variables, STORAGE_EMULATOR_HOST and Google's
credentials, AZURE_STORAGE_CONNECTION_STRING). FLOW is path/to/file.py:NAME or package.module:NAME.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="results-compat",
        description="Plan a flow, and list, inspect, accept, invalidate and collect what is stored.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    plan = commands.add_parser("plan", help="what a run of FLOW would do, task by task (exit 1 if a task would run)",
                               epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    plan.add_argument("flow", metavar="MODULE_OR_FILE:FLOW")
    _add_params(plan)
    plan.add_argument("--prune", action="store_true", help="skip tasks whose outputs only cached tasks need")
    plan.add_argument("--refresh", action="append", default=[], metavar="TASK",
                      help="rerun TASK and everything downstream of it (repeatable)")
    _add_json(plan)

    ls = commands.add_parser("ls", help="what is stored under TARGET_ROOT, one row per output",
                             epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ls.add_argument("root", metavar="TARGET_ROOT")
    ls.add_argument("--flow", metavar="MODULE_OR_FILE:FLOW", help="say which outputs of FLOW are fresh or stale")
    _add_params(ls)
    ls.add_argument("--brief", action="store_true",
                    help="the listing alone: location, kind, size and time, no record read (no task, run or record)")
    ls.add_argument("--stale", action="store_true",
                    help="list only the outputs of --flow whose record disagrees with now (code-changed, "
                         "inputs-changed, upstream-changed, invalidated; exit 1 if any)")
    _add_json(ls)

    show = commands.add_parser("show", help="format, signature and record of one stored output, never unpickled",
                               epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("location", metavar="LOCATION", help="a file path, or an s3://, gs:// or az:// URI")
    _add_json(show)

    touch = commands.add_parser("touch", help="accept the stored outputs of FLOW as up to date: write their records",
                                epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    touch.add_argument("flow", metavar="MODULE_OR_FILE:FLOW")
    _add_params(touch)
    touch.add_argument("--task", action="append", default=[], metavar="NAME",
                       help="touch only this task's output (repeatable)")
    _add_json(touch)

    invalidate = commands.add_parser(
        "invalidate", help="make outputs stale without deleting them (the next run rebuilds them), or --delete",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    invalidate.add_argument("locations", nargs="*", metavar="LOCATION",
                            help="a file path, or an s3://, gs:// or az:// URI")
    invalidate.add_argument("--task", action="append", default=[], metavar="NAME",
                            help="the output of this task of --flow (repeatable)")
    invalidate.add_argument("--flow", metavar="MODULE_OR_FILE:FLOW")
    _add_params(invalidate)
    invalidate.add_argument("--delete", action="store_true", help="delete the outputs and their records instead")
    _add_json(invalidate)

    gc = commands.add_parser("gc", help="remove old outputs, kept-aside copies and abandoned temporary files",
                             epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    gc.add_argument("root", metavar="TARGET_ROOT")
    gc.add_argument("--older-than", type=_typed(parse_age), metavar="AGE",
                    help="remove outputs written longer ago than AGE (30d, 12h, 90m, 2w)")
    gc.add_argument("--keep-last", type=_typed(_count), metavar="N",
                    help="keep the outputs of each task's last N runs, whatever the other rules say")
    gc.add_argument("--max-size", type=_typed(parse_size), metavar="SIZE",
                    help="remove the oldest outputs until those kept take at most SIZE (500M, 50G)")
    gc.add_argument("--unreadable", action="store_true", help="also remove kept-aside copies (.unreadable-*)")
    gc.add_argument("--dry-run", action="store_true", help="remove nothing; print what would be removed")
    gc.add_argument("--lease-watch", type=_typed(_seconds), default=LEASE_WATCH, metavar="SECONDS",
                    help="watch leases on S3 or GCS for their ttl, at most SECONDS (default %(default)g), and remove "
                         "those their holder did not renew meanwhile")
    _add_json(gc)
    return parser


def _add_params(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a flow parameter; VALUE is read as JSON when it is JSON (3, true, \"3\"), else as text "
                             "(repeatable)")


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of a table")


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    checked.__name__ = parse.__name__.removeprefix("parse_")
    return checked


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{text!r} is not a number of seconds; give one, 0 or more (0: remove no S3 or GCS lease)")
    return seconds


def _count(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a count; give a whole number, 0 or more")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error, or the help
        return int(exc.code or 0)
    command = _COMMANDS[args.command]
    try:
        if args.command in ("ls", "gc"):  # one pause of the cycle collector for the listing and what is printed
            with bulk():
                return command(args)
        return command(args)
    except (ResultError, FlowError, ArgumentTypeError, ValueError) as exc:
        print(f"results-compat {args.command}: error: {exc}", file=sys.stderr)
        return ERROR


def _plan(args: argparse.Namespace) -> int:
    flow = load_flow(args.flow)
    plan = plan_flow(flow, parse_params(args.param), prune=args.prune, refresh=args.refresh)
    if args.json:
        _print_json({**plan.to_dict(), "to_run": plan.count("run")})
    else:
        print(plan)
    return FOUND if plan.count("run") else OK


def _ls(args: argparse.Namespace) -> int:
    if args.stale and not args.flow:
        raise ValueError("--stale needs --flow MODULE_OR_FILE:FLOW, the flow whose outputs are judged")
    listing = list_root(open_root(args.root), records=not args.brief)
    if args.flow:
        listing = listing.with_status(_statuses(args))
    entries = listing.entries
    if args.stale:
        entries = [entry for entry in entries if entry.status in STALE]
    if args.json:
        _print_json({"root": listing.root.uri, "entries": [entry.to_dict() for entry in entries]})
    else:
        _print_listing(listing, entries, with_status=bool(args.flow))
    return FOUND if args.stale and entries else OK


def _statuses(args: argparse.Namespace) -> dict[str, str]:
    """Each planned location of the flow: ``fresh`` when its record agrees with the code and inputs now (or a
    caching Result finds it fresh), else the plan's reason code (``code-changed``, ``no-record``...)."""
    plan = plan_flow(load_flow(args.flow), parse_params(args.param))
    return {step.location: ("fresh" if step.code in FRESH_CODES else step.code)
            for step in plan if step.location is not None and not isinstance(step.task, Parameter)}


def _show(args: argparse.Namespace) -> int:
    root, name = split_location(args.location)
    found = describe(root, name)
    if args.json:
        _print_json(found.to_dict())
    else:
        rows = [("location", found.uri), ("size", f"{found.size} bytes"),
                ("modified", "-" if found.modified is None else found.modified.astimezone(timezone.utc).isoformat()),
                ("format", found.format), ("signature", f"{found.signature}: {found.detail}")]
        record = found.record
        if record is None:
            rows.append(("record", found.record_note))
        else:
            rows.append(("record", f"flow {record.flow!r}, task {record.task!r}, run {record.run_id}, written "
                                   f"{record.written_at}: {found.record_note}"))
        for label, value in rows:
            print(f"{label:<10} {_shown(value)}")
    return FOUND if found.signature == UNTRUSTED else OK


def _touch(args: argparse.Namespace) -> int:
    done = touch(load_flow(args.flow), parse_params(args.param), args.task)
    if args.json:
        _print_json({"tasks": [item.to_dict() for item in done]})
    else:
        for item in done:
            print(f"{'touched' if item.record else 'left':<8} {_shown(item.task)}  {_shown(item.location or '-')}: "
                  f"{_shown(item.why)}")
    return FOUND if any(item.record is None for item in done) else OK


def _invalidate(args: argparse.Namespace) -> int:
    if bool(args.locations) == bool(args.task):
        raise ValueError("give LOCATION... or --task NAME --flow MODULE_OR_FILE:FLOW (one of the two)")
    if args.task and not args.flow:
        raise ValueError("--task needs --flow MODULE_OR_FILE:FLOW, the flow whose task it is")
    if args.task:
        done = invalidate_tasks(load_flow(args.flow), args.task, parse_params(args.param), args.delete)
    else:
        done = invalidate_locations(args.locations, args.delete)
    if args.json:
        _print_json({"outputs": [item.to_dict() for item in done]})
    else:
        for item in done:
            what = "deleted" if item.deleted else "invalidated (the next run rebuilds it)"
            print(f"{what}: {_shown(item.location)}")
    return OK


def _gc(args: argparse.Namespace) -> int:
    rules = Rules(args.older_than, args.keep_last, args.max_size, args.unreadable)
    def watching(count: int, seconds: float) -> None:
        print(f"results-compat gc: watching {_count_of(count, 'lease')} for {seconds:.1f} s, to tell whether "
              "their holders still renew them (--lease-watch bounds it)", file=sys.stderr, flush=True)

    done = collect(open_root(args.root), rules, dry_run=args.dry_run, lease_watch=args.lease_watch,
                   watching=watching)
    if args.json:
        _print_json(done.to_dict())
    else:
        verb = "would remove" if done.dry_run else "removed"
        freed = [removal.freed for removal in done.removed]
        sys.stdout.write("".join([f"{verb} {_shown(removal.entry.uri)} ({size} bytes): {removal.why}\n"
                                  for removal, size in zip(done.removed, freed)]))
        sys.stdout.write("".join([f"left {_shown(removal.entry.uri)}: {why}\n" for removal, why in done.skipped]))
        print(f"{verb} {len(done.removed)} of what is stored under {done.root}, freeing {sum(freed)} bytes")
    return FOUND if done.dry_run and done.removed else OK


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "plan": _plan, "ls": _ls, "show": _show, "touch": _touch, "invalidate": _invalidate, "gc": _gc,
}


def _print_listing(listing: Listing, entries: list[Any], with_status: bool) -> None:
    header = ("location", "kind", "size", "written", "task", "run", "record") + (("status",) if with_status else ())
    rows = [header]
    for entry in entries:
        record = entry.record
        row = (_shown(entry.location), f"{entry.kind} ({entry.note})" if entry.note else entry.kind, str(entry.size),
               iso_time(entry.written), _shown(record.task or "-") if record else "-",
               _shown(record.run_id or "-") if record else "-", entry.record_note)
        rows.append(row + (entry.status or "-",) if with_status else row)
    widths = [max(map(len, column)) for column in zip(*rows)]
    line = "  ".join(f"%-{width}s" for width in widths[:-1]) + "  %s"  # every cell padded but the last
    sys.stdout.write("".join([(line % row).rstrip() + "\n" for row in rows]))
    counts = Counter(map(attrgetter("kind"), entries))
    with_record = sum(1 for entry in entries if entry.record is not None)
    print(f"{_count_of(counts[OUTPUT], 'output')} ({with_record} with records), {counts[KEPT]} kept aside, "
          f"{counts[TEMPORARY]} temporary, {sum(map(attrgetter('size'), entries))} bytes under {listing.root.uri}")


def _count_of(count: int, thing: str) -> str:
    return f"{count} {thing}{'' if count == 1 else 's'}"


def _print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")

