"""Flow files a push changes without touching them: through what they import, or through declared data files.

Code is read with `ast` from git's object database, never imported. Only files that can import a changed module
are parsed: `git grep -w` over the pushed commit names them (a file importing `helpers` mentions the word), so a
one-file push costs a couple of git calls and a handful of parses, not a parse of the whole tree.
"""
from __future__ import annotations

import ast
import posixpath
import re
import warnings
from functools import lru_cache
from typing import Callable, Iterator, NamedTuple, Sequence

from .. import git
from .config import glob_match

# a relative import (`from . import x`, `from .m import y`): may run the __init__.py of the package it is in
_RELATIVE = r"(^|[^[:alnum:]_])from[[:space:]]+\."
_WORD = re.compile(rb"\w+")  # bytes \w is [A-Za-z0-9_]: git grep -w's word characters
_FROM_DOT = re.compile(rb"(?<!\w)from\s+\.")
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError)
# statement fields holding statements (ExceptHandler and match_case too): where nested imports live
_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


class Import(NamedTuple):
    level: int  # 0 absolute; 1 `from .`, 2 `from ..`, ...
    module: tuple[str, ...]  # dotted parts; () for `from . import x`
    names: tuple[str, ...]  # `from m import a, b`: a and b may be submodules; () otherwise


class Unread(NamedTuple):
    """A file whose imports could not be read (an internal error): counted as importing what changed."""
    path: str
    detail: str  # the traceback, for the log file


def affected(changes: list[git.Change], commit: str, cwd: str, is_flow_file: Callable[[str], bool],
             data_deps: Sequence[tuple[str, Sequence[str]]] = (), unread: list[Unread] | None = None
             ) -> dict[str, str]:
    """Flow files (paths at `commit` for which is_flow_file(path) is True) that are not themselves among
    `changes` (by new path) but import, directly or transitively, a repository module that changed (added,
    modified, deleted, renamed: both old and new path count), or that match a flow-file glob of data_deps
    whose data glob matches a changed path. Value: the reason, "changed: <path of the changed dependency>"
    (for a data dep the same form, naming the changed data file). unread: where files whose imports could not
    be read (a bug of ours) are listed; such a file mentions a changed module's name, and counts as importing it:
    a flow registered once too often, never a push stopped nor a change missed."""
    changed = {p for c in changes for p in (c.path, c.old_path) if p and p.endswith(".py")}
    data_hits = _data_hits(changes, data_deps)
    if not changed and not data_hits:
        return {}  # the common push: no git call at all
    own = {c.path for c in changes}
    found: dict[str, str] = {}
    if changed:
        for path, why in _close(changed, commit, cwd, [] if unread is None else unread).items():
            # a changed path is either in `own` or gone at `commit` (deleted, the old side of a rename)
            if path not in changed and path not in own and is_flow_file(path):
                found[path] = f"changed: {why}"
    if data_hits:
        files = git.tree(commit, cwd)
        for hit, flow_globs in data_hits:
            for path in sorted(files):
                if path not in own and any(glob_match(g, path) for g in flow_globs) and is_flow_file(path):
                    found.setdefault(path, f"changed: {hit}")
    return dict(sorted(found.items()))


def _data_hits(changes: list[git.Change], data_deps: Sequence[tuple[str, Sequence[str]]]
               ) -> list[tuple[str, tuple[str, ...]]]:
    """(first changed path the data glob matches, flow globs) for each data dep a changed path matches."""
    if not data_deps:
        return []
    paths = sorted({p for c in changes for p in (c.path, c.old_path) if p})
    hits = []
    for data_glob, flow_globs in data_deps:
        hit = next((p for p in paths if glob_match(data_glob, p)), None)
        if hit is not None:
            hits.append((hit, (flow_globs,) if isinstance(flow_globs, str) else tuple(flow_globs)))
    return hits


# --- the fixpoint: changed modules -> files importing them -> files importing those -> ... ---

def _close(changed: set[str], commit: str, cwd: str, unread: list[Unread]) -> dict[str, str]:
    """Every .py file at `commit` whose import chain reaches a changed module (the changed ones included), with the
    changed module it reaches first."""
    graph = _Graph(changed)
    names_done: set[str] = set()
    dirs_done: set[str] = set()
    corpus = _Corpus(commit, cwd)
    fresh = list(graph.dirty)
    while fresh:
        names = {n for n in map(_grep_name, fresh) if n} - names_done
        dirs = {posixpath.dirname(p) for p in fresh if posixpath.basename(p) == "__init__.py"} - dirs_done
        names_done |= names
        dirs_done |= dirs
        todo = sorted(set(corpus.find(names, dirs)) - graph.deps.keys() - graph.dirty.keys())
        src = corpus.read(todo)
        fresh = graph.add({path: _deps_or_all(path, src.get(path), graph, unread) for path in todo})
    return graph.dirty


