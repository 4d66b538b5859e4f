"""Which functions in a file are Prefect flows, read with ast only: the user's code is never imported.

Pure: bytes in, FlowSpec / BadFlow out.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .config import FORBIDDEN_NAME_CHARS


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # inspect.Parameter kind name: POSITIONAL_ONLY, POSITIONAL_OR_KEYWORD, VAR_POSITIONAL, ...
    annotation: str | None  # source text of the annotation, evaluated later in a safe namespace
    default: str | None  # source text of the default; None means no default


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


def read_flows(path: str, source: bytes) -> list[FlowSpec] | BadFlow:
    """Every module-level @flow function in `source`; a BadFlow when a file that mentions prefect can't be read."""
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

    names = _flow_decorator_names(tree)
    if not names.bare and not names.modules:
        return []
    imports = tuple(_module_imports(tree))
    flows: list[FlowSpec] = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for deco in node.decorator_list:
            if not names.matches(deco):
                continue
            flow_name = _flow_name(deco, node.name)
            if isinstance(flow_name, BadFlow):
                return BadFlow(path, deco.lineno, flow_name.message)
            bad = FORBIDDEN_NAME_CHARS.intersection(flow_name)
            if bad:
                return BadFlow(path, deco.lineno, f"flow name {flow_name!r} contains {''.join(sorted(bad))!r}, "
                                                  "which Prefect does not allow")
            doc = ast.get_docstring(node)
            flows.append(FlowSpec(path, node.name, flow_name, node.lineno, tuple(_params(node.args)),
                                  doc, _literal_kwarg(deco, "description") or doc, imports))
            break
    return flows


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
            return dotted is not None and (dotted in self.modules or dotted in ("prefect", "prefect.flows"))
        return False


def _flow_decorator_names(tree: ast.Module) -> _FlowNames:
    names = _FlowNames()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("prefect", "prefect.flows") and node.level == 0:
            for alias in node.names:
                if alias.name == "flow":
                    names.bare.add(alias.asname or "flow")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("prefect", "prefect.flows"):
                    names.modules.add(alias.asname or alias.name)
    return names


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


def _flow_name(deco: ast.expr, function: str) -> str | BadFlow:
    if isinstance(deco, ast.Call):
        for kw in deco.keywords:
            if kw.arg == "name":
                if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    return kw.value.value
                return BadFlow("", deco.lineno, "@flow(name=...) must be a string literal so the flow name can be "
                                                "read without importing the file")
    # Prefect's own default (prefect/flows.py)
    return function.replace("_", "-")


def _params(args: ast.arguments) -> list[Param]:
    def ann(a: ast.arg) -> str | None:
        return ast.unparse(a.annotation) if a.annotation is not None else None

    out: list[Param] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for i, a in enumerate(positional):
        kind = "POSITIONAL_ONLY" if i < len(args.posonlyargs) else "POSITIONAL_OR_KEYWORD"
        d = defaults[i]
        out.append(Param(a.arg, kind, ann(a), ast.unparse(d) if d is not None else None))
    if args.vararg:
        out.append(Param(args.vararg.arg, "VAR_POSITIONAL", ann(args.vararg), None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        out.append(Param(a.arg, "KEYWORD_ONLY", ann(a), ast.unparse(d) if d is not None else None))
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
