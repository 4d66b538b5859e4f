"""Pure: the plan from changed files and what the server has."""
from prefect_push.config import Config
from prefect_push.flows import FlowSpec
from prefect_push.plan import Existing, FileChange, Op, Target, build, build_ref_deletion, wanted_changes

REPO = "https://git.example/repo.git"
T = Target(REPO, "refs/heads/feature/x", "c" * 40, "b" * 40, "msg")
CFG = Config(work_pool="p")


def spec(name, path="flows/a.py"):
    return FlowSpec(path, name.replace("-", "_"), name, 3)


def tags(ref, repo=REPO):
    return ("prefect-push", f"git-ref:{ref}", f"git-repo:{repo}")


def test_new_changed_and_renamed_files_register_with_reasons():
    w = wanted_changes([
        FileChange("A", "flows/new.py", None, (), (spec("n", "flows/new.py"),)),
        FileChange("M", "flows/a.py", None, (spec("a"),), (spec("a"),)),
        FileChange("R", "flows/moved.py", "flows/old.py", (spec("m", "flows/old.py"),), (spec("m", "flows/moved.py"),)),
    ], first=False)
    assert [(s.flow_name, r) for s, r in w.upserts] == [
        ("n", "new file"), ("a", "changed"), ("m", "renamed from flows/old.py")]
    assert w.removals == ()


def test_deleted_file_and_removed_function_delete_their_deployments():
    w = wanted_changes([
        FileChange("D", "flows/gone.py", None, (spec("g", "flows/gone.py"),), ()),
        FileChange("M", "flows/a.py", None, (spec("a"), spec("b")), (spec("a"),)),
    ], first=False)
    assert [n for n, _, _ in w.removals] == ["b", "g"]
    assert dict((n, r) for n, _, r in w.removals) == {"g": "file deleted", "b": "flow no longer in flows/a.py"}


def test_a_flow_moved_between_files_is_not_deleted():
    w = wanted_changes([
        FileChange("D", "flows/a.py", None, (spec("a"),), ()),
        FileChange("A", "flows/b.py", None, (), (spec("a", "flows/b.py"),)),
    ], first=False)
    assert [s.path for s, _ in w.upserts] == ["flows/b.py"] and w.removals == ()


def test_duplicate_flow_names_are_a_problem():
    w = wanted_changes([
        FileChange("A", "a.py", None, (), (spec("x", "a.py"),)),
        FileChange("A", "b.py", None, (), (spec("x", "b.py"),)),
    ], first=True)
    assert len(w.problems) == 1 and "b.py:3" in w.problems[0] and "a.py:3" in w.problems[0]


def test_build_register_update_skip_and_delete():
    w = wanted_changes([
        FileChange("M", "flows/a.py", None, (spec("a"), spec("gone")), (spec("a"), spec("same"), spec("new"))),
    ], first=False)
    existing = [
        Existing("1", "a", "feature-x", "b" * 40, tags(T.ref)),
        Existing("2", "same", "feature-x", "c" * 40, tags(T.ref)),
        Existing("3", "gone", "feature-x", "b" * 40, tags(T.ref)),
    ]
    plan = build(T, w, CFG, existing)
    assert [(a.op, a.flow_name, a.deployment) for a in plan.actions] == [
        (Op.UPDATE, "a", "feature-x"), (Op.SKIP, "same", "feature-x"), (Op.REGISTER, "new", "feature-x"),
        (Op.DELETE, "gone", "feature-x")]
    assert plan.actions[-1].existing_id == "3" and not plan.problems


def test_name_collision_with_another_ref_blocks():
    w = wanted_changes([FileChange("A", "flows/a.py", None, (), (spec("a"),))], first=False)
    plan = build(T, w, CFG, [Existing("1", "a", "feature-x", "x", tags("refs/heads/feature-x"))])
    assert plan.actions == [] and "already belongs to refs/heads/feature-x" in plan.problems[0]


def test_same_name_in_another_repository_blocks_too():
    w = wanted_changes([FileChange("A", "flows/a.py", None, (), (spec("a"),))], first=False)
    plan = build(T, w, CFG, [Existing("1", "a", "feature-x", "x", tags(T.ref, "https://other/repo.git"))])
    assert "other/repo.git" in plan.problems[0]


def test_ref_deletion_deletes_only_this_refs_deployments():
    target = Target(REPO, "refs/heads/old", None)
    plan = build_ref_deletion(target, [
        Existing("1", "a", "old", "x", tags("refs/heads/old")),
        Existing("2", "b", "old", "x", tags("refs/heads/old", "https://fork/repo.git")),
    ])
    assert [(a.op, a.existing_id, a.reason) for a in plan.actions] == [(Op.DELETE, "1", "branch deleted")]


def test_taking_over_a_deployment_made_without_prefect_push_says_so():
    w = wanted_changes([FileChange("M", "flows/a.py", None, (spec("a"),), (spec("a"),))], first=False)
    plan = build(T, w, CFG, [Existing("1", "a", "feature-x", "old", ())])
    (action,) = plan.actions
    assert action.op is Op.UPDATE and "made without prefect-push" in action.reason


def test_a_flow_removed_from_a_file_that_no_longer_serves_it_is_not_deleted():
    # the deployment's entrypoint moved to flows/b.py earlier; a stale copy disappearing from a.py must not delete it
    w = wanted_changes([FileChange("M", "flows/a.py", None, (spec("x"),), ())], first=False)
    here = Existing("1", "x", "feature-x", "b" * 40, tags(T.ref), "flows/a.py:x")
    there = Existing("1", "x", "feature-x", "b" * 40, tags(T.ref), "flows/b.py:x")
    assert [a.op for a in build(T, w, CFG, [here]).actions] == [Op.DELETE]
    assert build(T, w, CFG, [there]).actions == []
