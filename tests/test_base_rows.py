"""The base rule end to end (real git, real pushes through the plain hook, the session's real server): the
failures issue E measured, each as a user meets it."""
from __future__ import annotations

import subprocess
import uuid

from conftest import Repo, deployments, flow_source, per_tag

HELPER_FLOW = """from prefect import flow

from .helpers import greeting


@flow(name={name!r})
def {fn}():
    return greeting()
"""


def test_a_tag_after_a_helper_change_pins_the_new_helper(hooked: Repo):
    r = hooked
    per_tag(r)
    hello, other = r.flow("hello"), r.flow("other")
    r.write("flows/__init__.py", "")
    r.write("flows/helpers.py", "def greeting():\n    return 'old'\n")
    r.write("flows/a.py", HELPER_FLOW.format(name=hello, fn="hello"))
    r.write("flows/b.py", flow_source(other))
    r.commit("hello uses a helper")
    assert r.push("main").returncode == 0
    r.git("tag", "v1")
    assert r.push("v1").returncode == 0
    v1 = r.sha()

    r.write("flows/helpers.py", "def greeting():\n    return 'new'\n")
    fixed = r.commit("fix the helper only")
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert "changed: flows/helpers.py" in proc.stderr
    got = deployments(r.uid)
    assert got[f"{hello}/main"].version == fixed  # the flow file did not change, its import did
    assert got[f"{other}/main"].version == v1  # it does not import the helper

    r.git("tag", "v2")
    proc = r.push("v2")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{hello}/v2"].version == fixed
    assert f"{other}/v2" not in got  # unchanged since v1: it keeps running at v1
    assert "since v1" in proc.stderr


def test_explicit_from_is_the_base_of_a_ref_never_registered(hooked: Repo):
    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    m0 = r.commit("two flows")
    assert r.push("main").returncode == 0
    r.git("checkout", "-qb", "other")
    r.write("flows/a.py", flow_source(a, body="return 2"))
    head = r.commit("change a")
    assert r.push("other").returncode == 0  # H is on another remote branch already

    proc = r.cli("register", "--from", m0, "--to", head, "--ref", "refs/heads/new")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{a}/new"].version == head
    assert f"{b}/new" not in got
    assert "since --from" in proc.stdout


def test_a_ref_pushed_before_adoption_registers_the_push_and_says_how_to_register_the_rest(repo: Repo,
                                                                                             prefect_server):
    r = repo
    names = [r.flow(f"f{i}") for i in range(4)]
    for i, name in enumerate(names):
        r.write(f"flows/f{i}.py", flow_source(name))
    r.commit("flows before adoption")
    assert r.push("main").returncode == 0  # no hook yet
    assert r.cli("install").returncode == 0

    r.write("flows/f0.py", flow_source(names[0], body="return 2"))
    sha = r.commit("change one flow")
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(r.uid)) == {f"{names[0]}/main"}  # never a surprise full registration
    assert deployments(r.uid)[f"{names[0]}/main"].version == sha
    assert "prefect-push register --ref main --all" in proc.stderr

    proc = r.cli("register", "--ref", "main", "--all")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(r.uid)) == {f"{n}/main" for n in names}


def _clone(r: Repo, where) -> Repo:
    subprocess.run(["git", "clone", "-q", r.url, str(where)], check=True, capture_output=True)
    other = Repo(where, r.remote, r.uid)
    assert other.cli("install").returncode == 0
    return other


def test_a_rejected_push_is_repaired_by_the_next_accepted_push(hooked: Repo, tmp_path):
    r = hooked
    a, b, c = r.flow("a"), r.flow("b"), r.flow("c")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.write("flows/c.py", flow_source(c))
    r.commit("three flows")
    assert r.push("main").returncode == 0
    other = _clone(r, tmp_path / "other")

    r.write("flows/a.py", flow_source(a, body="return 'from r'"))
    accepted = r.commit("r changes a")
    assert r.push("main").returncode == 0

    # the other clone has not pulled: its hook registers b at its commit, then the remote rejects the push
    other.write("flows/b.py", flow_source(b, body="return 'from other'"))
    rejected = other.commit("other changes b")
    proc = other.push("main")
    assert proc.returncode != 0 and "rejected" in proc.stderr
    assert deployments(r.uid)[f"{b}/main"].version == rejected  # (pre-push: the hook ran before the rejection)

    other.git("pull", "-q", "--rebase", "origin", "main")
    final = other.sha()
    proc = other.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{a}/main"].version == accepted
    assert got[f"{b}/main"].version == final  # re-registered at a commit the remote has
    assert got[f"{c}/main"].version != final  # never every flow
    remote_commits = set(subprocess.run(["git", "--git-dir", str(r.remote), "rev-list", "main"],
                                        capture_output=True, text=True, check=True).stdout.split())
    assert {d.version for d in got.values()} <= remote_commits


def test_a_marker_this_clone_lacks_never_registers_every_flow(hooked: Repo, tmp_path):
    r = hooked
    names = [r.flow(f"f{i}") for i in range(3)]
    for i, name in enumerate(names):
        r.write(f"flows/f{i}.py", flow_source(name))
    r.commit("flows")
    assert r.push("main").returncode == 0
    other = _clone(r, tmp_path / "other")
    # a third clone registered a commit nobody else has (its push was rejected): the marker names it
    ghost = uuid.uuid4().hex + "00000000"
    _set_marker(r, "refs/heads/main", ghost)
    other.write("flows/f1.py", flow_source(names[1], body="return 2"))
    sha = other.commit("change f1")
    proc = other.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{names[1]}/main"].version == sha
    assert got[f"{names[0]}/main"].version != sha and got[f"{names[2]}/main"].version != sha


def _set_marker(r: Repo, ref: str, commit: str) -> None:
    """What another clone's registration of `commit` leaves on the server (server.Server.set_marker)."""
    import asyncio

    from prefect_push.git import repo_key
    from prefect_push.plan import Target
    from prefect_push.server import Server

    async def run() -> None:
        async with Server() as server:
            await server.set_marker(Target(repo_key(r.url), ref, commit))

    asyncio.run(run())


def test_a_declared_data_file_re_registers_the_flows_that_read_it(hooked: Repo):
    r = hooked
    etl, other = r.flow("etl"), r.flow("other")
    r.write("pyproject.toml", r.path.joinpath("pyproject.toml").read_text()
            + '\n[tool.prefect-push.data-dependencies]\n"sql/*.sql" = ["flows/etl.py"]\n')
    r.write("sql/load.sql", "select 1;\n")
    r.write("flows/etl.py", flow_source(etl))
    r.write("flows/other.py", flow_source(other))
    r.commit("etl reads sql")
    assert r.push("main").returncode == 0
    r.write("sql/load.sql", "select 2;\n")
    sha = r.commit("only the sql")
    proc = r.push("main")  # no .py changed: the fast path must hand this push to the full path
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{etl}/main"].version == sha and got[f"{other}/main"].version != sha
    assert "changed: sql/load.sql" in proc.stderr
    r.write("docs.md", "x\n")
    r.commit("docs")
    assert r.push("main").returncode == 0
    assert deployments(r.uid)[f"{etl}/main"].version == sha
