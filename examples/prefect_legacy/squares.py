"""A flow of the common shape in the style of Prefect 0.10-0.13: a flow-wide LocalResultHandler, Parameters, a
task with a target, so that a second run loads its output instead of computing it."""

import sys

from prefect import Flow, Parameter, task
from prefect.engine.result_handlers import LocalResultHandler


@task(target="squares-{count}.pkl")
def squares(count):
    print(f"computing {count} squares")
    return [n * n for n in range(count)]


@task
def total(numbers, label):
    print(f"{label}: {sum(numbers)}")


with Flow("squares", result_handler=LocalResultHandler(dir=sys.argv[1])) as flow:
    count = Parameter("count", default=4)
    total(squares(count), Parameter("label", default="total"))

if __name__ == "__main__":
    flow.run()
    flow.run(parameters={"count": 6, "label": "six"})
