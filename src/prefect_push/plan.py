"""The plan: what a push registers, updates, deletes or skips, and why. Pure: no git, no network.

The engine gathers facts (changed files and the flows in them, the server's marker and deployments) and
this module decides. Everything here is testable without a server.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable

from .read.config import Config, Runtime, glob_match, safe_name

if TYPE_CHECKING:
    from .read.flows import FlowSpec
from .push import short_ref
from .status import GIT_TAG, RELEASE_REF  # noqa: F401  (the release deployments' tags; registrar imports them here)

REF_TAG = "git-ref:"
REPO_TAG = "git-repo:"
TOOL_TAG = "prefect-push"


class Op(str, Enum):
    REGISTER = "register"  # new deployment
    UPDATE = "update"  # deployment exists: new commit / entrypoint
    DELETE = "delete"
    SKIP = "skip"
    UNSCHEDULE = "schedule off"  # an older tag's deployment of a flow a newer tag now schedules
    PAUSE = "pause"  # a `prefect deploy` deployment of a flow that would fire beside prefect-push's live schedule


@dataclass(frozen=True)
class Target:
    """One pushed ref, resolved: which repository, which ref, which commit, diffed from where."""
    repository: str  # the repository's identity (git.repo_key): markers and tags use it, however the URL is spelled
    ref: str  # full ref on the remote: refs/heads/feature/x, refs/tags/v1
    commit: str | None  # None: the ref is being deleted
    base: str | None = None  # None with a commit: every file is new (first push, first tag)
    message: str = ""
    clone_url: str = ""  # what workers git_clone: the remote URL without credentials, or repository-url
    release: str = ""  # the tag moves the release deployments of this name ("production"), not its own

    @property
    def short(self) -> str:
        return short_ref(self.ref)

    @property
    def owner(self) -> str:
        """What owns the deployments this target writes (git-ref tag, marker): the ref, or the release."""
        return RELEASE_REF + self.release if self.release else self.ref

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


@dataclass(frozen=True)
class FileChange:
    """A changed file that holds (or held) flows: its flows before and after the push."""
    status: str  # A M D R T
    path: str
    old_path: str | None
    old_flows: tuple[FlowSpec, ...]
    new_flows: tuple[FlowSpec, ...]


@dataclass(frozen=True)
class Existing:
    """A deployment the server already has, as far as planning needs it."""
    id: str
    flow_name: str
    name: str
    version: str | None
    tags: tuple[str, ...] = ()
    entrypoint: str | None = None

    @property
    def ref(self) -> str | None:
        return next((t[len(REF_TAG):] for t in self.tags if t.startswith(REF_TAG)), None)

    @property
    def repository(self) -> str | None:
        return next((t[len(REPO_TAG):] for t in self.tags if t.startswith(REPO_TAG)), None)

    def owner(self) -> str | None:
        """Which (repository, ref) registered it, when prefect-push did."""
        return f"{self.ref} of {self.repository}" if self.ref else None


@dataclass(frozen=True)
class Action:
    op: Op
    flow_name: str
    deployment: str
    reason: str
    flow: FlowSpec | None = None  # what to register (REGISTER/UPDATE)
    existing_id: str | None = None  # what to delete (DELETE)
    runtime: Runtime | None = None  # where it runs (REGISTER/UPDATE)
    schedule_live: bool = False  # the flow's schedule fires on this ref (else it is registered switched off)
    fired_by: str = ""  # off because the flow's release fires it: "production (v1)"

    @property
    def entry(self) -> str:
        """The prefect.yaml entry the deployment carries ("prefect.yaml: nightly"), "" for none."""
        e = getattr(self.flow, "entry", None)
        return f"{e.file}: {e.name}" if e is not None else ""

    def _entry_schedules(self) -> list[dict] | None:
        """The prefect.yaml entry's schedules, as written; None: the deployment carries no entry."""
        e = getattr(self.flow, "entry", None)
        if e is None:
            return None
        items = e.config.get("schedules") or ([e.config["schedule"]] if e.config.get("schedule") else [])
        return [i for i in items if isinstance(i, dict)]

    @property
    def has_schedule(self) -> bool:
        """Whether the deployment has a schedule that fires where its schedules are live: an entry's schedule
        declared `active: false` stays off on every ref (deploy_fields.entry_schedules), so it does not count."""
        items = self._entry_schedules()
        if items:
            return any(bool(i.get("active", True)) for i in items)
        return bool(self.flow and self.flow.settings.schedule)

    @property
    def schedule(self) -> str:
        """For the table: the flow's schedule and whether it fires on this ref."""
        text = self.flow.settings.schedule if self.flow else ""
        items = self._entry_schedules()
        if not text and items:  # each of an entry's schedules: its own `active: false` stays off
            return ", ".join(f"{_schedule_words(i)} ({'live' if self.schedule_live and bool(i.get('active', True)) else self._off() if bool(i.get('active', True)) else 'off'})"
                             for i in items)
        return f"{text} ({'live' if self.schedule_live else self._off()})" if text else ""

    def _off(self) -> str:
        """Why a schedule is off, where the reason is not the usual one (a feature branch): the flow's release
        fires its own, older schedule until the next release tag brings this one."""
        return f"off: {self.fired_by} fires this flow; the next release tag brings this" if self.fired_by else "off"


