"""prefect.yaml applied to a commit's flows: which files are read (from git objects), which entries each flow
gets, which entries a push changed, and where a flow's PREFECT_PUSH settings contradict its entry.

Facts (read) first, then pure decisions (expand, entry_changes, conflicts). No prefect import: resolving an
entry into deployment fields is prefectyaml_resolve's, at the server phase.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Callable, Iterable

from . import git
from .read.config import Config, glob_match
from .read.flows import FlowSpec
from .read.prefectyaml import BadEntry, Change, Entry, PrefectYaml, PrefectYamlError, changes, parse

# folders whose prefect.yaml files are not the team's deployments (as their flows are not registered)
SKIPPED_FOLDERS = frozenset({"tests", "test", "examples", "example"})


@dataclass(frozen=True)
class EntryFlow(FlowSpec):
    """A flow as one prefect.yaml entry deploys it: one per entry of the flow, each its own deployment."""
    entry: Entry | None = field(default=None, compare=False)
    suffix: str = ""  # the entry's name when its flow has several entries: the deployment name ends -<suffix>


def suffix_of(spec: FlowSpec) -> str:
    return getattr(spec, "suffix", "")


def entry_of(spec: FlowSpec | None) -> Entry | None:
    return getattr(spec, "entry", None)


@dataclass(frozen=True)
class Declared:
    """The prefect.yaml files of one commit, parsed."""
    files: tuple[PrefectYaml, ...] = ()
    broken: tuple[tuple[str, str], ...] = ()  # (path, its one-line error): blocks only a push that touches it
    register_unlisted: bool = False
    # (flow file, function) -> flow name, for the entries' flows: Prefect keys a deployment by flow name and
    # deployment name, so entries of one flow name (in one file or several) are told apart by their entry name
    names: dict[tuple[str, str], str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def governs(self) -> bool:
        """Some prefect.yaml lists deployments (or could not be read): its entries are what is registered."""
        return bool(self.broken) or any(f.entries for f in self.files)

    @property
    def build_or_push(self) -> list[str]:
        return [f.path for f in self.files if f.has_build_or_push]

    def entries(self, path: str, function: str) -> tuple[Entry, ...]:
        return self._by_flow.get((path, function), ())

    @cached_property
    def _by_flow(self) -> dict[tuple[str, str], tuple[Entry, ...]]:
        # (flow file, function) -> its entries, in file order, once (expand asks for every flow's)
        found: dict[tuple[str, str], list[Entry]] = {}
        for f in self.files:
            for e in f.entries:
                found.setdefault((e.flow_path, e.function), []).append(e)
        return {k: tuple(v) for k, v in found.items()}

    def flow_name(self, path: str, function: str) -> tuple[str, ...]:
        """The flow name an entrypoint's flow has (its (path, function) where the file could not be read)."""
        name = self.names.get((path, function))
        return ("name", name) if name is not None else ("entrypoint", path, function)

    def siblings(self, path: str, function: str) -> tuple[Entry, ...]:
        """Every entry, of any file, that deploys a flow of the same flow name as path:function: more than one
        means each deployment name ends with its entry's name (`main-nightly`), as Prefect needs them apart."""
        return self._groups.get(self.flow_name(path, function), ())

    @cached_property
    def _groups(self) -> dict[tuple[str, ...], tuple[Entry, ...]]:
        # flow name -> its entries, once: expand asks for every flow's group (a 2,000-entry repository)
        groups: dict[tuple[str, ...], list[Entry]] = {}
        for f in self.files:
            for e in f.entries:
                groups.setdefault(self.flow_name(e.flow_path, e.function), []).append(e)
        return {k: tuple(v) for k, v in groups.items()}

    def by_key(self) -> dict[tuple[str, str, str], Entry]:
        return {(e.flow_path, e.function, e.name): e for f in self.files for e in f.entries}

    @property
    def bad(self) -> tuple[BadEntry, ...]:
        return tuple(b for f in self.files for b in f.bad)

    def unreadable(self, touched: set[str] | None) -> list[str]:
        """A prefect.yaml that cannot be read blocks a push that changes it or a file in its folder (touched: also
        the flow files registered for other reasons; None: every file, a first push)."""
        out = []
        for path, error in self.broken:
            folder = posixpath.dirname(path)
            if touched is None or any(t == path or not folder or t.startswith(folder + "/") for t in touched):
                out.append(error)
        return out

    def refused(self, path: str) -> bool:
        """Whether an entry for this flow file is refused: its flow's deployments are left as they are."""
        return any(b.flow_path == path for b in self.bad)

    def unmatched(self, path: str, specs: Iterable[FlowSpec]) -> list[tuple[Entry, PrefectYamlError]]:
        """Entries whose entrypoint is in this flow file but names no flow of it (prefect deploy skips them)."""
        functions = {s.function for s in specs}
        return [(e, PrefectYamlError.of(e.where("entrypoint"), f"deployment {e.name!r}",
                                        f"entrypoint {e.entrypoint!r} names no flow in {path} (flows there: "
                                        f"{', '.join(sorted(functions)) or 'none'})"))
                for f in self.files for e in f.entries if e.flow_path == path and e.function not in functions]

    def expand(self, specs: Iterable[FlowSpec]) -> list[FlowSpec]:
        """Each flow as its entries deploy it; a flow no entry lists kept only where no prefect.yaml governs
        (or unlisted-flows = "register")."""
        out: list[FlowSpec] = []
        for spec in specs:
            found = self.entries(spec.path, spec.function)
            if not found:
                if not self.governs or self.register_unlisted:
                    out.append(spec)
                continue
            siblings = len(self.siblings(spec.path, spec.function))
            for e in found:
                out.append(as_entry(spec, e, siblings))
        return out


