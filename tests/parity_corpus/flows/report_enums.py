import enum
from enum import Enum, IntEnum, auto
from typing import Literal, Optional, Union

from prefect import flow

Frequency = Literal["daily", "weekly", "monthly"]
Mode = Literal["full", "delta"]


class Region(str, Enum):
    """Where the data lives."""
    EU = "eu-west-1"
    US = "us-east-1"


class Priority(IntEnum):
    LOW = 1
    HIGH = 5


class Format(enum.StrEnum):
    CSV = auto()
    PARQUET = auto()


Channel = Enum("Channel", "EMAIL SLACK")


class Stage(Enum):
    RAW = auto()
    CLEAN = auto()


@flow
def build_report(region: Region = Region.EU, priority: Priority = Priority.HIGH, fmt: Format = Format.PARQUET,
                 stage: Stage = Stage.CLEAN, frequency: Frequency = "daily", mode: Optional[Mode] = None,
                 regions: list[Region] = [Region.EU, Region.US], limit: int | None = None,
                 key: Union[int, str] = 0, channel: Channel = Channel.SLACK):
    """Build and send the report."""