def _schedule_words(item: dict) -> str:
    tz = f" ({item['timezone']})" if item.get("timezone") else ""
    for key, word in (("cron", "cron "), ("interval", "every "), ("rrule", "rrule ")):
        if item.get(key) is not None:
            return f"{word}{item[key]}{'s' if key == 'interval' and isinstance(item[key], (int, float)) else ''}{tz}"
    return "schedule"


@dataclass
class RefPlan:
    target: Target
    actions: list[Action] = field(default_factory=list)
    note: str = ""  # a ref-level outcome: "already registered at abc1234", "no flow changed"
    advance_marker: bool = False  # nothing to write, yet the commit is as registered as the marker's
    keep_marker: bool = False  # a replayed deletion found the ref registered again: leave it alone
    problems: list[str] = field(default_factory=list)  # blocking: the push must stop, nothing is written
    hints: list[str] = field(default_factory=list)  # one line each, said after the table

    @property
    def writes(self) -> list[Action]:
        return [a for a in self.actions if a.op is not Op.SKIP]


class Removal(tuple):
    """(flow name, path it was in, reason): a deployment of this ref whose flow (or prefect.yaml entry) went.
    suffix: its entry's name when its flow had several entries (the deployment name's end); a plain 3-tuple
    otherwise, so a removal still unpacks as one."""
    suffix: str
    entry: str  # the prefect.yaml entry's name ("" for none): a deployment taken over in place is named so

    def __new__(cls, flow_name: str, path: str, reason: str, suffix: str = "", entry: str = "") -> "Removal":
        self = super().__new__(cls, (flow_name, path, reason))
        self.suffix, self.entry = suffix, entry
        return self


def suffix_of(removal: tuple) -> str:
    return getattr(removal, "suffix", "")


def entry_name_of(removal: tuple) -> str:
    return getattr(removal, "entry", "")


@dataclass(frozen=True)
class Wanted:
    """What the changed files ask for, before looking at the server."""
    upserts: tuple[tuple[FlowSpec, str], ...]  # (flow, reason)
    removals: tuple[tuple[str, str, str], ...]  # (flow name, path it was in, reason): Removal's
    problems: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()  # one line each, said after the table: build/push steps of a prefect.yaml not
    # run, a file whose imports could not be read (registered, but not as surely as usual)
    unlisted: tuple[str, ...] = ()  # flows the push changed that no prefect.yaml entry lists (so not registered)


