"""mode = "after-push": the hook checks synchronously, a detached process registers once the remote has the
commit, and a rejected push registers nothing. Real pushes, real server, a real rejecting remote."""
from __future__ import annotations

import json
import time

from conftest import POOL, Repo, deployments, flow_source
from test_push_registers import assert_blocked

CONFIG = f'[tool.prefect-push]\nwork-pool = "{POOL}"\nmode = "after-push"\nafter-push-wait = 5\n'


def result(r: Repo, timeout: float = 90) -> dict:
    """The background registration's result, once it finished."""
    path = r.path / ".git" / "prefect-push" / "after-push.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            data = json.loads(path.read_text())
            if data["status"] != "running":
                return data
        time.sleep(0.3)
    raise AssertionError(f"no background result after {timeout}s; log:\n"
                         + (r.path / ".git" / "prefect-push" / "after-push.log").read_text())


def test_registers_in_the_background_once_the_remote_has_the_commit(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", CONFIG)
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert "registered in the background" in proc.stderr
    got = result(r)
    assert got["status"] == "registered", got
    assert deployments(r.uid)[f"{r.flow('a')}/main"].version == sha
    log = (r.path / ".git" / "prefect-push" / "after-push.log").read_text()
    assert f"{r.flow('a')}/main" in log  # the table went to the log
    status = json.loads(r.cli("status", "--json").stdout)
    assert status["after_push"]["status"] == "registered" and status["after_push"]["refs"] == ["refs/heads/main"]
    r.write("README.md", "x\n")
    r.commit("docs")
    proc = r.push("main")  # the next push says how the background registration went, once
    assert "last background registration of refs/heads/main: registered" in proc.stderr
    r.write("README.md", "y\n")
    r.commit("docs")
    assert "last background registration" not in r.push("main").stderr


def test_a_rejected_push_registers_nothing(hooked: Repo):
    r = hooked
    hook = r.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho protected branch >&2\nexit 1\n")
    hook.chmod(0o755)
    r.write("pyproject.toml", CONFIG)
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.push("main")
    assert proc.returncode != 0 and "protected branch" in proc.stderr
    got = result(r)
    assert got["status"] == "not on remote" and "push rejected?" in got["message"]
    assert deployments(r.uid) == {}
    # the remote accepts the next push: registered then (what was recorded as missed is caught up)
    hook.unlink()
    assert r.push("main").returncode == 0
    assert result(r)["status"] == "registered"
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}


def test_a_bad_flow_still_blocks_the_push_at_once(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", CONFIG)
    r.write("flows/a.py", "from prefect import flow\n\n@flow\ndef a(:\n    pass\n")
    r.commit()
    assert_blocked(r, r.push("main"), "flows/a.py:4: syntax error")
    assert not (r.path / ".git" / "prefect-push" / "after-push.json").exists()
