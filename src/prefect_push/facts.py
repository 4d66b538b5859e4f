"""The facts base.decide needs about one pushed ref, gathered from git before anything is decided; and the one
answer to the question several rows ask: is commit X in the history of the remote's branch (or of a tag)?

That question has one function here, `in_history`, right in a shallow clone (a CI checkout) as in a complete
one: a yes read off the local graph is always right (a shallow boundary only cuts parents, it never adds
any), so only a no in a shallow clone is doubted. Then the commits are fetched by id, their history deepened
by 16 commits, then 256, and at last the whole history is fetched; the answer is the one a complete clone would give, or
the push stops with one line naming the setting that fetches more. Two answers to this one question are how a
depth-1 checkout once re-registered every flow ("registered at <before>, which origin does not have").

The other question several rows ask, where a branch left the remote's other branches, has one function too,
`fork_point`, right in a one-branch clone (actions/checkout's one ref, `--depth`, `--single-branch`) as in a
clone of every branch: it fetches the branches it lacks, when it is asked and only then. A one-branch checkout
once registered every flow of a force-pushed feature branch ("first push of this ref"): it had nothing to fork
from.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

from . import git
from .base import Base, Facts

if TYPE_CHECKING:
    from .plan import Target, Wanted
    from .push import RefUpdate
    from .read.config import Config


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
    pending: str | None = None  # where an earlier, unregistered push of this ref began ("": every file)
    deleted_at: str | None = None  # a missed deletion being replayed: the commit the ref had when deleted
    all_flows: bool = False  # --all: every flow at the commit, whatever the server's marker says
    refused: str | None = None  # the remote is not in the config's remotes: why nothing is registered
    remote: str = "origin"  # name (or URL) pushed to: which remote-tracking branches count as "the remote has"
    explicit_from: bool = False  # register --from: the update's remote_sha is what the user named
    base: Base | None = None  # how target.base was decided (base.decide)
    forced: bool = False  # `prefect-push release <tag>`: move the release there even backwards


def have_commit(sha: str, remote: str, cwd: str, *, fetch: bool = True) -> str | None:
    """The commit `sha` names, fetched from `remote` (that one commit, no history) when this clone is shallow
    and lacks it; None when it is not to be had. A complete clone never fetches: a hook on a laptop stays
    offline, and a commit a complete clone lacks was dropped by a force push, not cut off by a depth."""
    found = git.commit_of(sha, cwd)
    if found is None and fetch and git.is_shallow(cwd) and git.fetch_commit(remote, sha, cwd):
        found = git.commit_of(sha, cwd)
    return found


DEPTHS = (16, 256)  # how far a shallow clone's history is deepened before all of it is fetched

_ANSWERS: dict[tuple[str, str, tuple[str, ...], bool], bool] = {}  # a repair asks once a deployment


def in_history(sha: str, tips: Sequence[str | None], remote: str, cwd: str, *, fetch: bool = True) -> bool:
    """Whether commit `sha` is one of `tips` or an ancestor of one, as a complete clone of `remote` would say.

    tips: commits the remote has (its branch's commit, a tag's commit). fetch=False (an opted-out push, which
    must stay quick and offline) answers from what this clone has."""
    wanted = tuple(dict.fromkeys(t for t in tips if t))
    if sha in wanted:
        return True
    key = (os.path.abspath(cwd), sha, wanted, fetch)
    if key not in _ANSWERS:
        _ANSWERS[key] = _in_history(sha, wanted, remote, cwd, fetch)
    return _ANSWERS[key]


def _in_history(sha: str, tips: tuple[str, ...], remote: str, cwd: str, fetch: bool) -> bool:
    def local() -> bool:
        return any(git.commit_of(t, cwd) and git.is_ancestor(sha, t, cwd) for t in tips)

    if not tips:
        return False
    if local():
        return True
    if not fetch or not git.is_shallow(cwd):
        return False  # a complete clone's graph is the remote's (for the commits it has): the no is final
    if have_commit(sha, remote, cwd) is None:
        return False  # the remote does not serve it: none of its branches holds it (a rejected push's commit)
    present = [t for t in tips if have_commit(t, remote, cwd)]
    if not present:
        return False
    # the depth may have cut the path between: deepen the tips' history a little, then more (the common case, a
    # marker a few pushes back, costs a few commits), and only then fetch the whole history
    for by in DEPTHS:
        git.deepen(remote, present, by, cwd)
        if local():
            return True
        if git.history_complete(cwd, present):
            return False
    if not git.history_complete(cwd, present):
        full_history(f"whether {git.strip_credentials(remote)} holds {sha[:12]}", remote, cwd, tags=False,
                     why=f"whether {sha[:12]} is in its history")
    return local()


def remote_tips(p: Prepared, cwd: str) -> list[str | None]:
    """The commits the remote's branch is known at: the push's own old commit (in a hook, the remote's commit
    now), this clone's remote-tracking branch (a CI checkout's is the pushed commit), and, when those do not
    settle the question, the remote's commit asked of it (`git ls-remote`)."""
    branch = p.target.ref.removeprefix("refs/heads/")
    tracking = git.commit_of(f"refs/remotes/{p.remote}/{branch}", cwd) if git.is_remote_name(p.remote, cwd) else None
    return [None if p.update.is_new else p.update.remote_sha, tracking]


