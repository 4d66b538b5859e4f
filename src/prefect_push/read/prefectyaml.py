"""prefect.yaml, read: the bytes of one file (from the pushed commit's git objects) -> its deployment entries.

Pure, no prefect import (PyYAML only): YAML with anchors, aliases and merge keys as PyYAML's SafeLoader builds
them (the loader `prefect deploy` uses), every key's line kept so an error names `prefect.yaml:<line>`. What
`prefect deploy` would store for an entry (templates, schedules, triggers) is prefectyaml_resolve's job: it needs
Prefect's own models, imported only there.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

from .pullsteps import GIT_CLONE

# Prefect 3.9.1's DeploymentConfig fields (prefect/cli/deploy/_models.py). Prefect ignores any other key
# (extra="ignore"); we refuse one, because a misspelt key there is a setting silently lost.
DEPLOYMENT_KEYS = frozenset({
    "name", "version", "version_type", "tags", "description", "schedule", "schedules", "paused",
    "concurrency_limit", "flow_name", "entrypoint", "parameters", "enforce_parameter_schema", "build", "push",
    "pull", "work_pool", "triggers", "sla"})
WORK_POOL_KEYS = frozenset({"name", "work_queue_name", "job_variables"})
# Top-level keys Prefect reads; any other top-level key is allowed (real files keep anchors under
# `definitions:` or keys of their own, and Prefect ignores them).
ACTIONS = ("build", "push", "pull")
ENTRYPOINT = re.compile(r"^(?P<path>[^:{}]+\.py):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")


class PrefectYamlError(ValueError):
    """One line: `<path>:<line>: <what>` naming the entry where there is one."""

    def __init__(self, message: str, where: str = "", label: str = "", what: str = "") -> None:
        super().__init__(message)
        self.where, self.label, self.what = where, label, what

    @classmethod
    def of(cls, where: str, label: str, what: str) -> "PrefectYamlError":
        """An entry's refusal: `file:line: deployment 'x': what`, its parts kept for the skipped line."""
        return cls(f"{where}: {label}: {what}", where, label, what)

    def skipped(self) -> str:
        """The line said when the entry is not this push's doing: skipped, with the rest registered. (Prefect
        3.9.1's `prefect deploy --all` refuses such an entry too, and more: a schedule key its models refuse
        drops every entry of the file, an entrypoint naming no flow ends the command there.)"""
        if not self.label:
            return str(self)
        return f"{self.where}: {self.label} skipped (prefect deploy refuses it too): {self.what}"


@dataclass(frozen=True)
class Entry:
    """One `deployments:` item, as written (anchors, aliases and merge keys applied; templates not resolved)."""
    name: str
    entrypoint: str  # as written: "flows/etl.py:etl"
    flow_path: str  # the flow file, relative to the repository root
    function: str
    file: str  # the prefect.yaml's path in the repository
    line: int  # 1-based line of the item
    config: dict[str, Any]  # the item's mapping
    pull: list[Any] | None  # effective pull steps, raw: the entry's, else the file's; None: neither gives any
    build: list[Any]  # effective build steps (detected only: prefect-push runs none)
    push: list[Any]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict, compare=False, repr=False)  # key path -> line
    fingerprint: str = ""  # changes when the entry's settings do (its own lines or a definition it uses)
    # keys Prefect ignores (extra="ignore"): refused where a push writes them (a misspelt key is a setting lost),
    # said and ignored, as prefect deploy ignores them, where the entry is not this push's doing
    unknown: tuple[PrefectYamlError, ...] = field(default=(), compare=False)

    def where(self, *path: Any) -> str:
        """`file:line` of the deepest known key on path (the item itself without one)."""
        line = self.line
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                line = self.lines[path[:n]]
                break
        return f"{self.file}:{line}"

    @property
    def has_build_or_push(self) -> bool:
        return bool(self.build or self.push)


