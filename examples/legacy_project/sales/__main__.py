"""python -m sales OUTPUT_DIR: run the flow, print each task's state and value, publish the summary."""

import os
import sys

from compat.result_handlers import LocalResultHandler

from sales.flows import build


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m sales OUTPUT_DIR", file=sys.stderr)
        return 2
    output_dir = args[0]
    state = build(output_dir).run()
    by_name = {}
    for task, task_state in state.result.items():
        by_name[task.name] = task_state
        print(f"{task.name:<8} {type(task_state).__name__:<8} {task_state.result!r}")

    published = LocalResultHandler(dir=os.path.join(output_dir, "published"))
    uri = published.write(by_name["summary"].result)
    print(f"published {published.read(uri)!r}")
    return 0 if state.is_successful() else 1


if __name__ == "__main__":
    sys.exit(main())
