"""The module-level definitions a flow's signature depends on, read with ast: what schema.py needs besides the
signature itself to build the parameter schema (models.py builds them), followed into the repository modules the
flow's file imports them from. Pure: trees and a reader of repository files in, statement sources out.
"""
from __future__ import annotations

import ast
import copy
import posixpath
import re
import sys
from functools import cached_property
from typing import Callable, NamedTuple

from .values import Constants


def signature_nodes(args: ast.arguments) -> list[ast.expr]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a)]
    return [*(a.annotation for a in every if a.annotation is not None), *args.defaults,
            *(d for d in args.kw_defaults if d is not None)]


_DEFINITION = (ast.ClassDef, ast.Assign, ast.AnnAssign)
_MAX_DEPTH = 3  # repository modules followed from a flow's file: flows -> models -> base models
# modules whose names are never a repository file: the standard library, and what prefect-push reads otherwise
_NOT_REPO = frozenset(sys.stdlib_module_names) | {"prefect", "pydantic", "typing_extensions", "annotated_types"}
Modules = Callable[[list[str]], dict[str, bytes]]  # repository paths -> sources of those that exist, at the commit


class Declared(NamedTuple):
    """A module-level statement a flow's signature depends on, and the module it is in."""
    scope: str  # repository path of its module; "" for the flow's own file
    source: str  # a class, an assignment, or (in another module) an import
    origin: str = ""  # `from m import X`: the repository path m was read from


class Context:
    """The module-level definitions (classes, `Mode = Literal[...]` aliases, constants) a flow's signature names,
    each bound once in the module, with what they name in turn; followed into the repository modules the file
    imports them from when `modules` can read those. Most flows name none: that costs a set lookup."""

    def __init__(self, tree: ast.Module, constants: Constants, flow_file: str = "", modules: Modules | None = None,
                 scope: str = "", cache: dict[str, Context | None] | None = None) -> None:
        self._tree, self._constants, self._modules, self._scope = tree, constants, modules, scope
        self._flow_file = flow_file
        self._cache = {} if cache is None else cache  # repository path -> its Context (None: unreadable)

    def of(self, nodes: list[ast.expr]) -> tuple[Declared, ...]:
        return tuple(dict.fromkeys(self._for(_names(nodes), 0)))

    def _for(self, wanted: set[str], depth: int) -> list[Declared]:
        if not wanted & self._candidates:
            return []
        defs, imported = self._definitions, self._imported if self._modules and depth < _MAX_DEPTH else {}
        seen: set[int] = set()
        todo, names_imported = sorted(wanted), set()
        while todo:
            name = todo.pop()
            if name in imported:
                names_imported.add(name)
            elif name in defs and id(defs[name]) not in seen:
                seen.add(id(defs[name]))
                todo.extend(n for n in _names(_referred(defs[name])) if n in defs or n in imported)
        out: list[Declared] = []
        by_module: dict[tuple[int, str], list[str]] = {}
        for name in sorted(names_imported):
            by_module.setdefault(imported[name][:2], []).append(name)
        for (level, module), names in by_module.items():
            other = self._module(level, module)
            if other is None:
                continue
            out += other._for({imported[n][2] for n in names}, depth + 1)
            out += [Declared(self._scope, f"from {module} import {imported[n][2]} as {n}", other._scope)
                    for n in names]
        if seen and self._scope:  # another module's classes need its own imports (pydantic, enum, ...)
            # (`import os` has no level; a relative import is followed above, for the names it binds)
            out += [Declared(self._scope, ast.unparse(s)) for s in self._tree.body
                    if isinstance(s, ast.Import) or isinstance(s, ast.ImportFrom) and not s.level]
        out += [Declared(self._scope, _source(s)) for s in self._tree.body if id(s) in seen]  # in file order
        return out

    def _module(self, level: int, module: str) -> Context | None:
        """The repository file `from <module> import ...` runs, as Prefect loads an entrypoint: the flow's
        directory, then the repository root (a relative import: the importing file's directory)."""
        parts = module.split(".")
        flow_dir = posixpath.dirname(self._flow_file)
        bases = [posixpath.dirname(self._scope)] if level and self._scope else [flow_dir, ""]
        paths = [posixpath.join(b, *parts) + suffix for b in dict.fromkeys(bases)
                 for suffix in (".py", "/__init__.py")]
        for path in paths:
            if path not in self._cache:
                self._cache[path] = None
                assert self._modules is not None
                source = self._modules([path]).get(path)
                if source is not None:
                    try:
                        text = source.decode("utf-8-sig")
                        tree = ast.parse(text, filename=path)
                    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeDecodeError):
                        continue
                    self._cache[path] = Context(tree, Constants(tree, text), self._flow_file, self._modules, path,
                                                 self._cache)
            if self._cache[path] is not None:
                return self._cache[path]
        return None

    @cached_property
    def _candidates(self) -> set[str]:
        names = {n for stmt in self._tree.body if _definition(stmt) for n in _bound(stmt)}
        return names | set(self._from_imports) if self._modules else names

    @cached_property
    def _definitions(self) -> dict[str, ast.stmt]:
        counts = self._constants.bindings  # a name bound twice holds what running the file decides: not read
        return {n: stmt for stmt in self._tree.body if _definition(stmt)
                for n in _bound(stmt) if counts[n] == 1}

    @cached_property
    def _from_imports(self) -> dict[str, tuple[int, str, str]]:
        """`from m import X as Y` of a module that may be the repository's: Y -> (level, m, X)."""
        out = {}
        for stmt in self._tree.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level <= 1 and (
                    stmt.level or stmt.module.split(".")[0] not in _NOT_REPO):
                for alias in stmt.names:
                    if alias.name != "*":
                        out[alias.asname or alias.name] = (stmt.level, stmt.module, alias.name)
        return out

    @cached_property
    def _imported(self) -> dict[str, tuple[int, str, str]]:
        counts = self._constants.bindings
        return {n: v for n, v in self._from_imports.items() if counts[n] == 1}