class BadEntry(NamedTuple):
    """One `deployments:` item prefect-push refuses (an unknown key, no name, a bad entrypoint or pull step): it
    blocks only a push that changes it or its flow file, so a file's other entries push on."""
    file: str
    flow_path: str | None  # its flow file, when its entrypoint names one
    fingerprint: str  # of the item as written: whether a push changed it
    error: str  # one line: `file:line: deployment 'name': what`
    skipped: str = ""  # the line said where the push did not make it so: `... skipped, as prefect deploy skips it: ...`


@dataclass(frozen=True)
class PrefectYaml:
    path: str
    entries: tuple[Entry, ...]
    bad: tuple[BadEntry, ...] = ()
    steps: bool = False  # the file's own build: or push: section is not empty

    @property
    def has_build_or_push(self) -> bool:
        return self.steps or any(e.has_build_or_push for e in self.entries)

    def for_flow(self, flow_path: str, function: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if (e.flow_path, e.function) == (flow_path, function))


class Change(NamedTuple):
    """One entry that is new, changed or removed between two versions of a prefect.yaml."""
    name: str
    flow_path: str
    function: str
    kind: str  # "new", "changed" or "removed"

    def why(self, file: str = "prefect.yaml") -> str:
        return f"{posixpath.basename(file)}: {self.name} {self.kind}"


# --- facts: the YAML, with lines -------------------------------------------------------------------------------

