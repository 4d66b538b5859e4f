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

Here: the Namespace (the scopes of the modules read, their imports and statements, a module's forward references
settled once its classes are built) and the one eval of the wing, an annotation's, with _harmless, the check of its
tree before it (tests/realcode.py's tripwire allows that eval from this file only, and its negative control switches
_harmless off here). Its other methods come from one module per step, each a mixin:
- models_values.py: a value (a default, a field's value, a class keyword) and a dotted name looked up;
- models_annotations.py: what an annotation may be made of (stand-ins, forward references) and what of one was not
  followed (the fallback's words);
- models_classes.py: a class statement built (bases, decorators, fields, config);
- models_members.py: the audit of a class body's methods: what is left out, what is reproduced, what falls back;
- models_calls.py: what a module-level call makes (create_model, Enum("..."), TypeVar);
- models_docstrings.py: use_attribute_docstrings, pydantic's source reader handed the docstrings read here.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
from typing import TYPE_CHECKING, Any

from .models_annotations import (_ANNOTATION_NODES, _METADATA_DATA, _METADATA_TYPES, _REF, _UNTYPED_RETURN,
                                 AnnotationReader, _function_metadata, _literal, _metadata_helpers, _no_forward_refs,
                                 _typed)
from .models_calls import MadeByCalls
from .models_classes import ClassBuilder
from .models_members import MemberAudit
from .models_values import PREFECT_TYPES, SAFE_MODULES, ValueReader
from .values import Unsafe

if TYPE_CHECKING:
    from .context import Declared


class Namespace(ClassBuilder, MadeByCalls, MemberAudit, ValueReader, AnnotationReader):
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


def eval_text_annotation(tree: ast.Expression, names: dict[str, Any]) -> Any:
    """An annotation Prefect reads as text, evaluated in the namespace of its schema builder
    (textannotations.resolve, which allows names, attributes, [], | and constants only): here, beside the other
    eval of an annotation, behind the same check. Raises NameError for a name the namespace lacks."""
    if not _harmless(tree, names):
        raise LookupError("not a plain type expression")
    return eval(compile(tree, "<annotation>", "eval"), names)  # noqa: S307 - checked by _harmless


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
