"""Which functions in a file are Prefect flows, read with ast only: the user's code is never imported.

Pure: bytes in, FlowSpec / BadFlow out.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .config import FORBIDDEN_NAME_CHARS
from .context import Context, Declared, Modules, signature_nodes
from .values import Constants, Unsafe, literal_value, substituted, written_out

__all__ = ["BadFlow", "Declared", "FlowSettings", "FlowSpec", "Modules", "Param", "Unsafe", "literal_value",
           "read_flows"]


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # inspect.Parameter kind name: POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, VAR_POSITIONAL, ...
    annotation: str | None  # source text of the annotation, evaluated later in a safe namespace
    # source text of the default, module-level constants written out (`owner=OWNER` reads `owner='ops'`);
    # None means no default
    default: str | None


SETTINGS_NAME = "PREFECT_PUSH"  # module-level literal dict: a flow's deployment settings, read without importing
SETTING_KEYS = ("cron", "interval", "rrule", "timezone", "parameters", "tags", "runtime")


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

    @property
    def entrypoint(self) -> str:
        return f"{self.path}:{self.function}"


@dataclass(frozen=True)
class BadFlow:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def may_hold_flows(source: bytes) -> bool:
    # cheap pre-filter: a module without the word "flow" cannot define a Prefect flow (no import, no decorator)
    return b"flow" in source


def read_flows(path: str, source: bytes, modules: Modules | None = None) -> list[FlowSpec] | BadFlow:
    """Every module-level @flow function in `source`; a BadFlow when a file that mentions prefect can't be read.
    modules: reads repository files at the same commit, for the models a flow imports from them (none: only
    what the file itself declares is known)."""
    if not may_hold_flows(source):
        return []
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"prefect" not in source:
            return []  # not Python we care about (a data file named .py, say)
        line = source[: exc.start].count(b"\n") + 1
        return BadFlow(path, line, "not valid UTF-8: save the file as UTF-8")
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        if "prefect" not in text:
            return []
        return BadFlow(path, exc.lineno or 1, f"syntax error: {exc.msg}; fix it or push with PREFECT_PUSH_SKIP=1")
    except (ValueError, RecursionError) as exc:  # null bytes, absurd nesting
        if "prefect" not in text:
            return []
        return BadFlow(path, 1, f"cannot be parsed: {exc}")

    decorated = _flow_functions(tree)
    if not decorated:
        return []
    imports = tuple(_module_imports(tree))
    constants = Constants(tree, text)
    context = Context(tree, constants, path, modules)
    flows: list[FlowSpec] = []
    for node, deco, entry, line in decorated:
        def known(node: ast.stmt = node) -> dict[str, Any]:
            return constants.before(node)  # computed only for a flow that uses a name (most never do)

        flow_name = _flow_name(deco, node.name, known, lambda expr: _imported_value(context, expr))
        if isinstance(flow_name, BadFlow):
            return BadFlow(path, deco.lineno, flow_name.message)
        bad = FORBIDDEN_NAME_CHARS.intersection(flow_name)
        if bad:
            return BadFlow(path, deco.lineno, f"flow name {flow_name!r} contains {''.join(sorted(bad))!r}, "
                                              "which Prefect does not allow")
        doc = ast.get_docstring(node)
        params = tuple(_params(node.args, known))
        hidden = next((p.name for p in params if p.name.startswith("_")), None)
        if hidden is not None:  # a pydantic field name: Prefect's @flow raises at import, `prefect deploy` fails
            return BadFlow(path, line, f"parameter {hidden!r} of {node.name}(): Prefect cannot make a flow of a "
                                       "function with a parameter named with a leading '_'; rename it")
        flows.append(FlowSpec(path, entry, flow_name, line, params,
                              doc, _literal_kwarg(deco, "description") or doc, imports,
                              context=context.of(signature_nodes(node.args))))
    return _with_settings(path, tree, flows)


def _with_settings(path: str, tree: ast.Module, flows: list[FlowSpec]) -> list[FlowSpec] | BadFlow:
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
    """Prefect's own schedule validation (cron, rrule, time zone), so the server never refuses it halfway."""
    from prefect.client.schemas.schedules import construct_schedule  # only a flow with a schedule pays for it

    try:
        construct_schedule(cron=cron, interval=interval, rrule=rrule, timezone=tz)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError or ValueError: one line either way
        errors = getattr(exc, "errors", None)
        msg = errors()[0].get("msg", str(exc)) if callable(errors) else str(exc)
        raise _Bad(msg.splitlines()[0].removeprefix("Value error, ")) from None


@dataclass
class _FlowNames:
    bare: set[str] = field(default_factory=set)  # names bound to prefect.flow: `flow`, an alias
    modules: set[str] = field(default_factory=set)  # names bound to the prefect module: `prefect`, `pf`

    def matches(self, deco: ast.expr) -> bool:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if isinstance(target, ast.Name):
            return target.id in self.bare
        if isinstance(target, ast.Attribute) and target.attr == "flow":
            dotted = _dotted(target.value)
            # `import prefect` then `@prefect.flows.flow` is prefect's too
            return dotted is not None and (dotted in self.modules or dotted.removesuffix(".flows") in self.modules)
        return False

    def bind(self, node: ast.Import | ast.ImportFrom, *, rebinds: bool = True) -> None:
        """What an import binds; rebinds=False: only what it binds to prefect (a branch that may not run)."""
        if isinstance(node, ast.ImportFrom):
            prefect = node.module in ("prefect", "prefect.flows") and node.level == 0
            for alias in node.names:
                if prefect and alias.name == "flow":
                    self.bare.add(alias.asname or "flow")
                elif rebinds:
                    self.forget(alias.asname or alias.name)
            return
        for alias in node.names:
            module = alias.name if alias.asname else alias.name.split(".")[0]  # what the bound name refers to
            if module in ("prefect", "prefect.flows"):
                self.modules.add(alias.asname or module)
            elif rebinds:
                self.forget(alias.asname or module)

    def forget(self, name: str) -> None:
        self.bare.discard(name)
        self.modules.discard(name)


