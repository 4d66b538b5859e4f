"""A flow file's own deployment settings: the module-level literal dict PREFECT_PUSH, read without importing the
file and checked as the server would check them (schedules by Prefect's own validators).

Pure: a tree and the flows read from it in, the flows with their settings (or a BadFlow) out.
"""
from __future__ import annotations

import ast
from dataclasses import replace
from typing import Any

from .spec import BadFlow, FlowSettings, FlowSpec


SETTINGS_NAME = "PREFECT_PUSH"  # module-level literal dict: a flow's deployment settings, read without importing
SETTING_KEYS = ("cron", "interval", "rrule", "timezone", "parameters", "tags", "runtime")


def with_settings(path: str, tree: ast.Module, flows: list[FlowSpec]) -> list[FlowSpec] | BadFlow:
    """Attach PREFECT_PUSH = {...}: keys for every flow of the file, or per flow under its function name."""
    node = next((n for n in reversed(tree.body)
                 if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == SETTINGS_NAME
                                                      for t in n.targets)
                 or isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                 and n.target.id == SETTINGS_NAME and n.value is not None), None)
    if node is None or not flows:
        return flows
    line = node.lineno
    try:
        value = ast.literal_eval(node.value)  # type: ignore[arg-type]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return BadFlow(path, line, f"{SETTINGS_NAME} must be a literal dict (strings, numbers, lists, dicts): "
                                   "prefect-push reads it without importing the file")
    if not isinstance(value, dict):
        return BadFlow(path, line, f"{SETTINGS_NAME} must be a dict")
    by_function = {f.function: f for f in flows}
    shared = {k: v for k, v in value.items() if k in SETTING_KEYS}
    for key in value:
        if key not in SETTING_KEYS and key not in by_function:
            return BadFlow(path, line, f"{SETTINGS_NAME}: unknown key {key!r} (settings: {', '.join(SETTING_KEYS)}; "
                                       f"or a flow function of this file: {', '.join(by_function)})")
    out = []
    for spec in flows:
        own = value.get(spec.function, {})
        if not isinstance(own, dict):
            return BadFlow(path, line, f"{SETTINGS_NAME}[{spec.function!r}] must be a dict")
        unknown = sorted(set(own) - set(SETTING_KEYS))
        if unknown:
            return BadFlow(path, line, f"{SETTINGS_NAME}[{spec.function!r}]: unknown key {unknown[0]!r} "
                                       f"(settings: {', '.join(SETTING_KEYS)})")
        merged = dict(shared)
        if any(k in own for k in ("cron", "interval", "rrule")):  # a flow's own schedule replaces the file's
            for k in ("cron", "interval", "rrule"):
                merged.pop(k, None)
        settings = _settings({**merged, **own}, spec)
        if isinstance(settings, str):
            return BadFlow(path, line, f"{SETTINGS_NAME} for flow {spec.flow_name!r}: {settings}")
        out.append(replace(spec, settings=settings))
    return out


def _settings(raw: dict[str, Any], spec: FlowSpec) -> FlowSettings | str:
    """Checked settings, or what is wrong with them: everything a server would refuse halfway is caught here."""
    def text(key: str) -> str | None:
        v = raw.get(key)
        if v is not None and (not isinstance(v, str) or not v.strip()):
            raise _Bad(f"{key} must be a non-empty string")
        return v

    try:
        cron, rrule, tz, runtime = text("cron"), text("rrule"), text("timezone"), text("runtime")
        interval = raw.get("interval")
        if interval is not None and (isinstance(interval, bool) or not isinstance(interval, (int, float))
                                     or interval <= 0):
            raise _Bad("interval must be a positive number of seconds")
        if sum(x is not None for x in (cron, interval, rrule)) > 1:
            raise _Bad("give one of cron, interval, rrule")
        if tz is not None and cron is None and interval is None and rrule is None:
            raise _Bad("timezone needs a cron, interval or rrule")
        if cron is not None or interval is not None or rrule is not None:
            _check_schedule(cron, interval, rrule, tz)
        parameters = raw.get("parameters", {})
        if not isinstance(parameters, dict) or not all(isinstance(k, str) for k in parameters):
            raise _Bad("parameters must be a dict of parameter name to value")
        takes_any = any(p.kind == "VAR_KEYWORD" for p in spec.params)
        names = {p.name for p in spec.params if p.kind not in ("VAR_POSITIONAL", "VAR_KEYWORD")}
        unknown = sorted(set(parameters) - names)
        if unknown and not takes_any:
            raise _Bad(f"parameter {unknown[0]!r} is not a parameter of {spec.function}() "
                       f"(it takes: {', '.join(sorted(names)) or 'none'})")
        tags = raw.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise _Bad("tags must be a list of strings")
    except _Bad as bad:
        return str(bad)
    return FlowSettings(cron, float(interval) if interval is not None else None, rrule, tz, dict(parameters),
                        tuple(tags), runtime)


class _Bad(Exception):
    pass


def _check_schedule(cron: str | None, interval: float | None, rrule: str | None, tz: str | None) -> None:
    """Prefect's own schedule validation (cron, rrule, time zone), so the server never refuses it halfway: a
    plain cron string or an interval, and a time zone, checked here as Prefect checks them (schedules.py);
    anything else by Prefect itself."""
    from .schedules import plain_cron, timezone_problem

    if rrule is None and (cron is None or plain_cron(cron)):
        problem = timezone_problem(tz) if tz is not None else None
        if problem:
            raise _Bad(problem)
        return
    from prefect.client.schemas.schedules import construct_schedule  # only such a schedule pays for it

    try:
        construct_schedule(cron=cron, interval=interval, rrule=rrule, timezone=tz)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError or ValueError: one line either way
        errors = getattr(exc, "errors", None)
        msg = errors()[0].get("msg", str(exc)) if callable(errors) else str(exc)
        raise _Bad(msg.splitlines()[0].removeprefix("Value error, ")) from None