def wanted_changes(files: list[FileChange], *, first: bool, since: str | None = None, tag: bool = False,
                   name_of: Callable[[str, str], str] = lambda flow_name, path: "") -> Wanted:
    """Flows to (re)register and flow names whose deployment for this ref must go, from the changed files.

    name_of(flow name, path): the deployment name the template gives (a prefect.yaml entry's suffix is added
    here: `main-nightly`). Prefect keys deployments by (flow name,
    deployment name), so two files defining flow `hello` collide only when their deployment names are equal too
    (deployment-name = "{ref}-{file}" keeps them apart); the default keys by flow name alone."""
    upserts: dict[tuple[str, str], tuple[FlowSpec, str]] = {}
    problems: list[str] = []
    old_keys: dict[tuple[str, str], tuple[str, str, str]] = {}
    for f in files:
        for spec in f.old_flows:
            old_path = f.old_path or f.path
            suffix = getattr(spec, "suffix", "")
            entry = getattr(getattr(spec, "entry", None), "name", "")
            old_keys.setdefault((spec.flow_name, _with_suffix(name_of(spec.flow_name, old_path), suffix)),
                                (old_path, suffix, entry))
        for spec in f.new_flows:
            key = (spec.flow_name, _with_suffix(name_of(spec.flow_name, spec.path), getattr(spec, "suffix", "")))
            if key in upserts:
                problems.append(_collision(spec, upserts[key][0], key[1]))
                continue
            upserts[key] = (spec, _reason(f, spec, first=first, since=since, tag=tag))
    removals = []
    for (name, _), (path, suffix, entry) in sorted(old_keys.items()):
        if (name, _with_suffix(name_of(name, path), suffix)) not in upserts:
            gone = next((f for f in files if (f.old_path or f.path) == path), None)
            why = "file deleted" if gone is not None and gone.status == "D" else f"flow no longer in {path}"
            removals.append(Removal(name, path, why, suffix, entry))
    return Wanted(tuple(upserts.values()), tuple(removals), tuple(problems))


def _with_suffix(name: str, suffix: str) -> str:
    return safe_name(f"{name}-{suffix}") if suffix else name


def _collision(spec: FlowSpec, other: FlowSpec, deployment: str) -> str:
    """Both files, then the two fixes, one line each."""
    which = f"deployment {spec.flow_name}/{deployment}" if deployment else f"deployments of flow {spec.flow_name!r}"
    mine, theirs = getattr(spec, "entry", None), getattr(other, "entry", None)
    if mine is not None and theirs is not None:  # two prefect.yaml entries of one flow name and one entry name
        return (f"{mine.where()}: deployment {mine.name!r} of {mine.entrypoint} and {theirs.where()}: deployment "
                f"{theirs.name!r} of {theirs.entrypoint} both register {which} (one flow name, one entry name): "
                "rename one of the entries")
    return (f"{spec.path}:{spec.line}: flow {spec.flow_name!r} is also defined at {other.path}:{other.line}; both would "
            f"register {which}. Either:\n"
            f"  give one of them its own flow name: @flow(name=...)\n"
            f"  or set deployment-name in [tool.prefect-push] with {{file}} in it, e.g. \"{{ref}}-{{file}}\" "
            f"({{flow}} alone keeps them equal: the flow names are)")


def _reason(f: FileChange, spec: FlowSpec, *, first: bool, since: str | None, tag: bool) -> str:
    if first:
        return "first tag: every flow" if tag else "first push of this ref"
    if f.status == "R" and f.old_path:
        return f"renamed from {f.old_path}"
    if f.status == "A":
        return "new file"
    if not any(o.flow_name == spec.flow_name for o in f.old_flows):
        return "new flow"
    return "changed" if since is None else f"changed since {since}"


def deployment_name(target: Target, config: Config, flow_name: str, path: str, suffix: str = "") -> str:
    """suffix: the prefect.yaml entry's name when its flow has several entries (`main-nightly`)."""
    return _with_suffix(target.release or config.deployment_name_for(target.short, flow_name, path, target.repository),
                        suffix)


