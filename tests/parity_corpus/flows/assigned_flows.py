"""Flows made by calling flow() on a plain function, as some teams do to keep the function importable."""
from prefect import flow


def _refresh(table: str, full: bool = False) -> str:
    """Refresh one table.

    Args:
        table: schema-qualified table name
    """
    return table


def run_cleanup(days: int = 30):
    return days


refresh = flow(name="refresh-table")(_refresh)
cleanup = flow(run_cleanup, log_prints=True)
