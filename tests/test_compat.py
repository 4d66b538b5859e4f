"""compat.FIELDS / drop_unsupported, and (with PREFECT_PUSH_COMPAT_SERVERS="3.0.11 3.2.15 ...") real pushes
against older Prefect servers, each from its own venv built by compat/server-venv.sh."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from prefect_push.compat import drop_unsupported, parse_version

from conftest import ROOT, flow_source

FULL = {"name": "x", "labels": {}, "version_info": {"type": "vcs:git"}, "tags": []}


def test_parse_version():
    assert parse_version("3.0.11") == (3, 0, 11)
    assert parse_version("3.4.25.dev3+g1") == (3, 4, 25)
    assert parse_version("2.20.27") == (2, 20, 27)
    assert parse_version("not a version") is None and parse_version(None) is None


@pytest.mark.parametrize("version,flows,deployments", [
    ("3.0.11", {"name", "tags"}, {"name", "tags"}),
    ("3.1.4", {"name", "tags"}, {"name", "tags"}),
    ("3.1.5", {"name", "tags", "labels"}, {"name", "tags", "labels"}),
    ("3.2.15", {"name", "tags", "labels"}, {"name", "tags", "labels"}),
    ("3.3.5", {"name", "tags", "labels"}, {"name", "tags", "labels"}),
    ("3.3.6", {"name", "tags", "labels", "version_info"}, {"name", "tags", "labels", "version_info"}),
    ("3.9.1", set(FULL), set(FULL)),
])
def test_drop_unsupported(version, flows, deployments):
    v = parse_version(version)
    assert set(drop_unsupported(FULL, "/deployments/", v)) == deployments
    assert set(drop_unsupported(FULL, "/flows/", v)) == flows | {"version_info"}  # flows only lose labels


def test_unknown_version_sends_everything():
    assert drop_unsupported(FULL, "/deployments/", None) == FULL


def test_error_detail_is_one_short_line():
    from prefect_push.server import ERROR_LINE, error_detail

    assert error_detail('{"detail": "Flow not found"}') == "Flow not found"
    assert "version_info" in error_detail('{"detail": [{"loc": ["body", "version_info"], "msg": "Extra inputs '
                                          'are not permitted", "type": "extra_forbidden"}]}')
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"
    line = error_detail(page)
    assert "\n" not in line and len(line) <= ERROR_LINE and line.startswith("502 Bad Gateway")


SERVERS = os.environ.get("PREFECT_PUSH_COMPAT_SERVERS", "").replace(",", " ").split()


def _server(version: str, home: str, port: int) -> subprocess.Popen:
    venv = subprocess.run([str(ROOT / "compat" / "server-venv.sh"), version], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    log = open(os.path.join(home, "server.log"), "wb")
    return subprocess.Popen([f"{venv}/bin/prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


@pytest.mark.skipif(not SERVERS, reason="set PREFECT_PUSH_COMPAT_SERVERS to Prefect versions to test against")
@pytest.mark.parametrize("version", SERVERS)
def test_push_to_older_server(version, repo, tmp_path):
    from prefect_push import localserver

    home = tempfile.mkdtemp(prefix=f"prefect-compat-{version}-")
    port = localserver.free_port()
    url = f"http://127.0.0.1:{port}/api"
    proc = _server(version, home, port)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, Path(home, "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        env = {"PREFECT_API_URL": url, "PREFECT_HOME": os.path.join(home, "client")}
        if parse_version(version)[0] >= 3:
            subprocess.run([str(Path(sys.executable).parent / "prefect"), "work-pool", "create", "test-pool",
                            "--type", "process"], check=True, capture_output=True, env={**os.environ, **env})
        assert repo.cli("install").returncode == 0
        repo.write("flows/a.py", flow_source(repo.flow("a")))
        repo.write("flows/b.py", flow_source(repo.flow("b")))
        sha = repo.commit("two flows")
        repo.git("checkout", "-qb", "feature")
        pushed = repo.push("feature", env=env)
        if parse_version(version)[0] < 3:
            assert pushed.returncode != 0
            assert f"Prefect server at {url} is {version}: prefect-push needs a Prefect 3 server" in pushed.stderr
            assert "Traceback" not in pushed.stderr and "422" not in pushed.stderr
            return
        assert pushed.returncode == 0, pushed.stderr
        import json
        body = json.dumps({"flows": {"name": {"like_": repo.uid}}}).encode()
        req = urllib.request.Request(f"{url}/deployments/filter", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            found = json.loads(resp.read())
        assert sorted((d["name"], d["version"]) for d in found) == [("feature", sha), ("feature", sha)], found
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
