"""Which push a CI job runs for, from what GitHub Actions or GitLab CI put in its environment.

`prefect-push register` (and `plan`) without --from/--to/--ref reads it here: the ref, the commit the ref had
before the push and the pushed one, or that the ref was deleted. Pure apart from reading GitHub's event file:
no git, no network. Jenkins-style BUILD_TAG / GIT_BRANCH name only a ref and need git to check it, so they stay
in engine.ref_from_env, which the CLI asks when nothing here matched.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

_SHA = re.compile(r"\A(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")

GITHUB = "GitHub Actions"
GITLAB = "GitLab CI"


class CiPush(NamedTuple):
    ref: str  # full ref: refs/heads/main, refs/tags/v1 (refs/pull/1/merge for a PR run: no branch, registers nothing)
    before: str | None  # the ref's commit before the push; None when the ref is new (all zeros) or CI does not say
    after: str | None  # the pushed commit; None for a deletion, or when CI does not say
    deleted: bool
    source: str  # GITHUB or GITLAB: for the one line saying what was detected

    def describe(self) -> str:
        if self.deleted:
            return f"{self.source} deletion of {self.ref}" + (f" (was at {self.before[:12]})" if self.before else "")
        at = f"{self.before[:12]}..{self.after[:12]}" if self.before and self.after else \
            f"at {self.after[:12]}" if self.after else "(commit not given)"
        return f"{self.source} push of {self.ref} {at}"


def detect(env: Mapping[str, str]) -> CiPush | None:
    """The push this CI job runs for; None outside GitHub Actions and GitLab CI."""
    if env.get("GITHUB_ACTIONS") == "true":
        return github(env, _read_event(env.get("GITHUB_EVENT_PATH", "")))
    if env.get("GITLAB_CI") == "true":
        return gitlab(env)
    return None


def github(env: Mapping[str, str], event: Mapping[str, Any] | None) -> CiPush | None:
    """A push event's payload says everything (before is all zeros for a new branch or tag; deleted and an
    all-zeros after for a deletion); a delete event names the deleted ref (short) and its type, while
    GITHUB_REF/GITHUB_SHA are the default branch's then. Any other event (workflow_dispatch, a re-run, create):
    GITHUB_REF at GITHUB_SHA, with no before: the server's marker, or the fork point, is the base."""
    name = env.get("GITHUB_EVENT_NAME", "")
    if event is not None and name == "push" and isinstance(event.get("ref"), str):
        before, after = _sha(event.get("before")), _sha(event.get("after"))
        deleted = event.get("deleted") is True or _zero(event.get("after"))
        return CiPush(event["ref"], before, None if deleted else after or _sha(env.get("GITHUB_SHA")), deleted,
                      GITHUB)
    if event is not None and name == "delete" and isinstance(event.get("ref"), str) and event["ref"]:
        ref = event["ref"]
        if not ref.startswith("refs/"):
            ref = ("refs/tags/" if event.get("ref_type") == "tag" else "refs/heads/") + ref
        return CiPush(ref, None, None, True, GITHUB)
    ref = env.get("GITHUB_REF", "").strip()
    if not ref:
        return None
    return CiPush(ref, None, _sha(env.get("GITHUB_SHA")), False, GITHUB)


def gitlab(env: Mapping[str, str]) -> CiPush | None:
    """CI_COMMIT_TAG is set on tag pipelines only; otherwise the branch is CI_COMMIT_REF_NAME (in a merge request
    pipeline, the source branch). CI_COMMIT_BEFORE_SHA is all zeros for a new branch, a tag, a merge request
    or a pipeline run by hand. GitLab runs no pipeline for a deletion."""
    tag = env.get("CI_COMMIT_TAG", "").strip()
    branch = env.get("CI_COMMIT_REF_NAME", "").strip()
    if not tag and not branch:
        return None
    ref = f"refs/tags/{tag}" if tag else f"refs/heads/{branch}"
    # a merged-results pipeline runs on a merge commit that is on no branch: the branch's own head is the push
    after = _sha(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")) or _sha(env.get("CI_COMMIT_SHA"))
    return CiPush(ref, _sha(env.get("CI_COMMIT_BEFORE_SHA")), after, False, GITLAB)


def depth_hint(env: Mapping[str, str]) -> str:
    """What to set so that a CI checkout has the whole history, in the words of the CI running this."""
    if env.get("GITHUB_ACTIONS") == "true":
        return "set `fetch-depth: 0` under `with:` of actions/checkout"
    if env.get("GITLAB_CI") == "true":
        return "set `GIT_DEPTH: 0` in the job's variables (or git depth 0 in Settings > CI/CD > General pipelines)"
    return "clone without --depth, or run `git fetch --unshallow` before this"


def _read_event(path: str) -> Mapping[str, Any] | None:
    if not path:
        return None
    import json  # here: the hook's no-flow path imports this module's callers, never this

    try:
        with open(path, encoding="utf-8") as f:
            event = json.load(f)
    except (OSError, ValueError):
        return None  # unreadable: GITHUB_REF and GITHUB_SHA still name the ref and the commit
    return event if isinstance(event, dict) else None


def _sha(value: object) -> str | None:
    """A commit id, or None for a missing, malformed or all-zeros one (git's "no commit")."""
    if not isinstance(value, str):
        return None
    value = value.strip().lower()
    return value if _SHA.match(value) and not _zero(value) else None


def _zero(value: object) -> bool:
    return isinstance(value, str) and bool(value) and set(value) == {"0"}
