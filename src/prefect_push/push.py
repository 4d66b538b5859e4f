"""What is being pushed: git's pre-push stdin, pre-commit's environment, or CI arguments -> RefUpdates.

Pure: no git, no network. Resolving ids (peeling tags, checking objects exist) is git.py's job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_HEX = re.compile(r"\A(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")


class PushLineError(ValueError):
    """A pre-push stdin line that is not `<local ref> <local oid> <remote ref> <remote oid>`."""


class Kind(str, Enum):
    NEW_BRANCH = "new branch"
    BRANCH = "branch update"
    BRANCH_DELETE = "branch deletion"
    TAG = "tag"
    TAG_DELETE = "tag deletion"
    OTHER = "other ref"


@dataclass(frozen=True)
class RefUpdate:
    local_ref: str  # "(delete)" for deletions, as git says it
    local_sha: str  # all zeros for deletions
    remote_ref: str  # the ref on the remote: what deployments are named after
    remote_sha: str  # all zeros when the remote has no such ref yet

    @property
    def is_delete(self) -> bool:
        return is_zero(self.local_sha)

    @property
    def is_new(self) -> bool:
        return is_zero(self.remote_sha)

    @property
    def kind(self) -> Kind:
        if self.remote_ref.startswith("refs/tags/"):
            return Kind.TAG_DELETE if self.is_delete else Kind.TAG
        if self.remote_ref.startswith("refs/heads/"):
            if self.is_delete:
                return Kind.BRANCH_DELETE
            return Kind.NEW_BRANCH if self.is_new else Kind.BRANCH
        return Kind.OTHER



def is_zero(sha: str) -> bool:
    return bool(sha) and set(sha) == {"0"}


def short_ref(ref: str) -> str:
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix):]
    return ref


def full_ref(name: str, *, tag: bool = False) -> str:
    if name.startswith("refs/"):
        return name
    return ("refs/tags/" if tag else "refs/heads/") + name


def parse_push_line(line: str) -> RefUpdate:
    # rsplit as pre-commit does: git quotes nothing, and a local "ref" may be an expression with spaces
    parts = line.strip().rsplit(maxsplit=3)
    if len(parts) != 4:
        raise PushLineError(f"pre-push input line {line.strip()!r}: expected 4 fields, got {len(parts)}")
    local_ref, local_sha, remote_ref, remote_sha = parts
    for sha in (local_sha, remote_sha):
        if not _HEX.match(sha):
            raise PushLineError(f"pre-push input line {line.strip()!r}: {sha!r} is not a git object id")
    if len(local_sha) != len(remote_sha):
        raise PushLineError(f"pre-push input line {line.strip()!r}: object ids of different formats")
    if not remote_ref.startswith("refs/"):
        raise PushLineError(f"pre-push input line {line.strip()!r}: remote ref {remote_ref!r} is not a full ref")
    return RefUpdate(local_ref, local_sha, remote_ref, remote_sha)


def parse_push_lines(text: str) -> list[RefUpdate]:
    """All lines git gave the pre-push hook; blank lines are ignored, empty input is no push."""
    return [parse_push_line(line) for line in text.splitlines() if line.strip()]
