"""The fast write path (httpx, bodies built here, no `import prefect`) against the full one (Prefect's own client,
PREFECT_PUSH_CLIENT=prefect): the same pushes through a recording proxy in front of one real server send the
same requests (method, path, JSON body, headers), and leave the same deployments behind.

One scenario runs twice, identical to the byte (same paths, same commit dates, hence the same commits; the
server's objects of the first run deleted before the second): flows with PREFECT_PUSH parameters and a
schedule, a flow through a helper import, prefect.yaml entries with schedules, triggers and their own pull
steps, a deployment `prefect deploy` made that fires (taken over: paused), a feature branch, a release tag,
the branch's deletion.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import API_URL, BIN, POOL, deployments, flow_source
from faultproxy import FaultProxy
from prefect_push.api.client import RETRY_STATUS

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATES = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
         "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.invalid",
         "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.invalid"}
UID = "apipaths"  # one name for both runs: the flows are deleted between them

PREFECT_YAML = """\
pull:
  - prefect.deployments.steps.git_clone:
      id: clone-step
      repository: https://git.example.invalid/team/repo.git
      branch: main
  - prefect.deployments.steps.run_shell_script:
      script: echo {{{{ clone-step.directory }}}}
deployments:
  - name: nightly
    entrypoint: flows/c.py:apipaths_c
    work_pool: {{name: {pool}, job_variables: {{env: {{TEAM: data}}}}}}
    parameters: {{n: 7}}
    tags: [etl]
    schedules:
      - cron: "30 2 * * *"
        timezone: Europe/Paris
    triggers:
      - enabled: true
        match:
          prefect.resource.id: prefect.flow-run.*
        expect:
          - prefect.flow-run.Completed
  - name: hourly
    entrypoint: flows/c.py:apipaths_c
    work_pool: {{name: {pool}}}
    schedules:
      - interval: 3600
        active: false
"""


def _api(method: str, path: str, body: object = None) -> object:
    """The session's server directly (not through the proxy); its SQLite's passing 503 retried."""
    for delay in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, None):
        response = httpx.request(method, API_URL + path, json=body, timeout=30)
        if response.status_code != 503 or delay is None:
            break
        time.sleep(delay)
    response.raise_for_status()
    return response.json() if response.content else None


def _clean(uid: str, remote_url: str) -> None:
    """Every object a run made on the server, gone: its flows (their deployments and automations with them),
    its markers (the repository they name is the remote's URL without .git)."""
    flows = _api("POST", "/flows/filter", {"flows": {"name": {"like_": uid}}, "limit": 200})
    deployments = _api("POST", "/deployments/filter", {"flows": {"name": {"like_": uid}}, "limit": 200})
    for d in deployments:
        _api("DELETE", f"/automations/owned-by/prefect.deployment.{d['id']}")
    for f in flows:
        _api("DELETE", f"/flows/{f['id']}")
    for v in _api("POST", "/variables/filter", {"limit": 200}):
        if isinstance(v["value"], dict) and v["value"].get("repository") in (remote_url, remote_url[:-4]):
            _api("DELETE", f"/variables/name/{v['name']}")


def _stored(uid: str) -> dict[str, dict]:
    """A run's deployments as stored, by flow/name, without what differs by run (ids, times)."""
    flows = {f["id"]: f["name"] for f in _api("POST", "/flows/filter", {"flows": {"name": {"like_": uid}},
                                                                         "limit": 200})}
    out = {}
    for d in _api("POST", "/deployments/filter", {"flows": {"name": {"like_": uid}}, "limit": 200}):
        keep = {k: v for k, v in d.items() if k not in ("id", "flow_id", "created", "updated", "last_polled",
                                                          "status", "created_by", "updated_by", "version_id")}
        keep["schedules"] = sorted(json.dumps({k: v for k, v in s.items() if k not in (
            "id", "created", "updated", "deployment_id")}, sort_keys=True) for s in d["schedules"])
        text = UUID.sub("<id>", json.dumps(keep, sort_keys=True))
        # an interval schedule without an anchor is anchored by the server when written
        text = re.sub(r'(anchor_date\\": \\")[^\\"]*', r"\1<when>", text)
        out[f"{flows[d['flow_id']]}/{d['name']}"] = json.loads(text)
    return out


def _git(cwd: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **DATES})
    assert proc.returncode == 0, proc.stderr