_REMOTE_NOW: dict[tuple[str, str, str], str | None] = {}


def remote_holds(sha: str, p: Prepared, cwd: str, *, fetch: bool = True) -> bool:
    """Whether the remote's branch holds commit `sha`: the one answer the marker and the repair of a rejected
    push both use (fetch=False: from what this clone has, for an opted-out push)."""
    tips = remote_tips(p, cwd)
    if in_history(sha, tips, p.remote, cwd, fetch=fetch):
        return True
    if not fetch:
        return False
    key = (os.path.abspath(cwd), p.remote, p.target.ref)
    if key not in _REMOTE_NOW:  # the remote may have moved past what we knew: asked once a run
        _REMOTE_NOW[key] = git.ls_remote_ref(p.remote, p.target.ref, cwd)
    now = _REMOTE_NOW[key]
    return now is not None and now not in tips and in_history(sha, [now], p.remote, cwd)


def full_history(ref: str, remote: str, cwd: str, *, tags: bool, why: str) -> None:
    """Make a shallow clone complete (tags=True: with every tag) before looking for `why`, which needs history;
    one line naming the setting when that fails: a guessed base would register the wrong flows."""
    if not git.history_complete(cwd) and not git.unshallow(remote, cwd, tags=tags):
        from .ci import depth_hint

        raise Blocked(f"{ref}: finding {why} needs history this shallow clone lacks, and fetching it from "
                      f"{git.strip_credentials(remote)} failed: {depth_hint(os.environ)}")


_FORKS: dict[tuple[str, str, str, str], tuple[str | None, bool]] = {}  # asked before and after the server's marker


def fork_point(commit: str, remote: str, ref: str, cwd: str, *, fetch: bool = True) -> str | None:
    """Where a branch left the remote's other branches: the parent of the oldest commit of it none of them holds
    (None: a root; `commit` itself: they hold it), as a complete clone with every branch says — the one answer,
    in a complete clone, a shallow one and a one-branch one (`--single-branch`, `--depth`, actions/checkout).

    A complete clone that tracks every branch answers from its remote-tracking branches, offline (in CI, when
    it has none but this one, it asks, and answers from what it has if the remote is out of reach). Any other
    clone fetches the remote's branches, only when this is asked: into refs/prefect-push/remote/<pid>/*,
    deleted afterwards; a complete one-branch clone fetches the commits it lacks, a shallow one the branches' last 16
    commits, then 256, deepening its own part of the walk as far, and at last the whole history, stopping as
    soon as git.fork_walk proves the answer complete. fetch=False (an opted-out push; the server phase, after
    the fetching one) answers from what this clone has, or with the fetched answer when this run has one."""
    key = (os.path.abspath(cwd), commit, remote, ref)
    if key not in _FORKS or fetch and not _FORKS[key][1]:
        _FORKS[key] = (_fork_point(commit, remote, ref, cwd, fetch), fetch)
    return _FORKS[key][0]


