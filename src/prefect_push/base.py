"""Where a ref's diff starts: one pure rule over facts gathered first (git, the server's marker, this clone's
record of opted-out pushes). Every row of `decide` is a row of the table in docs/what-gets-registered.md and
a case of tests/test_base.py; the engine and the registrar both ask here, and nowhere else decides a base.
Also here: which of one push's release tags moves the release, and the order a push's refs are applied in.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Collection, Sequence


class Row(str, Enum):
    ALL = "--all"
    TAG = "tag"
    MARKER = "marker"
    MARKER_ELSEWHERE = "marker not in this clone"
    MARKER_NOT_ON_REMOTE = "marker not on the remote"
    SKIPPED = "opt-out"
    FROM = "--from"
    NEW_BRANCH = "new branch"
    NEVER_REGISTERED = "never registered"
    RELEASE = "release"
    RELEASE_MOVE = "prefect-push release"
    RELEASE_BEHIND = "release not ahead"  # moves nothing
    UNREAD = "marker not read yet"  # before the server is asked: the push's own diff (not a row of the table)


@dataclass(frozen=True)
class Facts:
    """What is known about one pushed ref before deciding. `fork_point` costs a rev-list (and, in a shallow
    clone, a fetch): it is a thunk, called only by the rows that need it."""
    ref: str  # refs/heads/x, refs/tags/v1
    remote: str  # the remote's name, for the why
    fork_point: Callable[[], str | None]  # where the branch left the remote's other branches (None: root)
    is_new: bool = False  # the remote lacks the ref
    remote_old: str | None = None  # the remote's commit of the ref, or else the one this clone last fetched
    marker: str | None = None  # the server's last fully registered commit (None: never, or not read yet)
    marker_here: bool = False  # this clone has the marker's commit (a diff can start there)
    marker_held: bool = False  # the remote's branch holds the marker's commit
    pending: str | None = None  # an opted-out push of this ref began here ("": at the root)
    explicit_from: str | None = None  # register --from
    previous_tag: str | None = None  # tags: the nearest earlier tag's name ...
    previous_tag_commit: str | None = None  # ... and its commit
    all_flows: bool = False  # register --all
    commit: str | None = None  # the pushed commit
    marker_read: bool = True  # False before the server is asked: `marker` is unknown, not absent
    # releases: the tag moves the release deployments; `marker` is then the release's (its current commit)
    release: str = ""  # the release deployments' name ("production"); "": not a release
    forced: bool = False  # `prefect-push release <tag>`: rollback or roll-forward, on purpose
    descends: bool | None = None  # the tag's commit descends from the release's (None: that commit is not here)
    release_at: str | None = None  # the current release's tag name, when this clone has one at its commit

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith("refs/tags/")


@dataclass(frozen=True)
class Base:
    row: Row
    commit: str | None  # None: every file is new
    why: str  # for the table: which row decided, and from where
    repair: bool = False  # deployments of the ref at commits the remote lacks are re-registered at the push
    hint: str = ""  # one line for the user, after the table


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "the root"


def _name(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


def decide(f: Facts) -> Base:
    """The base of one ref's diff, and why (see docs/what-gets-registered.md; the first matching row wins)."""
    if f.release:
        return _release(f)
    if f.all_flows:
        return Base(Row.ALL, None, "--all: every flow")
    if f.is_tag:
        if f.previous_tag is None:
            return Base(Row.TAG, None, "first tag: every flow")
        return Base(Row.TAG, f.previous_tag_commit, f"since {f.previous_tag}")
    if f.marker is not None and f.marker_held:
        if f.marker_here:
            return Base(Row.MARKER, f.marker, f"since registered {_short(f.marker)}")
        # another clone registered a commit the remote has and this clone never fetched: what this clone
        # adds on top is the push's own diff, and what the marker covers is on the remote already
        fork = f.remote_old or f.fork_point()
        return Base(Row.MARKER_ELSEWHERE, fork, f"since {_short(fork)} (registered {_short(f.marker)} "
                                                "is not in this clone)")
    if f.marker is not None:
        # a rejected push (another clone's, or this one's) or rewritten history: the registered state is not
        # the remote's. Diff from what the remote has, and re-register what the remote does not hold.
        if f.remote_old is not None:
            return Base(Row.MARKER_NOT_ON_REMOTE, f.remote_old,
                        f"since {f.remote}'s {_short(f.remote_old)} (registered {_short(f.marker)} is not on "
                        f"{f.remote})", repair=True)
        fork = f.fork_point()
        return Base(Row.MARKER_NOT_ON_REMOTE, fork, f"since forked at {_short(fork)} (registered "
                                                    f"{_short(f.marker)} is not on {f.remote})", repair=True)
    if f.pending is not None:
        start = f.pending or None
        return Base(Row.SKIPPED, start, f"since a skipped push began at {_short(start)}")
    if not f.marker_read:
        # the server decides the real row; this diff only says whether to ask it (a push that changes no flow
        # never imports prefect) and finds broken flow files before any write
        return Base(Row.UNREAD, f.remote_old if f.remote_old and not f.is_new else f.fork_point(),
                    "the push's own changes")
    if f.explicit_from is not None:
        return Base(Row.FROM, f.explicit_from, f"since --from {_short(f.explicit_from)}")
    if f.is_new or f.remote_old is None:
        fork = f.fork_point()
        return Base(Row.NEW_BRANCH, fork, f"since forked at {_short(fork)}" if fork else "new branch from the root")
    # pushed before without registering (before adoption, --no-verify, from a clone without the hook): what the
    # branch's own commits changed, counted from where it left the remote's other branches (a handoff from a
    # colleague who skipped the hook); a branch that shares nothing with them (main before adoption) would be
    # every flow, by surprise: then the push's own diff, and a hint for the rest
    # (a fork point at the pushed commit itself: every commit is on another branch already, counts as none)
    fork = f.fork_point()
    fork = None if fork == f.commit else fork
    since = (f"since forked at {_short(fork)}" if fork is not None
             else f"since {f.remote}'s {_short(f.remote_old)}")
    # the server phase says it only where flows are left out that a user wants (registrar._left_out)
    return Base(Row.NEVER_REGISTERED, fork if fork is not None else f.remote_old, since,
                hint=f"{f.ref} was never registered: this push registers only what it changed; "
                     f"`prefect-push register --ref {_name(f.ref)} --all` registers the rest")


