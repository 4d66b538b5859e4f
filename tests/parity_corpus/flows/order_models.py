"""Orders as the shop API sends them; an older model still on pydantic-v1-style Config."""
import datetime as dt
from datetime import datetime
from typing import Annotated, Any, Dict, List, Optional, Tuple
from uuid import UUID
from pydantic import BaseModel, Field, SecretStr, HttpUrl, conlist
from prefect import flow

class Item(BaseModel):
    model_config = {"title": "An item", "frozen": True}
    sku: Annotated[str, Field(min_length=3, description="stock keeping unit")]
    qty: int = Field(1, gt=0)
    price: float = 0.0

class Order(BaseModel):
    id: UUID
    items: List[Item] = []
    meta: Dict[str, Any] = Field(default_factory=dict)
    placed: datetime = datetime(2024, 5, 1, 8, 0)
    window: Tuple[int, int] = (8, 18)
    note: Optional[str] = None
    url: Optional[HttpUrl] = None
    token: Optional[SecretStr] = None

class Legacy(BaseModel):
    a: int = 1
    class Config:
        title = "Old style"

@flow(name="orders")
def process(order: Order, when: dt.datetime = dt.datetime(2024, 1, 1), items: conlist(Item, min_length=1) = None,
            legacy: Optional[Legacy] = None, ids: list[UUID] = [], tup: tuple[str, ...] = ("a",)):
    pass
