import dataclasses
from dataclasses import dataclass, field

import pydantic
from prefect import flow


@dataclass(frozen=True)
class Box:
    width: float
    height: float
    depth: float = 1.0
    labels: list[str] = field(default_factory=list)


@dataclasses.dataclass
class Shipment:
    """What leaves the warehouse."""
    boxes: list[Box]
    carrier: str = "dhl"
    insured: bool = field(default=False)


@pydantic.dataclasses.dataclass
class Window:
    start_hour: int = pydantic.Field(8, ge=0, le=23)
    end_hour: int = 18


@flow(name="plan-shipments")
def plan(shipment: Shipment, window: Window = Window(), fallback: Box = Box(1, 2)):
    return shipment