def adopted(flows: Iterable[FlowSpec], yielded: list[FlowSpec], new: Declared,
            name_of: Callable[[FlowSpec, str], str]) -> list[tuple[FlowSpec, str]]:
    """The flows of a commit whose plain deployment (`<flow>/<ref>`, registered before the team's prefect.yaml
    governed) the declaration no longer yields, each with the why naming prefect.yaml: "prefect.yaml: not
    listed", or "prefect.yaml: deployed as main-nightly, main-hourly". Never one a prefect.yaml entry still
    yields (a flow with one entry keeps the plain name) or the flow's own registration does (no prefect.yaml
    governs, or unlisted-flows = "register"). yielded: the commit's flows as the declaration expands them;
    name_of(spec, suffix): the deployment name at this ref."""
    if not new.governs:
        return []
    out = []
    for spec in flows:
        if new.refused(spec.path):
            continue  # its entry is refused: what it yields is not known
        mine = [y for y in yielded if (y.path, y.flow_name) == (spec.path, spec.flow_name)]
        if any(not suffix_of(y) for y in mine):
            continue  # its plain deployment is still what it yields
        if mine:
            files = sorted({posixpath.basename(e.file) for y in mine if (e := entry_of(y)) is not None})
            why = f"{', '.join(files) or 'prefect.yaml'}: deployed as {', '.join(name_of(y, suffix_of(y)) for y in mine)}"
        elif new.register_unlisted:
            continue
        else:
            why = "prefect.yaml: not listed"
        out.append((spec, why))
    return out


def as_entry(spec: FlowSpec, entry: Entry, siblings: int) -> EntryFlow:
    own = {f.name: getattr(spec, f.name) for f in fields(FlowSpec)}
    return EntryFlow(**own, entry=entry, suffix=entry.name if siblings > 1 else "")


# --- facts: the files, from the commit's git objects ---------------------------------------------------------

def wanted_paths(paths: Iterable[str], config: Config) -> list[str]:
    """The prefect.yaml files read: those prefect-yaml's globs match, except under tests/ or examples/ folders;
    a path prefect-yaml names exactly (no wildcard) is read wherever it is."""
    out = []
    for p in paths:
        if p in config.prefect_yaml:
            out.append(p)
            continue
        parts = p.split("/")
        if any(part in SKIPPED_FOLDERS for part in parts[:-1]):
            continue
        if any(glob_match(g, p) for g in config.prefect_yaml):
            out.append(p)
    return sorted(out)


