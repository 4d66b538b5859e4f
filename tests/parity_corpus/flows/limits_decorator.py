"""A decorator that wraps the flow's function without functools.wraps: Prefect sees the wrapper's signature."""
from prefect import flow


def timed(fn):
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)
    return wrapper


@flow
@timed
def timed_job(n: int = 1, label: str = "x"):
    return n
