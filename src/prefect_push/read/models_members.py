"""The audit of a class body's methods: what is left out, what is reproduced, what keeps the class from being built.

A class built here never runs its body: each method is left out once its decorators are proven not to change the
validation-mode schema Prefect writes (docs/flows-and-schemas.md, "Every member of a class"; tests/test_schema_specs.py
checks each kind on the real pydantic). Here, per method (_method): the decorators known to be inert (property,
classmethod, functools' caches, abc's, typing's overload/final/override), pydantic's validators and serializers that
run on values only (left out, noted as running on a call or a dump), a field_validator whose declaration is the
schema (mode "plain", json_schema_input_type), reproduced over a stand-in never run, and an Enum's
_generate_next_value_ and auto() helper recognised by shape; anything else (an unknown decorator, a schema hook such
as __get_pydantic_json_schema__) is Unsafe, said with the member and what of it. Also what in a class body is never a
field: `if TYPE_CHECKING:` blocks, ClassVars, a model's private attributes. One module, so what is reproduced and what
falls back is decided in one place.
"""
from __future__ import annotations

import ast
import inspect
from functools import lru_cache
from typing import Any

from .models_annotations import _short
from .values import Unsafe


# methods that change what a class's schema is: a class defining one is not built
_SCHEMA_HOOKS = frozenset({"__get_pydantic_json_schema__", "__get_pydantic_core_schema__", "model_json_schema",
                           "__modify_schema__", "__init_subclass__", "__class_getitem__", "__new__",
                           "__set_name__", "_generate_next_value_", "__pydantic_init_subclass__", "__prepare__",
                           "__get_validators__", "model_parametrized_name"})