def _release(f: Facts) -> Base:
    """A release tag moves the release deployments (docs/releases.md): every flow the first time, then what
    changed since the current release, and never backwards unless asked (`prefect-push release <tag>`)."""
    tag = _name(f.ref)
    if not f.marker_read:
        # the tag's own changes, to find broken flow files before any write; the release's marker decides
        return Base(Row.UNREAD, f.previous_tag_commit, "the tag's own changes")
    if f.marker is None:
        return Base(Row.RELEASE, None, "first release: every flow")
    current = f"{f.release_at} ({_short(f.marker)})" if f.release_at else _short(f.marker)
    if f.forced:
        if not f.marker_here:
            return Base(Row.RELEASE_MOVE, None, f"current release {current} is not in this clone: every flow")
        return Base(Row.RELEASE_MOVE, f.marker, f"differs from release {current}")
    if f.descends is not True:
        why = ("does not descend from" if f.descends is False
               else "cannot be compared with (its commit is not in this clone: fetch the tags)")
        return Base(Row.RELEASE_BEHIND, None, f"{tag} {why} the current release {current}",
                    hint=f"{tag} ({_short(f.commit)}) {why} the current release {current}: {f.release} did not move; "
                         f"`prefect-push release {tag}` moves it there on purpose")
    if f.all_flows:
        return Base(Row.ALL, None, "--all: every flow")
    return Base(Row.RELEASE, f.marker, f"since release {current}")


# --- several release tags in one push (`git push --tags` through the plain hook, CI): the release moves once ---

@dataclass(frozen=True)
class PushedRelease:
    tag: str  # v1.10
    commit: str


def version_key(tag: str) -> tuple:
    """Tags in version order, as `git tag --sort=v:refname` reads them: v1.9 < v1.10 < v1.10.1."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", tag) if part)


def newest_release(pushed: Sequence[PushedRelease], heads: Collection[str], release: str,
                   behind: Callable[[str, str], bool]) -> tuple[PushedRelease, list[str]]:
    """Which of one push's release tags of one repository moves the release, and a line for each other one
    (docs/releases.md, "Several release tags in one push"). heads: the pushed commits no other pushed commit
    descends from (git merge-base --independent); behind(old, new): whether commit old is an ancestor of new,
    asked only when the push holds more than one line. The others are never applied after it: a push must not
    end at an older tag because git listed it last."""
    newest = max((p for p in pushed if p.commit in heads), key=lambda p: version_key(p.tag))
    lines = []
    for p in sorted(pushed, key=lambda p: version_key(p.tag)):
        if p is newest:
            continue
        if p.commit == newest.commit or len(set(heads)) == 1 or behind(p.commit, newest.commit):
            lines.append(f"{p.tag} is pushed with {newest.tag}, which descends from it: {release} moves to "
                         f"{newest.tag} only")
        else:
            lines.append(f"{p.tag} is pushed with {newest.tag}, which does not descend from it: {release} moves to "
                         f"{newest.tag} only; `prefect-push release {p.tag}` moves it there on purpose")
    return newest, lines


def apply_order(is_tag: bool, is_release: bool, name: str) -> tuple:
    """The order one push's refs are applied in: branches and deletions, then tags' own deployments oldest
    first, then the release. What is applied later sees what came before: a release switches off the schedule
    main registered in the same push, a newer tag's the older one's."""
    return (2 if is_release else 1 if is_tag else 0, version_key(name) if is_tag else ())
