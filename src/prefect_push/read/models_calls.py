"""What a module-level call makes, by the library's own function over what is known here, never the file's code.

`Model = create_model("Model", a=(int, 1), ...)` (or returned by a no-argument function of the module): pydantic's
create_model of known types, defaults, a base built here and literal settings; `Color = Enum("Color", "RED GREEN")`
(enum's functional API of data); `T = TypeVar("T", bound=Model)`: typing's own TypeVar. Apart from the class
statements (models_classes.py): no body to audit, but a call's arguments to read.
"""
from __future__ import annotations

import ast
import inspect
from typing import Any

from .models_annotations import _short
from .values import Unsafe


class MadeByCalls:
    """Namespace's methods (models.py) that make what a module-level call makes."""

    def _created_model(self, node: ast.expr | None) -> type | None:
        """`Model = create_model("Model", a=(int, 1), b=(str, Field(...)), __base__=Base, __config__=ConfigDict(...))`,
        or the same returned by `def get_model():` called with nothing (Model = get_model()): pydantic's own
        create_model of what is known here (types as annotations, defaults and Field(...) as a class's values, a
        base built here, literal settings), the model it makes and Prefect's are one. None when it is not such a
        call; Unsafe (said) when it is create_model of what is not followed."""
        import pydantic

        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                id(self.names), node.func.id) in self._returning and (
                node.func.id not in self.names) and not node.args and not node.keywords:
            node = self._returning[(id(self.names), node.func.id)]  # a function of this module
        if not isinstance(node, ast.Call):
            return None
        try:
            func = self._lookup(node.func)
        except Unsafe:
            return None
        if func is not pydantic.create_model:
            return None
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not isinstance(
                node.args[0].value, str) or any(k.arg is None for k in node.keywords):
            raise Unsafe("create_model(...) of a name that is not a literal")
        name: str = node.args[0].value
        kwargs: dict[str, Any] = {}
        for k in node.keywords:
            arg = k.arg or ""
            if arg == "__base__":
                base = self._lookup(k.value)
                if not (base is pydantic.BaseModel or id(base) in self.built and isinstance(base, type) and issubclass(
                        base, pydantic.BaseModel)):
                    raise Unsafe(f"create_model({arg}={_short(ast.unparse(k.value))}) is not followed")
                kwargs[arg] = base
            elif arg == "__config__":
                kwargs[arg] = self._member_value(k.value, f"{name}.{arg}")
            elif arg == "__doc__":
                kwargs[arg] = self.value(k.value)
            elif arg.startswith("_"):
                raise Unsafe(f"create_model({arg}=...) is not followed")
            else:
                where = f"{name}.{arg}"
                pair = isinstance(k.value, ast.Tuple) and len(k.value.elts) == 2
                if isinstance(k.value, ast.Tuple) and not pair:
                    raise Unsafe(f"{where}: a field not written (type, default) or as a type")
                written = k.value.elts[0] if pair else k.value  # type: ignore[attr-defined]
                annotation = self._annotation(ast.Expression(written))
                if annotation is inspect.Parameter.empty:
                    raise Unsafe(f"{where}: {self.not_followed(written)}")
                default = self._member_value(k.value.elts[1], where) if pair else None  # type: ignore[attr-defined]
                kwargs[arg] = (annotation, default) if pair else annotation
        fields = {k for k in kwargs if not k.startswith("__")}
        for c in getattr(kwargs.get("__base__"), "__mro__", ()):  # a base's method (left out) would be the default
            shadowed = sorted(self._methods_of.get(id(c), frozenset()) & fields)
            if shadowed:
                raise Unsafe(f"{name}.{shadowed[0]}: a field named as a method of {c.__name__}")
        config = kwargs.get("__config__") or {}
        if not isinstance(config, dict) or config.get("use_attribute_docstrings"):
            raise Unsafe(f"{name}: its __config__ is not followed")
        try:
            made = pydantic.create_model(name, __module__="__prefect_push__", **kwargs)
        except Exception as exc:  # noqa: BLE001 - pydantic refuses it: Prefect's import would fail too
            raise Unsafe(f"{name}: pydantic refuses the declaration ({type(exc).__name__})") from None
        made.__pydantic_parent_namespace__ = None  # as a module's top level has (see _build)
        if not made.__pydantic_complete__ and not made.model_rebuild(_types_namespace=self.names):
            raise Unsafe(f"{name}: a model naming what is not known")
        if config.get("json_schema_mode_override") == "serialization" and any(
                id(c) in self._dropped_serialization for c in made.__mro__):
            raise Unsafe(f"{name}: json_schema_mode_override='serialization' over serializers not followed")
        self._mark(made)
        return made

    def _functional_enum(self, node: ast.expr) -> type | None:
        """`Color = Enum("Color", "RED GREEN")` (or a list, a dict of values): an Enum made from data."""
        import enum

        if not isinstance(node, ast.Call) or any(k.arg != "start" for k in node.keywords) or not (
                1 <= len(node.args) <= 2):
            return None
        try:
            func = self._lookup(node.func)
        except Unsafe:
            return None
        if func not in (enum.Enum, enum.IntEnum, enum.StrEnum):
            return None
        made = func(*[self.value(a) for a in node.args], **{k.arg: self.value(k.value) for k in node.keywords})
        self._mark(made)
        return made

    def _typevar(self, node: ast.expr, name: str) -> Any:
        """`T = TypeVar("T", bound=Model)` (constraints, bound and default: types; covariant/contravariant:
        literals): the type variable of a generic model or dataclass, made by typing's own TypeVar."""
        import typing

        import typing_extensions

        if not isinstance(node, ast.Call) or not node.args or any(isinstance(a, ast.Starred) for a in node.args):
            return None
        try:
            func = self._lookup(node.func)
        except Unsafe:
            return None
        if func is not typing.TypeVar and func is not typing_extensions.TypeVar:
            return None
        if not (isinstance(node.args[0], ast.Constant) and node.args[0].value == name):
            return None

        def a_type(arg: ast.expr) -> Any:
            made = self._annotation(ast.Expression(arg))
            if made is inspect.Parameter.empty:
                raise Unsafe("a type variable's type is not known")
            return made

        kwargs: dict[str, Any] = {}
        for k in node.keywords:
            if k.arg in ("bound", "default"):
                kwargs[k.arg] = a_type(k.value)
            elif k.arg in ("covariant", "contravariant", "infer_variance"):
                kwargs[k.arg] = self.value(k.value)
            else:
                return None
        return func(name, *[a_type(a) for a in node.args[1:]], **kwargs)
