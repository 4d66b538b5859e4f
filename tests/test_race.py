"""Engineers racing: several clones push at once (the same new branch, with rejections and rebase-retries, and
other branches) through the plain hook against the session's real server. Once they settle, each ref's
deployments are exactly the flows its accepted history changed, each at a commit the remote branch holds and
with the code the branch has now; nothing missing, no duplicates."""
from __future__ import annotations

import subprocess
import threading

from conftest import Repo, deployments, flow_source


def remote_git(r: Repo, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(r.remote), *args], capture_output=True, text=True,
                          check=True).stdout


def clone(r: Repo, where, name: str) -> Repo:
    subprocess.run(["git", "clone", "-q", r.url, str(where)], check=True, capture_output=True)
    c = Repo(where, r.remote, r.uid)
    c.git("config", "user.name", name)
    assert c.cli("install").returncode == 0
    return c


def push_until_accepted(c: Repo, branch: str, tries: int = 8) -> None:
    for _ in range(tries):
        proc = c.push(branch)
        if proc.returncode == 0:
            return
        assert "Traceback" not in proc.stderr, proc.stderr
        # rejected (someone was first): take theirs and go again, as people do
        c.git("pull", "-q", "--rebase", "origin", branch, check=False)
    raise AssertionError(f"{c.path} never got {branch} accepted:\n{c.pushes[-1].stderr}")


def check_settled(r: Repo, branch: str, fork: str, flow_of: dict[str, str]) -> None:
    """The invariant, for one branch: deployments == flows changed since `fork` on the remote's branch."""
    head = remote_git(r, "rev-parse", f"refs/heads/{branch}").strip()
    on_branch = set(remote_git(r, "rev-list", head).split())
    changed = set(remote_git(r, "diff", "--name-only", fork, head).split())
    want = {f"{flow_of[path]}/{branch.replace('/', '-')}" for path in changed if path in flow_of}
    got = {k: d for k, d in deployments(r.uid).items() if k.endswith("/" + branch.replace("/", "-"))}
    assert set(got) == want
    for key, d in got.items():
        assert d.version in on_branch, f"{key} at {d.version[:12]}, which {branch} on the remote does not hold"
        path = d.entrypoint.split(":")[0]
        assert remote_git(r, "rev-parse", f"{d.version}:{path}") == remote_git(r, "rev-parse", f"{head}:{path}"), \
            f"{key} registered code that is not the branch's"


def test_racing_clones_settle_on_exactly_the_accepted_history(hooked: Repo, tmp_path):
    r = hooked
    flow_of = {f"flows/f{i}.py": r.flow(f"f{i}") for i in range(6)}
    for path, name in flow_of.items():
        r.write(path, flow_source(name))
    fork = r.commit("six flows")
    assert r.push("main").returncode == 0

    people = [clone(r, tmp_path / f"p{i}", f"p{i}") for i in range(3)]
    for c in people:
        c.git("checkout", "-qb", "feature/shared")

    def work(i: int, c: Repo) -> None:
        # each changes its own flow twice on the shared branch, and p0 also a branch of its own
        for round_ in range(2):
            c.write(f"flows/f{i}.py", flow_source(flow_of[f"flows/f{i}.py"], body=f"return {100 + round_ + 10 * i}"))
            c.commit(f"p{i} round {round_}")
            push_until_accepted(c, "feature/shared")
        if i == 0:
            c.git("checkout", "-qb", "feature/solo", fork)
            c.write("flows/f5.py", flow_source(flow_of["flows/f5.py"], body="return 'solo'"))
            c.commit("p0 alone")
            push_until_accepted(c, "feature/solo")

    errors: list[BaseException] = []

    def run(i: int, c: Repo) -> None:
        try:
            work(i, c)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not errors, errors[0]
    rejected = sum(1 for c in people for p in c.pushes if p.returncode != 0)
    check_settled(r, "feature/shared", fork, flow_of)
    check_settled(r, "feature/solo", fork, flow_of)
    print(f"race settled: {sum(len(c.pushes) for c in people)} pushes, {rejected} rejected")
