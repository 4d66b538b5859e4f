"""What an annotation of the file may be made of, for models.py to evaluate it without running anything it names.

An annotation is evaluated (models.py: Namespace._annotation, its tree checked first by models._harmless) only when
it is made of names, subscripts, literals and calls of pydantic's own helpers and metadata; here, what that check
and the eval lean on, kept apart from the class building so whoever changes what an annotation may hold finds it
in one place:
- the stand-ins (_stand_ins): pydantic's validator and serializer metadata (Annotated[int, AfterValidator(f)])
  gets a function that refuses to run in place of f, which prefect-push does not read (pydantic writes the schema
  from the declaration); a serializer without return_type only when the function declares no return (a lambda, a
  builtin of known signature);
- the calls an annotation may make (_metadata_helpers, _function_metadata), the literals their arguments may be
  (_literal), and no string where a type goes (_no_forward_refs before the eval, _typed after it);
- forward references (`list["Node"]`): read as pydantic reads them, a name a model may use before it is built
  becoming _REF + name, a ForwardRef for pydantic to resolve (_forward_refs);
- what of an annotation (or a value) could not be read, in a few words, for the fallback line (not_followed).
"""
from __future__ import annotations

import ast
import copy
import inspect
import re
import types
from functools import lru_cache
from typing import Any, Callable

from .values import Unsafe


_FACTORIES = (list, dict, set, tuple, frozenset, str, int, float, bool)


def _short(source: str, room: int = 50) -> str:
    text = " ".join(source.split())
    return text if len(text) <= room else text[:room - 3] + "..."


