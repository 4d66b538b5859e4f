"""Values of the file (a default, a field's value, a class keyword, a setting) and the names they use, made without
running anything the file wrote.

A value is a literal, its arithmetic, a module constant (values.literal_value), or a call of a short allow-list:
standard-library constructors (datetime, Decimal, Path, UUID, ipaddress's, Prefect's DateTime, Date, Duration) and
the classes built here, an instance of which is refused when a member left out would run when it is made or dumped.
In a class body also pydantic's Field(...), dataclasses' field(...), ConfigDict(...) and enum's auto(): data for
the class. A default_factory not known is a stand-in that refuses to run (the schema never calls one). A dotted name
is looked up (_lookup) only in what the file binds, the modules safe to import (SAFE_MODULES) and the classes built
here. Kept apart from the class building: one answer to "is this a value prefect-push may make", for defaults and
class bodies alike.
"""
from __future__ import annotations

import ast
import copy
import types
from functools import lru_cache
from typing import Any, Callable

from .models_annotations import _FACTORIES, _short
from .models_members import _auto
from .values import Unsafe, literal_value


# Importing these runs no user code and has no side effects worth the name.
SAFE_MODULES = frozenset({
    "typing", "typing_extensions", "datetime", "decimal", "uuid", "pathlib", "enum", "collections",
    "collections.abc", "ipaddress", "numbers", "fractions", "pydantic", "pydantic.dataclasses", "dataclasses",
    "annotated_types", "abc", "functools", "pydantic.config", "pydantic.types", "pydantic.networks",
    "pydantic.json_schema", "pydantic.functional_validators", "pydantic.functional_serializers", "pydantic.fields",
    "pydantic.main", "pydantic.root_model", "pydantic.alias_generators",
})
# Prefect's own types (DateTime, Date, Duration, ...): the modules prefect-push's schema step has imported already
# (prefect.utilities.callables imports them), so reading their names costs and runs nothing more
PREFECT_TYPES = frozenset({"prefect.types", "prefect.types._datetime"})


# keyword arguments of pydantic's Field / dataclasses' field that are plain data
_FIELD_ARGS = frozenset({
    "default", "default_factory", "alias", "alias_priority", "validation_alias", "serialization_alias", "title",
    "description", "examples", "exclude", "discriminator", "deprecated", "json_schema_extra", "frozen",
    "validate_default", "repr", "init", "init_var", "kw_only", "pattern", "strict", "coerce_numbers_to_str", "gt",
    "ge", "lt", "le", "multiple_of", "allow_inf_nan", "max_digits", "decimal_places", "min_length", "max_length",
    "union_mode", "fail_fast", "compare", "hash", "metadata",
})


def _prefect_loaded() -> bool:
    import sys

    return "prefect.types._datetime" in sys.modules


@lru_cache(maxsize=2)
def _constructors(prefect_loaded: bool = False) -> tuple[Any, ...]:
    import datetime
    import decimal
    import pathlib
    import uuid

    import ipaddress
    import sys

    # Prefect's pendulum-based datetime types: plain constructors of values, like datetime's (their module is
    # loaded by the schema step, which runs before any default is read; never imported here)
    prefect_datetime = sys.modules.get("prefect.types._datetime")
    prefect_types = {getattr(prefect_datetime, n, None) for n in ("DateTime", "Date", "Duration")}
    return (datetime.datetime, datetime.date, datetime.time, datetime.timedelta, datetime.timezone,
            decimal.Decimal, pathlib.Path, pathlib.PurePath, pathlib.PosixPath, pathlib.PurePosixPath,
            pathlib.PureWindowsPath, uuid.UUID, ipaddress.IPv4Address, ipaddress.IPv6Address, ipaddress.IPv4Network,
            ipaddress.IPv6Network, ipaddress.IPv4Interface, ipaddress.IPv6Interface,
            *(t for t in prefect_types if isinstance(t, type)))


@lru_cache(maxsize=1)
def _alias_generators() -> tuple[Any, ...]:
    """pydantic's own alias generators (alias_generator=to_camel): pure functions of a field's name."""
    from pydantic import alias_generators

    return alias_generators.to_camel, alias_generators.to_pascal, alias_generators.to_snake


