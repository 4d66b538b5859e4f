"""`prefect-push demo`: the whole product on a fresh machine, with real git, pre-commit, server and worker.

A throwaway repo with three flows and a bare `file://` remote; the hook installed through pre-commit; a
local Prefect server (SQLite in a temp home) unless PREFECT_API_URL names one.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

from .git import strip_credentials

POOL = "demo-pool"

HELLO = '''\
from prefect import flow


@flow(log_prints=True)
def hello(name: str = "world") -> str:
    """Greets someone.

    Args:
        name: who to greet
    """
    message = f"hello {name} from {BRANCH}"
    print(message)
    return message


BRANCH = "main"
'''

ETL = '''\
from datetime import date

import pandas  # not installed here: prefect-push never imports flow files, so this does not matter
from prefect import flow, task


@task
def extract(day: date) -> list[int]:
    return [1, 2, 3]


@flow(name="nightly-etl")
def etl(day: date | None = None, limit: int = 100) -> int:
    return len(extract(day))


# read by prefect-push without importing this file: live on main until the first release, then on
# nightly-etl/production only; switched off on feature branches
PREFECT_PUSH = {"cron": "0 2 * * *", "timezone": "UTC", "parameters": {"limit": 500}}
'''

REPORT = '''\
import prefect


@prefect.flow
async def weekly_report(recipients: list[str] = ["data@example.com"]) -> None:
    pass
'''

PYPROJECT = f'''\
[project]
name = "demo-flows"
version = "0"

[tool.prefect-push]
work-pool = "{POOL}"
flows = ["flows/**/*.py"]
'''


def _step(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def _run(cmd: list[str], cwd: str, env: dict[str, str], *, show: bool = True, check: bool = True,
         capture: bool = False) -> subprocess.CompletedProcess:
    if show:
        print(f"$ {shlex.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, capture_output=capture)
    if check and proc.returncode != 0:
        if capture:
            sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"demo: `{shlex.join(cmd)}` failed with exit code {proc.returncode}")
    return proc


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(keep: bool = False) -> int:
    from . import localserver

    tmp = tempfile.mkdtemp(prefix="prefect-push-demo-")
    server = None
    bindir = os.path.dirname(sys.executable)
    env = dict(os.environ)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env.update({"GIT_AUTHOR_NAME": "demo", "GIT_AUTHOR_EMAIL": "demo@example.com",
                "GIT_COMMITTER_NAME": "demo", "GIT_COMMITTER_EMAIL": "demo@example.com",
                "PRE_COMMIT_HOME": os.path.join(tmp, "pre-commit-cache"), "PREFECT_PUSH_SKIP": ""})
    try:
        if not env.get("PREFECT_API_URL"):
            _step("Starting a local Prefect server (SQLite in a temp PREFECT_HOME; no PREFECT_API_URL is set)")
            started = time.monotonic()
            server = localserver.start(os.path.join(tmp, "prefect-home"))
            env.update(server.env())
            print(f"server up at {server.url} in {time.monotonic() - started:.1f}s")
        else:
            print(f"using the Prefect server at {strip_credentials(env['PREFECT_API_URL'])}")
        env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        _run(["prefect", "work-pool", "create", POOL, "--type", "process", "--overwrite"], tmp, env, capture=True)

        _step("A repo with three flows, a bare file:// remote, and the hook installed through pre-commit")
        remote = os.path.join(tmp, "remote.git")
        repo = os.path.join(tmp, "flows-repo")
        _run(["git", "init", "-q", "--bare", "-b", "main", remote], tmp, env)
        _run(["git", "init", "-q", "-b", "main", repo], tmp, env)
        _write(os.path.join(repo, "flows", "hello.py"), HELLO)
        _write(os.path.join(repo, "flows", "etl.py"), ETL)
        _write(os.path.join(repo, "flows", "report.py"), REPORT)
        _write(os.path.join(repo, "pyproject.toml"), PYPROJECT)
        _write(os.path.join(repo, ".pre-commit-config.yaml"), textwrap.dedent(f"""\
            # In your repo: `- repo: <prefect-push's git URL>` with `rev: <tag>`; the demo runs this install.
            repos:
              - repo: local
                hooks:
                  - id: prefect-push
                    name: prefect-push
                    entry: {sys.executable} -m prefect_push hook
                    language: system
                    stages: [pre-push]
                    pass_filenames: false
                    always_run: true
                    require_serial: true
                    verbose: true
            """))
        _run(["git", "remote", "add", "origin", "file://" + remote], repo, env)
        _run(["git", "add", "-A"], repo, env, show=False)
        _run(["git", "commit", "-qm", "three flows"], repo, env, show=False)
        _run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"], repo, env)

        _step("Push main: every flow is new there, all three are registered (nightly-etl's schedule is live on main)")
        _run(["git", "push", "-q", "origin", "main"], repo, env)

        _step("A feature branch that changes one flow: only that flow is registered, at the branch")
        _run(["git", "checkout", "-qb", "feature/greeting"], repo, env)
        with open(os.path.join(repo, "flows", "hello.py")) as f:
            text = f.read().replace('BRANCH = "main"', 'BRANCH = "feature/greeting"')
        _write(os.path.join(repo, "flows", "hello.py"), text)
        _run(["git", "commit", "-qam", "greet from the feature branch"], repo, env)
        _run(["git", "push", "-q", "-u", "origin", "feature/greeting"], repo, env)

        _step("Register the same branch again by hand: already registered at its HEAD, skipped with one API call")
        _run(["prefect-push", "register", "--ref", "feature/greeting", "--from", "main"], repo, env)

        _step("A commit that touches no flow: the hook decides in milliseconds, without importing prefect")
        _write(os.path.join(repo, "README.md"), "demo\n")
        _run(["git", "add", "README.md"], repo, env, show=False)
        _run(["git", "commit", "-qm", "docs"], repo, env)
        started = time.monotonic()
        _run(["git", "push", "-q", "origin", "feature/greeting"], repo, env)
        print(f"(push took {time.monotonic() - started:.2f}s; nothing to register, so nothing printed)")

        _step("A release: tag v1 (the plain git hook, beside pre-commit's, sees tags) moves every flow's "
              "<flow>/production deployment to v1; nightly-etl's schedule moves there from main")
        _run(["prefect-push", "install"], repo, env)
        _run(["git", "tag", "v1", "main"], repo, env)
        _run(["git", "push", "-q", "origin", "v1"], repo, env)
        print("Anything that runs hello/production (run_deployment, automations, the UI) gets v1's code; the next "
              "release tag moves it, `prefect-push release v1` moves it back.")

        _step("Run the feature branch's deployment with a real process worker (it git-clones the branch)")
        run = _run(["prefect", "deployment", "run", "hello/feature-greeting"], repo, env, capture=True)
        print("\n".join(line for line in run.stdout.splitlines() if "UUID" in line or "Created" in line))
        work = os.path.join(tmp, "worker")
        os.makedirs(work)
        worker = _run(["prefect", "worker", "start", "--pool", POOL, "--run-once"], work, env, capture=True,
                      check=False)
        said = [line for line in (worker.stdout + worker.stderr).splitlines() if "hello world from" in line]
        if not said:
            sys.stderr.write(worker.stdout[-3000:] + worker.stderr[-3000:])
            raise SystemExit("demo: the worker did not print the flow's greeting")
        print(said[0].strip())
        print("The flow printed the feature branch's code: the worker cloned feature/greeting from the remote.")

        _step("What is registered now, ref by ref, and whether the remote still has each ref")
        _run(["prefect-push", "status"], repo, env)
        print("\nThe demo's repo, remote and server home are in", tmp if keep else "a temp dir (removed)")
        return 0
    finally:
        if server is not None:
            server.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
