"""The project's own tests: run with `pytest --legacy-audit` to see the legacy uses they exercise."""

from sales.flows import build


def test_totals_per_region_drop_refunds(tmp_path):
    state = build(str(tmp_path)).run()
    totals = {task.name: s for task, s in state.result.items()}["totals"]
    assert totals.result == {"east": 45, "north": 120, "south": 80}


def test_a_second_run_reads_the_targets(tmp_path):
    build(str(tmp_path)).run()
    again = {task.name: s for task, s in build(str(tmp_path)).run().result.items()}
    assert again["extract"].is_cached() and again["totals"].is_cached()
