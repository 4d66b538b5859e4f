"""Shallow clones (actions/checkout's depth 1, GitLab's 20) and clones of one branch must plan exactly as a full
clone: one question, "does the remote's branch hold commit X", answered by facts.in_history for every row that asks
it, and one, "where did the branch fork from the remote's other branches", by facts.fork_point (real git, bare
file:// remotes, the session's server)."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import Repo, flow_source
from prefect_push import facts

ZERO = "0" * 40


def clone(repo: Repo, path: Path, depth: int | None = None, branch: str = "main", *, one_branch: bool = False
          ) -> Repo:
    """As CI checks out: `git clone --depth N --branch B` (one branch: --depth implies --single-branch), a full
    clone of every branch (depth None), or of one (`git clone --single-branch --branch B`, one_branch)."""
    args = ["git", "clone", "-q", *([f"--depth={depth}"] if depth else []),
            *(["--single-branch"] if one_branch else []), "--branch", branch, repo.url, str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return Repo(path, repo.remote, repo.uid)


def checkout(repo: Repo, path: Path, ref: str, sha: str, depth: int | None = 1) -> Repo:
    """As actions/checkout does it: one commit of one ref, depth 1, while the remote's configured refspec (from
    `git remote add`) says every branch; depth None: GitLab's GIT_DEPTH 0, the one ref's whole history."""
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    tag = ref.startswith("refs/tags/")
    local = ref if tag else f"refs/remotes/origin/{branch}"
    for args in (["init", "-q", str(path)], ["-C", str(path), "remote", "add", "origin", repo.url],
                 ["-C", str(path), "-c", "protocol.version=2", "fetch", "-q", "--no-tags", "--prune",
                  "--no-recurse-submodules", *([f"--depth={depth}"] if depth else []), "origin",
                  f"+{ref if tag else sha}:{local}"],
                 ["-C", str(path), "checkout", "-q", "--force", *([] if tag else ["-B", branch]), local]):
        subprocess.run(["git", *args], check=True, capture_output=True)
    return Repo(path, repo.remote, repo.uid)


def acted(proc: subprocess.CompletedProcess) -> list[tuple[str, str, str, str]]:
    assert proc.returncode == 0, proc.stderr
    return sorted((r["action"], r["flow"], r["deployment"], r["reason"]) for r in json.loads(proc.stdout)["actions"])


def test_a_depth_1_ci_push_with_from_registers_only_the_flow_it_changed(repo: Repo, prefect_server, tmp_path):
    """The issue's repro: `register --from <before> --to <sha> --ref refs/heads/main --remote origin` in a
    depth-1 checkout, for a push that changed only f5, registered f5 and every flow registered at <before>
    ("registered at <before>, which origin does not have": origin has it, the shallow clone does not)."""
    names = [repo.flow(f"f{i}") for i in range(1, 6)]
    for i, name in enumerate(names, 1):
        repo.write(f"flows/f{i}.py", flow_source(name))
    before = repo.commit("five flows")
    repo.git("push", "-q", "origin", "main")
    assert repo.cli("register", "--ref", "main").returncode == 0
    repo.write("flows/f5.py", flow_source(names[4], body="return 5"))
    sha = repo.commit("change f5")
    repo.git("push", "-q", "origin", "main")
    args = ("--json", "--from", before, "--to", sha, "--ref", "refs/heads/main", "--remote", "origin")

    full = clone(repo, tmp_path / "full")
    expected = acted(full.cli("plan", *args))
    assert [(a, f) for a, f, _, _ in expected] == [("would update", names[4])]
    assert acted(clone(repo, tmp_path / "ci-plan", depth=1).cli("plan", *args)) == expected
    ci = clone(repo, tmp_path / "ci", depth=1)
    assert [(a, f) for a, f, _, _ in acted(ci.cli("register", *args))] == [("update", names[4])]


# --- shallow equals full: the same push planned in depth 1, 2 and 20 clones and in a full clone ---

def github_env(tmp_path: Path, ref: str, before: str, after: str) -> dict[str, str]:
    """What GitHub Actions sets for an `on: push` run."""
    event = tmp_path / f"event-{ref.replace('/', '-')}-{after[:8]}.json"
    event.write_text(json.dumps({"ref": ref, "before": before, "after": after, "created": before == ZERO,
                                 "deleted": False}))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": ref, "GITHUB_SHA": after,
            "GITHUB_EVENT_PATH": str(event)}


class History:
    """A flow repository with a helper module two flows import, and histories longer than a CI clone's depth."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.names = [repo.flow(f"f{i}") for i in range(1, 6)]
        repo.write("pyproject.toml", repo.path.joinpath("pyproject.toml").read_text() + "tag-deployments = true\n")
        repo.write("flows/helpers.py", "def greet():\n    return 'hi'\n")
        for i, name in enumerate(self.names, 1):
            extra = "from helpers import greet\n" if i <= 2 else ""
            repo.write(f"flows/f{i}.py", flow_source(name, extra=extra))

    def registered(self, history: int) -> str:
        """The five flows committed, `history` commits on top, main pushed and registered: the server's marker."""
        self.repo.commit("five flows")
        self.filler(history)
        self.repo.git("push", "-q", "origin", "main")
        assert self.repo.cli("register", "--ref", "main").returncode == 0
        return self.repo.sha()

    def filler(self, n: int) -> str:
        """n commits that change no flow: the history a depth cuts through."""
        for i in range(n):
            self.repo.write("notes.txt", f"{i}\n")
            self.repo.commit(f"notes {i}")
        return self.repo.sha()

    def change(self, i: int, body: str) -> str:
        self.repo.write(f"flows/f{i}.py", flow_source(self.names[i - 1], body=body,
                                                      extra="from helpers import greet\n" if i <= 2 else ""))
        return self.repo.commit(f"change f{i}")

    def helper(self, text: str) -> str:
        self.repo.write("flows/helpers.py", f"def greet():\n    return {text!r}\n")
        return self.repo.commit("change the helper")


