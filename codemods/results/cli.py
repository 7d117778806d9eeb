"""``results-codemod PATH... [--check] [--diff] [-j N] [--profile P] [--exclude GLOB] [--report json|sarif|github]``

Messages go to stderr, diffs and the JSON report to stdout. Exit codes: 0 nothing left to change; 1 changes
needed (``--check``/``--diff``) or manual follow-ups remain; 2 a usage error or files that could not be processed;
3 files that changed on disk during the run (left as they are).
"""

from __future__ import annotations

import argparse
import sys

from compat.renames import PROFILES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: --help costs the parser and the table only
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from codemods.results.runner import Mode

__all__ = ["main"]

_PROGRESS_MINIMUM = 50  # files: below that a run is over before a bar would help

_EPILOG = """\
what is skipped:
  under a directory PATH: version-control and cache directories (.git, __pycache__, ...), build, packaging and
  environment directories (build, dist, .eggs, *.egg-info, venv, .venv, .tox, .nox, node_modules, site-packages,
  any directory holding pyvenv.cfg), what .gitignore files ignore, symlinked directories, symlinks to files
  outside the tree, dangling symlinks, symlink loops, and --exclude matches. A PATH named on the command line is
  always processed, even where a .gitignore or --exclude matches it (--force-exclude skips it instead). The
  summary counts what was skipped (all but version-control and cache directories); --verbose lists each path
  with the reason.
  A file without any legacy name in its bytes is not parsed.

follow-ups and pragmas:
  "# results-codemod: ignore" at the end of a line silences its follow-ups ("ignore[keyword, dynamic]": only
  those rules'); --report json marks them ignored. A rewrite that turns a handler into a Result it cannot follow
  leaves "# results-codemod: follow-up[...]" above the statement; every run lists it until you delete it.

exit codes:
  0  nothing left to change and no follow-ups
  1  changes needed (--check, --diff) or manual follow-ups remain
  2  usage error, or a file could not be read, decoded, parsed or written (the others are still processed)
  3  a file changed on disk while the run worked on it: it was left as it is now (no edit is lost); run again
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="results-codemod",
        description="Rewrite legacy ResultHandler code to the Result API, in place.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to rewrite")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    mode.add_argument("--diff", action="store_true",
                      help="print a unified diff instead of writing (apply it with git apply -p0 or patch -p0)")
    parser.add_argument("-j", "--jobs", type=_jobs, default="auto", metavar="N",
                        help="worker processes: auto (the default) works in this process and starts one worker per "
                             "core only once the files left to rewrite would take more than a few seconds here, so "
                             "a small run never pays for starting processes; 1 always runs in this process; N starts "
                             "N workers")
    parser.add_argument("--profile", choices=["auto", *sorted(PROFILES)], default="auto",
                        help="which legacy API to migrate: auto (the default) migrates a file that imports prefect "
                             "with the prefect profile and one that imports compat with the compat profile, lists a "
                             "file that imports both, and leaves files that import neither alone; prefect3 (only when "
                             "asked) moves Prefect 0.10-1.x results and targets to Prefect 3")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip files and directories matching GLOB (fnmatch: * also matches /), tried against "
                             "the path as printed (as given, or relative to the current directory), the path "
                             "relative to the PATH argument it is under, and the file or directory name; a "
                             "matching directory is skipped with everything under it (repeatable)")
    parser.add_argument("--force-exclude", action="store_true",
                        help="apply --exclude and .gitignore to the PATHs named on the command line too (by default "
                             "a named PATH is always processed); for tools that pass every file, like pre-commit")
    parser.add_argument("--report", choices=("text", "json", "sarif", "github"), default="text",
                        help="json: print one JSON document on stdout once the run is over, with keys "
                             "schema_version, sites (a record per site: file, line, column, rule, origin, codemod, "
                             "action, reason, statement, fingerprint; action is rewritten, or would_rewrite under "
                             "--check/--diff, manual, ignored or skipped), failures, changed_files, skipped (path, "
                             "reason) and totals; the pytest audit's JSON has the same site records. sarif: a SARIF "
                             "2.1.0 log on stdout (code scanning), one result per follow-up and per site still to "
                             "rewrite. github: GitHub Actions workflow commands on stdout, one annotation per such "
                             "site. The text summary still goes to stderr")
    parser.add_argument("--max-file-size", type=_size, default=None, metavar="SIZE",
                        help="a file larger than SIZE (bytes, or with a K, M or G suffix: 4M) that mentions a legacy "
                             "name fails without being parsed, which would take seconds and about 200 MB of memory "
                             "per MB (default 1M); a larger one without legacy names is skipped unparsed as ever")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", help="print only follow-ups and failures")
    verbosity.add_argument("-v", "--verbose", action="store_true", help="also list every path skipped, with why")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (or --help)
        return int(exc.code or 0)
    # imported once the arguments are good: --help and a usage error cost only the parser and the rename table
    from codemods.results.discovery import discover
    from codemods.results.report import exit_code, github_report, json_report, sarif_report, summary
    from codemods.results.runner import MAX_FILE_SIZE, Options, run
    from codemods.results.terminal import shown

    if args.diff and args.report != "text":
        print(f"error: --diff and --report {args.report} both print to stdout: choose one", file=sys.stderr)
        return 2
    mode: Mode = "check" if args.check else "diff" if args.diff else "write"
    found = discover(args.paths, args.exclude, args.force_exclude)
    if found.missing:
        for path in found.missing:
            print(f"error: {shown(path)}: no such file or directory", file=sys.stderr)
        return 2

    bar = _Progress(len(found.files), sys.stderr) if _show_progress(args, len(found.files)) else None
    options = Options(args.profile, mode, args.max_file_size or MAX_FILE_SIZE)
    outcomes = run(found.files, options, args.jobs, bar.advance if bar else None)
    if bar:
        bar.close()

    for outcome in outcomes:
        if outcome.diff:
            sys.stdout.write(outcome.diff)
        if outcome.status == "changed" and not args.quiet:
            verb = "rewrote" if mode == "write" else "would rewrite"
            print(f"{verb} {shown(outcome.path)}", file=sys.stderr)
    if args.report == "json":
        print(json_report(outcomes, mode, found.skipped))
    elif args.report == "sarif":
        sys.stdout.write(sarif_report(outcomes, mode))
    elif args.report == "github":
        sys.stdout.write(github_report(outcomes, mode))
    text = summary(outcomes, mode, quiet=args.quiet, skipped=found.skipped, verbose=args.verbose)
    if text:
        print(text, file=sys.stderr)
    return exit_code(outcomes, mode)


def _jobs(text: str) -> int | str:
    """``-j``: ``auto`` or a number of processes, at least 1."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes: give auto or a number, e.g. 2") \
            from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1 (or auto)")
    return jobs


def _size(text: str) -> int:
    """``--max-file-size``: bytes, or a number with a binary K, M or G suffix."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    number, unit = (text[:-1], units[text[-1].upper()]) if text[-1:].upper() in units else (text, 1)
    try:
        size = int(float(number) * unit)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size: give bytes or a number with K, M or G, e.g. 4M") \
            from None
    if size < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1 byte")
    return size


def _show_progress(args: argparse.Namespace, files: int) -> bool:
    return not args.quiet and files >= _PROGRESS_MINIMUM and sys.stderr.isatty()


class _Progress:
    """A one-line bar on a terminal's stderr, redrawn in place."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream

    def advance(self, count: int) -> None:
        self.done += count
        filled = 30 * self.done // max(self.total, 1)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} files")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * 60 + "\r")
        self.stream.flush()
