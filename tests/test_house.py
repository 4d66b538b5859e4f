"""The package is a house, each floor importing only the floors below it (docs/development.md, "The modules"): no
import circle, and read/ a wing that imports nothing of the package but git.

The imports are read with `ast` from src/prefect_push: at module level (TYPE_CHECKING blocks too) and inside
functions (a lazy import is still an edge), relative and absolute. `from . import git` imports prefect_push.git;
`from .engine import Blocked` imports prefect_push.engine; `from . import version` (a name, not a module) imports
the package's own __init__. The parent packages Python loads on the way are not counted: the package's __init__
and read/__init__.py import nothing (asserted below).
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

PACKAGE = "prefect_push"
SRC = Path(__file__).resolve().parent.parent / "src" / PACKAGE


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _ours(name: str) -> bool:
    return name == PACKAGE or name.startswith(PACKAGE + ".")


def _module_of(name: str) -> str:
    """The package's module a dotted name lives in: itself, else the module that defines it."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules one import statement of `module` imports."""
    if isinstance(node, ast.Import):
        return [_module_of(a.name) for a in node.names if _ours(a.name)]
    if node.level:
        base = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
        if not _ours(prefix):
            return []
    # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself (a name defined in it)
    return [_module_of(f"{prefix}.{a.name}") if f"{prefix}.{a.name}" in MODULES else _module_of(prefix)
            for a in node.names]


def _hidden(module: str, node: ast.Call) -> str | None:
    """importlib.import_module("prefect_push...") / __import__(...) with a literal name of ours: an edge hidden from
    this walk, which a house must not have."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and (_ours(arg.value) or arg.value.startswith(".")):
        return f"{module}:{node.lineno} {called}({arg.value!r})"
    return None


def edges(module: str, source: str) -> tuple[set[str], list[str]]:
    """The package's modules `module` imports anywhere in its source (module level, TYPE_CHECKING, functions), and
    any import hidden in a call."""
    found: set[str] = set()
    hidden: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(t for t in _targets(module, node) if t in MODULES and t != module)
        elif isinstance(node, ast.Call):
            said = _hidden(module, node)
            if said:
                hidden.append(said)
    return found, hidden


def imports() -> tuple[dict[str, set[str]], list[str]]:
    """module -> the package's modules it imports; and every import hidden in a call."""
    graph: dict[str, set[str]] = {}
    hidden: list[str] = []
    for module, path in MODULES.items():
        graph[module], more = edges(module, path.read_text(encoding="utf-8"))
        hidden += more
    return graph, hidden


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle: one shortest cycle through each strongly connected group of modules, named module by
    module (a -> b -> a); the group's other members after it when there are more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's; the package is small enough for recursion
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    named = []
    for group in groups:
        start, members = group[0], set(group)
        came: dict[str, str] = {}
        todo = deque([start])
        while todo:  # the shortest way from start back to itself, inside the group
            v = todo.popleft()
            for w in sorted(graph[v] & members):
                if w == start:
                    cycle = [start]
                    while v != start:
                        cycle.insert(1, v)
                        v = came[v]
                    named.append(cycle + [start] + sorted(members - set(cycle)))
                    todo.clear()
                    break
                if w not in came:
                    came[w] = v
                    todo.append(w)
    return named


def _said(circle: list[str]) -> str:
    end = circle.index(circle[0], 1)
    line = " -> ".join(circle[:end + 1])
    rest = circle[end + 1:]
    return line + (f" (its group also holds {', '.join(rest)})" if rest else "")


def test_the_package_has_no_import_circle():
    graph, hidden = imports()
    assert not hidden, f"imports hidden from this walk (import the module, or pass a callable in): {hidden}"
    found = [_said(c) for c in circles(graph)]
    assert not found, "import circles:\n" + "\n".join(found)


