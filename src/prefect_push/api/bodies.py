"""Request bodies of the write path, built as plain data: what Prefect's client sends through its models.

Each function returns the JSON Prefect's client method of the same name would send for the same arguments
(`model_dump(mode="json")` of its filter models, with every unset field as null; `exclude_unset=True` of its
action models). tests/test_api_bodies.py builds each through Prefect's own models and holds them equal, over
the suite's scenarios. Where a value is not plain JSON data this cannot vouch for (`Unsettled`), the caller
builds that body with Prefect's models instead.
"""
from __future__ import annotations

import enum
import uuid
from typing import Any, Iterable


class Unsettled(ValueError):
    """A value this module cannot turn into JSON exactly as pydantic would: Prefect's models build the body."""


# --- filters: Prefect's filter models dumped whole (mode="json", nothing excluded) ---

def _any(values: Iterable[Any]) -> dict[str, Any]:
    return {"any_": [str(v) for v in values]}


def flow_filter(*, names: Iterable[str] | None = None, ids: Iterable[Any] | None = None) -> dict[str, Any]:
    return {"operator": "and_", "id": _any(ids) if ids is not None else None,
            "name": {**_any(names), "like_": None} if names is not None else None, "tags": None}


def deployment_filter(*, names: Iterable[str] | None = None, all_tags: Iterable[str] | None = None
                      ) -> dict[str, Any]:
    return {"operator": "and_", "id": None,
            "name": {**_any(names), "like_": None} if names is not None else None,
            "tags": ({"operator": "and_", "all_": [str(t) for t in all_tags], "any_": None, "is_null_": None}
                     if all_tags is not None else None),
            "work_queue_name": None, "concurrency_limit": None}


def read_deployments(*, flows: dict[str, Any] | None = None, deployments: dict[str, Any] | None = None,
                     limit: int | None = None, offset: int = 0, sort: str | None = None) -> dict[str, Any]:
    """client.read_deployments's body (sort: a DeploymentSort value such as "CREATED_DESC")."""
    return {"flows": flows, "flow_runs": None, "task_runs": None, "deployments": deployments, "work_pools": None,
            "work_pool_queues": None, "limit": limit, "offset": offset, "sort": sort}


def read_flows(*, flows: dict[str, Any] | None = None, limit: int | None = None, offset: int = 0
               ) -> dict[str, Any]:
    return {"flows": flows, "flow_runs": None, "task_runs": None, "deployments": None, "work_pools": None,
            "work_queues": None, "sort": None, "limit": limit, "offset": offset}


def read_work_pools(*, limit: int | None = None, offset: int = 0) -> dict[str, Any]:
    return {"limit": limit, "offset": offset, "work_pools": None}


def read_variables(names: list[str], limit: int) -> dict[str, Any]:
    """Not a client method: the one filter read of a marker under both its names."""
    return {"variables": {"name": {"any_": names}}, "limit": limit}


# --- actions: only what is set ---

def create_variable(name: str, value: Any, tags: list[str]) -> dict[str, Any]:
    return {"name": name, "value": jsonable(value), "tags": list(tags)}


def update_variable(name: str, value: Any) -> dict[str, Any]:
    return {"name": name, "value": jsonable(value)}


def create_flow(name: str) -> dict[str, Any]:
    """FlowCreate(name=...) dumped whole, as client.create_flow_from_name sends it."""
    return {"name": name, "tags": [], "labels": {}}


def pause_deployment() -> dict[str, Any]:
    return {"paused": True}  # DeploymentUpdate(paused=True), exclude_unset


def schedule_active(active: bool) -> dict[str, Any]:
    return {"active": bool(active)}  # DeploymentScheduleUpdate(active=...), exclude_unset


# DeploymentCreate's fields that take any JSON as it is, and those that must be strings
_STRINGS = ("description",)
_STRING_LISTS = ("tags",)
EMPTY_SCHEMA = {"type": "object", "properties": {}}


def create_deployment(fields: dict[str, Any]) -> dict[str, Any]:
    """client.create_deployment's body with only the fields given (DeploymentCreate(**fields), exclude_unset);
    `version_info` whole, defaults too, as create_deployment sends it. Raises Unsettled for a value that is not
    plain JSON data (nor a UUID, nor a pydantic model Prefect made)."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in _STRINGS:
            value = str(value)  # DeploymentCreate's convert_to_strings: None too, as the text 'None'
        elif key in _STRING_LISTS and value is not None:
            value = [str(v) for v in value]
        elif key == "parameter_openapi_schema" and value == {}:
            value = EMPTY_SCHEMA  # its ParameterSchema normalises an empty schema so (None stays None)
        elif key == "version_info" and value is not None:
            value = _version_info(value)
        out[key] = jsonable(value)
    return out


def _version_info(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) \
            or not isinstance(value.get("version"), str):
        raise Unsettled("version_info")
    return {"type": value["type"], "version": value["version"],
            **{k: v for k, v in value.items() if k not in ("type", "version")}}


def jsonable(value: Any) -> Any:
    """pydantic's mode="json" for the values a deployment carries: JSON data as it is (tuples as lists), a UUID
    as its text, an Enum as its value, one of Prefect's models as its own exclude_unset dump."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unsettled("a float that is not finite")  # pydantic's json mode has settings for these
        return value
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise Unsettled("a mapping with keys that are not strings")
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum) and isinstance(value.value, (str, int)):
        return value.value
    dump = getattr(value, "model_dump", None)
    if callable(dump) and type(value).__module__.startswith("prefect."):
        return dump(mode="json", exclude_unset=True)  # a schedule Prefect's construct_schedule made
    raise Unsettled(type(value).__name__)