CLONES = ("full", "depth 1", "depth 2", "depth 20", "one branch", "checkout")


def plans(repo: Repo, tmp_path: Path, ref: str, env: dict[str, str], *args: str) -> dict[str, list]:
    """The plan of one push, computed in a fresh full clone of every branch and in fresh clones of that ref alone:
    depth 1, 2 and 20 (`git clone --depth N --branch B`, one branch as --depth implies, as GitLab makes them),
    the whole history of one branch (`git clone --single-branch`), and actions/checkout's one commit of one ref;
    each from scratch: a plan fetches into them what it needs."""
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    sha = repo.remote_has(ref)
    assert sha is not None, ref
    out = {}
    for kind in CLONES:
        where = tmp_path / f"clone-{branch.replace('/', '-')}-{kind.replace(' ', '-')}-{len(list(tmp_path.iterdir()))}"
        if kind == "checkout":
            c = checkout(repo, where, ref, sha)
        else:
            depth = int(kind.removeprefix("depth ")) if kind.startswith("depth") else None
            c = clone(repo, where, depth, branch, one_branch=kind == "one branch")
        out[kind] = acted(c.cli("plan", "--json", *args, env=env))
    return out


def same_plan(got: dict[str, list]) -> list:
    full = got["full"]
    for name, plan in got.items():
        assert plan == full, f"{name} plans otherwise than a full clone:\n{plan}\nfull:\n{full}"
    return full


def test_shallow_equals_full_next_push_after_unregistered_pushes(repo: Repo, prefect_server, tmp_path):
    h = History(repo)
    repo.commit("five flows")
    repo.git("push", "-q", "origin", "main")
    marker = repo.sha()
    assert repo.cli("register", "--ref", "main").returncode == 0
    h.change(3, "return 3")
    h.filler(25)  # pushed, never registered (CI skipped): the marker is 26 commits back
    repo.git("push", "-q", "origin", "main")
    before = repo.sha()
    h.change(5, "return 5")
    after = h.filler(2)
    repo.git("push", "-q", "origin", "main")
    full = same_plan(plans(repo, tmp_path, "refs/heads/main", github_env(tmp_path, "refs/heads/main", before, after)))
    assert [(a, f) for a, f, _, _ in full] == [("would update", h.names[2]), ("would update", h.names[4])]
    assert all(f"since registered {marker[:12]}" in why for *_, why in full)
    # the same push named by --from/--to/--ref, as a CI script without the event would
    explicit = same_plan(plans(repo, tmp_path, "refs/heads/main", {}, "--from", before, "--to", after,
                               "--ref", "refs/heads/main", "--remote", "origin"))
    assert [(a, f) for a, f, _, _ in explicit] == [("would update", h.names[2]), ("would update", h.names[4])]


