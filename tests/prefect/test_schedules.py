"""Prefect 1.x's schedules work beside the bridge: the ``prefect`` extra keeps pendulum below 3, whose removal of
``pendulum.tz._Timezone`` breaks every ``CronClock``."""

from __future__ import annotations

from importlib import metadata

import pendulum
from packaging.requirements import Requirement
from prefect import Flow, task
from prefect.schedules import Schedule
from prefect.schedules.clocks import CronClock


def test_a_cron_clock_gives_the_next_run_times() -> None:
    schedule = Schedule(clocks=[CronClock("30 6 * * *")])
    after = pendulum.datetime(2024, 3, 1, tz="UTC")
    assert [run.isoformat() for run in schedule.next(2, after=after)] == [
        "2024-03-01T06:30:00+00:00",
        "2024-03-02T06:30:00+00:00",
    ]


def test_a_flow_with_a_cron_schedule_names_its_next_run() -> None:
    @task
    def noop() -> None:
        return None

    with Flow("scheduled", schedule=Schedule(clocks=[CronClock("0 0 1 * *")])) as flow:
        noop()
    [upcoming] = flow.schedule.next(1, after=pendulum.datetime(2024, 1, 15, tz="UTC"))
    assert upcoming == pendulum.datetime(2024, 2, 1, tz="UTC")


def test_the_prefect_extra_keeps_pendulum_below_3() -> None:
    requirements = [Requirement(text) for text in metadata.requires("results-compat") or ()]
    [pendulum_pin] = [r for r in requirements if r.name == "pendulum" and r.marker and r.marker.evaluate(
        {"extra": "prefect"})]
    assert "2.1.2" in pendulum_pin.specifier and "3.0.0" not in pendulum_pin.specifier
