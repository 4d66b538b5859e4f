"""Pure: git's pre-push input -> RefUpdates."""
import pytest

from prefect_push.push import Kind, PushLineError, parse_push_lines, short_ref

A, B, Z = "a" * 40, "b" * 40, "0" * 40


def test_branch_update_new_branch_delete_and_tag_kinds():
    updates = parse_push_lines(
        f"refs/heads/main {A} refs/heads/main {B}\n"
        f"refs/heads/feature/x {A} refs/heads/feature/x {Z}\n"
        f"(delete) {Z} refs/heads/old {B}\n"
        f"refs/tags/v1 {A} refs/tags/v1 {Z}\n"
        f"(delete) {Z} refs/tags/v0 {B}\n"
    )
    assert [u.kind for u in updates] == [Kind.BRANCH, Kind.NEW_BRANCH, Kind.BRANCH_DELETE, Kind.TAG, Kind.TAG_DELETE]
    assert short_ref(updates[1].remote_ref) == "feature/x" and short_ref(updates[3].remote_ref) == "v1"


def test_sha256_ids_are_accepted():
    a, z = "c" * 64, "0" * 64
    (u,) = parse_push_lines(f"refs/heads/main {a} refs/heads/main {z}\n")
    assert u.is_new and not u.is_delete and u.local_sha == a


def test_empty_input_is_no_push():
    assert parse_push_lines("") == []
    assert parse_push_lines("\n  \n") == []


def test_local_side_may_be_an_expression_with_spaces():
    (u,) = parse_push_lines(f"HEAD~1 with space {A} refs/heads/x {Z}\n")
    assert u.local_ref == "HEAD~1 with space" and u.remote_ref == "refs/heads/x"


@pytest.mark.parametrize("line, says", [
    (f"refs/heads/main {A} refs/heads/main", "expected 4 fields"),
    (f"refs/heads/main xyz refs/heads/main {B}", "not a git object id"),
    (f"refs/heads/main {A} refs/heads/main {'0' * 64}", "different formats"),
    (f"refs/heads/main {A} main {B}", "not a full ref"),
])
def test_malformed_lines_name_the_line(line, says):
    with pytest.raises(PushLineError, match=says):
        parse_push_lines(line)
