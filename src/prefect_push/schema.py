"""Parameter schema of a flow without importing its file, from Prefect's own schema pieces.

Prefect's parameter_schema_from_entrypoint executes the file's top-level imports (a sibling helper module
runs, heavy dependencies must be installed). Here annotations are evaluated against builtins plus a short
list of standard-library modules the file imports; anything else falls back to "no annotation", as Prefect's
own reader does when an annotation can't be evaluated. Defaults are read as literals only.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
from functools import lru_cache
from typing import Any

from .flows import FlowSpec

# Importing these runs no user code and has no side effects worth the name.
SAFE_MODULES = frozenset({
    "typing", "typing_extensions", "datetime", "decimal", "uuid", "pathlib", "enum", "collections",
    "collections.abc", "ipaddress", "numbers", "fractions", "pydantic",
})


def _namespace(spec: FlowSpec) -> dict[str, Any]:
    ns: dict[str, Any] = dict(vars(builtins))
    for bound, module, attr in spec.imports:
        if module not in SAFE_MODULES:
            continue
        try:
            mod = importlib.import_module(module)
            ns[bound] = getattr(mod, attr) if attr else mod
        except Exception:  # noqa: BLE001 - an unresolvable name just stays unannotated
            continue
    return ns


# What an annotation may be made of to be evaluated: names, attributes, subscripts, literals and `X | Y`, plus
# calls of pydantic's constraint helpers (Annotated[int, Field(ge=1)], conint(gt=0)). Anything else (a call of
# open or __import__, a comprehension that never ends) is user code, which prefect-push never runs: untyped.
_ANNOTATION_NODES = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.List,
                     ast.BinOp, ast.BitOr, ast.UnaryOp, ast.USub, ast.Load, ast.Call, ast.keyword)
_CALLABLE = ("Field", "conint", "confloat", "constr", "conbytes", "conlist", "conset", "confrozenset",
             "condecimal", "condate")


def _harmless(tree: ast.Expression, ns: dict[str, Any]) -> bool:
    import pydantic

    allowed = [getattr(pydantic, name) for name in _CALLABLE if hasattr(pydantic, name)]
    for node in ast.walk(tree):
        if not isinstance(node, _ANNOTATION_NODES):
            return False
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.BitOr):
            return False
        if isinstance(node, ast.Name) and node.id.startswith("__") or isinstance(node, ast.Attribute) and (
                node.attr.startswith("_")):
            return False
        if isinstance(node, ast.Call):
            callee = node.func
            if not isinstance(callee, (ast.Name, ast.Attribute)) or not _harmless(ast.Expression(callee), ns):
                return False
            try:
                func = eval(compile(ast.Expression(callee), "<annotation>", "eval"), ns)  # noqa: S307 - names only
            except Exception:  # noqa: BLE001
                return False
            if not any(func is a for a in allowed) or any(k.arg is None for k in node.keywords) or any(
                    isinstance(a, ast.Starred) for a in node.args):
                return False
    return True


def _evaluate(source: str | None, ns: dict[str, Any]) -> Any:
    if source is None:
        return inspect.Parameter.empty
    try:
        tree = ast.parse(source, mode="eval")
        if not _harmless(tree, ns):
            return inspect.Parameter.empty
        return eval(compile(tree, "<annotation>", "eval"), ns)  # noqa: S307 - checked by _harmless
    except Exception:  # noqa: BLE001 - Prefect falls back the same way
        return inspect.Parameter.empty


def _default(source: str | None) -> Any:
    if source is None:
        return inspect.Parameter.empty
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None  # Prefect's reader uses None for defaults it can't evaluate


def signature(spec: FlowSpec) -> inspect.Signature:
    ns = _namespace(spec)
    params = [
        inspect.Parameter(p.name, getattr(inspect.Parameter, p.kind), default=_default(p.default),
                          annotation=_evaluate(p.annotation, ns))
        for p in spec.params
    ]
    return inspect.Signature(params)


def parameter_schema(spec: FlowSpec) -> dict[str, Any]:
    import copy

    # flows with the same signature (very often: none at all) get the same schema: built once a push
    return copy.deepcopy(_schema(spec.params, spec.imports, spec.docstring))


@lru_cache(maxsize=1024)
def _schema(params: tuple, imports: tuple, docstring: str | None) -> dict[str, Any]:
    from prefect.utilities.callables import generate_parameter_schema, parameter_docstrings

    spec = FlowSpec("", "", "", 0, params, docstring, None, imports)
    schema = generate_parameter_schema(signature(spec), parameter_docstrings(docstring))
    return schema.model_dump_for_openapi()