def test_shallow_equals_full_new_branch(repo: Repo, prefect_server, tmp_path):
    h = History(repo)
    h.registered(22)
    repo.git("checkout", "-qb", "feature/x", "HEAD~3")
    h.helper("hello")  # f1 and f2 import it
    h.filler(21)
    after = h.change(4, "return 4")
    repo.git("push", "-q", "origin", "feature/x")
    full = same_plan(plans(repo, tmp_path, "refs/heads/feature/x",
                           github_env(tmp_path, "refs/heads/feature/x", ZERO, after)))
    assert sorted(f for _, f, _, _ in full) == [h.names[0], h.names[1], h.names[3]]


def test_shallow_equals_full_tag_and_release_after_a_helper_change(repo: Repo, prefect_server, tmp_path):
    h = History(repo)
    repo.commit("five flows")
    repo.git("tag", "v1")
    repo.git("push", "-q", "origin", "main", "v1")
    assert repo.cli("register", "--ref", "v1").returncode == 0  # the release: production at v1, v1's own
    h.filler(21)
    h.helper("hello")
    h.filler(3)
    repo.git("tag", "nightly-1")  # a tag that is no release: its own deployments only
    h.change(5, "return 5")
    after = h.filler(21)
    repo.git("tag", "-a", "v2", "-m", "release 2")
    repo.git("push", "-q", "origin", "main", "nightly-1", "v2")
    tag = same_plan(plans(repo, tmp_path, "refs/tags/nightly-1",
                          github_env(tmp_path, "refs/tags/nightly-1", ZERO, repo.sha("nightly-1"))))
    assert sorted(f for _, f, _, _ in tag) == [h.names[0], h.names[1]]
    release = same_plan(plans(repo, tmp_path, "refs/tags/v2", github_env(tmp_path, "refs/tags/v2", ZERO, after)))
    moved = {(f, d) for _, f, d, _ in release}
    assert {f for f, d in moved if d == "production"} == {h.names[0], h.names[1], h.names[4]}
    assert all("since release v1" in why for _, _, d, why in release if d == "production")


def test_shallow_equals_full_force_push(repo: Repo, prefect_server, tmp_path):
    h = History(repo)
    h.registered(21)
    h.change(2, "return 2")
    before = h.filler(2)
    repo.git("push", "-q", "origin", "main")
    assert repo.cli("register", "--ref", "main").returncode == 0  # f2 at `before`, the marker too
    repo.git("reset", "-q", "--hard", "HEAD~3")  # drop f2's change, then another one
    after = h.change(3, "return 3")
    repo.git("push", "-q", "--force", "origin", "main")
    full = same_plan(plans(repo, tmp_path, "refs/heads/main", github_env(tmp_path, "refs/heads/main", before, after)))
    # the branch no longer holds `before`, nor the marker: f2 goes back to the remote's code, and the rest is
    # diffed from where main forked from the remote's other branches (it has none: every flow)
    assert sorted(f for _, f, _, _ in full) == sorted(h.names)
    assert any(f == h.names[1] and "which origin does not have" in why for _, f, _, why in full)


def test_shallow_equals_full_repair_after_a_rejected_push(repo: Repo, prefect_server, tmp_path):
    h = History(repo)
    base = h.registered(21)
    # registered from this clone, then the push was rejected: the marker names a commit the remote never had
    rejected = h.change(1, "return 'rejected'")
    assert repo.cli("register", "--ref", "main", "--to", rejected).returncode == 0
    repo.git("reset", "-q", "--hard", base)
    h.filler(2)
    after = h.change(4, "return 4")
    repo.git("push", "-q", "origin", "main")
    full = same_plan(plans(repo, tmp_path, "refs/heads/main", github_env(tmp_path, "refs/heads/main", base, after)))
    assert sorted(f for _, f, _, _ in full) == [h.names[0], h.names[3]]
    assert any(f == h.names[0] and "does not have" in why for _, f, _, why in full)


def rewritten_feature(repo: Repo, history: int = 22) -> tuple[History, str, str]:
    """main registered `history` commits past the five flows; feature/x forked 3 commits back, pushed, then
    rewritten (f2's change dropped, f1 changed again, f4 too) and force-pushed: the hook skipped. (before, after)"""
    h = History(repo)
    h.registered(history)
    repo.git("checkout", "-qb", "feature/x", "HEAD~3")
    h.change(1, "return 'x1'")
    before = h.change(2, "return 'x2'")
    repo.git("push", "-q", "origin", "feature/x")
    repo.git("reset", "-q", "--hard", "HEAD~2")
    h.change(1, "return 'y1'")
    h.filler(3)
    after = h.change(4, "return 'y4'")
    repo.git("push", "-q", "--force", "origin", "feature/x")
    return h, before, after