def released(target: Target, config: Config, existing: list[Existing]) -> set[tuple[str, str]]:
    """(flow, release deployment name) of target's repository's release deployments (among `existing`)."""
    owner = RELEASE_REF + config.release_name
    return {(e.flow_name, e.name) for e in existing if (e.ref, e.repository) == (owner, target.repository)}


def schedule_live(config: Config, target: Target, has_release: bool) -> bool:
    """Whether a flow's schedule fires on the deployment target writes: the table in docs/releases.md.

    schedules-on set: where it matches (a release deployment matches as its tag and as its name). Unset: one
    live schedule per flow, on its release deployment once it has one, else on the default branch."""
    if config.schedules_on is not None:
        return config.schedules_live(target.ref) or bool(
            target.release and any(glob_match(p, target.release) for p in config.schedules_on))
    if target.release:
        return True
    return target.ref == "refs/heads/" + config.default_branch and not has_release


def kept_name(spec: FlowSpec, target: Target, config: Config, by_key: dict[tuple[str, str], Existing],
              has_release: bool) -> str | None:
    """Taking over in place (docs/prefect-yaml.md, "Adopting what prefect deploy made"): the name of the
    deployment `prefect deploy` made for this flow's prefect.yaml entry (`etl/nightly`: same flow, same
    entrypoint, no prefect-push tags), when this target is the one that moves the entry's stable deployment:
    its release, or the default branch while the flow has no release. Updating it keeps its id, so automations,
    bookmarks and `run_deployment("etl/nightly")` keep working. None: the usual name."""
    entry = getattr(spec, "entry", None)
    if entry is None or "{{" in entry.name or not config.is_home(target.repository):
        return None  # a fork never takes over the team's deployments
    have = by_key.get((spec.flow_name, entry.name))
    if have is None or have.repository not in (None, target.repository):
        return None
    if have.ref is None and (have.entrypoint or "").removeprefix("./") not in (
            entry.entrypoint.removeprefix("./"), spec.entrypoint):
        return None  # another project's deployment that happens to share the names
    default = "refs/heads/" + config.default_branch
    if target.release:
        return entry.name if have.ref in (None, default, target.owner) else None
    if target.ref == default and not target.release and not has_release and config.schedules_on is None:
        return entry.name if have.ref in (None, target.owner) else None
    return None