def _definition(stmt: ast.stmt) -> bool:
    return isinstance(stmt, _DEFINITION) or _returns_a_call(stmt)


def _returns_a_call(stmt: ast.stmt) -> bool:
    """`def get_model(): return create_model("M", ...)`: a function of no parameters and no decorator whose body
    is one `return` of a call (a docstring above it aside). models.py makes what it returns only when the call is
    pydantic's create_model of what it knows; never the function."""
    if not isinstance(stmt, ast.FunctionDef) or stmt.decorator_list or stmt.returns is not None:
        return False
    a = stmt.args
    if a.posonlyargs or a.args or a.vararg or a.kwonlyargs or a.kwarg:
        return False
    body = stmt.body[1:] if ast.get_docstring(stmt, clean=False) is not None else stmt.body
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Call)


def _source(stmt: ast.stmt) -> str:
    """The statement as source, a class's method bodies left out: they never count (their names do). A body
    that is one `return` is kept: models.py recognises a few such methods by their shape (an Enum's
    `_generate_next_value_` that returns the name), and runs none."""
    if not isinstance(stmt, ast.ClassDef):
        return ast.unparse(stmt)
    body = [copy.copy(n) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n for n in stmt.body]
    for n in body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            code = n.body[1:] if ast.get_docstring(n, clean=False) is not None else n.body
            one_return = len(code) == 1 and isinstance(code[0], ast.Return)
            n.body = code if one_return else [ast.Expr(ast.Constant(...))]
    shallow = copy.copy(stmt)
    shallow.body = body
    return ast.unparse(shallow)


def _bound(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, (ast.ClassDef, ast.FunctionDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        return [t.id for t in stmt.targets]  # type: ignore[attr-defined]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return [stmt.target.id]
    return []


def _referred(stmt: ast.stmt) -> list[ast.AST]:
    """What a definition's names are read from: a class's bases, keywords, decorators and body (methods' bodies
    run later, if ever: not read); an assignment's value."""
    if isinstance(stmt, ast.FunctionDef):  # _returns_a_call: what it returns
        return [stmt.body[-1].value] if isinstance(stmt.body[-1], ast.Return) and stmt.body[-1].value else []
    if not isinstance(stmt, ast.ClassDef):
        return [stmt.value] if stmt.value is not None else []  # type: ignore[attr-defined]
    out: list[ast.AST] = [*stmt.bases, *(k.value for k in stmt.keywords), *stmt.decorator_list]
    for node in stmt.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.extend(node.decorator_list)
        elif isinstance(node, ast.ClassDef):
            out.extend(_referred(node))
        else:
            out.append(node)
    return out


_ANNOTATION_TEXT = re.compile(r"[\w\[\]., |]{1,200}")  # what a string annotation looks like: list["Item"]


def _names(nodes: list) -> set[str]:
    """Names read by `nodes`, those inside string annotations ("Config", list["Item"]) included."""
    out: set[str] = set()
    for root in nodes:
        for n in ast.walk(root):
            if isinstance(n, ast.Name):
                out.add(n.id)
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier():
                out.add(n.value)
            elif isinstance(n, ast.Constant) and isinstance(n.value, str) and _ANNOTATION_TEXT.fullmatch(n.value):
                try:
                    out |= _names([ast.parse(n.value, mode="eval")])
                except (SyntaxError, ValueError, RecursionError):
                    pass
    return out
