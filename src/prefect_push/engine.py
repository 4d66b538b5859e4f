"""The path a push takes: ref updates -> targets -> changed flows -> plan -> (server) -> outcome.

Everything before `run_on_server` is plain Python and git; prefect is imported only when a plan has work
for the server.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace

from . import git
from .config import Config, ConfigError, load
from .flows import BadFlow, read_flows
from .plan import FileChange, RefPlan, Target, Wanted, wanted_changes
from .push import Kind, RefUpdate


class Blocked(Exception):
    """The push must stop; the message is one line per problem."""


@dataclass
class Prepared:
    """A ref update with what git says about it."""
    update: RefUpdate
    target: Target
    config: Config
    config_where: str
    wanted: Wanted | None = None  # None: a deletion
    since: str | None = None  # previous tag, for tag pushes


@dataclass
class Outcome:
    plans: list[RefPlan] = field(default_factory=list)
    errors: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # plan index -> (deployment, error)
    warnings: list[str] = field(default_factory=list)
    api_url: str | None = None


def env_override(update: RefUpdate) -> RefUpdate:
    """BUILD_TAG / GIT_BRANCH name the ref in CI systems (Jenkins) where the checkout is detached."""
    if update.is_delete:
        return update
    if os.environ.get("BUILD_TAG"):
        return RefUpdate(update.local_ref, update.local_sha, "refs/tags/" + os.environ["BUILD_TAG"],
                         update.remote_sha)
    if os.environ.get("GIT_BRANCH"):
        branch = os.environ["GIT_BRANCH"].removeprefix("refs/heads/")
        branch = branch.split("/", 1)[1] if branch.startswith("origin/") else branch
        return RefUpdate(update.local_ref, update.local_sha, "refs/heads/" + branch, update.remote_sha)
    return update


def config_at(commit: str | None, cwd: str) -> tuple[Config, str]:
    rev = commit or "HEAD"
    where = f"pyproject.toml at {rev[:12]}"
    raw = git.show(rev, "pyproject.toml", cwd) if git.commit_of(rev, cwd) else None
    return load(raw, where), where


def prepare(update: RefUpdate, remote: str, url: str, cwd: str) -> Prepared:
    """Resolve one ref update: its commit, base and config; what its changed files want."""
    repository = git.repo_key(url, cwd)
    if update.is_delete:
        config, where = config_at(None, cwd)
        return Prepared(update, Target(repository, update.remote_ref, None), config, where)
    commit = git.commit_of(update.local_sha, cwd)
    if commit is None:
        raise Blocked(f"{update.remote_ref}: pushed object {update.local_sha[:12]} is not a commit in this clone")
    config, where = config_at(commit, cwd)
    base, since = base_of(update, commit, remote, cwd)
    clone_url = config.repository_url or git.strip_credentials(url)
    target = Target(repository, update.remote_ref, commit, base, git.commit_subject(commit, cwd), clone_url)
    prepared = Prepared(update, target, config, where, since=since)
    prepared.wanted = changed_flows(target, config, cwd, since=since)
    return prepared


def base_of(update: RefUpdate, commit: str, remote: str, cwd: str) -> tuple[str | None, str | None]:
    """(base commit to diff from, previous tag for tag pushes). A None base means every file is new."""
    if update.kind is Kind.TAG:
        since = git.previous_tag(commit, cwd)
        return (git.commit_of(since, cwd) if since else None), since
    if not update.is_new and git.commit_of(update.remote_sha, cwd):
        return update.remote_sha, None  # a force push too: the diff is what the remote had vs what it gets
    return git.first_unpushed_parent(commit, remote, update.remote_ref, cwd), None


def remember_skipped(updates: list[RefUpdate], remote: str, url: str, cwd: str) -> None:
    """An opted-out push is recorded, so the next push of each ref registers what this one did not."""
    pending = read_pending(cwd)
    for update in updates:
        commit = None if update.is_delete else git.commit_of(update.local_sha, cwd)
        if commit is not None:
            base, _ = base_of(update, commit, remote, cwd)
            missed(Target(git.repo_key(url, cwd), update.remote_ref, commit, base), pending)
    write_pending(cwd, pending)


def changed_flows(target: Target, config: Config, cwd: str, since: str | None = None) -> Wanted:
    assert target.commit is not None
    changes = git.changed_paths(target.base, target.commit, cwd)
    config_changed = target.base is not None and _config_changed(changes, target, cwd)
    if config_changed:
        # job variables or the pool changed: every flow of the ref must carry the new settings
        changes = [git.Change("M", c.path) for c in git.changed_paths(None, target.commit, cwd)]
    picked = [c for c in changes if config.selects(c.path) or (c.old_path and config.selects(c.old_path))]
    new_paths = [c.path for c in picked if c.status != "D" and config.selects(c.path)]
    old_paths = [c.old_path or c.path for c in picked if c.status != "A"] if target.base else []
    new_src = git.show_many(target.commit, new_paths, cwd)
    old_src = git.show_many(target.base, old_paths, cwd) if target.base and old_paths else {}
    files, problems = [], []
    for c in picked:
        new = read_flows(c.path, new_src[c.path]) if c.path in new_src else []
        old_path = c.old_path or c.path
        old = read_flows(old_path, old_src[old_path]) if old_path in old_src else []
        if isinstance(new, BadFlow):
            problems.append(f"{new} (in {target.short} at {target.commit[:12]})")
            continue
        if isinstance(old, BadFlow):
            old = []  # what was there before can't be read: nothing to delete from it
        if new or old:
            files.append(FileChange(c.status, c.path, c.old_path, old_flows=tuple(old), new_flows=tuple(new)))
    wanted = wanted_changes(files, first=target.base is None, since=since, tag=target.is_tag)
    if config_changed:
        wanted = replace(wanted, upserts=tuple((spec, "[tool.prefect-push] changed") for spec, _ in wanted.upserts))
    if problems:
        wanted = Wanted(wanted.upserts, wanted.removals, tuple(problems) + wanted.problems)
    return wanted


def _config_changed(changes: list[git.Change], target: Target, cwd: str) -> bool:
    if not any(c.path == "pyproject.toml" for c in changes):
        return False
    try:
        old = load(git.show(target.base, "pyproject.toml", cwd)) if target.base else Config()
        new = load(git.show(target.commit, "pyproject.toml", cwd))
    except ConfigError:
        return False  # reported where the config is loaded for real
    return old != new


# --- a small local record of refs whose registration was missed, so a later push catches them up ---

def _pending_path(cwd: str) -> str:
    return os.path.join(git.git_dir(cwd), "prefect-push", "pending.json")


def read_pending(cwd: str) -> dict[str, str]:
    try:
        with open(_pending_path(cwd)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def write_pending(cwd: str, pending: dict[str, str]) -> None:
    path = _pending_path(cwd)
    try:
        if not pending:
            if os.path.exists(path):
                os.remove(path)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(pending, f, indent=1)
    except OSError:
        pass  # a cache: losing it only means the next flow-changing push does the catch-up


def pending_key(target: Target) -> str:
    return f"{target.repository} {target.ref}"


def missed(target: Target, pending: dict[str, str]) -> None:
    """Remember where an unregistered push began (the earliest such base wins); "" means every file."""
    if target.commit is not None:
        pending.setdefault(pending_key(target), target.base or "")


def every_flow(p: Prepared, cwd: str) -> Prepared:
    """Diff from nothing: every flow file at the commit (adopting prefect-push on an existing repo)."""
    if p.target.commit is None:
        return p
    target = replace(p.target, base=None)
    return replace(p, target=target, wanted=changed_flows(target, p.config, cwd, since=p.since))


def catch_up(p: Prepared, pending: dict[str, str], cwd: str) -> Prepared:
    """A ref whose earlier push was not registered is diffed from where that push began."""
    base = pending.get(pending_key(p.target))
    if base is None or p.target.commit is None or base == (p.target.base or ""):
        return p
    if base and not (git.commit_of(base, cwd) and git.is_ancestor(base, p.target.commit, cwd)):
        return p  # history was rewritten since: the marker on the server decides
    target = replace(p.target, base=base or None)
    return replace(p, target=target, wanted=changed_flows(target, p.config, cwd, since=p.since))
