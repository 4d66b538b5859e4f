from typing_extensions import NotRequired, Required, TypedDict

from prefect import flow


class Event(TypedDict):
    """One tracking event."""
    name: str
    ts: float
    props: NotRequired[dict[str, str]]


class Filters(TypedDict, total=False):
    source: str
    min_ts: Required[float]


@flow
def ingest_events(events: list[Event], filters: Filters | None = None):
    return len(events)
