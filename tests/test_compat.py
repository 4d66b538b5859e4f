"""compat.FIELDS / drop_unsupported, and real pushes to real servers: the newest (the session's) and the oldest
supported line on every run, any others with PREFECT_PUSH_COMPAT_SERVERS, each from its own venv (compat/server-venv.sh)."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from prefect_push.compat import drop_unsupported, parse_version

from conftest import BIN, POOL, ROOT, Repo, flow_source, install_pre_commit

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
    from prefect_push.errors import ERROR_LINE, error_detail

    assert error_detail('{"detail": "Flow not found"}') == "Flow not found"
    assert "version_info" in error_detail('{"detail": [{"loc": ["body", "version_info"], "msg": "Extra inputs '
                                          'are not permitted", "type": "extra_forbidden"}]}')
    page = "<html><body><h1>502 Bad Gateway</h1>" + "x" * 500 + "</body></html>"
    line = error_detail(page)
    assert "\n" not in line and len(line) <= ERROR_LINE and line.startswith("502 Bad Gateway")
    assert error_detail("<html><title>503 Service Unavailable</title><body>" + "y" * 900) == "503 Service Unavailable"
    assert error_detail('{"exception_message": "Unauthorized"}') == "Unauthorized"  # Prefect's 401
    # a proxy's or plugin's validation list without FastAPI's loc list: its message, never a crash
    assert error_detail('{"detail": [{"loc": null, "msg": "bad body"}]}') == "bad body"
    assert error_detail('{"detail": [{"loc": "body", "msg": "bad body"}]}') == "bad body"
    assert error_detail(PREFECT_422.decode()) == "flows: Input should be a valid dictionary (+1 more)"
    many = json.dumps({"detail": [{"loc": ["body", "x" * 200], "msg": "bad"}] * 5})
    assert error_detail(many).endswith("... (+4 more)") and len(error_detail(many)) <= ERROR_LINE


OLDEST = "3.0.11"  # the oldest supported line: every run builds its venv (cached) and tests against it
# PREFECT_PUSH_COMPAT_SERVERS="3.0.11 3.2.15 2.20.27 ...": other versions (`python3 dev.py compat` runs them all)
SERVERS = os.environ.get("PREFECT_PUSH_COMPAT_SERVERS", OLDEST).replace(",", " ").split()
RESULTS = os.environ.get("PREFECT_PUSH_COMPAT_RESULTS")  # a file: one JSON line per version, for dev.py compat


@dataclass
class CompatServer:
    version: str
    url: str
    prefect: str  # that version's own CLI (its worker runs the flows)
    env: dict[str, str]  # for that CLI: its home and the server's URL, nothing else of Prefect's


def _venv(version: str) -> str:
    proc = subprocess.run([str(ROOT / "compat" / "server-venv.sh"), version], capture_output=True, text=True)
    assert proc.returncode == 0, f"compat/server-venv.sh {version} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout.strip().splitlines()[-1]


def _start(version: str, home: str) -> tuple[subprocess.Popen, CompatServer]:
    from prefect_push import localserver

    venv = _venv(version)
    port = localserver.free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    with open(os.path.join(home, "server.log"), "wb") as log:
        proc = subprocess.Popen([f"{venv}/bin/prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    deadline = time.monotonic() + 180
    while True:
        assert proc.poll() is None, Path(home, "server.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.5)
    return proc, CompatServer(version, url, f"{venv}/bin/prefect", {**env, "PREFECT_API_URL": url})


@pytest.fixture(scope="module", params=["newest", *SERVERS])
def compat_server(request, prefect_server, tmp_path_factory):
    """The session's server (this venv's prefect, the newest), or one of SERVERS from its own venv."""
    if request.param == "newest":
        import prefect

        yield CompatServer(prefect.__version__, prefect_server.url, str(BIN / "prefect"), dict(os.environ))
        return
    home = str(tmp_path_factory.mktemp(f"prefect-{request.param}"))
    proc, server = _start(request.param, home)
    try:
        if server.version.startswith("3."):
            subprocess.run([server.prefect, "work-pool", "create", POOL, "--type", "process"], check=True,
                           capture_output=True, env=server.env)
        yield server
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def _deployments(server: CompatServer, prefix: str) -> dict[str, tuple[str, str]]:
    """{flow/deployment: (version, branch of its git_clone step)} on that server, read over plain HTTP."""
    def post(path: str, body: dict) -> list:
        req = urllib.request.Request(f"{server.url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    flows = {f["id"]: f["name"] for f in post("/flows/filter", {"flows": {"name": {"like_": prefix}}})}
    out = {}
    for d in post("/deployments/filter", {"flows": {"id": {"any_": list(flows)}}}):
        step = (d.get("pull_steps") or [{}])[0].get("prefect.deployments.steps.git_clone", {})
        out[f"{flows[d['flow_id']]}/{d['name']}"] = (d["version"], step.get("branch"))
    return out


def _run(server: CompatServer, deployment: str, workdir: Path) -> str:
    """That version's CLI starts a run, that version's process worker runs it; the worker's output. One run per
    worker start: 3.5.0's worker crashes one of two runs it starts at once ("Cannot open a client instance more
    than once")."""
    run = subprocess.run([server.prefect, "deployment", "run", deployment], env=server.env, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    workdir.mkdir(exist_ok=True)
    worker = subprocess.run([server.prefect, "worker", "start", "--pool", POOL, "--run-once"], cwd=workdir,
                            env=server.env, capture_output=True, text=True, timeout=300)
    return worker.stdout + worker.stderr


def _greeter(name: str, branch: str) -> str:
    return flow_source(name, body="print('greeting from ' + BRANCH)\n    return BRANCH",
                       extra=f"BRANCH = {branch!r}").replace("@flow(", "@flow(log_prints=True, ")


def _record(version: str, **result: str) -> None:
    if RESULTS:
        with open(RESULTS, "a") as f:
            f.write(json.dumps({"server": version, **result}) + "\n")


def test_push_and_run_on_each_server(compat_server: CompatServer, repo, hook_repo, tmp_path):
    """As a team on that server: the hook env has the newest prefect; the plain git hook and the pre-commit hook
    register, and the server's own process worker runs the pushed branch's code."""
    server = compat_server
    env = {"PREFECT_API_URL": server.url}
    a, b = repo.flow("a"), repo.flow("b")
    assert repo.cli("install").returncode == 0
    repo.write("flows/a.py", _greeter(a, "main"))
    repo.write("flows/b.py", _greeter(b, "main"))
    repo.commit("two flows")
    pushed = repo.push("main", env=env)
    if not server.version.startswith("3."):
        out = pushed.stdout + pushed.stderr
        said = next((line for line in out.splitlines() if "Prefect 3 server" in line), out.strip()[-200:])
        _record(server.version, push="refused" if pushed.returncode else "registered?!", line=said)
        assert pushed.returncode != 0
        assert f"Prefect server at {server.url} is {server.version}: prefect-push needs a Prefect 3 server" in out
        assert "Traceback" not in out and "422" not in out
        assert repo.remote_has("refs/heads/main") is None
        return
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    main = repo.sha()
    assert _deployments(server, repo.uid) == {f"{a}/main": (main, "main"), f"{b}/main": (main, "main")}

    # the plain hook: a new branch changes a
    repo.git("checkout", "-qb", "feature/plain")
    repo.write("flows/a.py", _greeter(a, "feature/plain, first"))
    repo.commit("a says its branch")
    assert repo.push("feature/plain", env=env).returncode == 0
    repo.write("flows/a.py", _greeter(a, "feature/plain"))  # again: the deployment and the marker are updated
    plain = repo.commit("a says its branch again")
    pushed = repo.push("feature/plain", env=env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr

    # the pre-commit hook, in another clone of the same remote: a new branch changes b
    other = Repo(tmp_path / "other", repo.remote, repo.uid)
    subprocess.run(["git", "clone", "-q", repo.url, str(other.path)], check=True, capture_output=True)
    install_pre_commit(other, hook_repo)
    other.git("checkout", "-qb", "feature/pc")
    other.write("flows/b.py", _greeter(b, "feature/pc"))
    pc = other.commit("b says its branch")
    pushed = other.push("feature/pc", env=env)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    got = _deployments(server, repo.uid)
    assert got[f"{a}/feature-plain"] == (plain, "feature/plain") and f"{b}/feature-plain" not in got
    assert got[f"{b}/feature-pc"] == (pc, "feature/pc") and f"{a}/feature-pc" not in got
    _record(server.version, push="registered")

    for deployment, branch in ((f"{a}/feature-plain", "feature/plain"), (f"{b}/feature-pc", "feature/pc")):
        out = _run(server, deployment, tmp_path / "worker")
        assert f"greeting from {branch}\n" in out and "greeting from main" not in out, out[-3000:]
    _record(server.version, worker="ran the branch's code")


def test_marker_under_the_legacy_name_counts_and_is_renamed(hooked):
    """Markers written by earlier releases (`prefect-push-<hash>`, a name 3.0 servers refuse) still decide the
    diff base; the next marker write moves it to `prefect_push_<hash>`."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import VariableCreate

    from prefect_push.git import repo_key
    from prefect_push.server import legacy_marker_name, marker_name

    from conftest import deployments

    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.commit("two flows")
    assert r.push("main").returncode == 0
    key = repo_key(r.url)
    new, old = marker_name(key, "refs/heads/main"), legacy_marker_name(key, "refs/heads/main")
    assert new.startswith("prefect_push_") and "-" not in new
    with get_client(sync_client=True) as client:  # as an earlier release left it
        var = client.read_variable_by_name(new)
        client.create_variable(VariableCreate(name=old, value=var.value, tags=["prefect-push"]))
        client.delete_variable_by_name(new)
    r.write("flows/a.py", flow_source(a, body="return 2"))
    r.commit("a changed, pushed without the hook")
    assert r.push("--no-verify", "main").returncode == 0
    r.write("flows/b.py", flow_source(b, body="return 3"))
    sha = r.commit("b changed")
    pushed = r.push("main")
    assert pushed.returncode == 0, pushed.stderr
    got = deployments(r.uid)
    # the legacy marker is the base: a's change, pushed past the hook, is registered too
    assert got[f"{a}/main"].version == sha and got[f"{b}/main"].version == sha
    with get_client(sync_client=True) as client:
        assert client.read_variable_by_name(new).value["commit"] == sha
        assert client.read_variable_by_name(old) is None


PROXY_PAGE = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
              + "<hr><center>nginx</center>\n" * 40 + "</body></html>").encode()
BIG_422 = json.dumps({"detail": [{"type": "extra_forbidden", "loc": ["body", f"field_{i}"], "msg": "Extra inputs are "
                                  "not permitted", "input": {"nested": list(range(20))}} for i in range(30)]}).encode()


PREFECT_422 = json.dumps({"exception_message": "Invalid request received.", "exception_detail": [
    {"type": "model_attributes_type", "loc": ["body", "flows"], "msg": "Input should be a valid dictionary"},
    {"type": "enum", "loc": ["body", "sort"], "msg": "Input should be 'CREATED_DESC'"}],
    "request_body": {"flows": None, "sort": None, "limit": 200}}).encode()


def test_server_errors_are_one_line_each_with_the_full_answer_in_a_log(hooked):
    """Whatever the server (or a proxy before it) answers, each failed deployment's row is one short line with
    the status and the server's message; the whole answer is in the log file that the line names."""
    from faultproxy import FaultProxy, Rule, deployment_writes

    from conftest import API_URL

    r = hooked
    proxy = FaultProxy(API_URL, rules=[
        Rule(deployment_writes, body_has=b"flows/b.py", status=502, body=PROXY_PAGE, content_type="text/html"),
        Rule(deployment_writes, body_has=b"flows/c.py", status=422, body=BIG_422),
    ])
    try:
        for name in "abc":
            r.write(f"flows/{name}.py", flow_source(r.flow(name)))
        r.commit("three flows")
        pushed = r.push("main", env={"PREFECT_API_URL": proxy.url})
    finally:
        proxy.stop()
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0
    assert "<html" not in out and "nested" not in out and "Traceback" not in out, out
    log = ".git/prefect-push/server-errors.log"
    row = {name: next(line for line in out.splitlines() if f"{r.flow(name)}/main" in line) for name in "abc"}
    assert "FAILED" not in row["a"] and "register" in row["a"], out
    assert "FAILED (502 Bad Gateway (full answer:" in row["b"], out
    assert "FAILED (422 field_0: Extra inputs are not" in row["c"] and "(+29 more)" in out, out
    assert out.count(log.split("/")[-1]) == 2 and "2 registration(s) failed" in out, out
    assert len(out.splitlines()) < 30, out  # not the 111 lines of a whole 422 body per flow
    text = (r.path / log).read_text()
    assert PROXY_PAGE.decode() in text and BIG_422.decode() in text

    # a read refused with Prefect's own 422 (exception_detail, and the request echoed back): one line too
    proxy = FaultProxy(API_URL, rules=[Rule(lambda method, path: path.endswith("/flows/filter"), status=422,
                                            body=PREFECT_422)])
    try:
        pushed = r.push("main", env={"PREFECT_API_URL": proxy.url})
    finally:
        proxy.stop()
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and "request_body" not in out and "Traceback" not in out, out
    assert f"Prefect API at {proxy.url} failed: 422 flows: Input should be a valid dictionary (+1 more) (full " \
        f"answer: {log})" in out, out
    assert PREFECT_422.decode() in (r.path / log).read_text()


AUTH = "team:s3cret-Pa55"  # the server's user:password


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A second 3.9.1 server, started with PREFECT_SERVER_API_AUTH_STRING (basic auth)."""
    from prefect_push import localserver

    os.environ["PREFECT_SERVER_API_AUTH_STRING"] = AUTH
    try:
        server = localserver.start(str(tmp_path_factory.mktemp("auth-server")))
    finally:
        del os.environ["PREFECT_SERVER_API_AUTH_STRING"]
    try:
        subprocess.run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], check=True,
                       capture_output=True, env={**os.environ, "PREFECT_API_URL": server.url,
                                                 "PREFECT_API_AUTH_STRING": AUTH})
        yield server
    finally:
        server.stop()


def _auth_deployments(url: str, prefix: str) -> list[dict]:
    import base64

    token = base64.b64encode(AUTH.encode()).decode()
    req = urllib.request.Request(f"{url}/deployments/filter", data=json.dumps(
        {"flows": {"name": {"like_": prefix}}}).encode(), headers={"Content-Type": "application/json",
                                                                  "Authorization": f"Basic {token}"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())


def test_a_server_behind_basic_auth(hooked, auth_server):
    """Right PREFECT_API_AUTH_STRING: registered; missing, wrong, or a Cloud key the server does not take: one
    line naming the 401 and what to set. No credential is ever printed or stored."""
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit("a flow")
    url = {"PREFECT_API_URL": auth_server.url}
    wrong, key = "team:wrong-Pa55", "pnu_OfflineTestKey0123456789"
    for extra, said in [({}, "no credentials are set"),
                        ({"PREFECT_API_AUTH_STRING": wrong}, "it refused the PREFECT_API_AUTH_STRING that is set"),
                        ({"PREFECT_API_KEY": key}, "it refused the PREFECT_API_KEY that is set")]:
        pushed = r.push("main", env={**url, **extra})
        out = pushed.stdout + pushed.stderr
        assert pushed.returncode != 0, out
        assert (f"Prefect API at {auth_server.url} answered 401 Unauthorized ({said}): set PREFECT_API_AUTH_STRING"
                in out), out
        assert "Traceback" not in out and wrong not in out and key not in out and AUTH not in out, out
        assert not _auth_deployments(auth_server.url, r.uid)
    # a password inside PREFECT_API_URL: the line names the server without it, the error log neither keeps it
    in_url = auth_server.url.replace("://", f"://{wrong}@", 1)
    pushed = r.push("main", env={"PREFECT_API_URL": in_url})
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode != 0 and f"Prefect API at {auth_server.url} answered 401" in out, out
    assert "wrong-Pa55" not in out + "".join(
        p.read_text(errors="replace") for p in (r.path / ".git").rglob("*") if p.is_file()), out
    pushed = r.push("main", env={**url, "PREFECT_API_AUTH_STRING": AUTH})
    out = pushed.stdout + pushed.stderr
    assert pushed.returncode == 0, out
    found = _auth_deployments(auth_server.url, r.uid)
    assert [d["version"] for d in found] == [sha]
    stored = json.dumps(found) + out + "".join(
        p.read_text(errors="replace") for p in (r.path / ".git").rglob("*") if p.is_file())
    for secret in (AUTH, "s3cret", wrong, key):
        assert secret not in stored