def build(target: Target, wanted: Wanted, config: Config, existing: list[Existing]) -> RefPlan:
    """Turn what the files want into actions against what the server has."""
    plan = RefPlan(target, problems=list(wanted.problems), hints=list(wanted.hints))
    by_key = {(e.flow_name, e.name): e for e in existing}
    has_release = released(target, config, existing)
    for spec, reason in wanted.upserts:
        runtime = config.runtime_for(spec.path, spec.settings.runtime)
        if runtime is None:
            plan.problems.append(
                f"{spec.path}:{spec.line}: flow {spec.flow_name!r} asks for runtime {spec.settings.runtime!r}, which "
                f"[tool.prefect-push.runtimes] does not define (defined: "
                f"{', '.join(r.name for r in config.runtimes) or 'none'})")
            continue
        suffix = getattr(spec, "suffix", "")
        name = deployment_name(target, config, spec.flow_name, spec.path, suffix)
        release_name = _with_suffix(config.release_name, suffix)
        entry = getattr(spec, "entry", None)
        flow_released = (spec.flow_name, release_name) in has_release or (
            entry is not None and (spec.flow_name, entry.name) in has_release)
        live = schedule_live(config, target, flow_released)
        kept = kept_name(spec, target, config, by_key, flow_released)
        handover = False
        if kept is not None:
            taken = by_key[(spec.flow_name, kept)]
            handover = taken.ref is not None and taken.ref != target.owner  # main hands it to the first release
            why = ("made by prefect deploy, updated in place (same id)" if taken.ref is None
                   else f"moves from {short_ref(taken.ref)} to {target.release}" if handover else "")
            name, reason = kept, f"{reason}; {spec.flow_name}/{kept} {why}" if why else reason
        have = by_key.get((spec.flow_name, name))
        if (have is not None and have.ref is not None and not handover
                and (have.ref, have.repository) != (target.owner, target.repository)):
            plan.problems.append(
                f"deployment {spec.flow_name}/{name} already belongs to {have.owner()}; {target.ref} would overwrite it "
                f"(names replace / % & > < with -): rename the branch, or set deployment-name in [tool.prefect-push] "
                f"(a fork of the same repository: list the team's repository first in remotes, forks get @owner)")
            continue
        if (have is not None and have.version == target.commit and not handover
                and not (kept is not None and have.ref is None)):
            plan.actions.append(Action(Op.SKIP, spec.flow_name, name, "already registered at this commit", spec,
                                       runtime=runtime, schedule_live=live))
            continue
        op = Op.UPDATE if have is not None else Op.REGISTER
        if have is not None and have.ref is None and kept is None:
            reason += "; takes over a deployment made without prefect-push"
        fired_by = ""
        if not live and flow_released and target.ref == "refs/heads/" + config.default_branch:
            release = next((e for e in existing if e.flow_name == spec.flow_name and e.ref == RELEASE_REF
                            + config.release_name and e.name in (release_name, getattr(entry, "name", None))), None)
            at = next((t[len(GIT_TAG):] for t in (release.tags if release else ()) if t.startswith(GIT_TAG)), "")
            fired_by = f"{config.release_name} ({at})" if at else config.release_name
        plan.actions.append(Action(op, spec.flow_name, name, reason, spec, runtime=runtime, schedule_live=live,
                                   fired_by=fired_by))
    written = {(a.flow_name, a.deployment) for a in plan.actions}
    for removal in wanted.removals:
        flow_name, path, reason = removal
        # its usual name, or the entry's own where it was taken over from prefect deploy (kept_name)
        for name in dict.fromkeys(n for n in (deployment_name(target, config, flow_name, path, suffix_of(removal)),
                                              entry_name_of(removal)) if n):
            have = by_key.get((flow_name, name))
            if (have is not None and (have.ref, have.repository) == (target.owner, target.repository)
                    and (flow_name, name) not in written
                    and (have.entrypoint or path).rsplit(":", 1)[0] == path):  # still served by the file that lost it
                plan.actions.append(Action(Op.DELETE, flow_name, name, reason, existing_id=have.id))
    return plan


def build_ref_deletion(target: Target, ref_deployments: list[Existing]) -> RefPlan:
    """A deleted ref takes every deployment registered for it (found by its git-ref tag)."""
    plan = RefPlan(target)
    kind = "tag" if target.is_tag else "branch"
    for e in sorted(ref_deployments, key=lambda e: (e.flow_name, e.name)):
        if (e.ref, e.repository) == (target.ref, target.repository):
            plan.actions.append(Action(Op.DELETE, e.flow_name, e.name, f"{kind} deleted", existing_id=e.id))
    if not plan.actions:
        plan.note = f"{kind} deleted; it had no deployments"
    return plan


def deployment_tags(target: Target, config: Config, action: Action | None = None,
                    entry_tags: tuple[str, ...] = ()) -> list[str]:
    extra = [*(action.runtime.tags if action and action.runtime else ()),
             *(action.flow.settings.tags if action and action.flow else ()), *entry_tags]
    release = [GIT_TAG + target.short] if target.release else []
    return list(dict.fromkeys([TOOL_TAG, REF_TAG + target.owner, REPO_TAG + target.repository, *release, *config.tags,
                               *extra]))


def deployment_description(target: Target, description: str) -> str:
    """The flow's docstring; a release deployment says which release it is at, first (the UI shows it)."""
    if not target.release or target.commit is None:
        return description
    at = f"Release {target.short} ({target.commit[:12]}), moved by prefect-push."
    return f"{at}\n\n{description}" if description else at
