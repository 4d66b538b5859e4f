"""api/bodies.py against Prefect's own client and models: each body built here equals the JSON Prefect's client
method sends for the same arguments (Prefect's real PrefectClient, its requests caught at the transport), and a
deployment's body equals DeploymentCreate's over the shapes server.py builds. tests/test_api_paths.py compares
the two transports with a real server; this compares the bodies with Prefect's models themselves."""
from __future__ import annotations

import asyncio
import itertools
import json
import uuid

import httpx
import pytest

from prefect_push.api import bodies
from prefect_push.api.client import SERVER_API_VERSION
from prefect_push.read.schedules import schedule_create
from prefect_push.server import prefect_deployment_payload


def test_the_api_version_sent_is_the_installed_prefects() -> None:
    from prefect.client.constants import SERVER_API_VERSION as theirs

    assert SERVER_API_VERSION == theirs


def _sent(call) -> list[tuple[str, str, object]]:
    """What Prefect's own client sends for `call(client)`, caught at its transport (an empty answer back)."""
    from prefect.client.orchestration import PrefectClient

    seen: list[tuple[str, str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/csrf-token"):
            return httpx.Response(422, text="CSRF protection is disabled.")
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path.removeprefix("/api"), body))
        if request.method == "PATCH":
            return httpx.Response(204)
        if request.url.path.endswith("/filter"):
            return httpx.Response(200, json=[])
        # an object as the server answers one: what was sent, with an id and times
        when = "2026-01-01T00:00:00Z"
        return httpx.Response(200, json={**(body or {}), "id": str(uuid.uuid4()), "created": when, "updated": when})

    async def run() -> None:
        async with PrefectClient("http://prefect.invalid/api", httpx_settings={"transport": httpx.MockTransport(answer)}
                                 ) as client:
            await call(client)

    asyncio.run(run())
    return seen


NAMES = [["a"], ["b-1", "a", "Über flow"], []]
IDS = [[str(uuid.UUID(int=1))], [str(uuid.UUID(int=2)), str(uuid.UUID(int=3))]]


@pytest.mark.parametrize("flows, deployments, limit, offset", [
    (f, d, limit, offset) for f, d, limit, offset in itertools.product(
        [None, ("names", NAMES[1]), ("ids", IDS[1])], [None, ("names", NAMES[0]), ("tags", ["git-ref:x", "t"])],
        [200, None], [0, 400])])
def test_deployment_and_flow_reads_are_prefects(flows, deployments, limit, offset) -> None:
    from prefect.client.schemas.filters import (DeploymentFilter, DeploymentFilterName, DeploymentFilterTags,
                                                FlowFilter, FlowFilterId, FlowFilterName)
    from prefect.client.schemas.sorting import DeploymentSort

    def their_flows():
        if flows is None:
            return None
        kind, values = flows
        return FlowFilter(name=FlowFilterName(any_=values)) if kind == "names" else FlowFilter(
            id=FlowFilterId(any_=[uuid.UUID(v) for v in values]))

    def their_deployments():
        if deployments is None:
            return None
        kind, values = deployments
        return DeploymentFilter(name=DeploymentFilterName(any_=values)) if kind == "names" else DeploymentFilter(
            tags=DeploymentFilterTags(all_=values))

    def mine(spec, make):
        if spec is None:
            return None
        kind, values = spec
        return make(**{{"names": "names", "ids": "ids", "tags": "all_tags"}[kind]: values})

    theirs = _sent(lambda c: c.read_deployments(flow_filter=their_flows(), deployment_filter=their_deployments(),
                                                limit=limit, offset=offset, sort=DeploymentSort.CREATED_DESC))
    assert theirs == [("POST", "/deployments/filter", bodies.read_deployments(
        flows=mine(flows, bodies.flow_filter), deployments=mine(deployments, bodies.deployment_filter),
        limit=limit, offset=offset, sort="CREATED_DESC"))]
    theirs = _sent(lambda c: c.read_flows(flow_filter=their_flows(), limit=limit, offset=offset))
    assert theirs == [("POST", "/flows/filter", bodies.read_flows(flows=mine(flows, bodies.flow_filter),
                                                                  limit=limit, offset=offset))]