def read(commit: str | None, config: Config, cwd: str) -> Declared:
    """The prefect.yaml files of a commit, read from its git objects (never the working tree)."""
    if commit is None or not config.prefect_yaml:
        return Declared(register_unlisted=config.unlisted_flows == "register")
    tree = git.tree(commit, cwd)
    paths = wanted_paths(tree, config)
    blobs = git.read_blobs([tree[p] for p in paths], cwd)
    files, broken = [], []
    for p in paths:
        try:
            files.append(parse(blobs.get(tree[p], b""), p, exists=tree.__contains__, strict=False))
        except PrefectYamlError as exc:
            broken.append((p, str(exc)))
    return Declared(tuple(files), tuple(broken), register_unlisted=config.unlisted_flows == "register",
                    names=flow_names(files, commit, tree, cwd))


def flow_names(files: list[PrefectYaml], commit: str, tree: dict[str, str], cwd: str) -> dict[tuple[str, str], str]:
    """(flow file, function) -> flow name of every entry's flow, read from the commit (flows.read_flows, which
    follows a name taken from a module constant); only where two entrypoints could share a flow name."""
    from .read.flows import read_flows

    keys = {(e.flow_path, e.function) for f in files for e in f.entries}
    if len(keys) < 2:
        return {}
    paths = sorted({p for p, _ in keys if p in tree})
    src = git.read_blobs(sorted({tree[p] for p in paths}), cwd)

    def modules(wanted: list[str]) -> dict[str, bytes]:
        got = git.read_blobs([tree[p] for p in wanted if p in tree], cwd)
        return {p: got[tree[p]] for p in wanted if p in tree and tree[p] in got}
    names: dict[tuple[str, str], str] = {}
    for p in paths:
        try:
            specs = read_flows(p, src.get(tree[p], b""), modules)
        except Exception:  # noqa: BLE001 - a file not read keeps its entries apart by entrypoint, as before
            continue
        if isinstance(specs, list):
            names.update({(s.path, s.function): s.flow_name for s in specs if (s.path, s.function) in keys})
    return names


# --- decisions -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryChanges:
    """What the push changed in the prefect.yaml files, per flow: (flow file, function) -> entries' reasons."""
    reasons: dict[tuple[str, str, str], str]  # (flow file, function, entry name) -> "prefect.yaml: nightly changed"
    flows: frozenset[tuple[str, str]]  # flows with a changed, new or removed entry

    def files(self) -> set[str]:
        return {path for path, _ in self.flows}


def entry_changes(old: Declared, new: Declared) -> EntryChanges:
    """Entries new, changed or removed between two commits' prefect.yaml files (prefectyaml.changes, file by file);
    a flow whose entry count crosses one changes every entry's name, so all its entries count as changed."""
    before = {f.path: f for f in old.files}
    found: list[Change] = []
    for f in new.files:
        found += [c for c in changes(before.pop(f.path, None), f)]
    for f in before.values():
        found += [c for c in changes(f, PrefectYaml(f.path, ()))]
    files = {(e.flow_path, e.function, e.name): e.file for d in (old, new) for f in d.files for e in f.entries}
    reasons = {(c.flow_path, c.function, c.name): c.why(files.get((c.flow_path, c.function, c.name), "prefect.yaml"))
               for c in found}
    flows = {(c.flow_path, c.function) for c in found}
    # a flow file whose flow name changed moves its entries to another group: both groups' names may change
    keys = {(e.flow_path, e.function) for d in (old, new) for f in d.files for e in f.entries}
    flows |= {k for k in keys if old.names and new.names and old.flow_name(*k) != new.flow_name(*k)}
    for path, function in sorted(flows):
        was, now = old.siblings(path, function), new.siblings(path, function)
        if (len(was) > 1) != (len(now) > 1) or old.flow_name(path, function) != new.flow_name(path, function):
            # every entry of the flow name is renamed, in whichever file
            for e in (*was, *now):
                reasons.setdefault((e.flow_path, e.function, e.name),
                                   f"{posixpath.basename(e.file)}: {e.name} renamed (its flow name has {len(now)} "
                                   f"{'entry' if len(now) == 1 else 'entries'} now)")
    flows |= {(path, function) for path, function, _ in reasons}
    return EntryChanges(reasons, frozenset(flows))