def _compose(text: str, path: str) -> tuple[Any, Any]:
    """(data, root node): PyYAML's safe construction (merge keys flatten the node in place, so merged keys keep
    the line they were written on, in the definition)."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PrefectYamlError(f"{path}:{mark.line + 1 if mark else 1}: invalid YAML: {problem}") from None
    finally:
        loader.dispose()
    return data, node


def _lines(node: Any, prefix: tuple[Any, ...] = (), out: dict | None = None, depth: int = 0) -> dict:
    """Every key path under node -> its 1-based line (a key given twice: the last, as construction keeps)."""
    import yaml

    out = {} if out is None else out
    if depth > 40:  # a recursive alias: the lines of its first levels are enough
        return out
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[prefix + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, prefix + (key,), out, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[prefix + (i,)] = item.start_mark.line + 1
            _lines(item, prefix + (i,), out, depth + 1)
    return out


def _steps(value: Any) -> list[Any] | None:
    """An action section as Prefect normalises it: a single non-empty step mapping is a one-step list."""
    if isinstance(value, dict):
        return [value] if value else []
    return value


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --- decisions ---------------------------------------------------------------------------------------------------

def _closest(key: str, known: frozenset[str]) -> str:
    near = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _flow_path(folder: str, path: str, exists: Callable[[str], bool] | None) -> str | None:
    """The flow file, relative to the repository: beside the prefect.yaml (where `prefect deploy` runs), else from
    the repository root (a file under deployments/<project>/ deployed with --prefect-file from the root)."""
    here = posixpath.normpath(posixpath.join(folder, path)) if folder else posixpath.normpath(path)
    if exists is None or exists(here):
        return here
    root = posixpath.normpath(path)
    return root if exists(root) else None


def _entry(item: Any, index: int, file: str, top: dict[str, Any], lines: dict, exists: Callable[[str], bool] | None
           ) -> Entry:
    at = ("deployments", index)
    line = lines.get(at, 1)
    own = {k[2:]: v for k, v in lines.items() if k[:2] == at and len(k) > 2}
    if not isinstance(item, dict):
        raise PrefectYamlError.of(f"{file}:{line}", f"deployment #{index + 1}", "not a mapping of settings")
    name = item.get("name")
    label = f"deployment {name!r}" if name else f"deployment #{index + 1}"
    if not isinstance(name, str) or not name.strip():
        raise PrefectYamlError(f"{file}:{line}: {label} has no name: `prefect deploy --all` skips it; give it one",
                               f"{file}:{line}", label, "it has no name")
    unknown = [PrefectYamlError.of(f"{file}:{own.get((key,), line)}", label,
                                   f"unknown key {key!r}{_closest(str(key), DEPLOYMENT_KEYS)}; Prefect would ignore "
                                   "it silently") for key in item if key not in DEPLOYMENT_KEYS]
    pool = item.get("work_pool")
    if isinstance(pool, dict):
        unknown += [PrefectYamlError.of(f"{file}:{own.get(('work_pool', key), line)}", label,
                                        f"unknown work_pool key {key!r}{_closest(str(key), WORK_POOL_KEYS)}; Prefect "
                                        "would ignore it silently") for key in pool if key not in WORK_POOL_KEYS]
    entrypoint = item.get("entrypoint")
    match = ENTRYPOINT.match(entrypoint.strip()) if isinstance(entrypoint, str) else None
    if not match:
        raise PrefectYamlError.of(f"{file}:{own.get(('entrypoint',), line)}", label,
                                  f"entrypoint {entrypoint!r} is not path/to/file.py:function")
    folder = posixpath.dirname(file)
    flow_path = _flow_path(folder, match["path"], exists)
    if flow_path is None:
        raise PrefectYamlError.of(f"{file}:{own.get(('entrypoint',), line)}", label,
                                  f"entrypoint {entrypoint!r}: no file "
                                  f"{posixpath.normpath(posixpath.join(folder, match['path']))} in this commit")
    effective = {a: _steps(item[a]) if a in item else _steps(top.get(a)) for a in ACTIONS}
    _check_pull(effective["pull"], file, label, line, own if "pull" in item else lines)
    return Entry(
        name=name, entrypoint=entrypoint.strip(), flow_path=flow_path, function=match["function"], file=file,
        line=line, config=item, pull=effective["pull"], build=effective["build"] or [],
        push=effective["push"] or [], lines=own,
        fingerprint=fingerprint({"entry": item, **effective}), unknown=tuple(unknown))


def _check_pull(steps: list[Any] | None, file: str, label: str, line: int, lines: dict) -> None:
    """Pull steps as the worker will run them (pullsteps.problem): a step output must come from an earlier step,
    as Prefect's run_steps needs (prefect-push's clone takes the id of the git_clone it replaces)."""
    from .pullsteps import problem

    if not steps:
        return
    found = problem(steps)
    if found is not None:
        index, what = found
        raise PrefectYamlError.of(f"{file}:{lines.get(('pull', index), line)}", label, f"pull step {index + 1}: {what}")


def parse(data: bytes | str, file: str = "prefect.yaml", exists: Callable[[str], bool] | None = None, *,
          strict: bool = True) -> PrefectYaml:
    """The entries of one prefect.yaml. file: its path in the repository (entrypoints are relative to its
    folder); exists(path): whether the pushed commit has that file (None: not checked). strict=False: an item
    refused on its own is kept in `bad` (BadEntry) and the others are read; the file-wide errors still raise.

    Raises PrefectYamlError (one line, `file:line`) for invalid YAML, a file that is not a mapping, an unknown
    deployment key, an unnamed entry, an entrypoint not of the form path.py:function or naming no file, and two
    entries of one flow with one name."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    raw, node = _compose(text, file)
    if raw is None:
        return PrefectYaml(file, ())
    if not isinstance(raw, dict):
        raise PrefectYamlError(f"{file}:1: not a mapping of settings (prefect deploy would skip the whole file)")
    lines = _lines(node)
    items = raw.get("deployments") or []
    if not isinstance(items, list):
        raise PrefectYamlError(f"{file}:{lines.get(('deployments',), 1)}: deployments: is not a list")
    for action in ACTIONS:
        steps = _steps(raw.get(action))
        if steps is not None and not (isinstance(steps, list) and all(isinstance(s, dict) for s in steps)):
            raise PrefectYamlError(f"{file}:{lines.get((action,), 1)}: {action}: is not a list of steps")
    good: list[Entry] = []
    bad: list[BadEntry] = []
    seen: dict[tuple[str, str, str], Entry] = {}
    for i, item in enumerate(items):
        try:
            e = _entry(item, i, file, raw, lines, exists)
            key = (e.flow_path, e.function, e.name)
            if key in seen:
                raise PrefectYamlError(f"{file}:{e.line}: deployment {e.name!r} of {e.entrypoint} is also at "
                                       f"{file}:{seen[key].line}; one flow's entries need distinct names",
                                       f"{file}:{e.line}", f"deployment {e.name!r}",
                                       f"{e.entrypoint} has one named so at {file}:{seen[key].line} already")
            if strict and e.unknown:
                raise e.unknown[0]
        except PrefectYamlError as exc:
            if strict:
                raise
            bad.append(BadEntry(file, _bad_flow_path(item, file, exists), fingerprint(item), str(exc), exc.skipped()))
            continue
        seen[key] = e
        good.append(e)
    return PrefectYaml(file, tuple(good), tuple(bad), steps=bool(_steps(raw.get("build")) or _steps(raw.get("push"))))


