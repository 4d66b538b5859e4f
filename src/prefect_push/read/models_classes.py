"""A class statement of the file, built as the class it declares, its body never run.

Pydantic models, dataclasses, Enums (str/int too), TypedDicts and NamedTuples, generic ones too, and plain mixins
of fields (a base of models), built with types.new_class from their declared fields only: bases (pydantic/enum/
typing's own, Generic[T], abc.ABC, classes built here), class keywords, decorators (dataclass, with_config, unique,
final), annotations (a forward reference to a class below left for pydantic to resolve, models.py settles it),
defaults, Field(...)/field(...), model_config, __pydantic_config__ and a v1-style `class Config:`. Every method goes
through the member audit (models_members.py); anything outside the subset (a metaclass, an unknown base or
decorator, a statement it does not know) is Unsafe, said with what of the class it was, and so is what keeps a
class from being built: a field named as a method, use_attribute_docstrings not reproduced (models_docstrings.py)
or on a generic class, json_schema_mode_override="serialization" over serializers left out.
"""
from __future__ import annotations

import ast
import builtins
import inspect
import types
from typing import Any, Callable

from .models_annotations import _REF, _forward_refs, _short
from .models_docstrings import _ATTRIBUTE_DOCS, _BUILDING, _attribute_docstrings, _reproduce_attribute_docstrings
from .models_members import _SCHEMA_HOOKS, _private
from .values import Unsafe


