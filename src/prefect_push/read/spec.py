"""What a flow file declares, as data: a flow (FlowSpec: its parameters, its PREFECT_PUSH settings, what could not
be followed) or why the file blocks the push (BadFlow). Its own module so that flows.py, which finds the flows, and
settings.py, which reads their settings, both build them without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import Declared


@dataclass(frozen=True)
class FlowSettings:
    """What a flow file says about its own deployment (keys named as in Prefect's flow.deploy())."""
    cron: str | None = None
    interval: float | None = None  # seconds
    rrule: str | None = None
    timezone: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # default parameter values of the deployment
    tags: tuple[str, ...] = ()
    runtime: str | None = None  # a [tool.prefect-push.runtimes.<name>]

    @property
    def schedule(self) -> str:
        """The schedule in words, for the table ("" when the flow has none)."""
        tz = f" ({self.timezone})" if self.timezone else ""
        if self.cron:
            return f"cron {self.cron}{tz}"
        if self.interval:
            return f"every {self.interval:g}s"
        if self.rrule:
            return f"rrule {self.rrule}{tz}"
        return ""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # inspect.Parameter kind name: POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, VAR_POSITIONAL, ...
    annotation: str | None  # source text of the annotation, evaluated later in a safe namespace
    # source text of the default, module-level constants written out (`owner=OWNER` reads `owner='ops'`);
    # None means no default
    default: str | None


@dataclass(frozen=True)
class Fallback:
    """Something of a flow's file prefect-push could not follow. The flow is still registered, as `prefect deploy`
    registers a flow whose file it cannot import (its parameters untyped where they cannot be read), and one line
    says so (schema.fallback_line)."""
    line: int
    what: str  # "the decorator @notify below @flow may change the signature Prefect sees"
    detail: str = ""  # an internal error's traceback, for the log file; "" for a shape known to be unreadable
    untyped: bool = True  # the parameters were read as Prefect's fallback reads them (False: the settings only)


@dataclass(frozen=True)
class FlowSpec:
    path: str
    function: str
    flow_name: str
    line: int
    params: tuple[Param, ...] = ()
    docstring: str | None = None
    description: str | None = None  # @flow(description="...") or else the docstring, as Prefect does
    # module-level `import x` / `from x import y` that annotations may refer to: (bound name, module, attribute)
    imports: tuple[tuple[str, str, str | None], ...] = field(default=(), compare=False)
    settings: FlowSettings = field(default_factory=FlowSettings)
    # source of the module-level classes, aliases and constants the signature refers to (transitively), in file
    # order: schema.py builds models and aliases from them, without running the file
    context: tuple[Declared, ...] = field(default=(), compare=False)
    # what could not be followed: params were read as Prefect's own AST fallback reads them (untyped)
    fallbacks: tuple[Fallback, ...] = field(default=(), compare=False)
    # parameters whose annotation Prefect reads as text, resolved where its schema builder lives
    # (textannotations.py): its `inspect.signature(fn, eval_str=True)` raises on this file
    text_params: tuple[str, ...] = field(default=(), compare=False)

    @property
    def entrypoint(self) -> str:
        return f"{self.path}:{self.function}"


@dataclass(frozen=True)
class BadFlow:
    path: str
    line: int
    message: str
    detail: str = ""  # an internal error's traceback, for the log file the caller names

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"
