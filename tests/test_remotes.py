"""Many remotes and forks: each remote registers against its own URL, with its own marker; an allow-list keeps a
personal fork from registering anything."""
from __future__ import annotations

import subprocess

from conftest import POOL, Repo, deployments, flow_source


def with_fork(r: Repo) -> str:
    """A second bare remote, `fork`, owned by alice: file:///.../alice/flows."""
    fork = r.path.parent / "alice" / "flows.git"
    fork.parent.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(fork)], check=True)
    r.git("remote", "add", "fork", f"file://{fork}")
    return f"file://{fork}"


def origin_key(r: Repo) -> str:
    return f"file://{r.remote}".removesuffix(".git")


def test_the_same_branch_pushed_to_origin_and_a_fork_is_two_deployments(hooked: Repo):
    r = hooked
    fork_url = with_fork(r)
    a = r.flow("a")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n'
                              f'remotes = ["{origin_key(r)}", "file:///**/alice/flows"]\n')
    r.write("flows/a.py", flow_source(a))
    sha = r.commit()
    r.git("checkout", "-qb", "feature/x")
    assert r.push("feature/x").returncode == 0
    proc = r.git("push", "fork", "feature/x", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "already registered" not in proc.stderr  # markers are per repository: the fork has its own
    got = deployments(r.uid)
    assert set(got) == {f"{a}/feature-x", f"{a}/feature-x@alice"}
    clone = {name: d.pull_steps[0]["prefect.deployments.steps.git_clone"]["repository"] for name, d in got.items()}
    assert clone == {f"{a}/feature-x": r.url, f"{a}/feature-x@alice": fork_url}
    assert {d.version for d in got.values()} == {sha}
    # deleting the branch on the fork takes only the fork's deployment
    assert r.git("push", "fork", "--delete", "feature/x", check=False).returncode == 0
    assert set(deployments(r.uid)) == {f"{a}/feature-x"}


def test_a_remote_not_in_the_allow_list_registers_nothing(hooked: Repo):
    r = hooked
    with_fork(r)
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\nremotes = ["{origin_key(r)}"]\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.git("push", "fork", "main", check=False)
    assert proc.returncode == 0, proc.stderr  # the push itself goes on
    assert "is not in remotes of [tool.prefect-push]" in proc.stderr and "registers nothing" in proc.stderr
    assert deployments(r.uid) == {}
    assert r.push("main").returncode == 0
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}


def test_without_remotes_a_fork_may_not_overwrite_the_teams_deployment(hooked: Repo):
    r = hooked
    with_fork(r)
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    assert r.push("main").returncode == 0
    before = deployments(r.uid)[f"{r.flow('a')}/main"].updated
    proc = r.git("push", "fork", "main", check=False)
    assert proc.returncode != 0 and "already belongs to refs/heads/main of file://" in proc.stderr
    assert "forks get @owner" in proc.stderr
    assert deployments(r.uid)[f"{r.flow('a')}/main"].updated == before
