"""A team's own result handler of Prefect 0.13, with a target: the second run finds the output and is Cached."""

import os
import sys

import cloudpickle
from prefect import Flow, task
from prefect.engine.result_handlers import ResultHandler


class DirectoryHandler(ResultHandler):
    """Stores each value as <name>.pkl in one directory; the path is the URI."""

    def __init__(self, directory, name):
        self.directory = directory
        self.name = name
        super().__init__()

    def write(self, result):
        path = os.path.join(self.directory, f"{self.name}.pkl")
        with open(path, "wb") as f:
            f.write(cloudpickle.dumps(result))
        return path

    def read(self, uri):
        with open(uri, "rb") as f:
            return cloudpickle.loads(f.read())


def build(directory):
    handler = DirectoryHandler(directory, "squares")

    @task(result_handler=handler, target=os.path.join(directory, "squares.pkl"))
    def squares():
        print("computing squares")
        return [n * n for n in range(5)]

    with Flow("own-handler") as flow:
        value = squares()
    return flow, value


if __name__ == "__main__":
    flow, value = build(sys.argv[1])
    for run in (1, 2):
        state = flow.run().result[value]
        print(f"run {run}: {type(state).__name__} {state.result}")