class MemberAudit:
    """Namespace's methods (models.py) that audit a class body's members."""

    def _method(self, node: ast.FunctionDef | ast.AsyncFunctionDef, where: str, methods: set[str],
                serialization: list[str], runs: list[str]) -> Any:
        """A method is left out of the class built here (its body is never run), once what decorates it is proven
        not to change the validation-mode schema Prefect writes (pydantic's model_json_schema(), checked on real
        pydantic in tests/test_schema_specs.py): property, classmethod, staticmethod, functools' caches,
        abstractmethod, overload/override/final/deprecated; pydantic's validator, root_validator, model_validator
        (any mode) and field_validator in mode before/after/wrap without json_schema_input_type (they run on values
        only); field_serializer, model_serializer, computed_field (serialization only: noted, see _build). A
        field_validator in mode "plain", or with json_schema_input_type, decides the field's schema from its
        declaration: it is reproduced with a stand-in that is never run (returned, to be put in the class). Any other
        decorator, or one whose name is not known, may change the schema: Unsafe, with where and which.
        `runs`/`serialization` get `where` when the member runs on a call of the class or changes how an instance
        is dumped (an instance of the class as a default is then refused), or is serialization-only."""
        import pydantic

        inert, inert_calls = _inert_decorators()
        if node.name.startswith("__") and node.name.endswith("__") and node.name not in _INERT_DUNDERS or (
                node.name == "model_post_init"):
            runs.append(where)
        kept, pydantic_own = None, 0
        for d in node.decorator_list:
            call = d if isinstance(d, ast.Call) else None
            target = call.func if call else d
            shown = f"@{_short(ast.unparse(d))}"
            if call is None and isinstance(target, ast.Attribute) and target.attr in ("setter", "getter", "deleter") \
                    and isinstance(target.value, ast.Name) and target.value.id in methods:
                continue  # @x.setter of a property x above
            try:
                func = self._lookup(target)
            except Unsafe:
                raise Unsafe(f"{where}: {shown} is not followed") from None
            if any(func is f for f in inert) and call is None or any(func is f for f in inert_calls):
                continue
            if func is pydantic.field_validator:
                kept = self._field_validator(call, where, shown)
                runs.append(where)
            elif func in (pydantic.validator, pydantic.root_validator, pydantic.model_validator):
                runs.append(where)
            elif func in (pydantic.field_serializer, pydantic.model_serializer, pydantic.computed_field):
                serialization.append(where)
                runs.append(where)
            else:
                raise Unsafe(f"{where}: {shown} may change the schema")
            pydantic_own += 1
        if pydantic_own > 1:
            raise Unsafe(f"{where}: more than one pydantic decorator on one method")
        return kept

    def _field_validator(self, call: ast.Call | None, where: str, shown: str) -> Any:
        """@field_validator(...): None when it runs on values only (mode before/after/wrap, no
        json_schema_input_type); else pydantic's own decorator of the same fields and settings over a stand-in that
        refuses to run: pydantic writes the field's schema from the declaration (mode "plain": the
        json_schema_input_type, Any by default), never from the function."""
        import pydantic

        if call is None or any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords):
            raise Unsafe(f"{where}: {shown} is not followed")
        try:
            fields = [self.value(a) for a in call.args]
            kwargs: dict[str, Any] = {}
            for k in call.keywords:
                if k.arg in ("mode", "check_fields"):
                    kwargs[k.arg] = self.value(k.value)
                elif k.arg == "json_schema_input_type":
                    kwargs[k.arg] = self.annotation(ast.unparse(k.value))
                    if kwargs[k.arg] is inspect.Parameter.empty:
                        raise Unsafe(f"json_schema_input_type={self.not_followed(k.value)}")
                else:
                    raise Unsafe(f"{k.arg}=...")
        except Unsafe as exc:
            raise Unsafe(f"{where}: {shown}: {exc}") from None
        if not all(isinstance(f, str) for f in fields):
            raise Unsafe(f"{where}: {shown}: its fields are not names")
        if kwargs.get("mode", "after") in ("before", "after", "wrap") and "json_schema_input_type" not in kwargs:
            return None
        stand_in = _unrun_wrap if kwargs.get("mode") == "wrap" else _unrun_validator
        return pydantic.field_validator(*fields, **kwargs)(classmethod(stand_in))  # type: ignore[call-overload]

    def _never_runs(self, node: ast.stmt) -> bool:
        """`if TYPE_CHECKING:` (no else) in a class body: for type checkers only, the class never has it."""
        if not isinstance(node, ast.If) or node.orelse or not (
                isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
                or isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"):
            return False
        try:
            return self._lookup(node.test) is False
        except Unsafe:
            return False

    def _class_var(self, annotation: ast.expr) -> bool:
        """`ClassVar[...]` (or a bare ClassVar) naming typing's: a class attribute, never a field."""
        import typing

        import typing_extensions

        head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
        try:
            found = self._lookup(head)
        except Unsafe:
            return False
        return found is typing.ClassVar or found is typing_extensions.ClassVar

    def _enum_method(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> Any:
        """Two methods an Enum may define that decide its values, recognised by their exact shape (context.py
        keeps a one-`return` body) and replaced by ours, never run: `_generate_next_value_(name, ...)` that
        returns `name` (auto() is the member's name), and a no-argument `auto()` that returns enum.auto()
        (prefect's AutoEnum). None for any other method."""
        import enum

        args = node.args
        static = [d for d in node.decorator_list if isinstance(d, ast.Name) and d.id == "staticmethod"]
        if isinstance(node, ast.AsyncFunctionDef) or len(static) != len(node.decorator_list) or not node.body or not (
                isinstance(node.body[-1], ast.Return)) or args.posonlyargs or args.kwonlyargs or args.defaults:
            return None
        returned = node.body[-1].value  # type: ignore[attr-defined]
        if node.name == "_generate_next_value_" and args.args and isinstance(returned, ast.Name) and (
                returned.id == args.args[0].arg):
            return staticmethod(_name_as_value)
        if static and not args.args and not args.vararg and not args.kwarg and isinstance(returned, ast.Call) and (
                not returned.args and not returned.keywords):
            try:
                if self._lookup(returned.func) is enum.auto:
                    return staticmethod(_auto)
            except Unsafe:
                return None
        return None


def _private(name: str, node: ast.stmt) -> bool:
    """A model's `_x: T = ...` / `_x = ...` (a private attribute) or `__x__: T` (no value): pydantic keeps neither
    as a field, so neither is in the schema. A dunder with a value is not skipped (it may be a hook)."""
    if not name.startswith("_"):
        return False
    if name.startswith("__"):
        return isinstance(node, ast.AnnAssign) and node.value is None
    return isinstance(node, (ast.AnnAssign, ast.Assign))


# dunder methods left out that never run when an instance is made or dumped
_INERT_DUNDERS = frozenset({"__repr__", "__str__", "__format__", "__hash__", "__eq__", "__ne__", "__lt__", "__le__",
                            "__gt__", "__ge__", "__bool__", "__len__", "__contains__", "__rich_repr__", "__rich__",
                            "__copy__", "__deepcopy__", "__dir__", "__enter__", "__exit__", "__aenter__", "__aexit__",
                            "__call__", "__del__", "__await__", "__reversed__"})


@lru_cache(maxsize=1)
def _inert_decorators() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Decorators of a method that never change a class's schema: used bare, and called with any arguments."""
    import abc
    import functools
    import typing

    import typing_extensions

    bare = (property, classmethod, staticmethod, functools.cached_property, functools.cache, functools.lru_cache,
            abc.abstractmethod, abc.abstractclassmethod, abc.abstractproperty, abc.abstractstaticmethod,
            typing.overload, typing.final, typing_extensions.overload, typing_extensions.final,
            typing_extensions.override)
    return bare, (functools.lru_cache, typing_extensions.deprecated)


def _unrun_validator(cls: type, value: Any) -> Any:
    """The stand-in of a field_validator whose declaration is reproduced (Namespace._field_validator)."""
    raise Unsafe("a validator prefect-push does not run")


def _unrun_wrap(cls: type, value: Any, handler: Any) -> Any:
    raise Unsafe("a validator prefect-push does not run")


def _name_as_value(name: str, *_: object, **__: object) -> str:
    """An Enum's `_generate_next_value_` that returns the member's name (recognised in Namespace._enum_method)."""
    return name


def _auto() -> Any:
    """An Enum's `auto()` helper that returns enum.auto() (recognised in Namespace._enum_method)."""
    import enum

    return enum.auto()