def _scenario(base: Path, proxy: FaultProxy, client: str, yaml: bool) -> tuple[list[tuple], list[str]]:
    """The scenario's pushes with PREFECT_PUSH_CLIENT=client; (the requests the proxy saw, the pushes' output).
    yaml: the flows listed in a prefect.yaml (its entries are then the set registered), else plain flows."""
    shutil.rmtree(base, ignore_errors=True)
    remote, work = base / "remote.git", base / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    _git(work, "remote", "add", "origin", f"file://{remote}")
    env = {**os.environ, **DATES, "PREFECT_API_URL": proxy.url, "PREFECT_PUSH_CLIENT": client}
    assert subprocess.run([str(BIN / "prefect-push"), "install"], cwd=work, env=env,
                          capture_output=True).returncode == 0

    def write(rel: str, text: str) -> None:
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)

    outputs: list[str] = []

    def push(*args: str) -> None:
        proc = subprocess.run(["git", "push", "origin", *args], cwd=work, env=env, capture_output=True, text=True)
        outputs.append(proc.stdout + proc.stderr)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n')
    write("flows/a.py", flow_source(f"{UID}-a", params="day: str = 'mon', n: int = 1")
          + '\nPREFECT_PUSH = {"cron": "0 4 * * *", "parameters": {"n": 3}, "tags": ["finance"]}\n')
    write("lib/common.py", "LIMIT = 5\n")
    write("flows/b.py", flow_source(f"{UID}-b", params="x: float = 1.5", extra="from lib.common import LIMIT"))
    write("flows/c.py", flow_source(f"{UID}-c", params="n: int = 1", extra="from lib.common import LIMIT"))
    if yaml:
        write("prefect.yaml", PREFECT_YAML.format(pool=POOL))
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "flows")
    if not yaml:  # what `prefect deploy` made for flow a before the team switched: it fires, the push pauses it
        flow_id = _api("POST", "/flows/", {"name": f"{UID}-a"})["id"]
        _api("POST", "/deployments/", {"name": "legacy", "flow_id": flow_id, "entrypoint": "flows/a.py:apipaths_a",
                                       "work_pool_name": POOL,
                                       "schedules": [{"schedule": {"cron": "0 1 * * *"}, "active": True}]})
    start = len(proxy.answers)
    push("main")
    _git(work, "checkout", "-qb", "feat/x")
    write("lib/common.py", "LIMIT = 6\n")
    _git(work, "commit", "-qam", "limit")
    push("feat/x")
    _git(work, "checkout", "-q", "main")
    _git(work, "tag", "-a", "v1", "-m", "release 1")
    push("v1")
    push("--delete", "feat/x")
    # a request the server answered busy (SQLite's 503) is sent again: its try counts once, whichever path
    return [a[:4] for a in proxy.answers[start:] if a[4] not in RETRY_STATUS], outputs


def _normal(requests: list[tuple]) -> list[tuple[str, str, object, tuple]]:
    """Each request with its ids (flows, deployments, CSRF client) as <id>, and its headers but the length."""
    out = []
    for method, path, body, headers in requests:
        data = json.loads(UUID.sub("<id>", body.decode())) if body else None
        kept = tuple(sorted((k.lower(), UUID.sub("<id>", v)) for k, v in headers.items()
                            if k.lower() not in ("content-length", "host")))
        out.append((method, UUID.sub("<id>", path), data, kept))
    return out


@pytest.fixture
def proxy(prefect_server):
    p = FaultProxy(API_URL)
    yield p
    p.stop()


