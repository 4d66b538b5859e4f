"""Defaults computed by calls at import time, and a model from an installed package."""
import os

from prefect import flow
from prefect.client.schemas.objects import StateType


def default_bucket() -> str:
    return "bucket-" + "main"


@flow
def export(bucket: str = default_bucket(), region: str = os.environ.get("PARITY_REGION", "eu-west-1"),
           state: StateType = StateType.COMPLETED, n: int = 1):
    return bucket
