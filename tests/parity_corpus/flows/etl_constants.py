"""Nightly load of the orders table; names and defaults kept as module constants."""
from prefect import flow, task

FLOW_NAME = "orders-nightly"
ENV = "prod"
DEFAULT_OWNER = "data-platform"
BATCH = 500
THRESHOLD = 50 * 1e-6
COLUMNS = ("id", "amount", "created_at")
RETRIES = {"extract": 3, "load": 1}


@task
def extract(owner: str) -> list[int]:
    return [1, 2, 3]


@flow(name=FLOW_NAME, log_prints=True)
def orders_nightly(owner: str = DEFAULT_OWNER, batch_size: int = BATCH * 2, threshold: float = THRESHOLD,
                   columns: tuple = COLUMNS, retries: dict = RETRIES, dry_run: bool = False):
    """Load yesterday's orders.

    Args:
        owner: team that owns the run
        batch_size: rows per insert
        threshold: drop amounts below this
    """
    print(extract(owner))


@flow(name=f"orders-backfill-{ENV}")
def orders_backfill(days: int = 7, owner: str = "backfill-" + DEFAULT_OWNER):
    """Reload the last `days` days."""
    return days