@pytest.mark.parametrize("yaml", [False, True], ids=["flows", "prefect-yaml"])
def test_fast_and_full_paths_send_the_same_requests(tmp_path: Path, proxy: FaultProxy, yaml: bool) -> None:
    base = tmp_path / "scenario"
    remote_url = f"file://{base / 'remote.git'}"
    _clean(UID, remote_url)
    full, full_out = _scenario(base, proxy, "prefect", yaml)
    full_stored = _stored(UID)
    _clean(UID, remote_url)
    fast, fast_out = _scenario(base, proxy, "", yaml)
    fast_stored = _stored(UID)
    _clean(UID, remote_url)

    assert len(full) > 20  # the scenario talked to the server, through the proxy
    mine, theirs = _normal(fast), _normal(full)
    # as a multiset: a push's writes overlap where the server takes several at once
    assert sorted(mine, key=repr) == sorted(theirs, key=repr), _first_difference(mine, theirs)
    import difflib
    assert fast_stored == full_stored, "\n".join(difflib.unified_diff(json.dumps(full_stored, indent=1, sort_keys=True).splitlines(), json.dumps(fast_stored, indent=1, sort_keys=True).splitlines(), lineterm=""))
    assert [o.replace(str(base), "") for o in fast_out] == [o.replace(str(base), "") for o in full_out]
    assert not any("Traceback" in o for o in fast_out)
    if yaml:
        assert sorted(fast_stored) == [f"{UID}-c/{n}" for n in ("main-hourly", "main-nightly",
                                                                 "production-hourly", "production-nightly")]
        assert any(m == "POST" and p.endswith("/automations/") for m, p, _, _ in mine)  # the trigger's
    else:
        # feat/x's deployments were registered, then deleted with the branch
        assert sorted(fast_stored) == [f"{UID}-a/legacy", f"{UID}-a/main", f"{UID}-a/production",
                                       f"{UID}-b/main", f"{UID}-b/production", f"{UID}-c/main",
                                       f"{UID}-c/production"], sorted(fast_stored)
        assert sum(m == "POST" and p.endswith("/deployments/") and b["name"] == "feat-x" for m, p, b, _ in mine) == 2
        assert sum(m == "DELETE" and re.search(r"/deployments/<id>$", p) is not None for m, p, b, _ in mine) == 2
        assert fast_stored[f"{UID}-a/legacy"]["paused"] is True  # taken over: prefect deploy's no longer fires
        production = fast_stored[f"{UID}-a/production"]
        assert production["parameters"] == {"n": 3} and "finance" in production["tags"]


def _first_difference(mine: list, theirs: list) -> str:
    from collections import Counter

    a, b = Counter(map(repr, mine)), Counter(map(repr, theirs))
    only_mine, only_theirs = list((a - b).items()), list((b - a).items())
    return f"fast only: {only_mine[:3]}\nfull only: {only_theirs[:3]}"



PREFECT_IMPORTED = re.compile(r"^import time:.*\|\s*prefect(\.\S+)?\s*$", re.M)


def test_a_registering_push_never_imports_prefect(hooked) -> None:
    """The common push (a flow with parameters and a cron schedule, a flow with an interval, a feature branch,
    a release tag, a deletion, status) talks to the server without `import prefect`: Python's own import log
    of the hook, and of the commands, names no module of prefect. A prefect.yaml entry's push does import it
    (its blocks and variables are resolved by Prefect), which the same log shows: the check can fail."""
    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a, params="day: str = 'mon', n: int = 1")
            + '\nPREFECT_PUSH = {"cron": "0 4 * * 1-5", "timezone": "Europe/Paris", "parameters": {"n": 3}}\n')
    r.write("flows/b.py", flow_source(b, params="x: float = 1.5") + '\nPREFECT_PUSH = {"interval": 600}\n')
    r.commit("flows")
    log = {"PYTHONPROFILEIMPORTTIME": "1"}

    def clean(proc) -> None:
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "import time:" in proc.stderr  # the log is there to read
        assert not PREFECT_IMPORTED.findall(proc.stderr), PREFECT_IMPORTED.findall(proc.stderr)[:3]

    clean(r.push("main", env=log))
    assert sorted(deployments(r.uid)) == [f"{a}/main", f"{b}/main"]
    r.git("checkout", "-qb", "feat/y")
    r.write("flows/b.py", flow_source(b, params="x: float = 2.5") + '\nPREFECT_PUSH = {"interval": 600}\n')
    r.commit("b")
    clean(r.push("feat/y", env=log))
    r.git("checkout", "-q", "main")
    r.git("tag", "v1")
    clean(r.push("v1", env=log))
    clean(r.push("--delete", "feat/y", env=log))
    assert sorted(deployments(r.uid)) == [f"{a}/main", f"{a}/production", f"{b}/main", f"{b}/production"]
    clean(r.cli("status", env=log))

    # the control: a prefect.yaml entry is resolved by Prefect itself, and the log shows it
    r.write("prefect.yaml", f"deployments:\n  - name: nightly\n    entrypoint: flows/a.py:{a.replace('-', '_')}\n"
                            f"    work_pool: {{name: {POOL}}}\n")
    r.commit("prefect.yaml")
    proc = r.push("main", env=log)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert PREFECT_IMPORTED.findall(proc.stderr)
