"""Task classes of Prefect 0.12: result handlers set in super().__init__, by module path and by assignment."""

import json
import os
import sys

from prefect import Flow, Task, task
from prefect.engine.result_handlers.json_result_handler import JSONResultHandler
from prefect.engine.result_handlers.local_result_handler import LocalResultHandler


class Scale(Task):
    def __init__(self, factor, **kwargs):
        self.factor = factor
        super().__init__(result_handler=JSONResultHandler(), **kwargs)

    def run(self, numbers):
        return [n * self.factor for n in numbers]


@task(result_handler=JSONResultHandler())
def numbers():
    return [1, 2, 3]


@task
def report(scaled):
    return {"total": sum(scaled), "count": len(scaled)}


if __name__ == "__main__":
    scale = Scale(factor=4, name="scale")
    report.result_handler = LocalResultHandler(dir=sys.argv[1])
    with Flow("task-classes") as flow:
        summary = report(scale(numbers()))
    state = flow.run()
    print(json.dumps(state.result[summary].result, sort_keys=True))
    print(type(scale.result).__name__, type(report.result).__name__)
    print(f"{len(os.listdir(sys.argv[1]))} file(s) checkpointed")
