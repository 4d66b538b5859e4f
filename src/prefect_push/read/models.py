"""The names a flow's signature uses, as real Python objects built only from what the file declares.

flows.py hands over the source of the module-level definitions a signature names (FlowSpec.context). Here:
- constants and values: literals, arithmetic, and calls of a short allow-list of standard-library constructors
  (datetime, date, time, timedelta, timezone, Decimal, Path, UUID, ipaddress's, and Prefect's DateTime, Date,
  Duration) with such arguments, and instances of the classes built here (made, and dumped, by pydantic);
- aliases (`Mode = Literal["a", "b"]`): evaluated as annotations are (see `annotation`);
- classes: pydantic models, dataclasses, Enums (str/int too), TypedDicts and NamedTuples, generic ones too, built
  with types.new_class from their declared fields only (annotation, default, Field(...)/field(...) with literal
  arguments, model_config, with_config, __pydantic_config__). The class body never runs. Every member is audited
  (docs/flows-and-schemas.md, "Every member of a class"; tests/test_schema_specs.py checks each kind on the real
  pydantic): a method is left out once its decorators are proven not to change the validation-mode schema
  Prefect writes (before/after/wrap validators, serializers, computed fields, properties...), a field_validator
  whose declaration is the schema (mode "plain", json_schema_input_type) is reproduced over a stand-in never run,
  and pydantic's Annotated metadata likewise (AfterValidator(f): f is a stand-in); an Enum's name-returning
  _generate_next_value_ and auto() helper are recognised by shape; private attributes, ClassVars, field
  docstrings and `if TYPE_CHECKING:` blocks are skipped (never fields); a default_factory not known is a stand-in
  that refuses to run. A class with anything that could change its schema (a metaclass, a
  __get_pydantic_json_schema__, an unknown decorator on it or on a method, an unknown base, a field named as a
  method, json_schema_mode_override="serialization" over left-out serializers, a statement outside the subset) is
  not built at all, and Namespace.refused says which member and what of it.
  Bases: pydantic/enum/typing's own, Generic[T], abc.ABC, classes built here, plain mixins of fields.
  A model's fields may name by string the model itself, the classes built before it and the module's classes and
  aliases below it (pydantic resolves those once they are built, each field checked to be the type written);
  under use_attribute_docstrings, pydantic gets the field docstrings its own reader finds in the class as read;
  `X = create_model("X", a=(int, 1), ...)` (or returned by a no-argument function of the module) is pydantic's
  create_model of what is known here.
What is not built stays unknown, and the parameter falls back to untyped / None as Prefect's own reader does.
"""
from __future__ import annotations

import ast
import builtins
import copy
import importlib
import inspect
import re
import types
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from .values import Unsafe, literal_value

if TYPE_CHECKING:
    from .context import Declared

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
# methods that change what a class's schema is: a class defining one is not built
_SCHEMA_HOOKS = frozenset({"__get_pydantic_json_schema__", "__get_pydantic_core_schema__", "model_json_schema",
                           "__modify_schema__", "__init_subclass__", "__class_getitem__", "__new__",
                           "__set_name__", "_generate_next_value_", "__pydantic_init_subclass__", "__prepare__",
                           "__get_validators__", "model_parametrized_name"})
# keyword arguments of pydantic's Field / dataclasses' field that are plain data
_FIELD_ARGS = frozenset({
    "default", "default_factory", "alias", "alias_priority", "validation_alias", "serialization_alias", "title",
    "description", "examples", "exclude", "discriminator", "deprecated", "json_schema_extra", "frozen",
    "validate_default", "repr", "init", "init_var", "kw_only", "pattern", "strict", "coerce_numbers_to_str", "gt",
    "ge", "lt", "le", "multiple_of", "allow_inf_nan", "max_digits", "decimal_places", "min_length", "max_length",
    "union_mode", "fail_fast", "compare", "hash", "metadata",
})
_FACTORIES = (list, dict, set, tuple, frozenset, str, int, float, bool)


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


