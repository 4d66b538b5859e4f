"""Real parts: git repos with bare file:// remotes in tmp dirs, one real Prefect server per session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# Point everything (this process's prefect client, every hook and worker subprocess) at the session's server
# before prefect is imported anywhere: its settings are read from the environment at import.
_HOME = tempfile.mkdtemp(prefix="prefect-push-tests-")
from prefect_push import localserver  # noqa: E402  (imports no prefect)

_PORT = localserver.free_port()
API_URL = f"http://127.0.0.1:{_PORT}/api"
os.environ.update(localserver.prefect_env(os.path.join(_HOME, "prefect-home"), API_URL))
os.environ.update({
    "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.path.join(_HOME, "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
    "PRE_COMMIT_HOME": os.path.join(_HOME, "pre-commit-home"),
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
})
for var in ("PREFECT_PUSH_SKIP", "SKIP", "BUILD_TAG", "GIT_BRANCH", "GIT_DIR", "GIT_WORK_TREE",
            # the CI this suite may itself run in: `register` reads the push from them (ci.py)
            "GITHUB_ACTIONS", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REF", "GITHUB_SHA", "GITLAB_CI",
            "CI_COMMIT_SHA", "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_TAG", "CI_COMMIT_REF_NAME",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"):
    os.environ.pop(var, None)
Path(os.environ["GIT_CONFIG_GLOBAL"]).write_text("[init]\n\tdefaultBranch = main\n[protocol \"file\"]\n\tallow = always\n")

POOL = "test-pool"
K8S_POOL = "test-k8s-pool"


@pytest.fixture(autouse=True)
def _prefect_client_settings_do_not_leak():
    """prefect_push.server switches Prefect's own client retries off in its process (PREFECT_CLIENT_MAX_RETRIES,
    set on the first server.settings(); it retries itself). A test that imports it in this process must not pass that on to the
    workers and CLIs later tests start: a worker without retries crashes its run on SQLite's passing 503."""
    before = os.environ.get("PREFECT_CLIENT_MAX_RETRIES")
    yield
    if before is None:
        os.environ.pop("PREFECT_CLIENT_MAX_RETRIES", None)
    else:
        os.environ["PREFECT_CLIENT_MAX_RETRIES"] = before


@pytest.fixture(scope="session")
def prefect_server():
    server = localserver.start(os.path.join(_HOME, "prefect-home"), port=_PORT)
    try:
        subprocess.run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"],
                       check=True, capture_output=True)
        yield server
    finally:
        server.stop()
        shutil.rmtree(_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def k8s_pool(prefect_server) -> str:
    """A real `kubernetes`-type pool with prefect-kubernetes' default base job template (the copy prefect ships in
    its collections metadata: no network). No cluster is needed to validate job variables and register."""
    import json

    import prefect

    views = Path(prefect.__file__).parent / "server" / "api" / "collections_data" / "views"
    meta = json.loads((views / "aggregate-worker-metadata.json").read_text())
    template = meta["prefect-kubernetes"]["kubernetes"]["default_base_job_configuration"]
    path = Path(_HOME) / "k8s-template.json"
    path.write_text(json.dumps(template))
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", K8S_POOL, "--type", "kubernetes",
                    "--base-job-template", str(path)], check=True, capture_output=True)
    return K8S_POOL


@dataclass
class Repo:
    """A work clone and its bare remote."""
    path: Path
    remote: Path
    uid: str
    pushes: list[subprocess.CompletedProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"file://{self.remote}"

    def git(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def write(self, rel: str, text: str) -> None:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        return self.sha()

    def sha(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev).stdout.strip()

    def push(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", "push", "origin", *args], cwd=self.path, capture_output=True, text=True,
                              env={**os.environ, **(env or {})})
        self.pushes.append(proc)
        return proc

    def cli(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
        return subprocess.run([str(BIN / "prefect-push"), *args], cwd=self.path, capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, input=stdin)

    def flow(self, name: str) -> str:
        """A flow name unique to this test: tests share one server."""
        return f"{self.uid}-{name}"

    def remote_has(self, ref: str) -> str | None:
        proc = subprocess.run(["git", "--git-dir", str(self.remote), "rev-parse", "--verify", "-q", ref],
                              capture_output=True, text=True)
        return proc.stdout.strip() or None


def flow_source(flow_name: str, body: str = "return 1", params: str = "", extra: str = "") -> str:
    return (f"from prefect import flow\n{extra}\n\n"
            f"@flow(name={flow_name!r})\ndef {flow_name.replace('-', '_')}({params}):\n    {body}\n")


def sha256_repo(tmp_path: Path) -> Repo:
    """A work clone and bare remote that use sha256 object ids (64-hex), the work clone on main."""
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "--object-format=sha256", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "--object-format=sha256", "-b", "main", str(work)], check=True)
    r = Repo(work, remote, "t" + uuid.uuid4().hex[:8])
    r.git("remote", "add", "origin", r.url)
    return r


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    r = Repo(work, remote, "t" + uuid.uuid4().hex[:8])
    r.git("remote", "add", "origin", r.url)
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n')
    return r


@pytest.fixture
def hooked(repo: Repo, prefect_server) -> Repo:
    """A repo with the plain git hook installed by `prefect-push install`."""
    proc = repo.cli("install")
    assert proc.returncode == 0, proc.stderr
    return repo


def deployments(flow_prefix: str) -> dict[str, object]:
    """Every deployment on the server whose flow name starts with the test's uid, by 'flow/deployment'."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    only = FlowFilter(name=FlowFilterName(like_=flow_prefix))
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows(flow_filter=only, limit=200)}
        out = {}
        for d in client.read_deployments(flow_filter=only, limit=200):
            if flows.get(d.flow_id, "").startswith(flow_prefix):
                out[f"{flows[d.flow_id]}/{d.name}"] = d
        return out


# pre-commit: session-wide, so that every module shares one hook environment (building one is the slow part)
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "build"}


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> tuple[str, str]:
    """This checkout as pre-commit sees a hook repo: a git repo at a commit (uncommitted edits included)."""
    dest = tmp_path_factory.mktemp("hook-repo")
    shutil.copytree(ROOT, dest, dirs_exist_ok=True,
                    ignore=lambda d, names: [n for n in names if n in SKIP_DIRS or n.endswith(".egg-info")])
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
        subprocess.run(["git", *args], cwd=dest, check=True, capture_output=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True, capture_output=True,
                         text=True).stdout.strip()
    return str(dest), rev


def install_pre_commit(repo: Repo, hook_repo: tuple[str, str]) -> None:
    url, rev = hook_repo
    repo.write(".pre-commit-config.yaml",
               f"repos:\n  - repo: {url}\n    rev: {rev}\n    hooks:\n      - id: prefect-push\n")
    repo.commit("pre-commit config")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"],
                          cwd=repo.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # build the hook's environment now (pip installs this checkout into pre-commit's own virtualenv)
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=repo.path,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def per_tag(r: Repo, extra: str = "") -> None:
    """The repo's pyproject with tag-deployments (each tag its own deployments) and no release tags: how
    tags registered before releases (docs/releases.md), for the tests of that behaviour."""
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ntag-deployments = true\n'
                              f'release-tags = []\n{extra}')
