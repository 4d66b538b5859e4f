"""pre-commit installs the hook from this checkout; a real process worker runs what a push registered."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from conftest import BIN, POOL, Repo, deployments, flow_source, install_pre_commit, per_tag


def test_pre_commit_hook_registers_changed_flows_and_shows_the_table(repo: Repo, hook_repo, prefect_server):
    install_pre_commit(repo, hook_repo)
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    repo.commit("flows")
    proc = repo.push("main")  # a root commit: pre-commit passes no from/to ("all files")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {f"{a}/main", f"{b}/main"} == set(deployments(repo.uid))

    repo.git("checkout", "-qb", "feature/pc")
    repo.write("flows/b.py", flow_source(b, body="return 9"))
    sha = repo.commit("change b")
    repo.git("checkout", "-q", "main")  # pushing a branch that is not checked out: files come from the commit
    proc = repo.push("feature/pc")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = deployments(repo.uid)
    assert f"{b}/feature-pc" in got and f"{a}/feature-pc" not in got
    assert got[f"{b}/feature-pc"].version == sha
    assert f"{b}/feature-pc" in proc.stdout + proc.stderr  # verbose: true shows the table

    # a push by URL: pre-commit gets no remote name, and the branch's root commit is new to it ("all files")
    repo.git("checkout", "-q", "--orphan", "by-url")
    repo.write("flows/c.py", flow_source(repo.flow("c")))
    repo.commit("orphan branch")
    proc = subprocess.run(["git", "push", repo.url, "by-url"], cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{repo.flow('c')}/by-url" in deployments(repo.uid)

    # SKIP=prefect-push is pre-commit's own opt-out
    repo.git("checkout", "-q", "feature/pc")
    repo.write("flows/a.py", flow_source(a, body="return 10"))
    repo.commit("change a")
    proc = repo.push("feature/pc", env={"SKIP": "prefect-push"})
    assert proc.returncode == 0 and f"{a}/feature-pc" not in deployments(repo.uid)


def test_pre_commit_blocks_a_bad_flow(repo: Repo, hook_repo, prefect_server):
    install_pre_commit(repo, hook_repo)
    repo.write("flows/bad.py", "import prefect\n\n@prefect.flow\ndef f(\n")
    repo.commit("bad")
    proc = repo.push("main")
    assert proc.returncode != 0
    assert "flows/bad.py:4: syntax error" in proc.stdout + proc.stderr
    assert repo.remote_has("refs/heads/main") is None


def test_plain_hook_beside_pre_commit_covers_tags_and_deletions(repo: Repo, hook_repo, prefect_server):
    per_tag(repo)
    install_pre_commit(repo, hook_repo)
    proc = repo.cli("install")
    assert proc.returncode == 0 and "pre-push.legacy" in proc.stderr
    a = repo.flow("a")
    repo.write("flows/a.py", flow_source(a))
    repo.commit()
    assert repo.push("main").returncode == 0
    # a tag on a commit the remote has: pre-commit runs no hook, the legacy hook (same stdin) registers it
    repo.git("tag", "v1")
    proc = repo.push("v1")
    assert proc.returncode == 0, proc.stderr
    assert f"{a}/v1" in deployments(repo.uid)
    proc = repo.push("--delete", "v1")
    assert proc.returncode == 0, proc.stderr
    assert f"{a}/v1" not in deployments(repo.uid)


def test_process_worker_runs_the_pushed_branch(hooked: Repo, tmp_path: Path):
    r = hooked
    per_tag(r)  # a tag's own deployment pins it (tests/test_releases.py runs production)
    name = r.flow("greet")
    body = "print('greeting from ' + BRANCH)\n    return BRANCH"
    r.write("flows/greet.py", flow_source(name, body=body, extra="BRANCH = 'main'").replace(
        "@flow(", "@flow(log_prints=True, "))
    r.commit()
    assert r.push("main").returncode == 0
    r.git("checkout", "-qb", "feature/worker")
    text = (r.path / "flows/greet.py").read_text().replace("BRANCH = 'main'", "BRANCH = 'feature/worker'")
    r.write("flows/greet.py", text)
    r.commit("say the branch")
    assert r.push("feature/worker").returncode == 0

    env = {**os.environ}
    run = subprocess.run([str(BIN / "prefect"), "deployment", "run", f"{name}/feature-worker"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    workdir = tmp_path / "worker"
    workdir.mkdir()
    worker = subprocess.run([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--run-once"], cwd=workdir,
                            env=env, capture_output=True, text=True, timeout=300)
    output = worker.stdout + worker.stderr
    assert "greeting from feature/worker" in output, output[-3000:]
    assert "greeting from main" not in output

    # a tag pins: its deployment clones the tag, not the branch that moved on
    r.git("tag", "v1")
    assert r.push("v1").returncode == 0
    r.write("flows/greet.py", text.replace("BRANCH = 'feature/worker'", "BRANCH = 'after v1'"))
    r.commit("moved on")
    assert r.push("feature/worker").returncode == 0
    run = subprocess.run([str(BIN / "prefect"), "deployment", "run", f"{name}/v1"], env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    worker = subprocess.run([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--run-once"], cwd=workdir,
                            env=env, capture_output=True, text=True, timeout=300)
    output = worker.stdout + worker.stderr
    assert "greeting from feature/worker" in output, output[-3000:]
    assert "after v1" not in output


def test_pre_commit_hook_registers_the_flows_a_helper_change_reaches(repo: Repo, hook_repo, prefect_server):
    install_pre_commit(repo, hook_repo)
    uses, alone = repo.flow("uses"), repo.flow("alone")
    repo.write("lib/__init__.py", "")
    repo.write("lib/text.py", "def shout(s):\n    return s.upper()\n")
    repo.write("flows/uses.py", flow_source(uses, body="return shout('hi')", extra="from lib.text import shout"))
    repo.write("flows/alone.py", flow_source(alone))
    repo.commit("flows")
    assert repo.push("main").returncode == 0
    repo.write("lib/text.py", "def shout(s):\n    return s.upper() + '!'\n")
    sha = repo.commit("only the helper")
    proc = repo.push("main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = deployments(repo.uid)
    assert got[f"{uses}/main"].version == sha and got[f"{alone}/main"].version != sha
    assert "changed: lib/text.py" in proc.stdout + proc.stderr
