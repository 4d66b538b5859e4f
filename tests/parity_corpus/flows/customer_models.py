from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator
from prefect import flow

MAX_NAME = 64


class Address(BaseModel):
    street: str
    city: str = "Berlin"
    postcode: str = Field(..., min_length=4, max_length=10, examples=["10115"])


class Customer(BaseModel):
    """A customer as the CRM exports it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=MAX_NAME, description="full name")
    age: int = Field(default=18, ge=0, le=130, title="Age in years")
    email: Optional[str] = Field(None, alias="mail")
    address: Address
    tags: list[str] = Field(default_factory=list)
    scores: dict[str, float] = {}

    @field_validator("name")
    @classmethod
    def strip(cls, v: str) -> str:
        return v.strip()


class VipCustomer(Customer):
    tier: int = 1


@flow
def sync_customers(customers: list[Customer], vip: Optional[VipCustomer] = None, default_address: Address = Address(
        street="Main St 1", postcode="10115"), limit: int = 100):
    """Push customers to the warehouse.

    Args:
        customers: rows to write
        vip: one customer to treat first
    """
    return len(customers)
