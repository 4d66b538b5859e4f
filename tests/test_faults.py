"""Faults against the real server: errors and delays injected by a real proxy in front of it, a process killed
mid-batch, racing pushes, a branch deleted while registering. Each ends the same as an undisturbed push, or
blocked with the reason named, and whatever was missed is caught up by the next push."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import API_URL, BIN, POOL, Repo, deployments, flow_source
from faultproxy import FaultProxy, Rule, any_request, deployment_writes

N = 4


@pytest.fixture
def proxy(prefect_server):
    p = FaultProxy(API_URL)
    yield p
    p.stop()


def flows(r: Repo, n: int = N, body: str = "return 1") -> list[str]:
    names = [r.flow(f"f{i}") for i in range(n)]
    for i, name in enumerate(names):
        r.write(f"flows/f{i}.py", flow_source(name, body=body))
    return names


def registered_at(r: Repo, names: list[str], ref: str, sha: str) -> None:
    got = deployments(r.uid)
    assert {f"{n}/{ref}" for n in names} <= set(got)
    assert {got[f"{n}/{ref}"].version for n in names} == {sha}


def test_5xx_halfway_through_a_batch_is_retried(hooked: Repo, proxy: FaultProxy):
    r = hooked
    names = flows(r)
    sha = r.commit()
    failing = [Rule(deployment_writes, status=500, skip=1, times=1), Rule(deployment_writes, status=503, skip=2,
                                                                          times=2)]
    proxy.rules += failing
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert [rule.hit for rule in failing] == [1, 2]  # (a busy SQLite server may add real 503s: retried alike)
    assert [s for m, path, s in proxy.log if deployment_writes(m, path)].count(201) == N
    registered_at(r, names, "main", sha)
    assert "FAILED" not in proc.stderr



def busy_servers(r: Repo) -> dict:
    path = Path(r.path) / ".git" / "prefect-push" / "busy-servers.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_auto_writes_four_at_once_until_the_server_answers_busy_then_one_at_a_time(hooked: Repo, proxy: FaultProxy):
    """write-concurrency = "auto" (the default): a server that takes concurrent writes (PostgreSQL, Cloud) gets 4
    at once; from its first busy answer (SQLite's 503) the rest go one at a time, and so does the next push."""
    r = hooked
    names = flows(r, 8)
    sha = r.commit()
    busy = Rule(deployment_writes, status=503, skip=5, times=1)
    proxy.rules += [busy, Rule(deployment_writes, delay=0.3)]  # slow answers: whatever is sent together shows
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert busy.hit == 1
    assert proxy.most_writes_in_flight == 4  # 4 at once before the busy answer
    registered_at(r, names, "main", sha)
    assert len(busy_servers(r)) == 1  # remembered for this API URL (hashed: a URL may carry credentials)
    assert proxy.url not in json.dumps(busy_servers(r))
    for i, name in enumerate(names):
        r.write(f"flows/f{i}.py", flow_source(name, body="return 2"))
    sha = r.commit()
    proxy.most_writes_in_flight = 0
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert proxy.most_writes_in_flight == 1  # a server known to be busy: one at a time from the start
    registered_at(r, names, "main", sha)


@pytest.mark.parametrize("writers", [1, 3])
def test_write_concurrency_set_in_the_config_is_kept(hooked: Repo, proxy: FaultProxy, writers: int):
    r = hooked
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\nwrite-concurrency = {writers}\n')
    names = flows(r, 6)
    sha = r.commit()
    proxy.rules += [Rule(deployment_writes, status=503, skip=1, times=1), Rule(deployment_writes, delay=0.3)]
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert proxy.most_writes_in_flight == writers  # a busy answer retries, it does not change what was asked
    registered_at(r, names, "main", sha)

def test_422_halfway_fails_that_deployment_and_the_next_push_catches_up(hooked: Repo, proxy: FaultProxy):
    r = hooked
    names = flows(r)
    sha = r.commit()
    refuse = [Rule(deployment_writes, status=422, body_has=f'"flows/f{i}.py:'.encode()) for i in (2, 3)]
    proxy.rules += refuse  # two of the four writes are refused: the server will not take them
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "FAILED" in proc.stderr and "2 registration(s) failed" in proc.stderr
    assert [rule.hit for rule in refuse] == [1, 1]  # once each: a 422 is no passing fault, never retried
    assert r.remote_has("refs/heads/main") is None  # blocked: the remote did not get it
    proc = r.push("main")  # the server answers again: the same result as a push that never failed
    assert proc.returncode == 0, proc.stderr
    registered_at(r, names, "main", sha)
    assert "already registered at this commit" in proc.stderr  # the two that made it are not rewritten


def test_a_server_that_never_answers_is_bounded_by_timeout(hooked: Repo, proxy: FaultProxy):
    r = hooked
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ntimeout = 3\n')
    flows(r, 1)
    r.commit()
    proxy.rules.append(Rule(any_request, delay=30))
    started = time.monotonic()
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    took = time.monotonic() - started
    assert proc.returncode != 0 and "did not answer for 3s" in proc.stderr and "Traceback" not in proc.stderr
    assert took < 25  # bounded by `timeout`, not by the server (a loose bound: CI machines are slow)
    assert deployments(r.uid) == {}


def test_a_slow_server_is_waited_for_within_timeout(hooked: Repo, proxy: FaultProxy):
    r = hooked
    names = flows(r, 2)
    sha = r.commit()
    proxy.rules.append(Rule(deployment_writes, delay=1.0))
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    registered_at(r, names, "main", sha)


def test_killed_mid_batch_then_run_again_ends_as_an_uninterrupted_run(hooked: Repo, proxy: FaultProxy):
    r = hooked
    names = flows(r, 6)
    sha = r.commit()
    r.git("push", "--no-verify", "origin", "main")
    proxy.rules.append(Rule(deployment_writes, delay=1.0))
    proc = subprocess.Popen([str(BIN / "prefect-push"), "register", "--ref", "main"], cwd=r.path,
                            env={**os.environ, "PREFECT_API_URL": proxy.url}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(deployments(r.uid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(1.5)  # a write already sent still lands after the proxy's delay, as it would on a real network
    partial = deployments(r.uid)
    assert 2 <= len(partial) < 6  # it really died halfway
    proc = r.cli("register", "--ref", "main", "--json")
    assert proc.returncode == 0, proc.stderr
    registered_at(r, names, "main", sha)
    rows = json.loads(proc.stdout)["actions"]
    assert {row["flow"] for row in rows if row["action"] == "register"} == {n for n in names
                                                                          if f"{n}/main" not in partial}
    # and the marker moved: the next run is a one-call skip
    (row,) = json.loads(r.cli("register", "--ref", "main", "--json").stdout)["actions"]
    assert row["reason"] == f"already registered at {sha[:12]}"


def clone_of(r: Repo, name: str) -> Repo:
    path = r.path.parent / name
    subprocess.run(["git", "clone", "-q", r.url, str(path)], check=True)
    other = Repo(path, r.remote, r.uid)
    assert other.cli("install").returncode == 0
    return other


def test_racing_pushes_of_different_branches(hooked: Repo):
    r = hooked
    flows(r, 2)
    r.commit()
    assert r.push("main").returncode == 0
    a, b = clone_of(r, "a"), clone_of(r, "b")
    shas = {}
    for c, branch in ((a, "race/a"), (b, "race/b")):
        c.git("checkout", "-qb", branch)
        flows(c, 2, body=f"return {branch!r}")
        shas[branch] = c.commit()
    procs = [subprocess.Popen(["git", "push", "origin", branch], cwd=c.path, stderr=subprocess.PIPE, text=True)
             for c, branch in ((a, "race/a"), (b, "race/b"))]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    names = [r.flow("f0"), r.flow("f1")]
    registered_at(r, names, "race-a", shas["race/a"])
    registered_at(r, names, "race-b", shas["race/b"])


def test_racing_pushes_of_the_same_branch_end_registered_as_the_remote_has_it(hooked: Repo):
    r = hooked
    names = flows(r, 2)
    r.commit()
    assert r.push("main").returncode == 0
    a, b = clone_of(r, "a"), clone_of(r, "b")
    a.write("flows/f0.py", flow_source(names[0], body="return 'a'"))
    a.commit("a changes f0")
    b.write("flows/f1.py", flow_source(names[1], body="return 'b'"))
    b.commit("b changes f1")
    procs = [subprocess.Popen(["git", "push", "origin", "main"], cwd=c.path, stderr=subprocess.PIPE, text=True)
             for c in (a, b)]
    codes = [p.wait(timeout=120) for p in procs]
    assert sorted(codes) == [0, 1], codes  # one is rejected (non-fast-forward), after its hook registered
    loser = b if codes[0] == 0 else a
    loser.git("pull", "-q", "--rebase", "origin", "main")
    assert loser.push("main").returncode == 0
    head = r.remote_has("refs/heads/main")
    got = deployments(r.uid)
    for i, n in enumerate(names):
        # whatever order the hooks ran in, each deployment names a commit whose file is what the remote has now
        version = got[f"{n}/main"].version
        path = f"flows/f{i}.py"
        blob = lambda rev: subprocess.run(["git", "--git-dir", str(r.remote), "rev-parse", f"{rev}:{path}"],
                                          capture_output=True, text=True).stdout.strip()
        assert blob(version) == blob(head), (n, version, head)


def test_branch_deleted_on_the_remote_while_registering_is_pruned(hooked: Repo, proxy: FaultProxy):
    r = hooked
    flows(r, 3)
    r.commit()
    r.git("checkout", "-qb", "doomed")
    r.git("push", "--no-verify", "origin", "doomed")
    proxy.rules.append(Rule(deployment_writes, delay=1.0))
    proc = subprocess.Popen([str(BIN / "prefect-push"), "register", "--ref", "doomed"], cwd=r.path,
                            env={**os.environ, "PREFECT_API_URL": proxy.url}, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    subprocess.run(["git", "--git-dir", str(r.remote), "update-ref", "-d", "refs/heads/doomed"], check=True)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    assert len(deployments(r.uid)) == 3  # registered: the hook cannot see a deletion that happens after it read
    status = json.loads(r.cli("status", "--json").stdout)
    (doomed,) = [ref for ref in status["refs"] if ref["ref"] == "refs/heads/doomed"]
    assert doomed["on_remote"] is False
    assert r.cli("prune").returncode == 0
    assert deployments(r.uid) == {}


def test_no_token_anywhere_on_the_server_in_output_or_logs(repo: Repo, prefect_server, tmp_path: Path):
    """A token in the remote URL, in GIT_* env and in a Secret block: searched for in every deployment field,
    every variable, every byte printed and every file prefect-push writes."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client

    r = repo
    token = "tok-" + uuid.uuid4().hex
    Secret(value=token).save(f"{r.uid}-token")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ncredentials = "{r.uid}-token"\n'
                              'mode = "after-push"\nafter-push-wait = 5\n')
    names = flows(r, 2)
    r.commit()
    r.git("remote", "set-url", "origin", f"https://bot:{token}@git.invalid/team/flows.git")
    env = {"GIT_ASKPASS": f"/bin/echo {token}", "GIT_CONFIG_PARAMETERS": f"'http.extraheader'='Authorization: {token}'"}
    out = []
    for args in (["plan", "--ref", "main", "--to", "HEAD", "--json"], ["register", "--ref", "main", "--to", "HEAD"],
                 ["status", "--json"], ["prune", "--dry-run"]):
        proc = r.cli(*args, env=env)
        out.append(proc.stdout + proc.stderr)
    stdin = f"refs/heads/main {r.sha()} refs/heads/x {'0' * 40}\n"
    proc = r.cli("hook", "origin", f"https://bot:{token}@git.invalid/team/flows.git", env=env, stdin=stdin)
    out.append(proc.stdout + proc.stderr)
    time.sleep(6)  # the after-push worker gives up on the unreachable remote and writes its log
    assert {f"{n}/main" for n in names} <= set(deployments(r.uid))
    for text in out:
        assert token not in text
    for f in (r.path / ".git" / "prefect-push").glob("*"):
        assert token not in f.read_text(errors="replace"), f
    with get_client(sync_client=True) as client:
        for d in deployments(r.uid).values():
            assert token not in d.model_dump_json()
        for v in client.read_variables(limit=200):
            assert token not in json.dumps(v.value)


@pytest.mark.parametrize("status, busy", [(503, 1), (429, 1), (502, 0), (500, 0), (None, 0)])
def test_only_a_busy_answer_counts_as_busy(status, busy):
    """Pure: what makes "auto" drop to one writer. A dropped connection or a proxy's 502 is retried like a 503,
    but it says nothing about how many writers the server takes (the proxy tests above are the real side)."""
    import asyncio

    import httpx

    from prefect_push.api.client import Api

    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            if status is None:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(status, request=request)
        return httpx.Response(200, json={"id": "ok"}, request=request)

    client = Api(httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://127.0.0.1/api"),
                 csrf=False)
    response = asyncio.run(client.request("POST", "/deployments/", json={}))
    assert response.json() == {"id": "ok"} and len(calls) == 2
    assert client.busy_answers == busy


def test_a_csrf_token_the_server_dropped_is_fetched_again():
    """Pure: a server that forgot the client's CSRF token (restarted between two writes) answers 403 "Invalid
    CSRF token"; as Prefect's client does, the token is fetched again and the write sent once more with it."""
    import asyncio

    import httpx

    from prefect_push.api.client import Api

    tokens, writes = iter(["t1", "t2"]), []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/csrf-token"):
            return httpx.Response(200, json={"token": next(tokens), "expiration": "2999-01-01T00:00:00Z"})
        writes.append(request.headers.get("Prefect-Csrf-Token"))
        if len(writes) == 1:
            return httpx.Response(403, json={"detail": "Invalid CSRF token or client identifier."})
        return httpx.Response(200, json={"id": "ok"})

    client = Api(httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://127.0.0.1/api"),
                 csrf=True)
    assert asyncio.run(client.request("POST", "/deployments/", json={})).json() == {"id": "ok"}
    assert writes == ["t1", "t2"]


def test_plain_http_still_verifies_a_redirect_to_https(monkeypatch):
    """Pure: for an http:// URL the TLS transport is made on first use (not at every push), and it is the one
    Prefect's client would use: certificates verified, host names checked; a proxy in the environment keeps
    httpx's own set-up (a client given its own transport would ignore the proxy)."""
    import ssl

    from prefect_push.api.client import _OnFirstUse, build
    from prefect_push.api.settings import resolve

    for k in [k for k in os.environ if k.lower().endswith("_proxy")]:
        monkeypatch.delenv(k)
    settings = resolve({"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": "/nonexistent"}, "/")
    (lazy,) = [t for t in build(settings)._mounts.values() if isinstance(t, _OnFirstUse)]
    context = lazy._make()._pool._ssl_context
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert not any(isinstance(t, _OnFirstUse) for t in build(settings)._mounts.values())


def test_a_custom_header_replaces_one_of_another_case_as_on_prefects_client():
    """PREFECT_CLIENT_CUSTOM_HEADERS {"authorization": ...} beside an API key: one Authorization header goes out,
    the custom one, as Prefect's client (httpx's case-blind headers) sends it; never both."""
    from prefect.client.orchestration import PrefectClient
    from prefect.settings import PREFECT_API_KEY, PREFECT_CLIENT_CUSTOM_HEADERS, temporary_settings

    from prefect_push.api.client import build
    from prefect_push.api.settings import resolve

    env = {"PREFECT_API_URL": "http://127.0.0.1:9/api", "PREFECT_HOME": "/nonexistent", "PREFECT_API_KEY": "k1",
           "PREFECT_CLIENT_CUSTOM_HEADERS": '{"authorization": "Bearer proxy", "X-Team": "data"}'}
    mine = build(resolve(env, "/")).headers
    with temporary_settings({PREFECT_API_KEY: "k1", PREFECT_CLIENT_CUSTOM_HEADERS: {"authorization": "Bearer proxy",
                                                                                   "X-Team": "data"}}):
        theirs = PrefectClient("http://127.0.0.1:9/api", api_key="k1")._client.headers
    assert mine.get_list("authorization") == theirs.get_list("authorization") == ["Bearer proxy"]
    assert mine["x-team"] == theirs["x-team"] == "data"


def test_writes_in_flight_at_once_share_one_csrf_token():
    """Pure: a server with CSRF protection keeps one token a client (a new fetch replaces it, as Prefect's server
    upserts it); four writes sent at once fetch it once and all pass, none invalidating another's."""
    import asyncio

    import httpx

    from prefect_push.api.client import Api

    state = {"token": None, "fetches": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/csrf-token"):
            state["fetches"] += 1
            state["token"] = f"t{state['fetches']}"
            return httpx.Response(200, json={"token": state["token"], "expiration": "2999-01-01T00:00:00Z"})
        if request.headers.get("Prefect-Csrf-Token") != state["token"]:
            return httpx.Response(403, json={"detail": "Invalid CSRF token or client identifier."})
        return httpx.Response(200, json={"id": "ok"})

    client = Api(httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://127.0.0.1/api"),
                 csrf=True)

    async def four() -> list:
        return await asyncio.gather(*(client.request("POST", "/flows/", json={"name": str(i)}) for i in range(4)))

    assert [r.status_code for r in asyncio.run(four())] == [200] * 4
    assert state["fetches"] == 1