def test_shallow_equals_full_force_push_of_a_feature_branch(repo: Repo, prefect_server, tmp_path):
    """A feature branch rewritten and force-pushed (the hook skipped), registered from CI: every clone diffs from
    where it forked from main (which a one-branch clone fetches), not from the root."""
    h, before, after = rewritten_feature(repo)
    full = same_plan(plans(repo, tmp_path, "refs/heads/feature/x",
                           github_env(tmp_path, "refs/heads/feature/x", before, after)))
    assert [(a, f) for a, f, _, _ in full] == [("would register", h.names[0]), ("would register", h.names[3])]
    assert all(f"since forked at {repo.sha('main~3')[:12]}" in why for *_, why in full)


# --- the one question as a property: in_history in a shallow clone answers as the full history does ---

@st.composite
def histories(draw):
    """A commit graph: each commit's parents are earlier commits (one, or two for a merge), its date drawn
    around its place in time, sometimes out of step (a committer's clock); the branches named at random."""
    n = draw(st.integers(3, 30))
    commits = []
    for i in range(n):
        parents = [] if i == 0 else sorted(set(draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=2))))
        skew = draw(st.sampled_from([0, 0, 0, -3 * 3600, -48 * 3600, 600]))
        commits.append((parents, 1_780_000_000 + i * 7200 + skew))
    main = draw(st.integers(n // 2, n - 1))
    other = draw(st.integers(0, n - 1))
    asked = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    return commits, main, other, asked, draw(st.sampled_from([1, 2, 5, 20]))


def remote_dag(root: Path, commits: list[tuple[list[int], int]], branches: dict[str, int]) -> tuple[Path, list[str]]:
    """A bare remote holding the drawn graph (every commit the empty tree), its branches at the drawn commits."""
    remote = root / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    tree = subprocess.run(["git", "--git-dir", str(remote), "hash-object", "-t", "tree", "-w", "/dev/null"],
                          check=True, capture_output=True, text=True).stdout.strip()
    shas: list[str] = []
    for i, (parents, when) in enumerate(commits):
        env = {**os.environ, "GIT_COMMITTER_DATE": f"{when} +0000", "GIT_AUTHOR_DATE": f"{when} +0000"}
        args = [a for p in parents for a in ("-p", shas[p])]
        shas.append(subprocess.run(["git", "--git-dir", str(remote), "commit-tree", tree, *args, "-m", f"c{i}"],
                                   check=True, capture_output=True, text=True, env=env).stdout.strip())
    for ref, i in branches.items():
        subprocess.run(["git", "--git-dir", str(remote), "update-ref", f"refs/heads/{ref}", shas[i]], check=True)
    return remote, shas


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories())
def test_in_history_in_a_shallow_clone_is_the_full_answer(history, tmp_path_factory):
    commits, main, other, asked, depth = history
    root = tmp_path_factory.mktemp("dag")
    remote, shas = remote_dag(root, commits, {"main": main, "other": other})
    ci = root / "ci"
    subprocess.run(["git", "clone", "-q", f"--depth={depth}", "--branch", "main", f"file://{remote}", str(ci)],
                   check=True, capture_output=True)
    for i in asked:
        truth = subprocess.run(["git", "--git-dir", str(remote), "merge-base", "--is-ancestor", shas[i],
                                shas[main]]).returncode == 0
        assert facts.in_history(shas[i], [shas[main]], "origin", str(ci)) is truth, (i, main, depth)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), feature=st.integers(0, 29),
       clone_of=st.sampled_from(["--depth=1", "--depth=2", "--depth=5", "--single-branch"]),
       depths=st.sampled_from([(1, 2), (2, 5), (16, 256)]))
def test_the_fork_point_in_a_one_branch_clone_is_the_full_answer(history, feature, clone_of, depths,
                                                                  tmp_path_factory):
    """facts.fork_point in a clone of one branch (shallow, or whole) says what a complete clone of every branch
    says, whatever the merges, the depth and the clocks: the walk in the remote itself is the truth."""
    commits, main, other, _, _ = history
    feature = min(feature, len(commits) - 1)
    root = tmp_path_factory.mktemp("fork")
    remote, shas = remote_dag(root, commits, {"main": main, "other": other, "feature": feature})
    rows = subprocess.run(["git", "--git-dir", str(remote), "rev-list", "--topo-order", "--reverse", "--parents",
                           "feature", "^main", "^other"], check=True, capture_output=True, text=True).stdout.split("\n")
    first = rows[0].split()
    truth = shas[feature] if not first else first[1] if len(first) > 1 else None
    ci = root / "ci"
    subprocess.run(["git", "clone", "-q", clone_of, "--branch", "feature", f"file://{remote}", str(ci)],
                   check=True, capture_output=True)
    kept, facts.DEPTHS = facts.DEPTHS, depths  # depths as small as the graphs: every round is walked
    try:
        got = facts.fork_point(shas[feature], "origin", "refs/heads/feature", str(ci))
    finally:
        facts.DEPTHS = kept
    assert got == truth, (clone_of, shas.index(got) if got else None, shas.index(truth) if truth else None)


