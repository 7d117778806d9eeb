"""The README's first command (`make demo`): Results written, read back, and a target being hit."""

from __future__ import annotations

import tempfile

from compat import LocalResult


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        result = LocalResult(dir=workdir, location="{flow_name}/{task_name}-{day}.pkl")
        context = {"flow_name": "etl", "task_name": "extract", "day": "2026-11-25"}

        target = result.location
        print(f"target {target!r} exists before the first run: {result.exists(target, **context)}")
        written = result.write({"rows": 3}, **context)
        print(f"wrote {written.value!r} to {written.location}")
        print(f"target exists now: {result.exists(target, **context)} -> a second run reads it instead of running")
        print(f"read back: {result.read(written.location).value!r}")


if __name__ == "__main__":
    main()