def _fork_point(commit: str, remote: str, ref: str, cwd: str, fetch: bool) -> str | None:
    shallow = git.is_shallow(cwd)
    named = git.is_remote_name(remote, cwd)
    # in CI, a complete clone whose refspec says every branch but that has none but this one (GitLab's GIT_DEPTH
    # 0 fetches the pipeline's ref alone) asks too; out of reach, it answers from what it has, as it always did.
    # Not on a laptop: the first push to an empty remote must not ask for an ssh passphrase twice
    lone = not shallow and named and os.environ.get("CI", "").lower() in ("true", "1") and not [
        r for r in git.refs_under(f"refs/remotes/{remote}/", cwd)
        if r not in (f"refs/remotes/{remote}/{ref.removeprefix('refs/heads/')}", f"refs/remotes/{remote}/HEAD")]
    if not fetch or not (shallow or lone or named and not git.tracks_every_branch(remote, cwd)):
        return git.first_unpushed_parent(commit, remote, ref, cwd)
    into = f"{git.REMOTE_BRANCHES}{os.getpid()}/"
    own = into + ref.removeprefix("refs/heads/")
    git.drop_refs(into, cwd)  # a run that died left them (its pid now ours): a deleted branch must not count
    try:
        for depth in ((*DEPTHS, None) if shallow else (None,)):
            if not git.fetch_branches(remote, into, cwd, depth=depth):
                if lone and git.tracks_every_branch(remote, cwd):
                    return git.first_unpushed_parent(commit, remote, ref, cwd)
                _cannot_fetch(ref, remote, shallow)
            others = [r for r in git.refs_under(into, cwd) if r != own]
            found = git.fork_walk(commit, others, cwd)
            if not found.exact and found.cut and depth:
                git.deepen(remote, found.cut, depth, cwd)  # the branch's own part is longer than its depth
                found = git.fork_walk(commit, others, cwd)
            if found.exact:
                return found.base
        return found.base  # the whole history: what a complete clone walks
    finally:
        git.drop_refs(into, cwd)


def _cannot_fetch(ref: str, remote: str, shallow: bool) -> None:
    from .ci import depth_hint

    hint = depth_hint(os.environ) if shallow else "clone every branch (without --single-branch)"
    where = git.strip_credentials(remote)
    raise Blocked(f"{ref}: finding where the branch forked needs history this {'shallow ' if shallow else ''}clone "
                  f"lacks (the other branches of {where}), and fetching it from {where} failed: {hint}")


def release_tag_at(commit: str, config: Config, cwd: str) -> str | None:
    """A release tag of this clone at `commit` (the newest by name), to name the current release by."""
    out = git.git("tag", "--points-at", commit, "--sort=-version:refname", cwd=cwd, check=False).split()
    return next((t for t in out if config.is_release(f"refs/tags/{t}")), out[0] if out else None)


def gather(p: Prepared, cwd: str, *, marker: str | None = None, read: bool = True, fetch: bool = True) -> Facts:
    """The facts base.decide needs about one ref, from git (fetching into a shallow clone when `fetch`);
    read: the server's marker was read (`marker` None means the ref has none)."""
    update, target = p.update, p.target
    assert target.commit is not None
    commit, remote = target.commit, p.remote
    facts = Facts(ref=target.ref, remote=git.strip_credentials(remote), all_flows=p.all_flows, commit=commit,
                  marker_read=read,
                  fork_point=lambda: fork_point(commit, remote, target.ref, cwd, fetch=fetch))
    if p.all_flows and not target.release:
        return facts
    if target.is_tag:
        if fetch:
            full_history(target.ref, remote, cwd, tags=True, why="the previous tag")
        since = git.previous_tag(commit, cwd)
        facts = replace(facts, previous_tag=since, previous_tag_commit=git.commit_of(since, cwd) if since else None)
        if not target.release:
            return facts
        facts = replace(facts, release=target.release, forced=p.forced)
        if marker is None:
            return facts
        here = have_commit(marker, remote, cwd, fetch=fetch) is not None
        return replace(facts, marker=marker, marker_here=here, release_at=release_tag_at(marker, p.config, cwd),
                       descends=in_history(marker, [commit], remote, cwd, fetch=fetch) if here else None)
    remote_old = None if update.is_new else have_commit(update.remote_sha, remote, cwd, fetch=fetch)
    if remote_old is None and not update.is_new and git.is_remote_name(remote, cwd):
        # the remote moved on since this clone fetched (another clone pushed): what this clone last saw of the
        # branch is where its own commits begin; the rest was pushed, and registered, from elsewhere
        remote_old = git.commit_of(f"refs/remotes/{remote}/{target.ref.removeprefix('refs/heads/')}", cwd)
    facts = replace(facts, is_new=update.is_new, remote_old=remote_old, pending=p.pending,
                    explicit_from=remote_old if p.explicit_from else None)
    if marker is None:
        return facts
    here = have_commit(marker, remote, cwd, fetch=fetch) is not None
    return replace(facts, marker=marker, marker_here=here, marker_held=remote_holds(marker, p, cwd, fetch=fetch))