# --- the fork point in a one-branch clone: the remote's other branches fetched when it is asked, and only then ---

def commits_in(c: Repo) -> int:
    objects = c.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").stdout.split()
    return objects.count("commit")


def test_a_one_branch_ci_checkout_after_a_force_push_registers_what_a_full_clone_does(repo: Repo, prefect_server,
                                                                                         tmp_path):
    """Issue L, part 5: `register --from <old> --to <new> --ref refs/heads/feature/x` after a force push, in
    `git clone --depth 1 --branch feature/x --single-branch` (actions/checkout's one ref): a full clone registers
    the two flows that differ from main, since forked at main~3; the one-branch clone registered every flow
    ("first push of this ref"): it had no other branch to fork from. It leaves no ref of main behind, nor a
    changed refspec. GitLab's full-depth fetch of the one ref (a refspec that says every branch) plans alike."""
    h, before, after = rewritten_feature(repo)
    args = ("--json", "--from", before, "--to", after, "--ref", "refs/heads/feature/x", "--remote", "origin")
    full = acted(clone(repo, tmp_path / "full", branch="feature/x").cli("plan", *args))
    assert [(a, f) for a, f, _, _ in full] == [("would register", h.names[0]), ("would register", h.names[3])]
    assert all(f"since forked at {repo.sha('main~3')[:12]}" in why for *_, why in full)
    ci = clone(repo, tmp_path / "ci", 1, "feature/x", one_branch=True)
    assert acted(ci.cli("plan", *args)) == full
    assert ci.git("for-each-ref", "refs/prefect-push/").stdout == ""
    assert ci.git("config", "--get-all", "remote.origin.fetch").stdout.split() == [
        "+refs/heads/feature/x:refs/remotes/origin/feature/x"]
    gitlab = checkout(repo, tmp_path / "gitlab", "refs/heads/feature/x", after, depth=None)  # GIT_DEPTH: 0
    assert gitlab.git("rev-parse", "--is-shallow-repository").stdout.strip() == "false"
    assert acted(gitlab.cli("plan", *args, env={"CI": "true"})) == full  # GitLab sets CI
    done = acted(ci.cli("register", *args))
    assert [(a, f) for a, f, _, _ in done] == [("register", h.names[0]), ("register", h.names[3])]


def commits_in(c: Repo) -> int:
    objects = c.git("cat-file", "--batch-all-objects", "--batch-check=%(objecttype)").stdout.split()
    return objects.count("commit")


def test_a_one_branch_clone_fetches_other_branches_only_for_a_fork_point(repo: Repo, prefect_server, tmp_path):
    """A push whose base is no fork point (--from a commit the branch holds) never fetches main; one whose base
    is (the branch is new to CI's event) fetches main's last 16 commits, the fork point being 3 back, not its
    whole history."""
    h, _, after = rewritten_feature(repo, history=40)
    start = repo.sha("feature/x~2")
    ci = clone(repo, tmp_path / "ci", 1, "feature/x")
    plan = acted(ci.cli("plan", "--json", "--from", start, "--to", after, "--ref", "refs/heads/feature/x"))
    assert [(a, f) for a, f, _, _ in plan] == [("would register", h.names[3])]
    assert all(f"since --from {start[:12]}" in why for *_, why in plan)
    assert ci.git("cat-file", "-e", repo.sha("main"), check=False).returncode != 0  # main's tip never fetched
    new = acted(ci.cli("plan", "--json", env=github_env(tmp_path, "refs/heads/feature/x", ZERO, after)))
    assert [(a, f) for a, f, _, _ in new] == [("would register", h.names[0]), ("would register", h.names[3])]
    assert all(f"since forked at {repo.sha('main~3')[:12]}" in why for *_, why in new)
    everything = int(subprocess.run(["git", "--git-dir", str(repo.remote), "rev-list", "--count", "--all"],
                                    check=True, capture_output=True, text=True).stdout)
    assert commits_in(ci) <= 16 + 16 < everything, (commits_in(ci), everything)  # main's 16, the branch's own
    assert ci.git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
