"""Annotations Prefect reads as text: which, and what they then are.

Prefect takes a flow's signature with `inspect.signature(fn, eval_str=True)`; when that raises (an annotation
written as text names what the module does not bind when it runs: an import under `if TYPE_CHECKING:`, say, in a
file with `from __future__ import annotations`), it takes `inspect.signature(fn)`, where every annotation written
as text stays text. Its schema builder hands the text to pydantic, which resolves it in the namespace of the
module that builds the model (prefect/_internal/pydantic/v2_schema.py): builtins, `typing` as `typing` and `t`,
`pydantic` and a few of its names. So `x: dict[str, Any]` is then untyped (no `Any` there) and `n: int` an
integer. `text_params` tells that case from the file; `resolve` gives the annotation as pydantic would find it.
"""
from __future__ import annotations

import ast
import builtins
import inspect
from typing import Any

# what pydantic cannot resolve, as a forward reference no namespace has: the parameter's whole type then fails
# in the schema builder and is taken as Any there, as Prefect's (`*args: Any` untyped, not a list of anything)
UNRESOLVED = "__prefect_push_unresolved__"
# what pydantic finds, in Prefect's schema builder, besides builtins: v2_schema.py's module names and the
# locals of create_v2_schema (naming one of those, or a model the builder makes, is not followed: said)
_BUILDER_LOCALS = frozenset({"name_", "model_cfg", "model_base", "model_fields", "CheckParameter", "Parameters"})
_ALLOWED_NODES = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.List,
                  ast.BinOp, ast.BitOr, ast.Load)


def text_params(tree: ast.Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...]:
    """The parameters whose annotation Prefect reads as text (see the module docstring); () when
    `inspect.signature(fn, eval_str=True)` succeeds, as far as the file tells."""
    future = any(isinstance(s, ast.ImportFrom) and s.module == "__future__"
                 and any(a.name == "annotations" for a in s.names) for s in tree.body)
    args = node.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    texts = {a.arg: t for a in every if (t := _text(a.annotation, future)) is not None}
    returns = _text(node.returns, future)
    if not texts:
        return ()
    bound = _runtime_names(tree)
    if bound is None:  # a star import: anything may be bound
        return ()
    known = bound | set(dir(builtins))
    for text in (*texts.values(), *(() if returns is None else (returns,))):
        try:
            names = _names(ast.parse(text, mode="eval"))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return ()  # not read here: the usual path says so
        if not names <= known:
            return tuple(texts)
    return ()


def _text(annotation: ast.expr | None, future: bool) -> str | None:
    if annotation is None:
        return None
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return annotation.value
    return ast.unparse(annotation) if future else None


def _names(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _runtime_names(tree: ast.Module) -> set[str] | None:
    """Names the module binds when it runs, at its top level (under if/try/with/for too, not under
    `if TYPE_CHECKING:`); None: a star import."""
    out: set[str] = set()

    def targets(t: ast.AST) -> None:
        out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))

    def walk(body: list[ast.stmt]) -> bool:
        for s in body:
            if isinstance(s, (ast.Import, ast.ImportFrom)):
                for a in s.names:
                    if a.name == "*":
                        return False
                    out.add(a.asname or a.name.split(".")[0])
            elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(s.name)
            elif isinstance(s, ast.Assign):
                for t in s.targets:
                    targets(t)
            elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
                if not isinstance(s, ast.AnnAssign) or s.value is not None:  # `x: int` alone binds nothing
                    targets(s.target)
            elif isinstance(s, ast.If):
                checking = (isinstance(s.test, ast.Name) and s.test.id == "TYPE_CHECKING"
                            or isinstance(s.test, ast.Attribute) and s.test.attr == "TYPE_CHECKING")
                if not checking and not walk(s.body) or not walk(s.orelse):
                    return False
            elif isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
                if isinstance(s, (ast.For, ast.AsyncFor)):
                    targets(s.target)
                if not walk(s.body) or not walk(s.orelse):
                    return False
            elif isinstance(s, (ast.With, ast.AsyncWith)):
                for item in s.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars)
                if not walk(s.body):
                    return False
            elif isinstance(s, ast.Try) or type(s).__name__ == "TryStar":
                handlers = getattr(s, "handlers", [])
                if not all(walk(b) for b in (s.body, *(h.body for h in handlers), s.orelse, s.finalbody)):
                    return False
            elif isinstance(s, ast.Expr):
                targets(s)  # a walrus at the top level
        return True

    return out if walk(tree.body) else None


def resolve(text: str) -> Any:
    """The annotation pydantic finds for `text` in Prefect's schema builder: a type, or UNRESOLVED (untyped, as
    Prefect's builder takes what pydantic cannot resolve); raises LookupError where this does not follow it."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise LookupError("not an expression") from None
    for n in ast.walk(tree):
        if not isinstance(n, _ALLOWED_NODES) or isinstance(n, ast.BinOp) and not isinstance(n.op, ast.BitOr) \
                or isinstance(n, ast.Attribute) and n.attr.startswith("_") \
                or isinstance(n, ast.Name) and (n.id.startswith("__") or n.id in _BUILDER_LOCALS):
            raise LookupError("not a plain type expression")
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            raise LookupError("a forward reference inside it")
    from .models import eval_text_annotation

    try:
        value = eval_text_annotation(tree, _namespace())
    except LookupError:
        raise
    except NameError:
        return UNRESOLVED
    except Exception:  # noqa: BLE001 - pydantic would raise something else (a TypeError, say): not followed
        raise LookupError("not evaluated") from None
    return value


_NS: dict[str, Any] | None = None


def _namespace() -> dict[str, Any]:
    global _NS
    if _NS is None:
        import typing

        import pydantic
        from pydantic import ConfigDict, PydanticUndefinedAnnotation, TypeAdapter, create_model
        from pydantic.errors import PydanticUserError
        from pydantic.fields import FieldInfo

        _NS = {"__builtins__": builtins, "inspect": inspect, "typing": typing, "t": typing, "pydantic": pydantic,
               "V2BaseModel": pydantic.BaseModel, "ConfigDict": ConfigDict,
               "PydanticUndefinedAnnotation": PydanticUndefinedAnnotation, "create_model": create_model,
               "PydanticUserError": PydanticUserError, "FieldInfo": FieldInfo, "TypeAdapter": TypeAdapter}
    return dict(_NS)
