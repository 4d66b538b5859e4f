from typing import Annotated, Literal, Optional

from pydantic import Field, conint
from prefect import flow

Percent = Annotated[float, Field(ge=0, le=100)]
Env = Literal["dev", "staging", "prod"]
SMALL = 10


@flow
def tune(rate: Percent = 5.0, env: Env = "dev", envs: list[Env] = ["dev"], workers: Annotated[int, Field(
        ge=1, le=SMALL, description="parallel workers")] = 2, retries: conint(ge=0) = 3,
         note: Optional[Annotated[str, Field(max_length=20)]] = None, *, verbose: bool = False):
    """Tune the job.

    Args:
        rate: sampling rate in percent
        env: where to run
    """