class _Graph:
    """The files parsed so far, what their imports may run, and which are dirty (reach a changed module)."""

    def __init__(self, changed: set[str]) -> None:
        self.dirty = {p: p for p in sorted(changed)}  # path -> the changed module it reaches
        self.deps: dict[str, frozenset[str]] = {}
        self.importers: dict[str, set[str]] = {}  # path -> parsed files whose imports may run it

    def add(self, parsed: dict[str, frozenset[str]]) -> list[str]:
        """Record newly parsed files; the files dirty since, in order. An earlier round's file, found for a word it
        uses otherwise, may import one of them: the reverse edges reach it without parsing it again."""
        for path, deps in parsed.items():
            self.deps[path] = deps
            for dep in deps:
                self.importers.setdefault(dep, set()).add(path)
        queue, fresh = sorted(p for p, deps in parsed.items() if not deps.isdisjoint(self.dirty)), []
        while queue:
            path = queue.pop(0)
            if path not in self.dirty:
                self.dirty[path] = self.dirty[min(self.deps[path] & self.dirty.keys())]
                fresh.append(path)
                queue += sorted(self.importers.get(path, set()) - self.dirty.keys())
        return fresh


def _grep_name(path: str) -> str | None:
    """The word a file importing this module must contain: its stem, or its package's name for an __init__.py."""
    base = posixpath.basename(path)
    name = posixpath.basename(posixpath.dirname(path)) if base == "__init__.py" else base[:-3]
    return name if name and "\n" not in name else None


class _Corpus:
    """The .py files of a commit that may import some modules: git grep for the first rounds (a push's changes
    usually stop there), then every .py file read once and searched in memory, so that a long import chain costs
    one read of the tree rather than a few git calls per link."""

    GREP_ROUNDS = 2

    def __init__(self, commit: str, cwd: str) -> None:
        self.commit, self.cwd, self.rounds = commit, cwd, 0
        self.texts: dict[str, bytes] | None = None
        self.index: dict[bytes, list[str]] = {}  # word -> files using it, built with texts

    def find(self, names: set[str], dirs: set[str]) -> list[str]:
        """Files using one of the words `names`, or with a relative import under one of the directories `dirs`."""
        if not names and not dirs:
            return []
        self.rounds += 1
        if self.texts is None and self.rounds > self.GREP_ROUNDS:
            files = {p: b for p, b in git.tree(self.commit, self.cwd).items() if p.endswith(".py")}
            blobs = git.read_blobs(sorted(set(files.values())), self.cwd)
            self.texts = {p: blobs[b] for p, b in files.items() if b in blobs}
            for path, text in self.texts.items():  # one pass over the text, then each round is a few look-ups
                for word in set(_WORD.findall(text)):
                    self.index.setdefault(word, []).append(path)
        if self.texts is not None:
            return self._search(names, dirs)
        found = []
        if names:
            args = ["-w", "-F"] + [arg for name in sorted(names) for arg in ("-e", name)]
            found += git.grep_paths(self.commit, args, [":(top)*.py"], self.cwd)
        if dirs:
            specs = [f":(top,literal){d}/" if d else ":(top)" for d in sorted(dirs)]
            found += [p for p in git.grep_paths(self.commit, ["-E", "-e", _RELATIVE], specs, self.cwd)
                      if p.endswith(".py")]
        return found

    def _search(self, names: set[str], dirs: set[str]) -> list[str]:
        assert self.texts is not None
        found: set[str] = set()
        for name in names:
            word = name.encode("utf-8", "surrogateescape")
            if _WORD.fullmatch(word):
                found.update(self.index.get(word, ()))
            else:  # `my-mod` (import_module can load it) is no single word: searched as git grep -w would
                rx = re.compile(rb"(?<!\w)%s(?!\w)" % re.escape(word))
                found.update(p for p, text in self.texts.items() if rx.search(text))
        prefixes = tuple(f"{d}/" if d else "" for d in dirs)
        if prefixes:
            found.update(p for p, text in self.texts.items() if p.startswith(prefixes) and _FROM_DOT.search(text))
        return sorted(found)

    def read(self, paths: list[str]) -> dict[str, bytes]:
        if self.texts is not None:
            return {p: self.texts[p] for p in paths if p in self.texts}
        # one cat-file for "<commit>:<path>"; a path with a newline cannot be written so, and goes by ls-tree
        plain = [p for p in paths if "\n" not in p]
        got = git.read_blobs([f"{self.commit}:{p}" for p in plain], self.cwd)
        out = {p: got[f"{self.commit}:{p}"] for p in plain if f"{self.commit}:{p}" in got}
        odd = git.blobs_at(self.commit, [p for p in paths if "\n" in p], self.cwd) if len(plain) < len(paths) else {}
        blobs = git.read_blobs(sorted(set(odd.values())), self.cwd)
        out.update((p, blobs[b]) for p, b in odd.items() if b in blobs)
        return out