class ValueReader:
    """Namespace's methods (models.py) that make a value and look a dotted name up."""

    # --- values ---

    def value(self, node: ast.expr, *, in_class: bool = False) -> Any:
        """A default or a field's value; Unsafe when it is not made of what this module knows."""
        return literal_value(node, self.values, lambda n, sub: self._resolve(n, sub, in_class))

    def _resolve(self, node: ast.expr, sub: Callable[[ast.expr], Any], in_class: bool) -> Any:
        if isinstance(node, ast.Name) and node.id in self.values:
            return copy.deepcopy(self.values[node.id])
        if not isinstance(node, ast.Call):
            found = self._lookup(node)
            import datetime
            import enum

            if isinstance(found, enum.Enum) or found is datetime.timezone.utc or any(
                    found is g for g in _alias_generators()):
                return found
            raise Unsafe("not a value")
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise Unsafe("unpacking")
        if isinstance(node.func, ast.Subscript):  # Pair[str, Item](key="a"): a generic model parametrized
            func = self._annotation(ast.Expression(node.func))
            if not self._built_class(func):
                raise Unsafe("a call prefect-push does not make")
        else:
            func = self._lookup(node.func)
        if in_class:
            special = self._class_level_call(func, node, sub)
            if special is not None:
                return special
        if func is frozenset and not node.args and not node.keywords:
            return frozenset()
        built = self._built_class(func)
        if not (any(func is c for c in _constructors(_prefect_loaded())) or built):
            raise Unsafe("a call prefect-push does not make")
        left_out = [self._runs_left_out[id(c)] for c in getattr(func, "__mro__", ()) if id(c) in self._runs_left_out]
        if left_out:  # its validators, __init__ or serializers would make (or dump) another value
            raise Unsafe(f"an instance would run {left_out[0]}, which prefect-push does not run")
        made = func(*[sub(a) for a in node.args], **{k.arg: sub(k.value) for k in node.keywords})  # type: ignore[misc]
        if built:
            # as the schema writes it: a serializer of an annotation (a stand-in, never run) refuses here, not there
            import pydantic_core

            try:
                pydantic_core.to_jsonable_python(made)
            except Exception as exc:  # noqa: BLE001
                raise Unsafe(f"its instance is not dumped ({type(exc).__name__})") from None
        return made

    def _built_class(self, func: Any) -> bool:
        """A class built here, or one of them parametrized by pydantic (Pair[str, Item])."""
        if id(func) in self.built:
            return True
        origin = getattr(func, "__pydantic_generic_metadata__", None) if isinstance(func, type) else None
        return bool(origin) and id(origin.get("origin")) in self.built  # type: ignore[union-attr]

    def _class_level_call(self, func: Any, node: ast.Call, sub: Callable[[ast.expr], Any]) -> Any:
        """Field(...), field(...), ConfigDict(...), auto(): data for the class, not calls of user code."""
        import dataclasses
        import enum

        import pydantic

        if (func is enum.auto or func is _auto) and not node.args and not node.keywords:
            return enum.auto()
        if func is pydantic.ConfigDict:
            if node.args:
                raise Unsafe("ConfigDict takes keywords")
            return pydantic.ConfigDict(**{k.arg: self._ignored_types(k.value) if k.arg == "ignored_types"  # type: ignore[misc]
                                          else sub(k.value) for k in node.keywords})
        if func is not pydantic.Field and func is not dataclasses.field:
            return None
        if len(node.args) > (1 if func is pydantic.Field else 0):
            raise Unsafe("Field takes one positional argument")
        kwargs: dict[str, Any] = {}
        for k in node.keywords:
            if k.arg not in _FIELD_ARGS:
                raise Unsafe(f"Field({k.arg}=...)")
            kwargs[k.arg] = self._factory(k.value) if k.arg == "default_factory" else sub(k.value)  # type: ignore
        if node.args:
            kwargs["default"] = sub(node.args[0])
        return func(**kwargs)

    def _ignored_types(self, node: ast.expr) -> tuple[type, ...]:
        """ConfigDict(ignored_types=(Descriptor, ...)): pydantic skips a class attribute whose value is an instance
        of one of them, and a private `_x: Descriptor` annotation. A class built here has no class attribute but
        its fields and model_config, and private attributes are not in the schema: ignored_types never changes
        the schema of what is built here. A type not known here stands as a fresh class nothing is an instance of
        (what it is, unread, does not matter)."""
        if not isinstance(node, (ast.Tuple, ast.List)):
            raise Unsafe("ignored_types")
        out: list[type] = []
        for element in node.elts:
            try:
                found = self._lookup(element)
            except Unsafe:
                found = types.new_class("Unread", ())
            if not isinstance(found, type):
                raise Unsafe("ignored_types holds what is not a class")
            out.append(found)
        return tuple(out)

    def _factory(self, node: ast.expr) -> Callable[[], Any]:
        """default_factory: a builtin container, a class built here, or a lambda of a literal. Any other name,
        attribute or lambda (uuid4, a function of the file) stands as _unread_factory: the schema never calls a
        factory (pydantic writes no default for it), and a default that would (an instance of the class) is
        refused when it does."""
        if isinstance(node, ast.Lambda) and not (node.args.args or node.args.vararg or node.args.kwonlyargs
                                                 or node.args.kwarg or node.args.posonlyargs):
            try:
                made = self.value(node.body)
            except Unsafe:
                return _unread_factory
            return lambda: copy.deepcopy(made)
        if isinstance(node, ast.Lambda):
            return _unread_factory
        try:
            func = self._lookup(node)
        except Unsafe:
            if isinstance(node, (ast.Name, ast.Attribute)):
                return _unread_factory
            raise
        if any(func is f for f in _FACTORIES) or id(func) in self.built:
            return func
        return _unread_factory

    def _lookup(self, node: ast.expr) -> Any:
        """A dotted name: a name bound here, an attribute of a safe module, a member of a class built here."""
        if isinstance(node, ast.Name):
            if node.id not in self.names:
                raise Unsafe(f"{node.id} is unknown")
            return self.names[node.id]
        if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
            base = self._lookup(node.value)
            known = isinstance(base, types.ModuleType) and (base.__name__ in SAFE_MODULES or
                                                             base.__name__ in PREFECT_TYPES)
            import datetime

            if known or id(base) in self.built or base is datetime.timezone or any(base is c for c in _constructors(_prefect_loaded())):
                try:
                    return getattr(base, node.attr)
                except AttributeError:
                    raise Unsafe(f"no {node.attr}") from None
        raise Unsafe("not a dotted name")

    def _member_value(self, node: ast.expr, where: str) -> Any:
        try:
            return self.value(node, in_class=True)
        except Unsafe as exc:
            raise Unsafe(f"{where}: = {_short(ast.unparse(node))} is not evaluated ({exc})") from None


def _unread_factory() -> Any:
    """A default_factory prefect-push does not run (see Namespace._factory)."""
    raise Unsafe("a default_factory prefect-push does not run")
