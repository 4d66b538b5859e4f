"""The bench's fixtures: the environment every subprocess gets, fixture repos with bare file:// remotes, a big
repo generated with `git fast-import`, and the pre-commit hook repos (prefect-push from a snapshot of this
checkout, and a no-op hook that is pre-commit's own floor)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

from bench_server import POOL

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "build"}

# variables of the caller's environment that would steer git, pre-commit, prefect or prefect-push elsewhere
DROP = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "PREFECT_HOME",
        "PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_PUSH_SKIP",
        "SKIP", "BUILD_TAG", "GIT_BRANCH", "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REF", "GITHUB_SHA", "GITLAB_CI", "CI_COMMIT_SHA",
        "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_TAG", "CI_COMMIT_REF_NAME", "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")


def base_env(tmp: str, prefect_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROP and not k.startswith("PRE_COMMIT_")}
    env.update(prefect_env)
    gitconfig = os.path.join(tmp, "gitconfig")
    with open(gitconfig, "w") as f:
        f.write('[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
                '[advice]\n\tdetachedHead = false\n')
    env.update({
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
        "GIT_CONFIG_GLOBAL": gitconfig, "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_HOME": os.path.join(tmp, "pre-commit-home"),
    })
    return env


@dataclass
class Result:
    seconds: float
    rss_mib: float  # peak resident set of the process (and the children it waited for)
    returncode: int
    output: str  # stdout and stderr


class Shell:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def run(self, cmd: list[str], cwd: str, *, input: bytes | None = None, check: bool = True
            ) -> subprocess.CompletedProcess:
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, input=input, capture_output=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} (in {cwd}) failed with {proc.returncode}:\n"
                               f"{proc.stdout.decode(errors='replace')}\n{proc.stderr.decode(errors='replace')}")
        return proc

    def measure(self, cmd: list[str], cwd: str, *, check: bool = True) -> Result:
        """Wall time and peak RSS of one command (os.wait4: that child's own rusage)."""
        with tempfile.TemporaryFile() as out:
            start = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            _, status, usage = os.wait4(proc.pid, 0)
            took = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} (in {cwd}) failed with {proc.returncode}:\n{text}")
        return Result(took, usage.ru_maxrss / 1024, proc.returncode, text)


def flow_path(i: int) -> str:
    return f"flows/g{i // 100:02d}/f{i:04d}.py"


def flow_source(prefix: str, i: int, version: int) -> str:
    return (f"from prefect import flow\n\n\n@flow(name='{prefix}-{i:04d}', log_prints=True)\n"
            f"def {prefix}_{i:04d}(n: int = {version}, label: str = 'bench') -> int:\n"
            f"    print(label, n)\n    return n\n")


PYPROJECT = f'[tool.prefect-push]\nwork-pool = "{POOL}"\n' \
            'flows = ["flows/**/*.py"]\n'


@dataclass
class Repo:
    """A work clone of flows named `<prefix>-NNNN` and its bare file:// remote."""
    sh: Shell
    path: str
    remote: str
    prefix: str
    n: int
    version: int = 0
    _versions: dict[int, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return "file://" + self.remote

    def git(self, *args: str, input: bytes | None = None) -> str:
        return self.sh.run(["git", *args], self.path, input=input).stdout.decode().strip()

    def flow_name(self, i: int) -> str:
        return f"{self.prefix}-{i:04d}"

    def flow_names(self, indices=None) -> set[str]:
        return {self.flow_name(i) for i in (range(self.n) if indices is None else indices)}

    def bump(self, indices) -> None:
        """Give each flow in `indices` a new default (so a new blob: a real change to register)."""
        for i in indices:
            self.version += 1
            with open(os.path.join(self.path, flow_path(i)), "w") as f:
                f.write(flow_source(self.prefix, i, self.version))

    def touch_readme(self) -> None:
        with open(os.path.join(self.path, "README.md"), "a") as f:
            f.write(".\n")

    def commit(self, message: str) -> str:
        self.git("commit", "-q", "-a", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, branch: str, *extra: str) -> Result:
        return self.sh.measure(["git", "push", "-q", *extra, "origin", branch], self.path)

    def remote_sha(self, branch: str) -> str:
        return self.sh.run(["git", "--git-dir", self.remote, "rev-parse", f"refs/heads/{branch}"],
                           self.path).stdout.decode().strip()


def make_repo(sh: Shell, tmp: str, name: str, prefix: str, n: int, extra: dict[str, str] | None = None) -> Repo:
    """A repo of n flow files, README.md and pyproject.toml, committed on main (not pushed)."""
    remote, path = os.path.join(tmp, name + ".git"), os.path.join(tmp, name)
    sh.run(["git", "init", "-q", "--bare", "-b", "main", remote], tmp)
    sh.run(["git", "init", "-q", "-b", "main", path], tmp)
    repo = Repo(sh, path, remote, prefix, n)
    repo.git("remote", "add", "origin", repo.url)
    for rel, text in {"README.md": "bench\n", "pyproject.toml": PYPROJECT, **(extra or {})}.items():
        _write(os.path.join(path, rel), text)
    for i in range(n):
        _write(os.path.join(path, flow_path(i)), flow_source(prefix, i, 0))
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "flows")
    return repo