def only_changed(specs: list[FlowSpec], ch: EntryChanges) -> list[FlowSpec]:
    """Of a flow file that only its prefect.yaml entries changed, the specs of those entries."""
    return [s for s in specs if entry_of(s) is not None
            and (s.path, s.function, entry_of(s).name) in ch.reasons]


def conflicts(spec: FlowSpec) -> list[str]:
    """A flow's PREFECT_PUSH settings against its prefect.yaml entry: both giving one value is one line naming
    both places (docs/prefect-yaml.md, precedence)."""
    entry = entry_of(spec)
    if entry is None:
        return []
    s, config, out = spec.settings, entry.config, []

    def clash(what: str, key: str) -> None:
        out.append(f"{spec.path}:{spec.line}: flow {spec.flow_name!r}: PREFECT_PUSH sets {what} and "
                   f"{entry.where(key)} (deployment {entry.name!r}) sets it too; keep one")
    if s.schedule and ("schedules" in config or "schedule" in config):
        clash("a schedule", "schedules" if "schedules" in config else "schedule")
    params = config.get("parameters") if isinstance(config.get("parameters"), dict) else {}
    if any(k in params and params[k] != v for k, v in s.parameters.items()):
        clash("parameters " + ", ".join(sorted(k for k, v in s.parameters.items() if k in params and params[k] != v)),
              "parameters")
    if s.runtime and config.get("work_pool"):
        clash(f"runtime {s.runtime!r}", "work_pool")
    return out