class ClassBuilder:
    """Namespace's methods (models.py) that build a class statement."""

    def _build(self, stmt: ast.ClassDef) -> type:
        import abc
        import dataclasses
        import enum
        import typing

        import pydantic
        import pydantic.dataclasses
        import typing_extensions

        bases = []
        for b in stmt.bases:
            try:
                bases.append(self._base(b))
            except Unsafe:
                raise Unsafe(f"{stmt.name}: its base {self.not_followed(b)}") from None
        kwds = {}
        for k in stmt.keywords:
            if k.arg is None or k.arg == "metaclass":
                raise Unsafe("metaclass")
            kwds[k.arg] = self.value(k.value)
        dataclass_decorators = (dataclasses.dataclass, pydantic.dataclasses.dataclass)
        decorators: list[Callable[[type], type]] = []
        configs: list[Any] = []  # @with_config(...)'s
        for d in stmt.decorator_list:
            call = d if isinstance(d, ast.Call) else None
            func = self._lookup(call.func if call else d)
            if any(func is f for f in dataclass_decorators):
                args = {k.arg: self.value(k.value, in_class=k.arg == "config") for k in call.keywords} if call else {}
                if call and (call.args or None in args):
                    raise Unsafe("dataclass arguments")
                decorators.append(lambda cls, f=func, a=args: f(cls, **a))  # type: ignore[misc]
            elif func is enum.unique and call is None:
                decorators.append(enum.unique)
            elif call is None and (func is typing.final or func is typing_extensions.final):
                continue  # sets __final__ for type checkers, nothing else
            elif func is pydantic.with_config and call is not None and len(call.args) <= 1 and not any(
                    isinstance(a, ast.Starred) for a in call.args) and all(k.arg for k in call.keywords):
                # @with_config(ConfigDict(...)) / @with_config(title=...): sets __pydantic_config__, plain data
                settings = {k.arg: self.value(k.value, in_class=True) for k in call.keywords}
                given = self.value(call.args[0], in_class=True) if call.args else None
                configs.append(given if given is not None else settings)
            else:
                raise Unsafe(f"{stmt.name}: the decorator @{_short(ast.unparse(d))} may change the class")
        is_enum = any(isinstance(b, type) and issubclass(b, enum.Enum) for b in bases)
        is_model = any(isinstance(b, type) and issubclass(b, pydantic.BaseModel) for b in bases)
        is_dict = any(b is typing.TypedDict or b is typing_extensions.TypedDict or typing.is_typeddict(b)
                      for b in bases)
        is_tuple = any(b is typing.NamedTuple for b in bases)
        is_mixin = not (bases or kwds or decorators or is_enum or is_model or is_dict or is_tuple)
        # a dataclass: of no base, or of dataclasses built here and Generic[T]
        plain_dataclass = decorators and all(
            id(typing.get_origin(b) or b) in self.built and dataclasses.is_dataclass(typing.get_origin(b) or b)
            or typing.get_origin(b) is typing.Generic for b in bases)
        if not (is_enum or is_model or is_dict or is_tuple or is_mixin or plain_dataclass):
            raise Unsafe("not a model, dataclass, Enum, TypedDict or NamedTuple")
        for b in bases:
            allowed = (id(b) in self.built or is_model and id(b) in self._mixins or b is abc.ABC or b in (str, int, float) or b is typing.TypedDict
                       or b is typing_extensions.TypedDict or b is typing.NamedTuple
                       or b in (enum.Enum, enum.IntEnum, enum.StrEnum, enum.Flag, enum.IntFlag)
                       or self._pydantic_own(b)
                       # Generic[T] under a model, a dataclass or a TypedDict: pydantic resolves Model[int] itself
                       or typing.get_origin(b) is typing.Generic and (is_model or decorators or is_dict)
                       or plain_dataclass)
            if not allowed:
                raise Unsafe("a base class from elsewhere")

        body: dict[str, Any] = {"__module__": "__prefect_push__", "__qualname__": stmt.name,
                                "__doc__": ast.get_docstring(stmt, clean=False)}
        annotations: dict[str, Any] = {}
        values: dict[str, Any] = {}
        methods: set[str] = set()
        # a model's fields may name by string the model itself and the classes of its module declared below it
        # (not built yet): pydantic resolves those when the module's classes are there; the fields, as read
        # (a class of the module named as a builtin shadows it there, as pydantic resolves the string)
        forward = frozenset({n for n in self._declared.get(self.scope, set()) if n not in self.names or (
            self.names[n] is vars(builtins).get(n))} | {stmt.name}) if is_model else frozenset()
        forwarded: dict[str, ast.expr] = {}
        serialization: list[str] = []  # the serialization-only members left out (field_serializer, computed_field)
        runs: list[str] = []  # the members left out that run when the class is called (validators, __init__, ...)
        for i, node in enumerate(stmt.body):
            if i == 0 and body["__doc__"] is not None or isinstance(node, ast.Pass) or (
                    isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and node.value.value is ...):
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{stmt.name}.{node.name}"
                known = self._enum_method(node) if is_enum else None
                if known is not None:
                    methods.add(node.name)
                    body[node.name] = known
                    continue
                if node.name in _SCHEMA_HOOKS or node.name.startswith(("__pydantic", "__get_pydantic")) or (
                        is_enum and node.name == "__init__"):
                    raise Unsafe(f"{where}: {node.name} may change the schema")
                kept = self._method(node, where, methods, serialization, runs)
                methods.add(node.name)
                if kept is not None:
                    body[node.name] = kept  # a validator whose declaration is the schema, reproduced (never run)
                continue  # the rest (proven not to change the validation schema) is left out
            if self._never_runs(node):
                continue
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue  # a field's docstring: read by pydantic only under use_attribute_docstrings (refused below)
            named = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
            name = named.id if isinstance(named, ast.Name) else ""
            where = f"{stmt.name}.{name}" if name else stmt.name
            if name == "__pydantic_config__" and not is_model and getattr(node, "value", None) is not None:
                config = self._member_value(node.value, where)  # type: ignore[union-attr, arg-type]
                if not isinstance(config, dict):
                    raise Unsafe(f"{where}: not a ConfigDict")
                body[name] = config  # a dataclass's or TypedDict's config: plain data, read by pydantic
                continue
            if name.startswith("__") and (name in _SCHEMA_HOOKS or name.startswith(("__pydantic", "__get_pydantic"))):
                raise Unsafe(f"{where}: {name} may change the schema")
            if is_model and _private(name, node):
                continue  # a private attribute (or a dunder pydantic ignores): never in the schema
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.simple and (
                    (is_model or decorators) and name != "model_config" and self._class_var(node.annotation)):
                # not a field, whatever its type and value: said to pydantic / dataclasses as a bare ClassVar
                annotations[name] = typing.ClassVar
                continue
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.simple:
                written = _forward_refs(node.annotation, forward)
                if written is None:
                    annotation = inspect.Parameter.empty
                else:
                    annotation = self._annotation(ast.Expression(written), forward=forward)
                if annotation is inspect.Parameter.empty:
                    raise Unsafe(f"{where}: {self.not_followed(node.annotation)}")
                annotations[node.target.id] = annotation
                if written is not node.annotation and any(isinstance(n, ast.Name) and n.id.startswith(_REF)
                                                          for n in ast.walk(written)):
                    forwarded[node.target.id] = written
                if node.value is not None:
                    values[node.target.id] = self._member_value(node.value, where)
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and (
                    is_enum or is_model and node.targets[0].id == "model_config"):
                values[node.targets[0].id] = self._member_value(node.value, where)
            elif is_model and isinstance(node, ast.ClassDef) and node.name == "Config":
                values["Config"] = self._settings_class(node, stmt.name)
            else:
                raise Unsafe(f"{where}: a statement outside the subset ({_short(ast.unparse(node))})")
        if is_dict and values:
            raise Unsafe(f"{stmt.name}: a TypedDict with values")
        if is_mixin and (set(values) - set(annotations) or any(n.startswith("__") for n in annotations)):
            raise Unsafe(f"{stmt.name}: a mixin with class attributes")
        for b in bases:  # a mixin's method a field of this model names would be the field's default
            if id(b) in self._mixins and self._mixins[id(b)] & set(annotations):
                raise Unsafe(f"{stmt.name}: a field named as a mixin's method")
            for c in getattr(typing.get_origin(b) or b, "__mro__", ()):  # ...and so would a base's (left out here)
                shadowed = sorted(self._methods_of.get(id(c), frozenset()) & set(annotations))
                if shadowed:
                    raise Unsafe(f"{stmt.name}.{shadowed[0]}: a field named as a method of {c.__name__}")
        clash = sorted(methods & (set(annotations) | set(values)))
        if clash:  # `c: int = 1` and `def c(self)`: whichever comes last is the class's c, and may be its default
            raise Unsafe(f"{stmt.name}.{clash[0]}: a field and a method of one name")
        body["__annotations__"] = annotations

        def fill(namespace: dict[str, Any]) -> None:
            for key, item in {**body, **values}.items():
                namespace[key] = item  # one by one: Enum's namespace records members in __setitem__

        docs = _attribute_docstrings(stmt)
        reproduced = _reproduce_attribute_docstrings()
        _BUILDING[stmt.name] = docs  # what pydantic reads of the source, while the class is made (a model's fields)
        try:
            # a model gets the parent namespace a class of a module's top level has (pydantic keeps none there),
            # not types.new_class's locals, where pydantic would resolve its strings, at creation and on first use
            cls = types.new_class(stmt.name, tuple(bases), {**kwds, "__pydantic_reset_parent_namespace__": False}
                                  if is_model else kwds, fill)
            if is_model:
                cls.__pydantic_parent_namespace__ = None
            if is_mixin:
                self._mixins[id(cls)] = frozenset(methods)
            for decorate in reversed(decorators):
                cls = decorate(cls)
            for config in configs:
                cls = pydantic.with_config(config)(cls)
            if is_model and not cls.__pydantic_complete__:
                cls.model_rebuild(_types_namespace={**self.names, stmt.name: cls}, raise_errors=False)
            if is_model and not cls.__pydantic_complete__ and not (forwarded or self._pending.get(self.scope)):
                raise Unsafe(f"{stmt.name}: a model naming what is not known")
        finally:
            _BUILDING.pop(stmt.name, None)
        if reproduced:
            _ATTRIBUTE_DOCS[cls] = docs  # ... and later (a TypedDict's or dataclass's, when Prefect makes the schema)
        if is_model and not cls.__pydantic_complete__:  # names a class below it: settled once they are built
            self._pending.setdefault(self.scope, []).append((cls, stmt.name, forwarded))
        elif forwarded:
            why = self._not_as_written(cls, stmt.name, forwarded)
            if why:
                raise Unsafe(why)
        if methods:
            self._methods_of[id(cls)] = frozenset(methods)
        if serialization:
            self._dropped_serialization.add(id(cls))
        if runs:
            self._runs_left_out[id(cls)] = runs[0]
        config = getattr(cls, "model_config", None) or getattr(cls, "__pydantic_config__", None) or {}
        if config.get("use_attribute_docstrings") and not reproduced:  # pydantic reads them from the class's source
            raise Unsafe(f"{stmt.name}: use_attribute_docstrings is not followed")
        if config.get("use_attribute_docstrings") and any(typing.get_origin(b) is typing.Generic or getattr(
                b, "__parameters__", ()) for b in (*bases, cls)):
            # a parametrized class (Page[Item]) is another class, whose source pydantic looks for by its name
            raise Unsafe(f"{stmt.name}: use_attribute_docstrings on a generic class is not followed")
        if config.get("json_schema_mode_override") == "serialization":
            # then pydantic writes this model's serialization schema, which its serializers and computed fields
            # (left out here) change
            dropped = [c.__name__ for c in cls.__mro__ if id(c) in self._dropped_serialization]
            if dropped:
                raise Unsafe(f"{stmt.name}: json_schema_mode_override='serialization', and {dropped[0]}'s serializers "
                             "or computed fields are not followed")
        return cls

    def _settings_class(self, node: ast.ClassDef, owner: str) -> type:
        """A model's pydantic-v1-style `class Config:` of literal settings (title = "...", extra = "forbid")."""
        if node.bases or node.keywords or node.decorator_list:
            raise Unsafe("Config with bases")
        settings: dict[str, Any] = {}
        for i, stmt in enumerate(node.body):
            if i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) or isinstance(
                    stmt, ast.Pass):
                continue
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                    and not stmt.targets[0].id.startswith("_")):
                raise Unsafe("Config holds more than settings")
            settings[stmt.targets[0].id] = self.value(stmt.value)
        # pydantic knows its own nested Config by qualified name and module
        return type("Config", (), {**settings, "__qualname__": f"{owner}.Config", "__module__": "__prefect_push__"})

    def _pydantic_own(self, base: Any) -> bool:
        """BaseModel, RootModel, or one of them (or a model built here) parametrized: RootModel[list[int]]."""
        import pydantic

        origin = getattr(base, "__pydantic_generic_metadata__", {}).get("origin") or base
        return origin in (pydantic.BaseModel, pydantic.RootModel) or id(origin) in self.built

    def _base(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Subscript):  # RootModel[list[int]], Generic[T]: annotations of known things
            value = self._annotation(ast.Expression(node))
            if value is inspect.Parameter.empty:
                raise Unsafe("base")
            return value
        return self._lookup(node)
