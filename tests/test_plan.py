"""Pure: the plan from changed files and what the server has."""
from prefect_push.read.config import Config
from prefect_push.read.flows import FlowSpec
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


def test_same_flow_name_in_two_files_collides_only_on_equal_deployment_names():
    files = [FileChange("A", "flows/a.py", None, (), (spec("hello", "flows/a.py"),)),
             FileChange("A", "flows/b.py", None, (), (spec("hello", "flows/b.py"),))]
    by_file = Config(work_pool="p", deployment_name="{ref}-{file}")
    w = wanted_changes(files, first=True, name_of=lambda f, p: by_file.deployment_name_for("main", f, p))
    assert w.problems == () and [s.path for s, _ in w.upserts] == ["flows/a.py", "flows/b.py"]
    (problem,) = wanted_changes(files, first=True, name_of=lambda f, p: CFG.deployment_name_for("main", f, p)).problems
    first, *fixes = problem.splitlines()
    assert "flows/b.py:3" in first and "flows/a.py:3" in first and "hello/main" in first
    assert len(fixes) == 2 and "@flow(name=...)" in fixes[0] and "{file}" in fixes[1] and "deployment-name" in fixes[1]


def test_a_file_renamed_under_a_per_file_deployment_name_drops_the_old_deployment():
    by_file = Config(work_pool="p", deployment_name="{ref}-{file}")
    w = wanted_changes([FileChange("R", "flows/new.py", "flows/old.py", (spec("x", "flows/old.py"),),
                                   (spec("x", "flows/new.py"),))],
                       first=False, name_of=lambda f, p: by_file.deployment_name_for("main", f, p))
    assert [s.path for s, _ in w.upserts] == ["flows/new.py"]
    assert [(n, p) for n, p, _ in w.removals] == [("x", "flows/old.py")]


# --- releases (docs/releases.md): the release deployment's name, owner, tags, and where a schedule fires ---
import pytest  # noqa: E402

from prefect_push.read.config import parse  # noqa: E402
from prefect_push.plan import deployment_description, deployment_tags, schedule_live  # noqa: E402

MAIN = Target(REPO, "refs/heads/main", "c" * 40)
FEATURE = Target(REPO, "refs/heads/feature/x", "c" * 40)
TAG = Target(REPO, "refs/tags/v2", "c" * 40)
RELEASE = Target(REPO, "refs/tags/v2", "c" * 40, release="production")
AUTO = Config(work_pool="p")
EXPLICIT = parse({"work-pool": "p", "schedules-on": ["main", "refs/tags/**"]})

SCHEDULE_ROWS = [
    # (config, target, the flow has a release deployment, live)
    (AUTO, RELEASE, False, True),  # the release deployment: live (the first release too)
    (AUTO, RELEASE, True, True),
    (AUTO, MAIN, False, True),  # no release of the flow yet: the default branch fires
    (AUTO, MAIN, True, False),  # once released, main's schedule is off: nothing double-fires
    (AUTO, FEATURE, False, False),  # never feature branches
    (AUTO, TAG, False, False),  # per-tag deployments (tag-deployments): off, the release fires
    (EXPLICIT, MAIN, True, True),  # schedules-on set: it decides, releases or not
    (EXPLICIT, TAG, True, True),
    (EXPLICIT, RELEASE, False, True),  # a release deployment matches as its tag ...
    (parse({"schedules-on": ["production"]}), RELEASE, False, True),  # ... and as its name
    (parse({"schedules-on": ["main"]}), RELEASE, False, False),
    (parse({"schedules-on": []}), MAIN, False, False),  # [] : no schedule fires anywhere
    (parse({"default-branch": "master"}), Target(REPO, "refs/heads/master", "c" * 40), False, True),  # a master repo
    (parse({"default-branch": "master"}), MAIN, False, False),  # ... where main is just another branch
]


@pytest.mark.parametrize("config,target,released,live", SCHEDULE_ROWS)
def test_where_a_schedule_fires(config, target, released, live):
    assert schedule_live(config, target, released) is live


def test_a_release_tag_writes_the_release_deployment_owned_by_the_release_not_the_tag():
    w = wanted_changes([FileChange("M", "flows/a.py", None, (spec("a"),), (spec("a"),))], first=False)
    plan = build(RELEASE, w, AUTO, [])
    (a,) = plan.actions
    assert (a.op, a.deployment, a.schedule_live) == (Op.REGISTER, "production", True)
    assert deployment_tags(RELEASE, AUTO, a)[:4] == ["prefect-push", "git-ref:release:production", f"git-repo:{REPO}",
                                                     "git-tag:v2"]
    assert deployment_description(RELEASE, "Greets.").startswith("Release v2 (cccccccccccc)")
    # the release deployment of v1 is updated in place (same owner), whatever tag it was at
    at_v1 = Existing("1", "a", "production", "b" * 40, tags("release:production"))
    assert [x.op for x in build(RELEASE, w, AUTO, [at_v1]).actions] == [Op.UPDATE]
    # a branch called production owns its deployment "production": the release does not overwrite it
    branch = Existing("2", "a", "production", "b" * 40, tags("refs/heads/production"))
    assert "already belongs to refs/heads/production" in build(RELEASE, w, AUTO, [branch]).problems[0]


def test_main_schedule_is_off_for_flows_that_have_a_release_deployment():
    w = wanted_changes([FileChange("M", "flows/a.py", None, (spec("a"), spec("b")), (spec("a"), spec("b")))],
                       first=False)
    released_a = Existing("1", "a", "production", "b" * 40, tags("release:production"))
    live = {a.flow_name: a.schedule_live for a in build(MAIN, w, AUTO, [released_a]).actions}
    assert live == {"a": False, "b": True}


def test_release_settings():
    c = parse({})
    assert (c.release_tags, c.release_name, c.tag_deployments, c.keep_tags) == (("v*",), "production", False, 5)
    assert c.is_release("refs/tags/v1.2") and not c.is_release("refs/tags/nightly") and not c.is_release("refs/heads/v1")
    c = parse({"release-tags": "release-*", "release-name": "prod", "tag-deployments": True, "keep-tags": 2})
    assert c.is_release("refs/tags/release-3") and not c.is_release("refs/tags/v1")
    assert (c.release_name, c.tag_deployments, c.keep_tags) == ("prod", True, 2)
    assert not parse({"release-tags": []}).is_release("refs/tags/v1")
    from prefect_push.read.config import ConfigError
    for bad, says in (({"release-name": "a/b"}, "release-name"), ({"keep-tags": 0}, "keep-tags"),
                      ({"tag-deployments": "yes"}, "tag-deployments"), ({"release-tags": [1]}, "release-tags")):
        with pytest.raises(ConfigError, match=says):
            parse(bad)
