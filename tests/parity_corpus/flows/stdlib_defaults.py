import datetime
import uuid
from datetime import date, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from prefect import flow

TIMEOUT_MINUTES = 5
DATA_DIR = "data"
START = date(2024, 1, 1)


@flow(name="stdlib-defaults")
def housekeeping(timeout: timedelta = timedelta(minutes=TIMEOUT_MINUTES), grace: datetime.timedelta = datetime.timedelta(
                 hours=1, minutes=30), start: date = START, at: time = time(6, 30),
                 since: datetime.datetime = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc),
                 out: Path = Path(DATA_DIR) / "raw", budget: Decimal = Decimal("12.50"),
                 run_id: uuid.UUID = uuid.UUID("12345678-1234-5678-1234-567812345678"),
                 keep: timedelta = timedelta(days=7) * 2):
    """Clean old files."""
