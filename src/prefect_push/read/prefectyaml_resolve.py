"""One prefect.yaml entry -> the fields `prefect deploy --name <entry>` stores for it (Prefect 3.9.1).

The steps of prefect/cli/deploy/_core.py `_run_single_deploy`, in its order, with Prefect's own functions
(its models, apply_values, schedule and trigger builders): imported here only, when a prefect.yaml is read for
registration (the no-flow path never comes here). What needs the flow (its name, docstring, parameter schema)
or the server (blocks, variables, the pool) is left to the caller, marked below.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import os
from typing import Any, Awaitable, Callable

from .prefectyaml import Entry, PrefectYamlError

# deploy-config -> deploy-config with {{ prefect.blocks.* }} and {{ prefect.variables.* }} resolved: the caller's,
# with a client (see server_templates()). Pull steps never go through it: Prefect resolves them at run time.
ServerResolver = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
SERVER_PREFIXES = ("prefect.blocks.", "prefect.variables.")


@dataclass
class Resolved:
    """What `prefect deploy` stores for one entry, field by field. Differs by design when registered by
    prefect-push: the name, version, and the pull steps' git_clone (prefectyaml.with_clone)."""
    entry: Entry
    name: str
    entrypoint: str
    work_pool_name: str | None  # None: prefect deploy refuses ("A work pool is required"); caller decides
    work_queue_name: str | None  # None: the server's "default" queue of the pool
    job_variables: dict[str, Any]
    parameters: dict[str, Any]
    description: str | None  # None: the flow's docstring, as prefect deploy does
    version: str | None  # None: the flow's version
    tags: list[Any]
    paused: bool | None
    enforce_parameter_schema: bool  # prefect deploy's default: True
    concurrency_limit: int | None
    concurrency_options: dict[str, Any] | None  # {"collision_strategy": ..., ["grace_period_seconds": ...]}
    # None: the entry gives no schedules key (prefect deploy then sends none, the server keeps the old ones);
    # otherwise dicts as prefect's builder makes them: {"schedule": Cron/Interval/RRuleSchedule, "active"?,
    # "parameters"?, "slug"?, "replaces"?}: DeploymentScheduleCreate(**d)
    schedules: list[dict[str, Any]] | None
    triggers: list[Any]  # prefect.events DeploymentTrigger objects (named <name>__automation_<i> unless named)
    pull_steps: list[Any] | None  # None: no pull: anywhere (prefect deploy would invent a set_working_directory)
    sla: list[Any] | None = None
    server_templates: tuple[str, ...] = field(default=())  # blocks/variables left unresolved (no resolver given)


def _fail(entry: Entry, path: tuple[Any, ...], what: str) -> PrefectYamlError:
    return PrefectYamlError.of(entry.where(*path), f"deployment {entry.name!r}", what)


def _in_file_words(err: dict[str, Any]) -> tuple[tuple[Any, ...], str]:
    """pydantic's error, as the file says it: (key path, what). Its loc mixes the file's keys with the names of
    the validators it tried (`function-after[_one_of_schedule(), RawScheduleConfig]`): only keys are kept, so
    `schedules.0.function-after[...].max_active_runs: Extra inputs are not permitted` reads
    `schedules[0]: max_active_runs is not a schedule setting of Prefect 3`."""
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or (isinstance(p, str) and p.isidentifier()))
    *parent, last = loc or ("settings",)
    words = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parent).lstrip(".")
    where = f"{words}: " if words else ""
    if err["type"] == "extra_forbidden":
        kind = "schedule setting" if parent and str(parent[0]).startswith("schedule") else "setting"
        return loc, f"{where}{last} is not a {kind} of Prefect 3"
    if err["type"] == "missing":
        return loc, f"{where}{last} is missing"
    return loc, f"{where}{last}: {err['msg']}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _validated(entry: Entry) -> dict[str, Any]:
    """The entry through Prefect's DeploymentConfig, dumped as `prefect deploy` dumps it (json mode, set keys)."""
    from pydantic import ValidationError
    from prefect.cli.deploy._models import DeploymentConfig

    try:
        return DeploymentConfig.model_validate(entry.config).model_dump(exclude_unset=True, mode="json")
    except ValidationError as exc:
        loc, what = _in_file_words(exc.errors()[0])
        raise _fail(entry, loc, what) from None


def server_templates(value: Any) -> tuple[str, ...]:
    """The {{ prefect.blocks.* }} / {{ prefect.variables.* }} placeholders in value (these need the server)."""
    from prefect.utilities.templating import find_placeholders

    return tuple(sorted({p.full_match for p in find_placeholders(value) if p.name.startswith(SERVER_PREFIXES)}))


def _schedules(entry: Entry, config: dict[str, Any]) -> list[dict[str, Any]] | None:
    from prefect.cli.deploy._schedules import _schedule_config_to_deployment_schedule
    from prefect.utilities.annotations import NotSet
    from prefect.utilities.templating import apply_values

    items = config.get("schedules", NotSet)
    if items is NotSet or items is None:
        return None
    key = "schedules" if "schedules" in entry.config else "schedule"
    out = []
    for i, item in enumerate(apply_values(items, {})):
        try:
            out.append(_schedule_config_to_deployment_schedule(item))
        except Exception as exc:  # pydantic's or Prefect's ValueError: a bad cron, timezone, rrule, interval
            at = (key, i) if key == "schedules" else (key,)
            errors = exc.errors() if hasattr(exc, "errors") else []
            if errors:  # pydantic: name the field (cron, timezone, ...) and its line
                loc = tuple(p for p in errors[0]["loc"] if isinstance(p, str))
                raise _fail(entry, at + loc[-1:], f"schedule {'.'.join(loc)}: {errors[0]['msg']}") from None
            raise _fail(entry, at, f"schedule: {_first_line(exc)}") from None
    return out


