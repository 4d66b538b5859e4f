"""Parameter schema of a flow without importing its file, from Prefect's own schema pieces.

Prefect's parameter_schema_from_entrypoint executes the file's top-level imports (a sibling helper module
runs, heavy dependencies must be installed), and `prefect deploy` imports the whole file. Here the signature is
rebuilt from what flows.py read (models.Namespace: a short list of standard-library modules the file imports,
and the module-level constants, aliases and classes the signature names, built from their declared data only),
and Prefect's generate_parameter_schema procedure does the rest (paramschema.py: the same steps over pydantic,
without importing prefect; held equal to Prefect's by tests/test_paramschema.py). What can't be known falls back to "no annotation" / a None default, as Prefect's own reader does.

Where a piece cannot be rebuilt (an annotation naming what is not known, a default computed by a call, a flow
FlowSpec.fallbacks says was read untyped, or an internal error here), the schema is Prefect's AST fallback's for
it, and Checked.notes says which: the edge prints one line per flow (fallback_line), never a silent difference.

The schema is what `prefect deploy` stores: parameter_schema(flow) dumped with exclude_unset, so no empty
"definitions" and no empty "required".
"""
from __future__ import annotations

import ast
import inspect
import traceback
from functools import lru_cache
from typing import Any, NamedTuple

from .flows import FlowSpec
from .models import Namespace, Unsafe
from .values import literal_value

FALLBACK = "schema fallback"  # the words in every line of a flow whose schema is not surely Prefect's


class Checked(NamedTuple):
    """A flow's parameter schema and what of it could not be rebuilt exactly."""
    schema: dict[str, Any]
    notes: tuple[str, ...]  # empty: the schema is what `prefect deploy` stores, importing the file
    detail: str = ""  # an internal error's traceback, for the log file


def signature(spec: FlowSpec) -> inspect.Signature:
    return _signature(spec)[0]


def _signature(spec: FlowSpec) -> tuple[inspect.Signature, list[str]]:
    """The signature as far as it can be rebuilt, and a note per annotation or default that could not be."""
    ns = Namespace(spec.imports, spec.context)
    params, notes = [], []
    for p in spec.params:
        if p.name in spec.text_params and p.annotation is not None:
            annotation = _as_text(p.annotation, notes, p.name)
        else:
            annotation = ns.annotation(p.annotation)
            if p.annotation is not None and annotation is inspect.Parameter.empty:
                notes.append(f"{p.name}: {_short(p.annotation)} {_why(p.annotation, ns)}")
        default = _default(p.default, ns)
        if default is _UNREAD:
            notes.append(f"{p.name}={_short(p.default or '')} is not evaluated (None)")
            default = None  # Prefect's reader uses None for defaults it can't evaluate
        params.append(inspect.Parameter(p.name, getattr(inspect.Parameter, p.kind), default=default,
                                        annotation=annotation))
    return inspect.Signature(params), notes


_UNREAD = object()


