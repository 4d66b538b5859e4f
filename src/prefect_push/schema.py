"""Parameter schema of a flow without importing its file, from Prefect's own schema pieces.

Prefect's parameter_schema_from_entrypoint executes the file's top-level imports (a sibling helper module
runs, heavy dependencies must be installed), and `prefect deploy` imports the whole file. Here the signature is
rebuilt from what flows.py read (models.Namespace: a short list of standard-library modules the file imports,
and the module-level constants, aliases and classes the signature names, built from their declared data only),
and Prefect's own generate_parameter_schema does the rest, so the schema is Prefect's by construction. What
can't be known falls back to "no annotation" / a None default, as Prefect's own reader does.

The schema is what `prefect deploy` stores: parameter_schema(flow) dumped with exclude_unset, so no empty
"definitions" and no empty "required".
"""
from __future__ import annotations

import ast
import inspect
from functools import lru_cache
from typing import Any

from .flows import FlowSpec
from .models import Namespace, Unsafe


def signature(spec: FlowSpec) -> inspect.Signature:
    ns = Namespace(spec.imports, spec.context)
    params = [
        inspect.Parameter(p.name, getattr(inspect.Parameter, p.kind), default=_default(p.default, ns),
                          annotation=ns.annotation(p.annotation))
        for p in spec.params
    ]
    return inspect.Signature(params)


def _default(source: str | None, ns: Namespace) -> Any:
    if source is None:
        return inspect.Parameter.empty
    try:
        return ns.value(ast.parse(source, mode="eval").body)
    except (Unsafe, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None  # Prefect's reader uses None for defaults it can't evaluate


def parameter_schema(spec: FlowSpec) -> dict[str, Any]:
    import copy

    # flows with the same signature (very often: none at all) get the same schema: built once a push
    return copy.deepcopy(_schema(spec.params, spec.imports, spec.docstring, spec.context))


@lru_cache(maxsize=1024)
def _schema(params: tuple, imports: tuple, docstring: str | None, context: tuple[str, ...]) -> dict[str, Any]:
    from prefect.utilities.callables import generate_parameter_schema, parameter_docstrings

    spec = FlowSpec("", "", "", 0, params, docstring, None, imports, context=context)
    sig, docs = signature(spec), parameter_docstrings(docstring)
    try:
        schema = generate_parameter_schema(sig, docs)
    except Exception:  # noqa: BLE001 - Prefect's own check passes some refusals on (pydantic-core's SchemaError)
        schema = generate_parameter_schema(_untyped_where_refused(sig, docs), docs)
    # as RunnerDeployment sends it (prefect/deployments/runner.py): only the fields the schema set, so
    # "definitions" only when there are some; model_dump_for_openapi() would send "definitions": {} always
    return schema.model_dump(mode="json", exclude_unset=True)


def _untyped_where_refused(sig: inspect.Signature, docs: dict[str, str]) -> inspect.Signature:
    """The parameters whose type Prefect cannot make a schema of (a Protocol, a typing.TypedDict before Python
    3.12, defaultdict[..., object]: `@flow` itself raises on them) left untyped, as for an annotation that cannot
    be read: never a schema Prefect would not make."""
    from prefect.utilities.callables import generate_parameter_schema

    def builds(param: inspect.Parameter) -> bool:
        try:
            generate_parameter_schema(inspect.Signature([param]), docs)
            return True
        except Exception:  # noqa: BLE001 - whatever it is, this parameter is the one refused
            return False

    return sig.replace(parameters=[p if builds(p) else p.replace(annotation=inspect.Parameter.empty)
                                   for p in sig.parameters.values()])
