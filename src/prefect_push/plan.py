"""The plan: what a push registers, updates, deletes or skips, and why. Pure: no git, no network.

The engine gathers facts (changed files and the flows in them, the server's marker and deployments) and
this module decides. Everything here is testable without a server.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from .config import Config, Runtime

if TYPE_CHECKING:
    from .flows import FlowSpec
from .push import short_ref

REF_TAG = "git-ref:"
REPO_TAG = "git-repo:"
TOOL_TAG = "prefect-push"


class Op(str, Enum):
    REGISTER = "register"  # new deployment
    UPDATE = "update"  # deployment exists: new commit / entrypoint
    DELETE = "delete"
    SKIP = "skip"
    UNSCHEDULE = "schedule off"  # an older tag's deployment of a flow a newer tag now schedules


@dataclass(frozen=True)
class Target:
    """One pushed ref, resolved: which repository, which ref, which commit, diffed from where."""
    repository: str  # the repository's identity (git.repo_key): markers and tags use it, however the URL is spelled
    ref: str  # full ref on the remote: refs/heads/feature/x, refs/tags/v1
    commit: str | None  # None: the ref is being deleted
    base: str | None = None  # None with a commit: every file is new (first push, first tag)
    message: str = ""
    clone_url: str = ""  # what workers git_clone: the remote URL without credentials, or repository-url

    @property
    def short(self) -> str:
        return short_ref(self.ref)

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

    @property
    def schedule(self) -> str:
        """For the table: the flow's schedule and whether it fires on this ref."""
        text = self.flow.settings.schedule if self.flow else ""
        return f"{text} ({'live' if self.schedule_live else 'off'})" if text else ""


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


@dataclass(frozen=True)
class Wanted:
    """What the changed files ask for, before looking at the server."""
    upserts: tuple[tuple[FlowSpec, str], ...]  # (flow, reason)
    removals: tuple[tuple[str, str, str], ...]  # (flow name, path it was in, reason)
    problems: tuple[str, ...] = ()


def wanted_changes(files: list[FileChange], *, first: bool, since: str | None = None, tag: bool = False) -> Wanted:
    """Flows to (re)register and flow names whose deployment for this ref must go, from the changed files."""
    upserts: dict[str, tuple[FlowSpec, str]] = {}
    problems: list[str] = []
    old_names: dict[str, str] = {}
    for f in files:
        for spec in f.old_flows:
            old_names.setdefault(spec.flow_name, f.old_path or f.path)
        for spec in f.new_flows:
            if spec.flow_name in upserts:
                other = upserts[spec.flow_name][0]
                problems.append(f"{spec.path}:{spec.line}: flow name {spec.flow_name!r} is also defined at "
                                f"{other.path}:{other.line}; give one of them @flow(name=...)")
                continue
            upserts[spec.flow_name] = (spec, _reason(f, spec, first=first, since=since, tag=tag))
    removals = []
    for name, path in sorted(old_names.items()):
        if name not in upserts:
            gone = next((f for f in files if (f.old_path or f.path) == path), None)
            why = "file deleted" if gone is not None and gone.status == "D" else f"flow no longer in {path}"
            removals.append((name, path, why))
    return Wanted(tuple(upserts.values()), tuple(removals), tuple(problems))


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


def build(target: Target, wanted: Wanted, config: Config, existing: list[Existing]) -> RefPlan:
    """Turn what the files want into actions against what the server has."""
    plan = RefPlan(target, problems=list(wanted.problems))
    by_key = {(e.flow_name, e.name): e for e in existing}
    live = config.schedules_live(target.ref)
    for spec, reason in wanted.upserts:
        runtime = config.runtime_for(spec.path, spec.settings.runtime)
        if runtime is None:
            plan.problems.append(
                f"{spec.path}:{spec.line}: flow {spec.flow_name!r} asks for runtime {spec.settings.runtime!r}, which "
                f"[tool.prefect-push.runtimes] does not define (defined: "
                f"{', '.join(r.name for r in config.runtimes) or 'none'})")
            continue
        name = config.deployment_name_for(target.short, spec.flow_name, spec.path, target.repository)
        have = by_key.get((spec.flow_name, name))
        if have is not None and have.ref is not None and (have.ref, have.repository) != (target.ref, target.repository):
            plan.problems.append(
                f"deployment {spec.flow_name}/{name} already belongs to {have.owner()}; {target.ref} would overwrite it "
                f"(names replace / % & > < with -): rename the branch, or set deployment-name in [tool.prefect-push] "
                f"(a fork of the same repository: list the team's repository first in remotes, forks get @owner)")
            continue
        if have is not None and have.version == target.commit:
            plan.actions.append(Action(Op.SKIP, spec.flow_name, name, "already registered at this commit", spec,
                                       runtime=runtime, schedule_live=live))
            continue
        op = Op.UPDATE if have is not None else Op.REGISTER
        if have is not None and have.ref is None:
            reason += "; takes over a deployment made without prefect-push"
        plan.actions.append(Action(op, spec.flow_name, name, reason, spec, runtime=runtime, schedule_live=live))
    for flow_name, path, reason in wanted.removals:
        name = config.deployment_name_for(target.short, flow_name, path, target.repository)
        have = by_key.get((flow_name, name))
        if (have is not None and (have.ref, have.repository) == (target.ref, target.repository)
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


def deployment_tags(target: Target, config: Config, action: Action | None = None) -> list[str]:
    extra = [*(action.runtime.tags if action and action.runtime else ()),
             *(action.flow.settings.tags if action and action.flow else ())]
    return list(dict.fromkeys([TOOL_TAG, REF_TAG + target.ref, REPO_TAG + target.repository, *config.tags, *extra]))