@dataclass(frozen=True)
class Applied:
    """One ref's prefect.yaml facts: the files at the base and at the pushed commit, what changed between."""
    old: Declared
    new: Declared
    changes: EntryChanges | None  # None: no base (every flow is new)
    held: bool = False  # with no base: the remote already holds the entries (register --all adopting a repository)

    @classmethod
    def between(cls, old: Declared, new: Declared) -> "Applied":
        return cls(old, new, entry_changes(old, new))

    def pushed(self, file: str, fingerprint: str, *, bad: bool = False) -> bool:
        """Whether this push adds or changes the entry (file, fingerprint): a refusal of Prefect's then blocks,
        as the one pushing just wrote it; else the entry is what the remote's branch already holds, and it is
        skipped (or a key ignored) as `prefect deploy --all` does, with one line."""
        if self.changes is None:
            return not self.held
        return (file, fingerprint) not in (self._held_bad if bad else self._held_entries)

    @cached_property
    def _held_entries(self) -> frozenset[tuple[str, str]]:
        return frozenset((e.file, e.fingerprint) for f in self.old.files for e in f.entries)

    @cached_property
    def _held_bad(self) -> frozenset[tuple[str, str]]:
        return frozenset((b.file, b.fingerprint) for b in self.old.bad)

    def refusals(self, touched: set[str] | None) -> tuple[list[str], list[str]]:
        """(blocking lines, lines said): a file that cannot be read blocks a push touching it; an entry refused on
        its own blocks where this push made it so, and is said skipped where the push touches its flow or file."""
        problems, said = self.new.unreadable(touched), []
        for b in self.new.bad:
            if self.pushed(b.file, b.fingerprint, bad=True):
                problems.append(b.error)
            elif touched is None or b.flow_path in touched or b.file in touched:
                said.append(b.skipped or b.error)
        return problems, said

    def unmatched(self, path: str, specs: Iterable[FlowSpec], before: Iterable[str] = ()
                  ) -> tuple[list[str], list[str]]:
        """Entries naming no flow of this file: (blocking lines, lines said), as refusals(). before: the file's
        flow functions at the base: an entry naming one of them was made so by this push (a renamed function),
        which blocks, or its deployments would go as if the entry were removed."""
        problems, said = [], []
        was = set(before)
        for e, err in self.new.unmatched(path, specs):
            if self.pushed(e.file, e.fingerprint) or e.function in was:
                problems.append(str(err))
            else:
                said.append(err.skipped())
        return problems, said

    def checked(self, wanted):
        """The entries wanted registers, as Prefect's loader takes them (prefectyaml_resolve.refusal: its models
        and schedule builder, no server) and with keys Prefect ignores: (wanted, blocking lines, lines said). An
        entry this push made refused blocks; one the remote already holds is skipped (refused) or registered
        with the unknown key ignored (as prefect deploy does), one line each."""
        from dataclasses import replace

        problems: list[str] = []
        said: list[str] = []
        keep = []
        verdicts: dict[tuple[str, str], PrefectYamlError | None] = {}
        for spec, reason in wanted.upserts:
            e = entry_of(spec)
            if e is None:
                keep.append((spec, reason))
                continue
            key = (e.file, e.fingerprint)
            first = key not in verdicts
            if first:
                from .read.prefectyaml_resolve import refusal

                verdicts[key] = refusal(e)
            refused, pushed = verdicts[key], self.pushed(e.file, e.fingerprint)
            if pushed and (refused is not None or e.unknown):
                if first:
                    problems += [str(u) for u in e.unknown] + ([str(refused)] if refused is not None else [])
                continue
            if refused is not None:
                if first:
                    said.append(refused.skipped())
                continue
            if first:
                said += [f"{u.where}: {u.label}: {u.what.split(';')[0]} ignored, as prefect deploy ignores it"
                         for u in e.unknown]
            keep.append((spec, reason))
        return replace(wanted, upserts=tuple(keep)), problems, said

    def files_changed(self, touched: Iterable[str], config: Config) -> bool:
        """Whether the push changed a prefect.yaml file that is read (prefect-yaml)."""
        return bool(wanted_paths(touched, config))

    def only_changed(self, specs: list[FlowSpec]) -> list[FlowSpec]:
        return only_changed(specs, self.changes) if self.changes is not None else specs

    def conflicts(self, spec: FlowSpec) -> list[str]:
        return conflicts(spec)

    def said(self, wanted, yaml_only: set[str], adopted: dict[tuple[str, str], str] | None = None,
             read: Iterable[str] = ()):
        """wanted with the entries' own reasons ("prefect.yaml: nightly changed") where only the entry changed,
        and the line saying build/push steps are not run, once, for every file with them that this push read
        (read: the files whose entries it looked at, registered or skipped, and those it changed). adopted:
        (flow name, path) -> the why of its plain deployment's removal (adopted())."""
        from dataclasses import replace

        from .plan import Removal

        reasons = self.changes.reasons if self.changes is not None else {}

        def upsert_reason(spec: FlowSpec, reason: str) -> str:
            e = entry_of(spec)
            if e is None or spec.path not in yaml_only:
                return reason
            return reasons.get((spec.path, spec.function, e.name), reason)

        def removal(r: tuple) -> tuple:
            flow_name, path, reason = r
            suffix = getattr(r, "suffix", "")
            if not suffix and (flow_name, path) in (adopted or {}):
                reason = adopted[(flow_name, path)]
            elif path in yaml_only:
                gone = [why for (p, _, name), why in sorted(reasons.items())
                        if p == path and (not suffix or name == suffix) and not why.endswith(" changed")]
                reason = gone[0] if gone else reason
            return Removal(flow_name, path, reason, suffix, getattr(r, "entry", ""))

        hints = list(wanted.hints)
        with_steps = {f.path for f in self.new.files if f.has_build_or_push}
        built = sorted(with_steps & ({e.file for spec, _ in wanted.upserts if (e := entry_of(spec)) is not None}
                                     | set(read)))
        if built:
            hints.append(f"{', '.join(built)}: build and push steps are not run by prefect-push (build the image as "
                         "you do for prefect deploy); deployments use the image their job_variables name")
        return replace(wanted, upserts=tuple((s, upsert_reason(s, r)) for s, r in wanted.upserts),
                       removals=tuple(removal(r) for r in wanted.removals), hints=tuple(hints))