class Namespace:
    """What the flow's file binds, as far as it can be known without running it."""

    def __init__(self, imports: tuple[tuple[str, str, str | None], ...], context: tuple[Declared, ...]) -> None:
        self.built: set[int] = set()  # ids of the classes built here: they may be called for a default
        self._alive: list[type] = []  # ...and the classes themselves, so no id is reused while this lives
        # plain classes of fields only (`class OperatorMixin:` with `operator: Op = Field(...)`), a base of models:
        # pydantic takes their annotated fields; id -> the names of their methods (left out here)
        self._mixins: dict[int, frozenset[str]] = {}
        # per module (repository path; "" the flow's file): its names, and its module-level values
        self._scopes: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        # a class not built -> what of it was not followed ("Job.c: @field_validator(mode='plain') ..."), for the
        # fallback line; and the ids of the classes built here that left out a serialization-only member
        self._refusals: dict[str, dict[str, str]] = {}
        self._dropped_serialization: set[int] = set()
        self._methods_of: dict[int, frozenset[str]] = {}  # id of a class built here -> its methods, left out
        self._runs_left_out: dict[int, str] = {}  # id of a class -> a member left out that runs when it is called
        # (id of a scope's names, function) -> the call `def get_model(): return <call>` returns (never run)
        self._returning: dict[tuple[int, str], ast.expr] = {}
        # per module: the classes its context declares, which a model may name by string above them ("Customer"),
        # and the models that did so, left incomplete by pydantic until the module's classes are all built
        self._declared: dict[str, set[str]] = {}
        self._pending: dict[str, list[tuple[type, str, dict[str, ast.expr]]]] = {}
        self.scope = ""
        self.names, self.values = self._scope("")
        for bound, module, attr in imports:
            self._import(bound, module, attr)
        statements: list[tuple[Declared, ast.stmt]] = []
        for entry in context:
            try:
                statements.append((entry, ast.parse(entry.source).body[0]))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            declared = statements[-1][1]  # a class, or an alias (`TriggerTypes: TypeAlias = Union[...]`)
            bound = [declared.name] if isinstance(declared, ast.ClassDef) else [
                t.id for t in getattr(declared, "targets", [getattr(declared, "target", None)]) if isinstance(
                    t, ast.Name)] if isinstance(declared, (ast.Assign, ast.AnnAssign)) else []
            self._declared.setdefault(entry.scope, set()).update(bound)
        for entry, stmt in statements:
            if entry.origin and isinstance(stmt, ast.ImportFrom):
                self._settle(entry.origin)  # that module's classes are all built: its forward references resolve
            self.names, self.values = self._scope(entry.scope)
            try:
                self._define(stmt, entry.origin)
            except (Unsafe, SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
                continue  # stays unknown
        for scope in list(self._pending):
            self._settle(scope)
        self.names, self.values = self._scope("")

    def _mark(self, cls: type) -> None:
        self.built.add(id(cls))
        self._alive.append(cls)

    def _scope(self, scope: str) -> tuple[dict[str, Any], dict[str, Any]]:
        self.scope = scope
        self.refused = self._refusals.setdefault(scope, {})  # the scope's classes not built, and why
        if scope not in self._scopes:
            self._scopes[scope] = (dict(vars(builtins)), {})
        return self._scopes[scope]

    def _settle(self, scope: str) -> None:
        """The models of a module that named a class declared below them by string (or that name such a model), now
        that its classes are built: rebuilt by pydantic with the module's names, as pydantic does on their first use
        in the real module, and each field a string named checked to be the type written, the classes in their
        place. A model still incomplete, or not resolved as written, is not built (said)."""
        pending = self._pending.pop(scope, [])
        if not pending:
            return
        saved = self.names, self.values, self.refused, self.scope
        self.names, self.values = self._scope(scope)
        try:
            progress = True
            while pending and progress:
                progress = False
                for item in list(pending):
                    cls, name, forwarded = item
                    try:
                        cls.model_rebuild(_types_namespace={**self.names, name: cls}, raise_errors=False)
                    except Exception:  # noqa: BLE001 - pydantic refuses it: not built, below
                        continue
                    if cls.__pydantic_complete__:
                        pending.remove(item)
                        progress = True
                        why = self._not_as_written(cls, name, forwarded)
                        if why:
                            self._unbind(name, cls, why)
            for cls, name, forwarded in pending:
                missing = sorted((f, n.id[len(_REF):]) for f, written in forwarded.items() for n in ast.walk(written)
                                 if isinstance(n, ast.Name) and n.id.startswith(_REF) and n.id[len(_REF):] != name
                                 and n.id[len(_REF):] not in self.names)
                self._unbind(name, cls, f"{name}.{missing[0][0]}: the string {missing[0][1]!r} names what is not built"
                             if missing else f"{name}: a model naming what is not known")
        finally:
            self.names, self.values, self.refused, self.scope = saved

    def _unbind(self, name: str, cls: type, why: str) -> None:
        if self.names.get(name) is cls:
            del self.names[name]
        self.refused[name] = why

    def _not_as_written(self, cls: type, name: str, forwarded: dict[str, ast.expr]) -> str:
        """Proven, not assumed: each field whose annotation named a class by string has, as pydantic resolved it,
        the type written with the classes built here in their place. What differs, or "" when none does."""
        for field, written in forwarded.items():
            refs = {n.id[len(_REF):] for n in ast.walk(written) if isinstance(n, ast.Name) and n.id.startswith(_REF)}
            if any(r != name and r not in self.names for r in refs):
                return f"{name}.{field}: a string names what is not built"
            expected = self._annotation(ast.Expression(written), resolved={r: cls if r == name else self.names[r]
                                                                           for r in refs})
            if expected is inspect.Parameter.empty or cls.model_fields[field].annotation != expected:
                return f"{name}.{field}: its forward reference is not resolved as written"
        return ""

    def _import(self, bound: str, module: str, attr: str | None) -> None:
        if module in PREFECT_TYPES:
            import prefect.utilities.callables  # noqa: F401 - what schema.py imports anyway: it imports prefect.types
        elif module not in SAFE_MODULES:
            return
        try:
            mod = importlib.import_module(module)
            self.names[bound] = getattr(mod, attr) if attr else mod
        except Exception:  # noqa: BLE001 - an unresolvable name just stays unknown
            return

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

    # --- annotations ---

    def annotation(self, source: str | None) -> Any:
        """An annotation's source evaluated against what is known; inspect.Parameter.empty when it can't be."""
        if source is None:
            return inspect.Parameter.empty
        try:
            tree = ast.parse(source, mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return inspect.Parameter.empty
        return self._annotation(tree)

    def _annotation(self, tree: ast.Expression, depth: int = 0, forward: frozenset[str] = frozenset(),
                    resolved: dict[str, Any] | None = None) -> Any:
        """`forward`: the classes a model's field may name by string before they are built (the model itself, a
        class declared below it), each `_REF + name` in the tree (_forward_refs): evaluated to typing's ForwardRef
        of it, for pydantic to resolve; `resolved`: the classes, in their place."""
        try:
            tree, names = self._stand_ins(tree)
            if forward or resolved:
                import typing

                names = {**names, **{_REF + n: typing.ForwardRef(n) for n in forward},
                         **{_REF + n: c for n, c in (resolved or {}).items()}}
            if not _harmless(tree, names):
                return inspect.Parameter.empty
            value = eval(compile(tree, "<annotation>", "eval"), names)  # noqa: S307 - checked by _harmless
        except Exception:  # noqa: BLE001 - Prefect falls back the same way
            return inspect.Parameter.empty
        if isinstance(value, str) and depth == 0:  # "Config": what eval_str=True does
            try:
                return self._annotation(ast.parse(value, mode="eval"), 1)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                return inspect.Parameter.empty
        if not _typed(value, forward=forward):  # a string (or ForwardRef) left anywhere in it: pydantic would eval it
            return inspect.Parameter.empty
        return value

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

    # --- module-level definitions ---

    def _define(self, stmt: ast.stmt, origin: str = "") -> None:
        if isinstance(stmt, ast.ImportFrom) and origin:  # from a repository module read before: what it built
            here = self.refused
            names, values = self._scope(origin)
            there, self.refused = self.refused, here
            for alias in stmt.names:
                if alias.name in there:
                    self.refused[alias.asname or alias.name] = there[alias.name]
                if alias.name in names and alias.name not in vars(builtins):
                    self.names[alias.asname or alias.name] = names[alias.name]
                if alias.name in values:
                    self.values[alias.asname or alias.name] = values[alias.name]
            return
        if isinstance(stmt, ast.Import):  # another module's own imports
            for alias in stmt.names:
                self._import(alias.asname or alias.name.split(".")[0], alias.name if alias.asname
                             else alias.name.split(".")[0], None)
            return
        if isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                self._import(alias.asname or alias.name, stmt.module or "", alias.name)
            return
        if isinstance(stmt, ast.ClassDef):
            try:
                cls = self._build(stmt)
            except Unsafe as exc:  # what is not followed: unknown, and said why
                self.refused[stmt.name] = str(exc) if str(exc).startswith(stmt.name) else f"{stmt.name}: {exc}"
                return
            except Exception as exc:  # noqa: BLE001 - the library refused the declaration: unknown
                self.refused[stmt.name] = f"{stmt.name}: pydantic refuses the declaration ({type(exc).__name__})"
                return
            self.refused.pop(stmt.name, None)
            self.names[stmt.name] = cls
            if id(cls) in self._mixins:
                self._alive.append(cls)  # a base of models only: never called, its members never read
            else:
                self._mark(cls)
            return
        if isinstance(stmt, ast.FunctionDef):  # `def get_model(): return create_model(...)`: kept, never called
            self._returning[(id(self.names), stmt.name)] = stmt.body[-1].value  # type: ignore[attr-defined]
            return
        if not isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            return
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
        names = [t.id for t in targets]  # flows.py hands over Name targets only
        try:
            created = self._created_model(stmt.value)  # type: ignore[arg-type]
        except Unsafe as exc:
            for n in names:
                self.refused[n] = f"{n}: {exc}"
            return
        if created is not None:
            for n in names:
                self.names[n] = created
            return
        functional = self._functional_enum(stmt.value)  # type: ignore[attr-defined, arg-type]
        if functional is None and len(names) == 1:
            functional = self._typevar(stmt.value, names[0])  # type: ignore[attr-defined, arg-type]
        if functional is not None:
            for n in names:
                self.names[n] = functional
            return
        try:
            value = self.value(stmt.value)  # type: ignore[attr-defined, arg-type]
            for n in names:
                self.values[n] = self.names[n] = value
            return
        except Unsafe:
            pass
        alias = self._annotation(ast.Expression(stmt.value))  # type: ignore[attr-defined]
        if alias is not inspect.Parameter.empty:
            for n in names:
                self.names[n] = alias

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

    def _member_value(self, node: ast.expr, where: str) -> Any:
        try:
            return self.value(node, in_class=True)
        except Unsafe as exc:
            raise Unsafe(f"{where}: = {_short(ast.unparse(node))} is not evaluated ({exc})") from None

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


# use_attribute_docstrings: pydantic reads a field's docstring (a string right below it) from the class's source,
# which a class built here has none of. What its own reader (DocstringVisitor) finds in the class's source as
# read is handed to it instead, through its one function that reads the source (extract_docstrings_from_cls,
# wrapped once, as the two modules that call it see it): for the classes built here only, any other class is
# read as before. pydantic then applies them itself (a field's own description first).
_ATTRIBUTE_DOCS: weakref.WeakKeyDictionary[type, dict[str, str]] = weakref.WeakKeyDictionary()
_BUILDING: dict[str, dict[str, str]] = {}  # a class's name -> its docstrings, while it is made


def _attribute_docstrings(stmt: ast.ClassDef) -> dict[str, str]:
    try:
        from pydantic._internal._docs_extraction import DocstringVisitor
    except ImportError:
        return {}
    visitor = DocstringVisitor()
    visitor.generic_visit(stmt)  # as pydantic visits the class statement it parsed from the file
    return dict(visitor.attrs)


@lru_cache(maxsize=1)
def _reproduce_attribute_docstrings() -> bool:
    """Wrap pydantic's source reader once; False (use_attribute_docstrings then falls back) if it is not there."""
    try:
        from pydantic._internal import _docs_extraction, _fields, _generate_schema
    except ImportError:
        return False
    original = getattr(_docs_extraction, "extract_docstrings_from_cls", None)
    users = [m for m in (_fields, _generate_schema) if getattr(m, "extract_docstrings_from_cls", None) is original]
    if original is None or len(users) != 2:
        return False

    def extract_docstrings_from_cls(cls: type[Any], use_inspect: bool = False) -> dict[str, str]:
        try:
            docs = _ATTRIBUTE_DOCS.get(cls)
        except TypeError:
            docs = None
        if docs is None and getattr(cls, "__module__", None) == "__prefect_push__":
            docs = _BUILDING.get(getattr(cls, "__qualname__", ""), {})
        if docs is not None:
            return dict(docs)
        return original(cls, use_inspect=use_inspect)

    extract_docstrings_from_cls.__wrapped__ = original  # type: ignore[attr-defined]
    for module in users:
        module.extract_docstrings_from_cls = extract_docstrings_from_cls  # type: ignore[attr-defined]
    return True


def _private(name: str, node: ast.stmt) -> bool:
    """A model's `_x: T = ...` / `_x = ...` (a private attribute) or `__x__: T` (no value): pydantic keeps neither
    as a field, so neither is in the schema. A dunder with a value is not skipped (it may be a hook)."""
    if not name.startswith("_"):
        return False
    if name.startswith("__"):
        return isinstance(node, ast.AnnAssign) and node.value is None
    return isinstance(node, (ast.AnnAssign, ast.Assign))


def _short(source: str, room: int = 50) -> str:
    text = " ".join(source.split())
    return text if len(text) <= room else text[:room - 3] + "..."


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


def _unread_factory() -> Any:
    """A default_factory prefect-push does not run (see Namespace._factory)."""
    raise Unsafe("a default_factory prefect-push does not run")


def _name_as_value(name: str, *_: object, **__: object) -> str:
    """An Enum's `_generate_next_value_` that returns the member's name (recognised in Namespace._enum_method)."""
    return name


def _auto() -> Any:
    """An Enum's `auto()` helper that returns enum.auto() (recognised in Namespace._enum_method)."""
    import enum

    return enum.auto()


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


def _harmless(tree: ast.Expression, ns: dict[str, Any]) -> bool:
    allowed = _metadata_helpers()
    functional = _function_metadata()
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
                func = eval(compile(ast.Expression(callee), "<annotation>", "eval"), dict(ns))  # noqa: S307 - names
            except Exception:  # noqa: BLE001
                return False
            if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
                return False
            if any(func is m for m in functional):
                # its function: the stand-in (a name bound to it, put there by _stand_ins); the rest data or types
                stand_ins = [a for a in node.args] + [k.value for k in node.keywords if k.arg == "func"]
                keywords = [k for k in node.keywords if k.arg != "func"]
                serializer = "Serializer" in getattr(func, "__name__", "")
                given = ns.get(stand_ins[0].id) if len(stand_ins) == 1 and isinstance(stand_ins[0], ast.Name) else None
                if not any(given is f for f in (*functional.values(), *_UNTYPED_RETURN.values())) or any(
                        k.arg not in _METADATA_TYPES | _METADATA_DATA for k in keywords) or (
                        serializer and not any(k.arg == "return_type" for k in keywords) and not any(
                        given is f for f in _UNTYPED_RETURN.values())):
                    return False  # a serializer's schema without return_type is its function's return annotation
                if not all(_literal(k.value, ns) if k.arg in _METADATA_DATA else (
                        _harmless(ast.Expression(k.value), ns) and _no_forward_refs(k.value)) for k in keywords):
                    return False
                continue
            if not any(func is a for a in allowed):
                return False
            # a helper's arguments are literals only: Field(json_schema_extra=exit) would have pydantic call exit
            # (a positional argument may be a type: conlist(Item, min_length=1))
            if not all(_literal(a, ns) or isinstance(a, ast.Name) and isinstance(ns.get(a.id), type)
                       for a in node.args) or not all(_literal(k.value, ns) for k in node.keywords):
                return False
    whole = isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str)  # "Config": re-read by us
    return whole or _no_forward_refs(tree.body)


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
