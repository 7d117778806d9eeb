"""The ETL tutorial flow of Prefect 0.10: a flow-wide LocalResultHandler, a parameter, three tasks."""

import sys

from prefect import Flow, Parameter, task
from prefect.engine.result_handlers import LocalResultHandler


@task
def extract(count):
    return list(range(1, count + 1))


@task
def transform(numbers):
    return [n * 10 for n in numbers]


@task
def load(numbers):
    return sum(numbers)


def build(results_dir):
    with Flow("etl", result_handler=LocalResultHandler(dir=results_dir)) as flow:
        count = Parameter("count", default=3)
        loaded = load(transform(extract(count)))
    return flow, loaded


if __name__ == "__main__":
    flow, loaded = build(sys.argv[1])
    for count in (3, 5):
        state = flow.run(parameters={"count": count})
        print(f"count={count}: {state.result[loaded].result} ({type(state).__name__})")
    print(f"flow result: {type(flow.result).__name__}")
