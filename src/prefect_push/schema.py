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


def _evaluate(source: str | None, ns: dict[str, Any]) -> Any:
    if source is None:
        return inspect.Parameter.empty
    try:
        return eval(compile(ast.parse(source, mode="eval"), "<annotation>", "eval"), ns)  # noqa: S307
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
    from prefect.utilities.callables import generate_parameter_schema, parameter_docstrings

    schema = generate_parameter_schema(signature(spec), parameter_docstrings(spec.docstring))
    return schema.model_dump_for_openapi()