def _as_text(source: str, notes: list[str], name: str) -> Any:
    """An annotation Prefect reads as text (textannotations.py): what pydantic finds for it in Prefect's schema
    builder; one not followed there is untyped, and said."""
    from .textannotations import resolve

    text = source
    try:
        node = ast.parse(source, mode="eval").body
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value  # written quoted: the text is the string's
        return resolve(text)
    except (LookupError, SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        notes.append(f"{name}: {_short(source)} is text Prefect resolves itself, not read here ({exc}) (untyped)")
        return inspect.Parameter.empty


def _why(annotation: str, ns: Namespace) -> str:
    """Why an annotation was not read: the class of the repository that was not built and what of it was not
    followed (`Job.c: @field_validator(...) ...`), the construct that is not read, or (a name from a package)
    that it is not known without importing."""
    try:
        why = ns.not_followed(ast.parse(annotation, mode="eval").body)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        why = ""
    if why and why in ns.refused.values():
        return f"is not built (untyped): {why}"
    if not why or why.endswith(" is not known without importing"):
        return "is not known without importing (untyped)"
    return f"is not read (untyped): {why}"


def _short(source: str, room: int = 40) -> str:
    text = " ".join(source.split())
    return text if len(text) <= room else text[:room - 3] + "..."


def _default(source: str | None, ns: Namespace) -> Any:
    if source is None:
        return inspect.Parameter.empty
    try:
        return ns.value(ast.parse(source, mode="eval").body)
    except (Unsafe, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _UNREAD


def parameter_schema(spec: FlowSpec) -> dict[str, Any]:
    return checked(spec).schema


def checked(spec: FlowSpec) -> Checked:
    """The schema prefect-push registers for the flow, with what it could not rebuild (Checked.notes): a bug of
    ours while building it falls back to the untyped signature, said, never a stopped push."""
    import copy

    notes = [f.what for f in spec.fallbacks]
    detail = "".join(f.detail for f in spec.fallbacks)
    try:
        # flows with the same signature (very often: none at all) get the same schema: built once a push
        schema, dropped = _schema(spec.params, spec.imports, spec.docstring, spec.context, spec.text_params)
    except Exception:  # noqa: BLE001
        detail += traceback.format_exc()
        schema, dropped = _untyped_schema(spec), ()
        notes.append("its parameter schema (an internal error)")
    if not any(f.untyped for f in spec.fallbacks):  # a fallback's defaults are Prefect's fallback's: said by it
        notes += dropped
    return Checked(copy.deepcopy(schema), tuple(notes), detail)


def fallback_line(spec: FlowSpec, notes: tuple[str, ...], log: str | None = None) -> str:
    """The one line a flow whose schema is not surely Prefect's gets: file:line, the flow, what was not followed,
    and where the traceback of an internal error went."""
    line = spec.fallbacks[0].line if spec.fallbacks else spec.line
    where = f" (traceback in {log})" if log else ""
    return (f"{spec.path}:{line}: flow {spec.flow_name!r}: schema fallback, as `prefect deploy` reads a file it "
            f"cannot import: {'; '.join(notes)}{where}")


def _untyped_schema(spec: FlowSpec) -> dict[str, Any]:
    """Prefect's AST fallback's schema, with no model machinery of ours: no annotation, literal defaults."""
    from .paramschema import docstrings, generate

    def default(source: str | None) -> Any:
        if source is None:
            return inspect.Parameter.empty
        try:
            return literal_value(ast.parse(source, mode="eval").body)
        except Exception:  # noqa: BLE001 - None, as Prefect's reader
            return None

    # a `_x` parameter is one pydantic refuses as a field: reached only when the def is not what Prefect reads
    # (a decorator below @flow, said), so it is left out rather than crash the fallback itself
    sig = inspect.Signature([inspect.Parameter(p.name, getattr(inspect.Parameter, p.kind), default=default(p.default))
                             for p in spec.params if not p.name.startswith("_")])
    return generate(sig, docstrings(spec.docstring))


@lru_cache(maxsize=1024)
def _schema(params: tuple, imports: tuple, docstring: str | None, context: tuple[str, ...], text_params: tuple = ()
            ) -> tuple[dict[str, Any], tuple[str, ...]]:
    from .paramschema import docstrings, generate

    spec = FlowSpec("", "", "", 0, params, docstring, None, imports, context=context, text_params=text_params)
    sig, notes = _signature(spec)
    docs = docstrings(docstring)
    try:
        dumped = generate(sig, docs)
    except Exception:  # noqa: BLE001 - Prefect's own check passes some refusals on (pydantic-core's SchemaError)
        sig, refused = _untyped_where_refused(sig, docs)
        notes += [f"{name}: Prefect makes no schema of its type, and its @flow refuses it (untyped)" for name in refused]
        dumped = generate(sig, docs)
    if any(_MODULE in key for key in dumped.get("definitions", {})):
        sig, clashing = _untyped_where_names_clash(sig, docs, dumped)
        notes += [f"{name}: two classes of one name ({what}), which Prefect tells apart by the names of the modules "
                  "it imports them from (untyped)" for name, what in clashing]
        dumped = generate(sig, docs)
    # as RunnerDeployment sends it (prefect/deployments/runner.py): only the fields the schema set, so
    # "definitions" only when there are some; model_dump_for_openapi() would send "definitions": {} always
    return dumped, tuple(notes)


_MODULE = "__prefect_push__"  # the __module__ of every class models.py builds


def _untyped_where_names_clash(sig: inspect.Signature, docs: dict[str, str], joint: dict[str, Any]
                               ) -> tuple[inspect.Signature, list[tuple[str, str]]]:
    """Two classes of one name in one schema (`from lib.a import Item as A`, `from lib.b import Item as B`):
    pydantic then names their definitions by module and name (`lib__a__Item`), and Prefect's modules are the ones
    it imports (the flow file's depends on what its process has loaded), while every class built here has one
    module. The parameters that name such a class are left untyped, and said."""
    from .paramschema import generate

    clashing = {key.split(_MODULE)[-1].strip("_").split("__")[0] for key in joint.get("definitions", {})
                if _MODULE in key}
    out: list[tuple[str, str]] = []
    for p in sig.parameters.values():
        if p.annotation is inspect.Parameter.empty:
            continue
        alone = generate(inspect.Signature([p]), docs)
        names = set(alone.get("definitions", {}))
        hit = sorted(n for n in names if n in clashing or _MODULE in n)
        if hit:
            out.append((p.name, hit[0].split(_MODULE)[-1].strip("_").split("__")[0]))
    if not out:  # not told apart: every parameter of a class left untyped
        out = [(p.name, ", ".join(sorted(clashing))) for p in sig.parameters.values()
               if p.annotation is not inspect.Parameter.empty and "$ref" in str(
                   generate(inspect.Signature([p]), docs))]
    names = {n for n, _ in out}
    return sig.replace(parameters=[p.replace(annotation=inspect.Parameter.empty) if p.name in names else p
                                   for p in sig.parameters.values()]), out


def _untyped_where_refused(sig: inspect.Signature, docs: dict[str, str]) -> tuple[inspect.Signature, list[str]]:
    """The parameters whose type Prefect cannot make a schema of (a Protocol, a typing.TypedDict before Python
    3.12, defaultdict[..., object]: `@flow` itself raises on them) left untyped, as for an annotation that cannot
    be read, and their names: never a schema Prefect would not make."""
    from .paramschema import generate

    def builds(param: inspect.Parameter) -> bool:
        try:
            generate(inspect.Signature([param]), docs)
            return True
        except Exception:  # noqa: BLE001 - whatever it is, this parameter is the one refused
            return False

    refused = [p.name for p in sig.parameters.values() if not builds(p)]
    return sig.replace(parameters=[p.replace(annotation=inspect.Parameter.empty) if p.name in refused else p
                                   for p in sig.parameters.values()]), refused
