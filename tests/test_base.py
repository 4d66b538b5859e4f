"""base.decide, row by row: each case here is a row of the base table in docs/what-gets-registered.md.

Pure logic over facts; the same rows are exercised end to end against real git and the real server in
tests/test_base_rows.py."""
from __future__ import annotations

import pytest

from prefect_push.base import Facts, Row, decide

M, O, F, P, FORK, T1 = "m" * 40, "o" * 40, "f" * 40, "p" * 40, "k" * 40, "t" * 40


def facts(**kw) -> Facts:
    asked: list[bool] = []

    def fork() -> str:
        asked.append(True)
        return FORK

    kw.setdefault("ref", "refs/heads/main")
    f = Facts(remote="origin", fork_point=fork, **kw)
    object.__setattr__(f, "_asked", asked)  # to check the costly fact is asked only when a row needs it
    return f


ROWS = [
    # (facts, row, base, repair, why contains, hint)
    (dict(all_flows=True, marker=M, marker_held=True, marker_here=True), Row.ALL, None, False, "--all", False),
    (dict(ref="refs/tags/v2", previous_tag="v1", previous_tag_commit=T1, marker=M, marker_held=True),
     Row.TAG, T1, False, "since v1", False),
    (dict(ref="refs/tags/v1"), Row.TAG, None, False, "first tag", False),
    (dict(marker=M, marker_held=True, marker_here=True, remote_old=O), Row.MARKER, M, False,
     "since registered mmmmmmmmmmmm", False),
    (dict(marker=M, marker_held=True, marker_here=False, remote_old=O), Row.MARKER_ELSEWHERE, O, False,
     "not in this clone", False),
    (dict(marker=M, marker_held=True, marker_here=False, is_new=True), Row.MARKER_ELSEWHERE, FORK, False,
     "not in this clone", False),
    (dict(marker=M, marker_held=False, marker_here=True, remote_old=O), Row.MARKER_NOT_ON_REMOTE, O, True,
     "since origin's oooooooooooo (registered mmmmmmmmmmmm is not on origin)", False),
    (dict(marker=M, marker_held=False, is_new=True), Row.MARKER_NOT_ON_REMOTE, FORK, True, "forked", False),
    (dict(pending=P, remote_old=O, explicit_from=F), Row.SKIPPED, P, False, "skipped push", False),
    (dict(pending="", remote_old=O), Row.SKIPPED, None, False, "skipped push", False),
    (dict(explicit_from=F, remote_old=F, is_new=False), Row.FROM, F, False, "since --from ffffffffffff", False),
    (dict(is_new=True), Row.NEW_BRANCH, FORK, False, "since forked at kkkkkkkkkkkk", False),
    (dict(is_new=False, remote_old=None), Row.NEW_BRANCH, FORK, False, "forked", False),
    (dict(is_new=False, remote_old=O), Row.NEVER_REGISTERED, FORK, False, "since forked at kkkkkkkkkkkk", True),
]


@pytest.mark.parametrize("given,row,base,repair,why,hint", ROWS, ids=[f"{r[1].name}-{i}" for i, r in enumerate(ROWS)])
def test_each_row_of_the_base_table(given, row, base, repair, why, hint):
    f = facts(**given)
    decided = decide(f)
    assert (decided.row, decided.commit, decided.repair) == (row, base, repair)
    assert why in decided.why
    assert bool(decided.hint) is hint
    # the fork point (a rev-list, a fetch in a shallow clone) is computed only when it is the answer
    assert bool(f._asked) is (base == FORK)


def test_never_registered_and_sharing_nothing_with_other_branches_is_the_push_own_diff():
    f = Facts(ref="refs/heads/main", remote="origin", fork_point=lambda: None, remote_old=O)
    decided = decide(f)
    assert (decided.row, decided.commit, decided.why) == (Row.NEVER_REGISTERED, O, "since origin's oooooooooooo")


def test_never_registered_hint_names_the_ref_and_the_command():
    decided = decide(facts(ref="refs/heads/feature/x", remote_old=O))
    assert decided.commit == FORK
    assert decided.hint == ("refs/heads/feature/x was never registered: this push registers only what it changed; "
                            "`prefect-push register --ref feature/x --all` registers the rest")


def test_a_marker_the_remote_lacks_is_never_every_flow():
    # a rejected push's marker (this clone has it, the remote does not): the remote's commit, not None
    for remote_old in (O, None):
        decided = decide(facts(marker=M, marker_here=True, marker_held=False, remote_old=remote_old))
        assert decided.commit is not None and decided.repair


# --- releases: a release tag moves the release deployments (docs/releases.md, "Which flows a release moves") ---
V2 = "refs/tags/v2"
REL = dict(ref=V2, release="production", commit=F, previous_tag="v1", previous_tag_commit=T1)
RELEASE_ROWS = [
    # (facts, row, base, why contains, hint contains)
    (dict(REL, marker_read=False), Row.UNREAD, T1, "the tag's own changes", ""),
    (dict(REL), Row.RELEASE, None, "first release: every flow", ""),
    (dict(REL, marker=M, marker_here=True, descends=True, release_at="v1"), Row.RELEASE, M,
     "since release v1 (mmmmmmmmmmmm)", ""),
    (dict(REL, marker=M, marker_here=True, descends=False, release_at="v3"), Row.RELEASE_BEHIND, None,
     "v2 does not descend from the current release v3 (mmmmmmmmmmmm)", "`prefect-push release v2`"),
    (dict(REL, marker=M, marker_here=False, descends=None), Row.RELEASE_BEHIND, None, "fetch the tags",
     "production did not move"),
    (dict(REL, marker=M, marker_here=True, descends=False, release_at="v3", forced=True), Row.RELEASE_MOVE, M,
     "differs from release v3", ""),
    (dict(REL, marker=M, marker_here=False, forced=True), Row.RELEASE_MOVE, None, "not in this clone: every flow", ""),
    (dict(REL, marker=M, marker_here=True, descends=True, all_flows=True), Row.ALL, None, "--all", ""),
    (dict(REL, marker=M, marker_here=True, descends=False, all_flows=True), Row.RELEASE_BEHIND, None, "descend", "v2"),
]


@pytest.mark.parametrize("given,row,base,why,hint", RELEASE_ROWS,
                         ids=[f"{r[1].name}-{i}" for i, r in enumerate(RELEASE_ROWS)])
def test_each_release_row(given, row, base, why, hint):
    decided = decide(facts(**given))
    assert (decided.row, decided.commit) == (row, base)
    assert why in decided.why
    assert (hint in decided.hint) if hint else not decided.hint


def test_a_tag_behind_the_release_says_so_in_one_line_naming_tag_release_and_command():
    decided = decide(facts(**dict(REL, marker=M, marker_here=True, descends=False, release_at="v3")))
    assert decided.hint == ("v2 (ffffffffffff) does not descend from the current release v3 (mmmmmmmmmmmm): "
                            "production did not move; `prefect-push release v2` moves it there on purpose")
    assert "\n" not in decided.hint
