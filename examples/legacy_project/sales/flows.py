"""The flow: extract the day's orders, drop refunds, total them per region, summarise, archive."""

import os

from compat import Flow, Parameter, task
from compat.result_handlers import JSONResultHandler, LocalResultHandler

from sales.storage import ArchiveHandler

ORDERS = [
    {"day": "2026-11-24", "region": "north", "amount": 120},
    {"day": "2026-11-24", "region": "south", "amount": 80},
    {"day": "2026-11-24", "region": "north", "amount": -20},
    {"day": "2026-11-24", "region": "east", "amount": 45},
    {"day": "2026-11-25", "region": "south", "amount": 60},
]


def all_amounts_positive(rows):
    return all(row["amount"] > 0 for row in rows)


def build(output_dir):
    """The flow, storing its outputs under ``output_dir``."""
    results = LocalResultHandler(dir=os.path.join(output_dir, "results"))

    @task(target="{flow_name}/orders-{day}.pkl")
    def extract(day):
        return [dict(order) for order in ORDERS if order["day"] == day]

    @task(target="{flow_name}/clean-{day}.pkl", validators=[all_amounts_positive])
    def clean(orders):
        return [order for order in orders if order["amount"] > 0]

    @task(checkpoint=True, result_handler=results, target="{flow_name}/totals-{day}.pkl")
    def totals(rows):
        by_region = {}
        for row in rows:
            by_region[row["region"]] = by_region.get(row["region"], 0) + row["amount"]
        return dict(sorted(by_region.items()))

    @task(result_handler=JSONResultHandler())
    def summary(by_region, day):
        return {"day": day, "regions": len(by_region), "total": sum(by_region.values())}

    @task
    def archive(report):
        return report

    archive.result_handler = ArchiveHandler(os.path.join(output_dir, "archive"))

    with Flow("daily-sales", result_handler=results) as flow:
        day = Parameter("day", default="2026-11-24")
        by_region = totals(clean(extract(day)))
        archive(summary(by_region, day))
    return flow
