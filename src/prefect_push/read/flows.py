"""Which functions in a file are Prefect flows, read with ast only: the user's code is never imported.

Pure: bytes in, FlowSpec / BadFlow out.
"""
from __future__ import annotations

import ast
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from .config import FORBIDDEN_NAME_CHARS
from .context import Context, Declared, Modules, signature_nodes
from .settings import SETTINGS_NAME, FlowSettings, with_settings
from .textannotations import text_params
from .spec import BadFlow, Fallback, FlowSpec, Param
from .values import Constants, Unsafe, literal_value, substituted, written_out

__all__ = ["BadFlow", "Declared", "Fallback", "FlowSettings", "FlowSpec", "Modules", "Param", "Unsafe",
           "literal_value", "read_flows"]


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

    try:
        decorated = _flow_functions(tree)
    except Exception:  # noqa: BLE001 - a bug of ours must not block valid code: Prefect's own fallback, said
        decorated, lost = _flows_as_prefect_reads_them(tree), Fallback(1, "which functions are flows (an internal "
                                                                          "error)", traceback.format_exc())
        return _fallback_file(path, decorated, lost)
    if not decorated:
        return []
    try:
        flows = _read_flows(path, text, tree, decorated, modules)
    except Exception:  # noqa: BLE001 - as above, for what no flow-level guard caught
        return _fallback_file(path, decorated, Fallback(1, "the file (an internal error)", traceback.format_exc()))
    if isinstance(flows, BadFlow):
        return flows
    try:
        return with_settings(path, tree, flows)
    except Exception:  # noqa: BLE001 - registered without its settings, and said
        line = next((n.lineno for n in tree.body if SETTINGS_NAME in {t.id for t in ast.walk(n)
                                                                     if isinstance(t, ast.Name)}), 1)
        lost = Fallback(line, f"{SETTINGS_NAME} (an internal error): registered without its settings",
                        traceback.format_exc(), untyped=False)
        return [replace(f, fallbacks=(*f.fallbacks, lost)) for f in flows]


_Found = tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.expr, str, int]  # function, flow decorator, name, line


def _read_flows(path: str, text: str, tree: ast.Module, decorated: list[_Found], modules: Modules | None
                ) -> list[FlowSpec] | BadFlow:
    constants = Constants(tree, text)
    # an import rebinding a name the module binds otherwise holds what running the file decides: not read
    imports = tuple(i for i in _module_imports(tree) if constants.bindings[i[0]] == 1)
    context = Context(tree, constants, path, modules)
    flows: list[FlowSpec] = []
    for node, deco, entry, line in decorated:
        def known(node: ast.stmt = node) -> dict[str, Any]:
            return constants.before(node)  # computed only for a flow that uses a name (most never do)

        try:
            flow_name = _flow_name(deco, node.name, known, lambda expr: _imported_value(context, expr))
        except Exception:  # noqa: BLE001 - the name as Prefect's AST fallback gives it, or one line
            flow_name = _plain_flow_name(path, deco, node.name, traceback.format_exc())
        if isinstance(flow_name, BadFlow):
            return replace(flow_name, path=path, line=deco.lineno)
        bad = FORBIDDEN_NAME_CHARS.intersection(flow_name)
        if bad:
            return BadFlow(path, deco.lineno, f"flow name {flow_name!r} contains {''.join(sorted(bad))!r}, "
                                              "which Prefect does not allow")
        doc = ast.get_docstring(node)
        spec = FlowSpec(path, entry, flow_name, line, (), doc, _literal_kwarg(deco, "description") or doc, imports)
        below = _below_flow(node, deco)
        if below is not None and not _only_wraps(tree, node, deco, imports, constants.bindings):
            # Prefect builds the flow from what that decorator returns, which may take other parameters
            said = ast.unparse(below.func if isinstance(below, ast.Call) else below)
            flows.append(_untyped(spec, node, Fallback(below.lineno, f"the decorator @{said} below @flow may "
                                                                     "change the signature Prefect sees"), known))
            continue
        every = (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                 *(a for a in (node.args.vararg, node.args.kwarg) if a))
        hidden = next((a.arg for a in every if a.arg.startswith("_")), None)
        if hidden is not None:  # the flow's own parameter, a pydantic field name: Prefect's @flow
            # raises at import, its reader of files it cannot import too (under a wrapper it is not the flow's)
            return BadFlow(path, line, f"parameter {hidden!r} of {node.name}(): Prefect cannot make a flow of a "
                                       "function with a parameter named with a leading '_'; rename it")
        try:
            flows.append(replace(spec, params=tuple(_params(node.args, known)),
                                 context=context.of(signature_nodes(node.args)),
                                 text_params=text_params(tree, node)))
        except Exception:  # noqa: BLE001 - this flow's signature as Prefect's own AST fallback reads it, said
            flows.append(_untyped(spec, node, Fallback(line, "its signature (an internal error)",
                                                       traceback.format_exc())))
    return flows


