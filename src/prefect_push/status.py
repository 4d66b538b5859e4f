"""What prefect-push has registered for a repository, ref by ref, and which refs the remote no longer has.

Pure: no git, no network. The server's deployments and the remote's refs come in as data (server.py,
git.ls_remote); `status` shows the grouping and `prune` deletes what `stale` picks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from .base import version_key
from .push import short_ref

GIT_TAG = "git-tag:"  # on a release deployment: the tag it is at
# the release deployments' owner in git-ref tags and markers: no git ref, so prune and tag deletions never take them
RELEASE_REF = "release:"

NO_REF = "(no git-ref tag)"  # a deployment of ours whose git-ref tag someone removed: shown, never pruned
NOT_HERE = "(not in this clone)"


@dataclass(frozen=True)
class Registered:
    """One deployment prefect-push made, as status and prune need it."""
    id: str
    flow: str
    deployment: str
    ref: str | None  # from the git-ref tag
    commit: str | None  # the deployment's version: the full sha it was registered at
    updated: datetime | None
    work_pool: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def tag(self) -> str | None:
        """A release deployment's tag: the release it is at."""
        return next((t[len(GIT_TAG):] for t in self.tags if t.startswith(GIT_TAG)), None)


@dataclass
class RefStatus:
    ref: str
    on_remote: bool | None  # None: the remote could not be asked
    deployments: list[Registered] = field(default_factory=list)

    @property
    def short(self) -> str:
        return short_ref(self.ref)

    @property
    def release(self) -> str | None:
        return self.ref[len(RELEASE_REF):] if self.ref.startswith(RELEASE_REF) else None


def by_ref(deployments: list[Registered], remote_refs: dict[str, str] | None) -> list[RefStatus]:
    """Deployments grouped by ref, refs sorted (branches before tags, as git sorts refs/heads < refs/tags),
    deployments by flow name; `remote_refs` None means the remote's state is unknown."""
    groups: dict[str, RefStatus] = {}
    for d in deployments:
        ref = d.ref or NO_REF
        if ref not in groups:
            known = remote_refs is not None and d.ref is not None
            groups[ref] = RefStatus(ref, (ref in remote_refs) if known else None)  # type: ignore[operator]
        groups[ref].deployments.append(d)
    for g in groups.values():
        if g.release is not None and remote_refs is not None:
            # a release is on the remote while every tag its deployments clone is
            g.on_remote = all(d.tag is not None and f"refs/tags/{d.tag}" in remote_refs for d in g.deployments)
    for g in groups.values():
        g.deployments.sort(key=lambda d: (d.flow, d.deployment))
    return [groups[ref] for ref in sorted(groups)]


def stale(refs: list[RefStatus]) -> list[RefStatus]:
    """The refs whose deployments prune deletes: only those the remote was asked about and does not have.

    Only branches and tags: prefect-push registers nothing else, so any other ref tag was not its doing.
    """
    return [r for r in refs if r.on_remote is False and r.ref.startswith(("refs/heads/", "refs/tags/"))]


def beyond_keep(refs: list[RefStatus], keep: int, newness: dict[str, float]) -> list[tuple[RefStatus, Registered]]:
    """With tag-deployments: per flow, the deployments of tags older than its newest `keep` tags, which prune
    deletes. `newness` ranks tags (larger is newer: the tag's date in this clone, else the deployment's update),
    version order among equals.
    Only tags the remote has: the ones it lost go whole (`stale`), and an unknown state deletes nothing."""
    by_flow: dict[str, list[tuple[float, RefStatus, Registered]]] = {}
    for r in refs:
        if not r.ref.startswith("refs/tags/") or r.on_remote is not True:
            continue  # gone tags are stale (all their deployments go); unknown ones stay
        for d in r.deployments:
            when = newness.get(r.ref, d.updated.timestamp() if d.updated else 0.0)
            by_flow.setdefault(d.flow, []).append((when, r, d))
    out = []
    for flow in sorted(by_flow):
        # ties (tags made within one second share a date) in version order: v1.10 is newer than v1.9
        ranked = sorted(by_flow[flow], key=lambda x: (x[0], version_key(x[1].short)), reverse=True)
        # keep counts tags, not deployments: a flow with several prefect.yaml entries has several per tag
        kept = list(dict.fromkeys(r.ref for _, r, _ in ranked))[:keep]
        out += [(r, d) for _, r, d in ranked if r.ref not in kept]
    return out


def age(updated: datetime | None, now: datetime) -> str:
    """'45s ago', '3m ago', '5h ago', '2d ago'; '?' without a timestamp."""
    if updated is None:
        return "?"
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=timezone.utc)  # the server speaks UTC
    seconds = int((now - updated).total_seconds())
    if seconds < 0:
        return "just now"  # this machine's clock is behind the server's
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def short_sha(commit: str | None) -> str:
    return (commit or "")[:12]


def status_rows(refs: list[RefStatus], subjects: dict[str, str | None], now: datetime) -> list[dict]:
    """The `status --json` refs; `subjects` maps a full sha to its subject, None when this clone lacks it."""
    return [{
        "ref": r.ref,
        "on_remote": r.on_remote,
        "release": r.release,
        "deployments": [{
            "flow": d.flow,
            "deployment": d.deployment,
            "tag": d.tag,
            "commit": short_sha(d.commit),
            "sha": d.commit,
            "subject": _subject(d.commit, subjects),
            "updated": d.updated.isoformat() if d.updated else None,
            "age": age(d.updated, now),
            "work_pool": d.work_pool,
        } for d in r.deployments],
    } for r in refs]


def _subject(commit: str | None, subjects: dict[str, str | None]) -> str:
    if not commit:
        return ""  # no version on the deployment: someone edited it, there is no commit to name
    found = subjects.get(commit)
    return NOT_HERE if found is None else found


def remote_word(on_remote: bool | None) -> str:
    return {True: "yes", False: "gone", None: "unknown"}[on_remote]
