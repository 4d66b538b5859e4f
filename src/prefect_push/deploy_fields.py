"""A deployment's fields that come from what the repository declares, apart from the client that sends them:
prefect-push's git clone and a runtime's pull steps after it, the flow's PREFECT_PUSH schedule, and a prefect.yaml
entry's settings laid over them (prefectyaml_resolve.Resolved). Pure request-building (Prefect's client schemas
only), so server.py keeps to talking to the API.
"""
from __future__ import annotations

from typing import Any

from .read.config import Config
from .plan import Action, Target, deployment_description, deployment_tags


def entry_fields(r: Any, action: Action, target: Target, config: Config, *, limited: bool) -> dict[str, Any]:
    """A prefect.yaml entry's settings over prefect-push's own fields, as `prefect deploy --name <entry>` stores
    them (prefectyaml_resolve.Resolved). By design different: name, version (the commit), the clone's ref. Where
    the entry is silent, PREFECT_PUSH and [tool.prefect-push] fill in (docs/prefect-yaml.md, precedence)."""
    from .read.prefectyaml import with_clone

    spec = action.flow
    out: dict[str, Any] = {
        "tags": deployment_tags(target, config, action, tuple(r.tags)),
        "description": deployment_description(target, r.description or spec.description or ""),
        "enforce_parameter_schema": r.enforce_parameter_schema,
        "paused": bool(r.paused),
    }
    if r.pull_steps is not None:  # else the runtime's pull steps after the clone, as for a flow no entry lists
        out["pull_steps"] = with_clone(r.pull_steps, pull_step(target, config))
    if r.parameters:
        out["parameters"] = {**dict(spec.settings.parameters), **r.parameters}
    if r.work_pool_name:
        out.update(work_pool_name=r.work_pool_name, work_queue_name=r.work_queue_name,
                   job_variables=dict(r.job_variables))
    if r.schedules is not None:
        out["schedules"] = entry_schedules(r.schedules, live=action.schedule_live)
    if r.concurrency_limit is not None or limited:
        out.update(concurrency_limit=r.concurrency_limit, concurrency_options=r.concurrency_options)
    return out


def entry_schedules(items: list[dict[str, Any]], *, live: bool) -> list[Any]:
    """An entry's schedules: each keeps its own `active: false`; the others fire only where the one-live-schedule
    rule says this deployment's schedules fire (plan.schedule_live)."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate

    return [DeploymentScheduleCreate(**{**d, "active": bool(d.get("active", True)) and live}) for d in items]


def pull_step(target: Target, config: Config) -> dict[str, Any]:
    """Prefect's own git_clone step at the pushed branch or tag; a token only as a Secret block reference."""
    step: dict[str, Any] = {"repository": target.clone_url, "branch": target.short}
    if config.credentials:
        step["access_token"] = "{{ prefect.blocks.secret.%s }}" % config.credentials
    return {"prefect.deployments.steps.git_clone": step}


def pull_steps(target: Target, config: Config, after: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    """prefect-push's clone, then a runtime's own pull steps (config.Runtime.pull); the clone gets the id
    `clone-step` when a step uses its outputs ({{ clone-step.directory }})."""
    from .read.pullsteps import CLONE_ID, refers_to

    clone = pull_step(target, config)
    if refers_to(list(after), CLONE_ID):
        (name, args), = clone.items()
        clone = {name: {**args, "id": CLONE_ID}}
    return [clone, *after]


def schedules(settings: Any, *, live: bool) -> list[Any]:
    """The flow's schedule, switched off where it must not fire (feature branches, unless schedules-on says so).

    Always a list, [] included: every upsert rebuilds the deployment's schedules, so a schedule taken out of the
    code goes from the server too.
    """
    if not settings.schedule:
        return []
    from .read.schedules import schedule_create

    written = schedule_create(settings.cron, settings.interval, settings.timezone, active=live)
    if written is not None:  # a cron or interval schedule, as Prefect's client sends it
        return [written]
    from prefect.client.schemas.actions import DeploymentScheduleCreate  # an rrule: Prefect's own models
    from prefect.client.schemas.schedules import construct_schedule

    schedule = construct_schedule(rrule=settings.rrule, timezone=settings.timezone)
    return [DeploymentScheduleCreate(schedule=schedule, active=live)]