def _below_flow(node: ast.FunctionDef | ast.AsyncFunctionDef, deco: ast.expr) -> ast.expr | None:
    """The first decorator applied before prefect's flow (written below it), which hands flow another function:
    a wrapper's parameters are its own (functools.wraps or not, its signature is not read here)."""
    decorators = node.decorator_list
    below = decorators[decorators.index(deco) + 1:] if deco in decorators else decorators  # `etl = flow(run)`
    return below[0] if below else None


def _only_wraps(tree: ast.Module, node: ast.FunctionDef | ast.AsyncFunctionDef, deco: ast.expr,
                imports: tuple[tuple[str, str, str | None], ...], bindings: Any) -> bool:
    """Every decorator below @flow is a plain functools.wraps wrapper defined earlier in this file, bound once:

        def deco(fn):
            @functools.wraps(fn)
            def inner(*args, **kwargs): ...
            return inner

    inspect.signature, which Prefect reads, follows __wrapped__ to the decorated def, and wraps copies its name,
    docstring and annotations: Prefect sees the def's own signature. Any other shape is not guessed."""
    decorators = node.decorator_list
    below = decorators[decorators.index(deco) + 1:] if deco in decorators else decorators
    defs = {d.name: d for d in tree.body if isinstance(d, ast.FunctionDef) and d.lineno < node.lineno}
    wraps_names = {("functools", "wraps")} if ("functools", "functools", None) in imports else set()
    wraps_names |= {(b,) for b, m, a in imports if m == "functools" and a == "wraps"}
    for d in below:
        wrapper = defs.get(d.id) if isinstance(d, ast.Name) and bindings[d.id] == 1 else None
        if wrapper is None or not _is_wraps_wrapper(wrapper, wraps_names):
            return False
    return True


def _is_wraps_wrapper(outer: ast.FunctionDef, wraps_names: set[tuple[str, ...]]) -> bool:
    args = outer.args
    if outer.decorator_list or len(args.args) != 1 or args.posonlyargs or args.kwonlyargs or args.vararg or (
            args.kwarg or args.defaults):
        return False
    body = outer.body[1:] if ast.get_docstring(outer, clean=False) is not None else outer.body
    if len(body) != 2 or not isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    inner, ret = body
    if not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.Name) and ret.value.id == inner.name):
        return False
    if len(inner.decorator_list) != 1 or not isinstance(inner.decorator_list[0], ast.Call):
        return False
    call = inner.decorator_list[0]
    func = call.func
    dotted = (func.value.id, func.attr) if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else (
        (func.id,) if isinstance(func, ast.Name) else None)
    return dotted in wraps_names and not call.keywords and len(call.args) == 1 and isinstance(
        call.args[0], ast.Name) and call.args[0].id == args.args[0].arg


def _untyped(spec: FlowSpec, node: ast.FunctionDef | ast.AsyncFunctionDef, why: Fallback,
             constants: Callable[[], dict[str, Any]] = dict) -> FlowSpec:
    """The flow as Prefect's AST fallback reads a file it cannot import: the def's parameters, no annotation, and
    defaults evaluated only where they are literals or constants (None otherwise)."""
    params = tuple(replace(p, annotation=None) for p in _params(node.args, constants))
    return replace(spec, params=params, imports=(), context=(), fallbacks=(*spec.fallbacks, why))


def _flows_as_prefect_reads_them(tree: ast.Module) -> list[_Found]:
    """Module-level functions decorated with `flow`, `flow(...)` or `<x>.flow`: the reader of last resort, when
    _flow_functions failed (a bug of ours); no binding is tracked."""
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if isinstance(target, ast.Name) and target.id == "flow" or (
                        isinstance(target, ast.Attribute) and target.attr == "flow"):
                    out.append((node, deco, node.name, node.lineno))
                    break
    return out


def _fallback_file(path: str, decorated: list[_Found], lost: Fallback) -> list[FlowSpec] | BadFlow:
    """Every flow of the file as Prefect's AST fallback reads it, each saying what could not be followed."""
    flows = []
    for node, deco, entry, line in decorated:
        name = _plain_flow_name(path, deco, node.name, lost.detail)
        if isinstance(name, BadFlow):
            return name
        doc = ast.get_docstring(node)
        spec = FlowSpec(path, entry, name, line, (), doc, _literal_kwarg(deco, "description") or doc)
        flows.append(_untyped(spec, node, replace(lost, line=line)))
    return flows


def _plain_flow_name(path: str, deco: ast.expr, function: str, detail: str) -> str | BadFlow:
    """The flow's name when reading it failed: a literal name=..., or Prefect's default; a computed one is not
    guessed (a wrong name would register another flow)."""
    if isinstance(deco, ast.Call) and any(kw.arg == "name" for kw in deco.keywords):
        literal = _literal_kwarg(deco, "name")
        if literal is None:
            return BadFlow(path, deco.lineno, "the flow name could not be read (an internal error of prefect-push: "
                                              "please report it)", detail)
        return literal
    return function.replace("_", "-")


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


def _flow_functions(tree: ast.Module) -> list[_Found]:
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