def _bad_flow_path(item: Any, file: str, exists: Callable[[str], bool] | None) -> str | None:
    """The flow file a refused item names, when its entrypoint is readable."""
    entrypoint = item.get("entrypoint") if isinstance(item, dict) else None
    match = ENTRYPOINT.match(entrypoint.strip()) if isinstance(entrypoint, str) else None
    if not match:
        return None
    # a file the commit lacks (the push deleted the flow, not its entry) is still the entry's file: a push that
    # touches it is stopped by the entry, rather than leaving its deployments behind unsaid
    return (_flow_path(posixpath.dirname(file), match["path"], exists)
            or posixpath.normpath(posixpath.join(posixpath.dirname(file), match["path"])))


def changes(old: PrefectYaml | None, new: PrefectYaml) -> list[Change]:
    """Entries that are new, whose settings changed (their own lines, a definition they use, or the file's
    pull/build/push they inherit), or that went, between two versions of one file. Keyed by (flow file,
    function, name): an entry moved to another entrypoint is one removed and one new."""
    before = {(e.flow_path, e.function, e.name): e for e in (old.entries if old else ())}
    after = {(e.flow_path, e.function, e.name): e for e in new.entries}
    out = [Change(k[2], k[0], k[1], "new" if k not in before else "changed")
           for k, e in after.items() if k not in before or before[k].fingerprint != e.fingerprint]
    out += [Change(k[2], k[0], k[1], "removed") for k in before if k not in after]
    return sorted(out, key=lambda c: (c.flow_path, c.function, c.name))


def with_clone(steps: list[Any] | None, clone: dict[str, Any]) -> list[Any]:
    """Pull steps with the first git_clone step replaced by prefect-push's clone of the pushed ref (its URL: the remote
    pushed to, or repository-url), keeping the step's `id:` (later steps refer to `{{ <id>.directory }}`) and its
    credentials, which pullsteps lets through only as block references, as prefect-push's own `credentials`
    setting writes them. No git_clone: the clone goes first. Other steps, a later git_clone of another
    repository (shared code) among them, keep their order and arguments."""
    out: list[Any] = []
    replaced = False
    for step in steps or []:
        name = next(iter(step), None) if isinstance(step, dict) and len(step) == 1 else None
        if name in GIT_CLONE and not replaced:  # the project's clone; a later one clones another repository
            (clone_name, clone_args), = clone.items()
            theirs = step[name] if isinstance(step[name], dict) else {}
            kept = {k: theirs[k] for k in ("id", "access_token", "credentials") if theirs.get(k)}
            if "access_token" in kept or "credentials" in kept:  # git_clone takes one of them, never both
                clone_args = {k: v for k, v in clone_args.items() if k != "access_token"}
            out.append({clone_name: {**clone_args, **kept}})
            replaced = True
        else:
            out.append(step)
    return out if replaced else [clone, *out]