def _triggers(entry: Entry, name: str, specs: list[dict[str, Any]] | None) -> list[Any]:
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.utilities.templating import apply_values

    templated = []
    for spec in specs or []:
        parameters = spec.pop("parameters", None)  # event templates ({{ event.name }}) are kept, as Prefect does
        spec = apply_values(spec, {}, warn_on_notset=False)
        if parameters is not None:
            spec["parameters"] = parameters
        templated.append(spec)
    try:
        return _initialize_deployment_triggers(name, templated)
    except Exception as exc:
        raise _fail(entry, ("triggers",), f"trigger: {_first_line(exc)}") from None


def refusal(entry: Entry) -> PrefectYamlError | None:
    """Why `prefect deploy` 3.9.1 refuses the entry before it talks to the server (its models, the deprecated
    schedule fields, its schedule and trigger builders, with `{{ $ENV }}` templates applied); None: it takes it.
    What names a block or a variable is the server's to say (resolve)."""
    from prefect.cli.deploy._config import _handle_deprecated_schedule_fields, _merge_with_default_deploy_config
    from prefect.utilities.templating import apply_values

    try:
        config = _merge_with_default_deploy_config(_validated(entry))
        try:
            config = _handle_deprecated_schedule_fields(config)
        except ValueError as exc:
            raise _fail(entry, ("schedule",), _first_line(exc)) from None
        if server_templates(config.get("schedules")):
            return None
        config = apply_values(config, dict(os.environ), remove_notset=False)
        _schedules(entry, config)
        if config.get("triggers") and not server_templates(config.get("triggers")):
            _triggers(entry, config.get("name") or entry.name, [dict(t) if isinstance(t, dict) else t
                                                                for t in config["triggers"]])
    except PrefectYamlError as exc:
        return exc
    return None


async def resolve(entry: Entry, server: ServerResolver | None = None, *, trigger_name: str | None = None
                  ) -> Resolved:
    """What `prefect deploy --name <entry>` stores, resolved as it resolves (3.9.1, no CLI options): blocks
    and variables by server (when given; else left and listed in server_templates), then `{{ $ENV }}` from
    os.environ (Prefect's apply_values reads os.environ itself) everywhere, pull steps included; a whole-value
    template left with no value drops its key. Pull steps keep blocks, variables and step outputs for run time.
    trigger_name: what automations are named after (default: the entry's name).
    Raises PrefectYamlError naming `file:line` and the entry for what Prefect would refuse."""
    from prefect.cli.deploy._config import _handle_deprecated_schedule_fields, _merge_with_default_deploy_config
    from prefect.utilities.templating import apply_values

    config = _merge_with_default_deploy_config(_validated(entry))
    try:
        config = _handle_deprecated_schedule_fields(config)
    except ValueError as exc:
        raise _fail(entry, ("schedule",), _first_line(exc)) from None
    # pull steps are taken before any resolution: blocks and variables in them stay for run time
    explicit_no_pull = entry.pull == []
    pull = None if entry.pull is None else list(entry.pull)
    pending: tuple[str, ...] = ()
    if server is not None:
        try:
            config = await server(config)
        except Exception as exc:
            raise _fail(entry, (), f"template: {_first_line(exc)}") from None
    else:
        pending = server_templates({k: v for k, v in config.items() if k not in ("pull",)})
    config = apply_values(config, dict(os.environ), remove_notset=False)
    name = config.get("name")
    schedules = _schedules(entry, config)
    config.pop("schedules", None)
    trigger_specs = config.pop("triggers", None)
    # step outputs are empty (prefect-push runs no build/push): a whole-value template with no value drops its key
    config = apply_values(config, {}, warn_on_notset=False, skip_prefixes=["ctx."])
    work_pool = config.get("work_pool") or {}
    limit, options = config.get("concurrency_limit"), None
    if isinstance(limit, dict):
        options = {"collision_strategy": limit.get("collision_strategy")}
        if limit.get("grace_period_seconds") is not None:
            options["grace_period_seconds"] = limit["grace_period_seconds"]
        limit = limit.get("limit")
    if pull is not None and not explicit_no_pull:
        pull = apply_values(pull, {}, remove_notset=False)
    enforce = config.get("enforce_parameter_schema")
    return Resolved(
        entry=entry, name=config.get("name") or name, entrypoint=config.get("entrypoint") or entry.entrypoint,
        work_pool_name=work_pool.get("name"), work_queue_name=work_pool.get("work_queue_name"),
        job_variables=work_pool.get("job_variables") or {}, parameters=config.get("parameters") or {},
        description=config.get("description") or None, version=config.get("version"), tags=config.get("tags") or [],
        paused=config.get("paused"), enforce_parameter_schema=True if enforce is None else bool(enforce),
        concurrency_limit=limit, concurrency_options=options, schedules=schedules,
        triggers=_triggers(entry, trigger_name or name, trigger_specs), pull_steps=pull,
        sla=config.get("sla"), server_templates=pending)


def client_resolver(client: Any) -> ServerResolver:
    """The resolver `prefect deploy` uses: Prefect's own, blocks first then variables, with this client."""
    from prefect.utilities.templating import resolve_block_document_references, resolve_variables

    async def resolve_(config: dict[str, Any]) -> dict[str, Any]:
        config = await resolve_block_document_references(config, client=client)
        return await resolve_variables(config, client=client)

    return resolve_