class AnnotationReader:
    """Namespace's methods (models.py) that read an annotation's calls and say what of it was not followed."""

    def _stand_ins(self, tree: ast.Expression) -> tuple[ast.Expression, dict[str, Any]]:
        """pydantic's validator and serializer metadata (Annotated[int, AfterValidator(check)]) with their function
        replaced by a stand-in that refuses to run: pydantic writes the schema from the metadata's declaration (its
        mode, json_schema_input_type, return_type), never from the function, which prefect-push does not read. The
        tree (a copy, when there is one) and the names to evaluate it with."""
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                try:
                    func = self._lookup(node.func)
                except Unsafe:
                    continue
                if any(func is m for m in _function_metadata()):
                    found.append(node)
        if not found:
            return tree, self.names
        tree = copy.deepcopy(tree)
        names = dict(self.names)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))):
                continue
            try:
                func = self._lookup(node.func)
            except Unsafe:
                continue
            stand_in = _function_metadata().get(func)
            if stand_in is None:
                continue
            if "Serializer" in func.__name__ and not any(k.arg == "return_type" for k in node.keywords) and (
                    self._returns_nothing_declared(node, func)):
                stand_in = _UNTYPED_RETURN[stand_in]  # like the function: no return annotation for pydantic to read
            name = f"_prefect_push_{stand_in.__name__}"
            names[name] = stand_in
            if node.args and not isinstance(node.args[0], ast.Starred):
                node.args[0] = ast.Name(name, ast.Load())
            for k in node.keywords:
                if k.arg == "func":
                    k.value = ast.Name(name, ast.Load())
        return ast.fix_missing_locations(tree), names

    def _returns_nothing_declared(self, node: ast.Call, func: Any) -> bool:
        """A serializer's function without return_type: pydantic reads the function's return annotation for the
        serialization schema only (Prefect writes the validation one), but it evaluates it, and checks the
        function's parameters, when the schema is made: either may raise. Proven harmless for a lambda (no
        annotations) and for a builtin function or container type whose signature is known, when the number of
        required positional parameters is one pydantic accepts (plain: 1 or 2, wrap: 2 or 3)."""
        import builtins as builtin_module

        given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "func"), None)
        wrap = func.__name__.startswith("Wrap")
        if isinstance(given, ast.Lambda):
            a = given.args
            if a.vararg or a.kwarg or a.kwonlyargs and len(a.kw_defaults) != sum(d is not None for d in a.kw_defaults):
                return False
            positional = [*a.posonlyargs, *a.args]
            required = len(positional) - len(a.defaults)
        elif isinstance(given, ast.Name) and given.id in vars(builtin_module) and self.names.get(given.id) is getattr(
                builtin_module, given.id):
            found = self.names[given.id]
            if any(found is t for t in _FACTORIES):
                return True  # a type: pydantic takes it as its own return type, and assumes no info argument
            if not isinstance(found, types.BuiltinFunctionType):
                return False
            try:
                sig = inspect.signature(found)
            except (ValueError, TypeError):
                return False
            required = sum(1 for p in sig.parameters.values() if p.default is p.empty and p.kind in (
                p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
        else:
            return False
        return required in ((2, 3) if wrap else (1, 2))

    def not_followed(self, node: ast.expr) -> str:
        """What of an annotation (or a value) could not be read, in a few words: a class of the file not built
        (and why), a name not known, a call that is not pydantic's constraint helper, a string."""
        import pydantic

        allowed = [*_metadata_helpers(), *_function_metadata()]
        arguments = {id(a) for c in ast.walk(node) if isinstance(c, ast.Call)
                     for arg in (*c.args, *(k.value for k in c.keywords)) for a in ast.walk(arg)}
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.refused:
                return self.refused[n.id]
            if isinstance(n, ast.Name) and n.id not in self.names:
                return f"{n.id} is not known without importing"
            if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                try:
                    self._lookup(n)
                except Unsafe:
                    return f"{_short(ast.unparse(n))} is not known without importing"
            if isinstance(n, ast.Call):
                try:
                    func = self._lookup(n.func)
                except Unsafe:
                    func = None
                if not any(func is a for a in allowed):
                    return f"{_short(ast.unparse(n.func))}(...) is not followed"
                if "Serializer" in getattr(func, "__name__", "") and not any(
                        k.arg == "return_type" for k in n.keywords):
                    return f"{_short(ast.unparse(n.func))}(...) without return_type is not followed"
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in arguments and not (
                    isinstance(node, ast.Constant)):
                return f"the string {_short(repr(n.value))} (a forward reference) is not followed"
        return f"{_short(ast.unparse(node))} is not followed"


# What an annotation may be made of to be evaluated: names, attributes, subscripts, literals and `X | Y`, plus
# calls of pydantic's constraint helpers (Annotated[int, Field(ge=1)], conint(gt=0)). Anything else (a call of
# open or __import__, a comprehension that never ends) is user code, which prefect-push never runs: untyped.
_ANNOTATION_NODES = (ast.Expression, ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.Tuple, ast.List,
                     ast.BinOp, ast.BitOr, ast.UnaryOp, ast.USub, ast.Load, ast.Call, ast.keyword, ast.Dict)
_CALLABLE = ("Field", "conint", "confloat", "constr", "conbytes", "conlist", "conset", "confrozenset",
             "condecimal", "condate", "StringConstraints")


@lru_cache(maxsize=1)
def _metadata_helpers() -> tuple[Any, ...]:
    """Calls an annotation may make, with literal arguments (or a type): pydantic's constraint helpers and
    Annotated metadata of plain data (WithJsonSchema({...}), Examples([...]), Strict(), Discriminator("kind"),
    annotated_types' Gt(3), Len(1, 5)...). Each is pydantic's (or annotated_types') own class or function: the
    schema is theirs by construction."""
    import annotated_types
    import pydantic
    import pydantic.json_schema

    own = [getattr(pydantic, name) for name in _CALLABLE if hasattr(pydantic, name)]
    own += [getattr(pydantic, n) for n in ("WithJsonSchema", "Strict", "Discriminator", "Tag", "FailFast")
            if hasattr(pydantic, n)]
    own += [pydantic.json_schema.Examples, pydantic.json_schema.WithJsonSchema]
    own += [getattr(annotated_types, n) for n in ("Gt", "Ge", "Lt", "Le", "MultipleOf", "MinLen", "MaxLen", "Len",
                                                  "Interval")]
    return tuple(own)


@lru_cache(maxsize=1)
def _function_metadata() -> dict[Any, Callable[..., Any]]:
    """pydantic's Annotated metadata that holds a function, and the stand-in it gets (Namespace._stand_ins)."""
    import pydantic

    return {pydantic.AfterValidator: _unrun_value, pydantic.BeforeValidator: _unrun_value,
            pydantic.PlainValidator: _unrun_value, pydantic.WrapValidator: _unrun_handler,
            pydantic.PlainSerializer: _unrun_value, pydantic.WrapSerializer: _unrun_handler}


def _unrun_value(value: Any) -> Any:
    """The function of a validator or serializer in an annotation, which prefect-push does not run."""
    raise Unsafe("a validator or serializer prefect-push does not run")


def _unrun_handler(value: Any, handler: Any) -> Any:
    raise Unsafe("a validator or serializer prefect-push does not run")


def _unrun_untyped_value(value):  # type: ignore[no-untyped-def]
    """A serializer's stand-in that, like a lambda, declares no return type (Namespace._returns_nothing_declared)."""
    raise Unsafe("a serializer prefect-push does not run")


def _unrun_untyped_handler(value, handler):  # type: ignore[no-untyped-def]
    raise Unsafe("a serializer prefect-push does not run")


_UNTYPED_RETURN = {_unrun_value: _unrun_untyped_value, _unrun_handler: _unrun_untyped_handler}


# the keywords of that metadata: plain data, or a type (an annotation, checked as one)
_METADATA_TYPES = frozenset({"json_schema_input_type", "return_type"})
_METADATA_DATA = frozenset({"when_used"})


def _typed(value: Any, depth: int = 0, forward: frozenset[str] = frozenset()) -> bool:
    """No str or ForwardRef in an evaluated annotation outside Literal[...] (e.g. an alias bound to one), but a
    ForwardRef to a class a model may name before it is built (`forward`), put there by _forward_refs."""
    import typing

    if isinstance(value, typing.ForwardRef) and value.__forward_arg__ in forward:
        return True
    if isinstance(value, (str, typing.ForwardRef)) or depth > 20:
        return False
    if value is _import_string() or isinstance(value, _import_string()):
        return False  # pydantic imports what such a field's value names, when an instance (a default) is made
    if typing.get_origin(value) is typing.Literal:
        return True
    return all(_typed(a, depth + 1, forward) for a in typing.get_args(value) if not isinstance(a, (int, float, bool,
                                                                                               type(None))))


_REF = "_prefect_push_ref_"  # in a field's annotation, + a name: a class named by string before it is built


def _forward_refs(node: ast.expr, forward: frozenset[str]) -> ast.expr | None:
    """A field's annotation with its forward references (`list["Node"]`, `"Item | None"`) read as pydantic reads
    them: each string where a type goes is parsed, and the names in it are then looked up as any other (a class
    built before it, here); a name in `forward` (the model's own, a class below it) becomes _REF + name, a ForwardRef
    for pydantic to resolve. The
    node itself when it holds no such string; None when a string is not an annotation read here (it is then not
    followed). Strings stay as they are in Literal[...], in a call's arguments and in Annotated's metadata."""
    changed = False

    def visit(n: ast.expr, depth: int) -> ast.expr:
        nonlocal changed
        if depth > 10:
            raise Unsafe("too deep")
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            if not _FORWARD_TEXT.fullmatch(n.value):
                raise Unsafe("not an annotation")
            try:
                parsed = ast.parse(n.value.strip(), mode="eval").body
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                raise Unsafe("not an annotation") from None
            changed = True
            return visit(parsed, depth + 1)
        if isinstance(n, ast.Name):
            if n.id in forward and depth > 0:
                changed = True
                return ast.Name(_REF + n.id, ast.Load())
            return n
        if isinstance(n, ast.Subscript):
            head = n.value.attr if isinstance(n.value, ast.Attribute) else getattr(n.value, "id", "")
            if head == "Literal":
                return n
            inner = n.slice
            if head == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
                inner = ast.Tuple([visit(inner.elts[0], depth), *inner.elts[1:]], ast.Load())
            else:
                inner = visit(inner, depth)
            return ast.Subscript(visit(n.value, depth), inner, ast.Load())
        if isinstance(n, ast.Tuple):
            return ast.Tuple([visit(e, depth) for e in n.elts], ast.Load())
        if isinstance(n, ast.List):
            return ast.List([visit(e, depth) for e in n.elts], ast.Load())
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):
            return ast.BinOp(visit(n.left, depth), ast.BitOr(), visit(n.right, depth))
        return n  # a call (its arguments: literals), an attribute, a constant: checked by _harmless as written

    try:
        out = visit(node, 0)
    except Unsafe:
        return None
    return ast.fix_missing_locations(out) if changed else node


_FORWARD_TEXT = re.compile(r"\s*[A-Za-z_][\w\[\]., |]{0,200}")  # what a string annotation looks like: list["Item"]


@lru_cache(maxsize=1)
def _import_string() -> type:
    from pydantic.types import ImportString

    return ImportString


def _literal(node: ast.AST, ns: dict[str, Any]) -> bool:
    """Literals, or module constants bound to plain data (le=SMALL): nothing pydantic could call."""
    plain = (str, int, float, bool, bytes, type(None), tuple, list, dict, set, frozenset)
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            if not (n.id in ns and isinstance(ns[n.id], plain)):
                return False
        elif not isinstance(n, (ast.Constant, ast.Tuple, ast.List, ast.Dict, ast.Set, ast.UnaryOp, ast.USub,
                                ast.UAdd, ast.Load)):
            return False
    return True


def _no_forward_refs(node: ast.AST) -> bool:
    """No string where a type goes: pydantic evaluates a string inside an annotation (list["..."]) with eval and
    full builtins, which would run the pushed file's code. Strings stay allowed as Literal[...] values and as a
    helper's literal arguments (checked above). Before eval, as _typed is after it: subscripting a class
    (a generic model: Page["..."]) may hand the string to pydantic during the eval itself."""
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, str)
    if isinstance(node, ast.Subscript):
        name = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
        if name == "Literal":
            return True
        return _no_forward_refs(node.value) and _no_forward_refs(node.slice)
    if isinstance(node, ast.Call):
        return True  # its arguments: literals, checked in _harmless
    return all(_no_forward_refs(child) for child in ast.iter_child_nodes(node))