_Function = ast.FunctionDef | ast.AsyncFunctionDef


def _flow_functions(tree: ast.Module) -> list[tuple[_Function, ast.expr, str, int]]:
    """Module-level flows: (function, the flow decorator or call, the entrypoint's name, line). A function
    decorated with prefect's flow, or a module-level `etl = flow(run_etl)` / `flow(name=...)(run_etl)` of a
    module-level function (the entrypoint is `file.py:etl`). Names are bound as Python binds them: in order, so a
    later `def flow(...)` or `from mylib import flow` shadows prefect's, and an import inside a function binds
    nothing here. Imports under a module-level if/try/with may bind (`try: from prefect import flow` /
    `except ImportError: def flow(fn): ...` is prefect's where it runs)."""
    names = _FlowNames()
    found = []
    functions: dict[str, _Function] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            deco = next((d for d in node.decorator_list if names.matches(d)), None)
            if deco is not None:
                found.append((node, deco, node.name, node.lineno))
            names.forget(node.name)
            functions[node.name] = node
        elif isinstance(node, ast.ClassDef):
            names.forget(node.name)
            functions.pop(node.name, None)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.bind(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            call = _flow_call(node, names, functions)
            if call is not None:
                found.append(call)
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name) and (isinstance(node, ast.Assign) or node.value is not None):
                        names.forget(name.id)
                        functions.pop(name.id, None)
        else:
            for imp in _imports_outside_functions(node):
                names.bind(imp, rebinds=False)
    return found


def _flow_call(node: ast.Assign | ast.AnnAssign, names: _FlowNames, functions: dict[str, _Function]
               ) -> tuple[_Function, ast.expr, str, int] | None:
    """`etl = flow(run_etl)`, `flow(run_etl, name=...)` or `flow(name=...)(run_etl)`, run_etl a module-level def."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    call = node.value
    if len(targets) != 1 or not isinstance(targets[0], ast.Name) or not isinstance(call, ast.Call) or (
            len(call.args) != 1 or not isinstance(call.args[0], ast.Name) or call.args[0].id not in functions):
        return None
    if isinstance(call.func, (ast.Name, ast.Attribute)) and names.matches(call.func):
        deco: ast.expr = call  # flow(run_etl, name=...): the keywords are the decorator's
    elif isinstance(call.func, ast.Call) and names.matches(call.func) and not call.keywords:
        deco = call.func
    else:
        return None
    return functions[call.args[0].id], deco, targets[0].id, node.lineno


def _imports_outside_functions(node: ast.AST):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield from _imports_outside_functions(child)


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _literal_kwarg(deco: ast.expr, name: str) -> str | None:
    if isinstance(deco, ast.Call):
        for kw in deco.keywords:
            if kw.arg == name and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                return kw.value.value
    return None


def _flow_name(deco: ast.expr, function: str, constants: Callable[[], dict[str, Any]],
               imported: Callable[[ast.expr], Any] | None = None) -> str | BadFlow:
    if isinstance(deco, ast.Call):
        for kw in deco.keywords:
            if kw.arg == "name":
                if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    return kw.value.value
                try:  # FLOW_NAME = "etl" at module level, bound once; f"etl-{ENV}"; "etl-" + ENV
                    name = literal_value(kw.value, constants())
                except Unsafe:
                    name = imported(kw.value) if imported else None
                if isinstance(name, str):
                    return name
                return BadFlow("", deco.lineno, "@flow(name=...) must be a string literal, or a module-level name "
                                                "bound once to one (in the file or a repository module it imports "
                                                "it from), so the flow name can be read without importing the file")
    # Prefect's own default (prefect/flows.py)
    return function.replace("_", "-")


def _imported_value(context: Context, node: ast.expr) -> Any:
    """The value of an expression of constants a repository module defines (`from settings import FLOW_NAME`)."""
    from .models import Namespace  # only for a flow named by such a constant

    try:
        return Namespace((), context.of([node])).value(node)
    except Unsafe:
        return None


def _params(args: ast.arguments, constants: Callable[[], dict[str, Any]] = dict) -> list[Param]:
    def ann(a: ast.arg) -> str | None:
        return ast.unparse(a.annotation) if a.annotation is not None else None

    def default(d: ast.expr) -> str:
        if not isinstance(d, ast.Constant) and any(isinstance(n, ast.Name) for n in ast.walk(d)):
            try:
                return ast.unparse(written_out(d, constants()))
            except (Unsafe, RecursionError):
                # a call or an attribute (timedelta(minutes=TIMEOUT), Color.RED): constants written out, the rest
                # as written, for schema.py's allow-list; what it does not know falls back as Prefect's reader does
                return ast.unparse(substituted(d, constants()))
        return ast.unparse(d)

    out: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for i, a in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(args.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        d = defaults[i]
        out.append(Param(a.arg, kind, ann(a), default(d) if d is not None else None))
    if args.vararg:
        out.append(Param(args.vararg.arg, "VAR_POSITIONAL", ann(args.vararg), None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(Param(a.arg, "KEYWORD_ONLY", ann(a), default(d) if d is not None else None))
    if args.kwarg:
        out.append(Param(args.kwarg.arg, "VAR_KEYWORD", ann(args.kwarg), None))
    return out


def _module_imports(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    yield alias.asname, alias.name, None
                else:
                    top = alias.name.split(".")[0]
                    yield top, top, None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if alias.name != "*":
                    yield alias.asname or alias.name, node.module, alias.name