def _deps_or_all(path: str, source: bytes | None, graph: _Graph, unread: list[Unread]) -> frozenset[str]:
    try:
        return _deps(path, source)
    except Exception:  # noqa: BLE001 - a bug of ours reading one file: it may import what changed
        import traceback

        unread.append(Unread(path, traceback.format_exc()))
        return frozenset(graph.dirty)


def _deps(path: str, source: bytes | None) -> frozenset[str]:
    """The files the imports of `path` may run; a file that does not parse imports nothing we can know of."""
    if source is None or b"import" not in source or (tree := _parse(source)) is None:
        return frozenset()
    calls = b"import_module" in source or b"__import__" in source
    return frozenset(f for imp in _imports(tree, calls) for f in _files(path, imp))


# --- reading one file's imports ---

@lru_cache(maxsize=None)
def _blocks(kind: type) -> tuple[str, ...]:
    """The statement-list fields of a node type: () for the simple statements most of a module is."""
    return tuple(f for f in _BODIES if f in kind._fields)


def _parse(source: bytes) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. must not print into the user's push
            return ast.parse(source)
    except _PARSE_ERRORS:
        return None


def _imports(tree: ast.Module, calls: bool) -> Iterator[Import]:
    """Every import statement anywhere in the module (functions, try/except, `if TYPE_CHECKING` too: over-counting
    registers one flow too many, under-counting leaves a deployment running stale code). Only statements are
    walked, expressions are most of a tree; calls (import_module("m")) are looked for only when `calls`."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(0, tuple(alias.name.split(".")), ())
        elif isinstance(node, ast.ImportFrom):
            module = tuple(node.module.split(".")) if node.module else ()
            yield Import(node.level, module, tuple(a.name for a in node.names if a.name != "*"))
        for field in _blocks(type(node)):
            stack.extend(getattr(node, field))
    if calls:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (name := _import_call(node)):
                yield Import(0, tuple(name.split(".")), ())


def _import_call(node: ast.Call) -> str | None:
    """The module of `importlib.import_module("a.b")` / `__import__("a.b")` with a literal absolute name."""
    func = node.func
    called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value and arg.value[0] != ".":
        return arg.value
    return None


def _files(path: str, imp: Import) -> set[str]:
    """Repository files an import in `path` may run, as Prefect loads an entrypoint: the file's directory and the
    repository root are on sys.path, and the flow file is a package whose __path__ is those two."""
    here = posixpath.dirname(path)
    if imp.level == 0:
        bases = {here, ""}
    else:
        base = here
        for _ in range(imp.level - 1):
            if not base:
                return set()  # above the top: an ImportError, nothing of ours runs
            base = posixpath.dirname(base)
        bases = {base, ""} if imp.level == 1 else {base}
    out: set[str] = set()
    for base in bases:
        if imp.level:
            out.add(posixpath.join(base, "__init__.py"))  # the package a relative import starts from
        out |= _module_files(base, imp.module)
        for name in imp.names:
            out |= _module_files(base, imp.module + (name,))  # `from p import m`: m may be the module p/m.py
    return out


def _module_files(base: str, parts: tuple[str, ...]) -> set[str]:
    """Importing a.b.c runs a/__init__.py, a/b/__init__.py and a/b/c.py or a/b/c/__init__.py."""
    if not parts:
        return set()
    out = {posixpath.join(base, *parts[:i], "__init__.py") for i in range(1, len(parts) + 1)}
    out.add(posixpath.join(base, *parts) + ".py")
    return out
