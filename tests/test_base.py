"""base.decide, row by row: each case here is a row of the base table in docs/what-gets-registered.md; then
base.newest_release and base.apply_order, the rows of "Several release tags in one push" in docs/releases.md.

Pure logic over facts; the same rows are exercised end to end against real git and the real server in
tests/test_base_rows.py."""
from __future__ import annotations

import pytest

from prefect_push.base import Facts, PushedRelease, Row, apply_order, decide, newest_release, version_key

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
    # said or not by the server phase (registrar._left_out): only where flows a user wants are left out
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


# --- several release tags in one push: docs/releases.md, "Several release tags in one push" ---

V18, V19, V191, V110, V111 = (PushedRelease(t, t.ljust(40, "0")) for t in ("v1.8", "v1.9", "v1.9.1", "v1.10", "v1.11"))


def test_tags_sort_as_versions_not_as_text():
    tags = ["v1.10", "v2", "v1.9", "v1.10.1", "v1.9.1", "v10", "v1.10-rc1"]
    assert sorted(tags, key=version_key) == ["v1.9", "v1.9.1", "v1.10", "v1.10-rc1", "v1.10.1", "v2", "v10"]


def never(old: str, new: str) -> bool:
    raise AssertionError("one line of history: nothing to ask")


def test_one_line_the_newest_moves_the_others_are_named_whatever_the_order_git_gave():
    for pushed in ([V110, V19, V18], [V18, V19, V110]):
        newest, lines = newest_release(pushed, {V110.commit}, "production", never)
        assert newest is V110
        assert lines == ["v1.8 is pushed with v1.10, which descends from it: production moves to v1.10 only",
                         "v1.9 is pushed with v1.10, which descends from it: production moves to v1.10 only"]


def test_two_tags_of_one_commit_the_higher_name_moves():
    v2 = PushedRelease("v2", V110.commit)
    newest, lines = newest_release([v2, V110], {V110.commit}, "production", never)
    assert newest is v2 and lines == ["v1.10 is pushed with v2, which descends from it: production moves to v2 only"]


def test_two_lines_the_highest_head_moves_and_a_tag_off_its_line_names_the_command():
    # v1.9.1 a hotfix on v1.9, v1.11 on main after v1.10 after v1.9: heads v1.9.1 and v1.11
    line = {(V19.commit, V111.commit), (V110.commit, V111.commit), (V19.commit, V191.commit)}
    newest, lines = newest_release([V191, V19, V110, V111], {V191.commit, V111.commit}, "production",
                                   lambda old, new: (old, new) in line)
    assert newest is V111
    assert lines == [
        "v1.9 is pushed with v1.11, which descends from it: production moves to v1.11 only",
        "v1.9.1 is pushed with v1.11, which does not descend from it: production moves to v1.11 only; "
        "`prefect-push release v1.9.1` moves it there on purpose",
        "v1.10 is pushed with v1.11, which descends from it: production moves to v1.11 only"]


def test_branches_first_then_tags_oldest_first_then_the_release():
    refs = [("v1.10", True, True), ("main", False, False), ("v1.10", True, False), ("v1.9", True, False),
            ("feature", False, False)]
    ordered = sorted(refs, key=lambda r: apply_order(r[1], r[2], r[0]))
    assert ordered == [("main", False, False), ("feature", False, False), ("v1.9", True, False),
                       ("v1.10", True, False), ("v1.10", True, True)]