def test_actions_are_prefects() -> None:
    from prefect.client.schemas.actions import DeploymentUpdate, VariableCreate, VariableUpdate

    value = {"repository": "file:///r", "ref": "refs/heads/main", "commit": "a" * 40, "n": [1, 2.5, None, True]}
    deployment_id, schedule_id = uuid.uuid4(), uuid.uuid4()

    async def calls(c) -> None:
        await c.create_variable(VariableCreate(name="prefect_push_x", value=value, tags=["prefect-push"]))
        await c.update_variable(VariableUpdate(name="prefect_push_x", value=value))
        await c.update_deployment(deployment_id, DeploymentUpdate(paused=True))
        await c.update_deployment_schedule(deployment_id, schedule_id, active=False)
        await c.read_work_pools()
        await c.create_flow_from_name("a flow")

    assert _sent(calls) == [
        ("POST", "/variables/", bodies.create_variable("prefect_push_x", value, ["prefect-push"])),
        ("PATCH", "/variables/name/prefect_push_x", bodies.update_variable("prefect_push_x", value)),
        ("PATCH", f"/deployments/{deployment_id}", bodies.pause_deployment()),
        ("PATCH", f"/deployments/{deployment_id}/schedules/{schedule_id}", bodies.schedule_active(False)),
        ("POST", "/work_pools/filter", bodies.read_work_pools()),
        ("POST", "/flows/", bodies.create_flow("a flow")),
    ]


def _fields(variant: int, *, prefect_schedules: bool) -> dict:
    """A deployment's fields as server._deployment builds them, in a few shapes."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import construct_schedule

    def schedule(cron=None, interval=None, tz=None, active=True):
        if prefect_schedules:
            return DeploymentScheduleCreate(schedule=construct_schedule(cron=cron, interval=interval, timezone=tz),
                                            active=active)
        return schedule_create(cron, interval, tz, active=active)

    commit = "b" * 40
    fields = dict(
        flow_id=str(uuid.UUID(int=7 + variant)), name=["main", "feat-x", "production-nightly"][variant % 3],
        version=commit, version_info=dict(type="vcs:git", version=commit, commit_sha=commit, message="fix: ü\n\nbody",
                                          branch="main", repository="https://git.example/r", url="https://git.example/r.git"),
        entrypoint="flows/a.py:a",
        pull_steps=[{"prefect.deployments.steps.git_clone": {"repository": "https://git.example/r.git",
                                                              "branch": "main"}}],
        parameter_openapi_schema=[{"title": "Parameters", "type": "object", "properties": {
            "n": {"default": 1, "position": 0, "title": "n", "type": "integer"}}}, {}, None][variant % 3],
        work_pool_name="pool", work_queue_name=[None, "q"][variant % 2], job_variables={"env": {"A": "1"}},
        parameters=[{}, {"n": 3, "d": {"x": [1, 2]}}, {"t": (1, 2)}][variant % 3],
        schedules=[[], [schedule(cron="0 4 * * *", tz="Europe/Paris")], [schedule(cron="*/5 * * * *", active=False)],
                   [schedule(cron="0 0 * * 0", tz=None)]][variant % 4],
        tags=["prefect-push", "git-ref:refs/heads/main", "git-repo:https://git.example/r"],
        description=["", "Release v1 (bbbbbbbbbbbb), moved by prefect-push.", None][variant % 3],
        labels={}, path=None, storage_document_id=None, infrastructure_document_id=None)
    if variant % 2:
        fields.update(concurrency_limit=[None, 3][variant % 4 // 2], concurrency_options=None)
    if variant == 5:
        fields.update(enforce_parameter_schema=False, paused=True)
    return fields


@pytest.mark.parametrize("variant", range(8))
def test_a_deployment_body_is_deployment_creates(variant: int) -> None:
    """bodies.create_deployment (plain data, schedules written by read/schedules.py) against Prefect's
    DeploymentCreate (Prefect's schedule models), as create_deployment sends it."""
    mine = bodies.create_deployment(_fields(variant, prefect_schedules=False))
    theirs = prefect_deployment_payload(_fields(variant, prefect_schedules=True))
    assert mine == theirs
    assert json.dumps(mine)  # plain JSON data, all of it


def test_what_is_not_plain_data_is_left_to_prefects_models() -> None:
    fields = _fields(1, prefect_schedules=False)
    fields["parameters"] = {"when": object()}
    with pytest.raises(bodies.Unsettled):
        bodies.create_deployment(fields)
    fields["parameters"] = {"x": float("nan")}
    with pytest.raises(bodies.Unsettled):
        bodies.create_deployment(fields)
