"""Shared settings models and names, imported by several flows."""
from enum import Enum

from pydantic import BaseModel, Field

TEAM = "loading"
DEFAULT_CHUNK = 1000


class Warehouse(str, Enum):
    SNOWFLAKE = "snowflake"
    BIGQUERY = "bigquery"


class LoadSettings(BaseModel):
    warehouse: Warehouse = Warehouse.SNOWFLAKE
    chunk: int = Field(DEFAULT_CHUNK, ge=1)
