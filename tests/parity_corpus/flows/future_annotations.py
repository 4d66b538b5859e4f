from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from pydantic import BaseModel
from prefect import flow


class Threshold(BaseModel):
    low: float = 0.1
    high: float = 0.9


@dataclass
class Window:
    days: int = 7


@flow
async def monitor(threshold: Threshold, window: Optional[Window] = None, names: list[str] | None = None,
                  label: "str" = "m"):
    return threshold
