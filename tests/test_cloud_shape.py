"""Prefect Cloud's URL shape and credentials, handled by the fast write path as Prefect's own client handles them.

A recording proxy in front of the session's server answers under a Cloud workspace URL
(/api/accounts/<id>/workspaces/<id>, the prefix taken off upstream), and PREFECT_CLOUD_API_URL names the proxy's
/api, so that both clients take the URL for Prefect Cloud (Prefect's client: `url.startswith(
PREFECT_CLOUD_API_URL)`). The same push then runs through the fast path and through Prefect's own client
(PREFECT_PUSH_CLIENT=prefect), identical to the byte (same paths, commit dates, flow names; the server's objects
of the first run deleted before the second), and the requests the proxy saw are compared: every one under the
workspace, with the credential Prefect sends (Bearer key; Basic auth string, which wins over a key), no CSRF
token asked of Cloud, the same headers and bodies otherwise (a retry of the SQLite server's 503 aside), the same
deployments stored. A self-hosted URL with an auth string is the control (a CSRF token asked for, under /api).
No credential is printed, nor left in .git/prefect-push (server-errors.log of a write the proxy refuses
included).
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import prefect
import pytest
from prefect.client.constants import SERVER_API_VERSION

from conftest import API_URL, BIN, POOL, flow_source
from faultproxy import FaultProxy, Rule
from test_api_paths import _api, _clean, _stored

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATES = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
         "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.invalid",
         "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.invalid"}
WORKSPACE = f"/api/accounts/{uuid.uuid4()}/workspaces/{uuid.uuid4()}"
KEY = "pnu_" + "Cl0udShapeFakeKey" + "x" * 19  # a Cloud key's shape: pnu_ and 36 characters
AUTH = "team:s3cret-Pa55w0rd"
assert len(KEY) == 40


def _git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **DATES})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _push(base: Path, uid: str, proxy: FaultProxy, env: dict[str, str]) -> tuple[list[tuple], str, str, str]:
    """A fresh repo at `base` (same paths, dates, names each time: the same commits) with two flows, pushed
    through the proxy with `env`; (the requests the push sent, its output, what it left in .git, the commit)."""
    shutil.rmtree(base, ignore_errors=True)
    remote, work = base / "remote.git", base / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    _git(work, "remote", "add", "origin", f"file://{remote}")
    proc = subprocess.run([str(BIN / "prefect-push"), "install"], cwd=work, env={**os.environ, **DATES, **env},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (work / "pyproject.toml").write_text(f'[tool.prefect-push]\nwork-pool = "{POOL}"\n')
    (work / "flows").mkdir()
    (work / "flows" / "a.py").write_text(flow_source(f"{uid}-a", params="n: int = 1")
                                         + '\nPREFECT_PUSH = {"cron": "0 4 * * *", "tags": ["finance"]}\n')
    (work / "flows" / "b.py").write_text(flow_source(f"{uid}-b"))
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "flows")
    return (*_push_again(work, proxy, env), _git(work, "rev-parse", "HEAD"))


def _push_again(work: Path, proxy: FaultProxy, env: dict[str, str], ok: bool = True) -> tuple[list[tuple], str, str]:
    """`git push origin main` of `work` through the proxy: (the requests it sent, its output, the text of every
    file under .git/prefect-push, its logs among them)."""
    start = len(proxy.requests)
    proc = subprocess.run(["git", "push", "origin", "main"], cwd=work, env={**os.environ, **DATES, **env},
                          capture_output=True, text=True)
    out = proc.stdout + proc.stderr
    assert (proc.returncode == 0) is ok, out
    left = "".join(p.read_text(errors="replace") for p in (work / ".git" / "prefect-push").rglob("*")
                   if p.is_file())
    return proxy.requests[start:], out, left


def _normal(requests: list[tuple]) -> list[str]:
    """Each request different from the others, with its ids (flows, deployments, CSRF client) as <id>, and its
    headers but length and host: a retry (the SQLite server answers concurrent writes 503) is the same request
    again, and how many there are is the server's doing, not the client's."""
    out = set()
    for method, path, body, headers in requests:
        data = json.loads(UUID.sub("<id>", body.decode())) if body else None
        kept = tuple(sorted((k.lower(), UUID.sub("<id>", v)) for k, v in headers.items()
                            if k.lower() not in ("content-length", "host")))
        out.add(json.dumps([method, UUID.sub("<id>", path), data, kept], sort_keys=True))
    return sorted(out)


def _first_difference(mine: list, theirs: list) -> str:
    only_mine = [r for r in mine if r not in theirs]
    only_theirs = [r for r in theirs if r not in mine]
    return f"fast only: {only_mine[:3]}\nfull only: {only_theirs[:3]}"


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


@pytest.fixture
def cloud_proxy(prefect_server):
    p = FaultProxy(API_URL, prefix=WORKSPACE)
    yield p
    p.stop()


@pytest.fixture
def plain_proxy(prefect_server):
    p = FaultProxy(API_URL)
    yield p
    p.stop()


BASIC = "Basic " + base64.b64encode(AUTH.encode()).decode()


@pytest.mark.parametrize("case,credentials,authorization", [
    ("cloud-key", {"PREFECT_API_KEY": KEY}, f"Bearer {KEY}"),
    ("self-hosted-auth", {"PREFECT_API_AUTH_STRING": AUTH}, BASIC),
    ("cloud-key-and-auth", {"PREFECT_API_KEY": KEY, "PREFECT_API_AUTH_STRING": AUTH}, BASIC),  # Prefect's order
])
def test_both_paths_send_what_prefects_client_sends(case, credentials, authorization, tmp_path, cloud_proxy,
                                                    plain_proxy):
    cloud = case.startswith("cloud")
    proxy = cloud_proxy if cloud else plain_proxy
    env = {"PREFECT_API_URL": proxy.url, **credentials}
    if cloud:
        port = proxy.url.split("://", 1)[1].split("/", 1)[0]
        env["PREFECT_CLOUD_API_URL"] = f"http://{port}/api"
        assert proxy.url.startswith(env["PREFECT_CLOUD_API_URL"] + "/accounts/")
    # the fast path is the one these settings take (not Prefect's client by a fallback), and takes it for Cloud
    from prefect_push.api.client import headers, is_cloud
    from prefect_push.api.settings import resolve

    settled = resolve({**os.environ, **env}, str(tmp_path))
    assert settled is not None and settled.url == proxy.url
    assert is_cloud(settled) is cloud
    assert headers(settled)["Authorization"] == authorization

    uid = "cloudshape" + case.replace("-", "")
    base = tmp_path / "scenario"
    remote_url = f"file://{base / 'remote.git'}"
    _clean(uid, remote_url)
    try:
        full, full_out, full_logs, sha = _push(base, uid, proxy, {**env, "PREFECT_PUSH_CLIENT": "prefect"})
        full_stored = _stored(uid)
        _clean(uid, remote_url)
        fast, fast_out, fast_logs, fast_sha = _push(base, uid, proxy, env)
        fast_stored = _stored(uid)
        # a write the server refuses: its whole answer goes to .git/prefect-push/server-errors.log
        (base / "work" / "flows" / "b.py").write_text(flow_source(f"{uid}-b", body="return 2"))
        _git(base / "work", "commit", "-qam", "b changed")
        writes = lambda method, path: method == "POST" and path.rstrip("/").endswith("/deployments")  # noqa: E731
        proxy.rules.append(Rule(writes, status=422, body=b'{"detail": "refused by the test"}'))
        try:
            _, refused_out, refused_left = _push_again(base / "work", proxy, env, ok=False)
        finally:
            proxy.rules.clear()
    finally:
        _clean(uid, remote_url)
    assert fast_sha == sha  # the same commit: bodies that carry it compare equal

    for requests in (full, fast):
        assert len(requests) >= 10, [r[:2] for r in requests]  # the push talked to the server, through the proxy
        paths = [path for _, path, _, _ in requests]
        # every request under the workspace's URL: none escapes to the account's /api (nor the bare /api)
        assert all(p.startswith((WORKSPACE if cloud else "/api") + "/") for p in paths), paths
        assert any(p.split("?")[0].endswith("/deployments/") for p in paths), paths
        # the credential Prefect's client sends, on every request
        assert {_header(h, "Authorization") for *_, h in requests} == {authorization}
        csrf = [p for p in paths if "/csrf-token" in p]
        if cloud:  # Prefect's client does not ask Prefect Cloud for a CSRF token
            assert not csrf, paths
            assert not [h for *_, h in requests if _header(h, "Prefect-Csrf-Token") is not None]
        else:  # the control: a self-hosted server is asked for one (the session's answers it has none: 422)
            assert len(csrf) == 1 and csrf[0].startswith("/api/csrf-token?client="), paths
        # the same version and agent headers as Prefect's client, on every request
        assert {_header(h, "X-PREFECT-API-VERSION") for *_, h in requests} == {SERVER_API_VERSION}
        assert {_header(h, "User-Agent") for *_, h in requests} == {
            f"prefect/{prefect.__version__} (API {SERVER_API_VERSION})"}

    # and the same requests, headers and bodies included (ids and the CSRF client normalized)
    mine, theirs = _normal(fast), _normal(full)
    assert mine == theirs, _first_difference(mine, theirs)

    # the deployments landed, the same through both paths
    assert fast_stored == full_stored
    assert set(fast_stored) == {f"{uid}-a/main", f"{uid}-b/main"}, sorted(fast_stored)
    assert {d["version"] for d in fast_stored.values()} == {sha}
    assert "finance" in fast_stored[f"{uid}-a/main"]["tags"]
    assert fast_out == full_out  # the same lines printed (the same paths, commits, names)

    # no credential printed, nor logged (a refused write's log included)
    assert "refused by the test" in refused_out and "server-errors.log" in refused_out, refused_out
    assert "refused by the test" in refused_left
    secrets = [*credentials.values(), BASIC.split()[1], "s3cret", KEY[4:]]
    for text in (full_out, fast_out, refused_out, full_logs, fast_logs, refused_left):
        assert "Traceback" not in text, text
        for secret in secrets:
            assert secret not in text, (secret, text)