def test_the_walk_sees_every_kind_of_import():
    """The walk itself: lazy, TYPE_CHECKING, relative and absolute imports, hidden ones; and a circle is named."""
    source = """
from typing import TYPE_CHECKING
import os
from . import git, version
from .read.config import Config
from ..outside import x
import prefect_push.plan
from prefect_push import push as p
from prefect_push.read import flows
if TYPE_CHECKING:
    from .engine import Prepared
def f():
    from .registrar import run
    import importlib
    importlib.import_module("prefect_push.server")
    __import__(".report")
    importlib.import_module(os.environ["X"])
class C:
    def m(self):
        from .read import suggest
"""
    found, hidden = edges(f"{PACKAGE}.facts", source)
    assert found == {PACKAGE, *(f"{PACKAGE}.{m}" for m in ("git", "read.config", "plan", "push", "read.flows", "engine",
                                                           "registrar", "read.suggest"))}, found
    assert hidden == [f"{PACKAGE}.facts:15 import_module('prefect_push.server')",
                      f"{PACKAGE}.facts:16 __import__('.report')"], hidden
    found, _ = edges(f"{PACKAGE}.read.settings", "from .. import git\nfrom .spec import BadFlow\n"
                                                  "from ..read import values\nfrom . import flows\n")
    assert found == {f"{PACKAGE}.git", f"{PACKAGE}.read.spec", f"{PACKAGE}.read.values", f"{PACKAGE}.read.flows"}
    assert edges(f"{PACKAGE}.read", "from . import config\n")[0] == {f"{PACKAGE}.read.config"}  # a package's own
    loop = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert [_said(c) for c in circles(loop)] == ["a -> b -> c -> a"]


def test_read_imports_nothing_of_the_package_but_git():
    """read/ parses the user's files and never imports or runs them; whoever changes a reader finds its safety
    rules in the wing alone, and the push path reads through it, never the other way."""
    graph, _ = imports()
    wing = f"{PACKAGE}.read"
    outside = {m: sorted(t for t in targets if t != wing and not t.startswith(wing + ".") and t != f"{PACKAGE}.git")
               for m, targets in graph.items() if m == wing or m.startswith(wing + ".")}
    assert not {m: t for m, t in outside.items() if t}, f"read/ imports from outside read/ (only git may be): {outside}"


def test_the_floors_that_hold_the_house_up_import_nearly_nothing():
    """The package's __init__ and read/__init__.py import nothing of the package (Python loads them on the way to
    any module below them); errors.py, which every floor may use, stands on git and state only."""
    graph, _ = imports()
    assert graph[PACKAGE] == set() and graph[f"{PACKAGE}.read"] == set()
    assert graph[f"{PACKAGE}.errors"] <= {PACKAGE, f"{PACKAGE}.git", f"{PACKAGE}.state"}, graph[f"{PACKAGE}.errors"]
    assert graph[f"{PACKAGE}.git"] == set() and graph[f"{PACKAGE}.state"] <= {f"{PACKAGE}.git"}
    # the entry (fast: the console script and the installed hook) is the roof: nothing below imports it
    assert [m for m, targets in graph.items() if f"{PACKAGE}.fast" in targets] == [f"{PACKAGE}.__main__"]


def test_the_write_path_rooms_import_nothing_above_them():
    """api/ (settings, HTTP client, request bodies) imports nothing of the package but its own rooms: the write
    path's pieces stand alone, under server.py, which is the only module that uses them."""
    graph, _ = imports()
    room = f"{PACKAGE}.api"
    for module, targets in graph.items():
        if module == room or module.startswith(room + "."):
            assert all(t == room or t.startswith(room + ".") for t in targets), (module, targets)
    users = sorted(m for m, targets in graph.items() if not m.startswith(room)
                   and any(t == room or t.startswith(room + ".") for t in targets))
    assert users == [f"{PACKAGE}.server"], users


def test_importing_the_package_changes_nothing_of_the_environment():
    """A module import changes no environment variable (server.py once set PREFECT_CLIENT_MAX_RETRIES on import:
    a test importing it passed 'no retries' on to every worker it started, which crashed runs on a 503)."""
    import subprocess
    import sys

    code = ("import os, pkgutil, importlib, prefect_push; before = dict(os.environ); "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(prefect_push.__path__, 'prefect_push.') "
            "if not m.name.endswith('__main__')]; "
            "changed = sorted(set(os.environ.items()) ^ set(before.items())); assert not changed, changed")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