def make_big_repo(sh: Shell, tmp: str, name: str, prefix: str, files: int, commits: int) -> Repo:
    """A bare remote with `files` flow files and `commits` commits, written by `git fast-import` (seconds), and a
    work clone of it."""
    remote, path = os.path.join(tmp, name + ".git"), os.path.join(tmp, name)
    sh.run(["git", "init", "-q", "--bare", "-b", "main", remote], tmp)
    chunks: list[bytes] = []
    when = 1_600_000_000

    def data(text: str) -> None:
        raw = text.encode()
        chunks.append(b"data %d\n%s\n" % (len(raw), raw))

    def commit_header(message: str) -> None:
        nonlocal when
        when += 60
        chunks.append(b"commit refs/heads/main\n")
        chunks.append(b"author bench <bench@example.com> %d +0000\ncommitter bench <bench@example.com> %d +0000\n"
                      % (when, when))
        data(message)

    commit_header("flows")
    for rel, text in (("README.md", "bench\n"), ("pyproject.toml", PYPROJECT)):
        chunks.append(f"M 100644 inline {rel}\n".encode())
        data(text)
    for i in range(files):
        chunks.append(f"M 100644 inline {flow_path(i)}\n".encode())
        data(flow_source(prefix, i, 0))
    for k in range(1, commits):  # each later commit changes one flow file (the parent is the branch's tip)
        i = (k * 7919) % files
        commit_header(f"change {flow_path(i)}")
        chunks.append(f"M 100644 inline {flow_path(i)}\n".encode())
        data(flow_source(prefix, i, k))
    chunks.append(b"done\n")
    sh.run(["git", "fast-import", "--quiet", "--done"], remote, input=b"".join(chunks))
    sh.run(["git", "clone", "-q", remote, path], tmp)
    repo = Repo(sh, path, remote, prefix, files, version=commits)
    repo.git("remote", "set-url", "origin", repo.url)
    repo.git("fetch", "-q", "origin")
    return repo


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


# --- pre-commit ---

def hook_repo_snapshot(sh: Shell, tmp: str) -> tuple[str, str]:
    """This checkout as pre-commit sees a hook repo (as users get it: `repo:` + `rev:`), uncommitted edits included;
    pre-commit pip-installs it into its own virtualenv."""
    dest = os.path.join(tmp, "prefect-push-hook-repo")
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names
                                                         if n in SKIP_DIRS or n.endswith(".egg-info")])
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "snapshot"]):
        sh.run(["git", *args], dest)
    return dest, sh.run(["git", "rev-parse", "HEAD"], dest).stdout.decode().strip()


NOOP_HOOK_NAME = "no-op python hook"


def noop_hook_repo(sh: Shell, tmp: str) -> tuple[str, str]:
    """A hook repo whose `language: python` hook is a console script that exits 0: pre-commit's own floor for a
    python hook (its virtualenv health check, the interpreter start, the console-script launcher)."""
    dest = os.path.join(tmp, "noop-hook-repo")
    files = {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
                          '[project]\nname = "bench-noop-hook"\nversion = "0"\n\n[project.scripts]\n'
                          'bench-noop-hook = "bench_noop_hook:main"\n\n[tool.setuptools]\n'
                          'py-modules = ["bench_noop_hook"]\n',
        "bench_noop_hook.py": "def main() -> int:\n    return 0\n",
        ".pre-commit-hooks.yaml": f"- id: noop\n  name: {NOOP_HOOK_NAME}\n  entry: bench-noop-hook\n"
                                  "  language: python\n  stages: [pre-push]\n  pass_filenames: false\n"
                                  "  always_run: true\n  require_serial: true\n  verbose: true\n",
    }
    for rel, text in files.items():
        _write(os.path.join(dest, rel), text)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "noop hook"]):
        sh.run(["git", *args], dest)
    return dest, sh.run(["git", "rev-parse", "HEAD"], dest).stdout.decode().strip()


SYSTEM_NOOP_NAME = "no-op system hook"
SYSTEM_NOOP_CONFIG = ("repos:\n  - repo: local\n    hooks:\n      - id: noop-system\n"
                      f"        name: {SYSTEM_NOOP_NAME}\n"
                      "        entry: 'true'\n        language: system\n        stages: [pre-push]\n"
                      "        pass_filenames: false\n        always_run: true\n        require_serial: true\n"
                      "        verbose: true\n")
PREFECT_PUSH_HOOK_NAME = "prefect-push (register changed Prefect flows)"  # as in .pre-commit-hooks.yaml
# --pre-commit-hook local: the venv's own prefect-push (on PATH), no hook environment to build
PREFECT_PUSH_LOCAL_CONFIG = ("repos:\n  - repo: local\n    hooks:\n      - id: prefect-push\n"
                             f"        name: {PREFECT_PUSH_HOOK_NAME}\n        entry: prefect-push hook\n"
                             "        language: system\n        stages: [pre-push]\n        pass_filenames: false\n"
                             "        always_run: true\n        require_serial: true\n        verbose: true\n")


def repo_hook_config(url: str, rev: str, hook_id: str) -> str:
    return f"repos:\n  - repo: {url}\n    rev: {rev}\n    hooks:\n      - id: {hook_id}\n"


def install_pre_commit(repo: Repo) -> None:
    """`pre-commit install --hook-type pre-push` and the hook's environment built now, not at the first push."""
    repo.sh.run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"], repo.path)
    repo.sh.run([sys.executable, "-m", "pre_commit", "install-hooks"], repo.path)


def hook_passed(output: str, name: str) -> bool:
    """pre-commit's status line for the hook: it ran and passed."""
    return re.search(rf"^{re.escape(name)}\.+Passed", output, re.M) is not None
