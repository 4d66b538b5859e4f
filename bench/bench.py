#!/usr/bin/env python3
"""Wall time of real pushes through prefect-push, side by side with their floors, in one run.

    .venv/bin/python bench/bench.py            # 20 flows, 5 rounds
    .venv/bin/python bench/bench.py --flows 200 --rounds 7

Builds its own repo and bare remote, starts a local Prefect server (SQLite, temp home), and times, interleaved
round by round (medians, after one warm-up round):
  - git push with no hook at all (the floor of the hook paths)
  - a push through the plain hook that changes no flow
  - a push that changes 1 flow, and one that changes every flow (N)
  - `prefect deploy --all` of the same N flows with the same git_clone pull step (what users do today)
  - `python -c "import prefect"` (the floor under any registrar)
Every timed push is checked: the changed flows (and only those) carry the pushed commit on the server.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.path.dirname(sys.executable)
POOL = "bench-pool"


def run(cmd: list[str], cwd: str, env: dict[str, str], check: bool = True) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if check and proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return took


def flow_file(i: int, version: int) -> str:
    return (f"from prefect import flow\n\n\n@flow(name='bench-{i:03d}')\n"
            f"def bench_{i:03d}(n: int = {version}) -> int:\n    return n\n")


def versions(prefix: str) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    only = FlowFilter(name=FlowFilterName(like_=prefix))
    with get_client(sync_client=True) as client:
        flows = {f.id: f.name for f in client.read_flows(flow_filter=only)}
        out, offset = {}, 0
        while True:
            page = client.read_deployments(flow_filter=only, limit=200, offset=offset)
            out.update({f"{flows[d.flow_id]}/{d.name}": d.version for d in page})
            if len(page) < 200:
                return out
            offset += 200


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    n = args.flows
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    from prefect_push import localserver

    tmp = tempfile.mkdtemp(prefix="prefect-push-bench-")
    server = localserver.start(os.path.join(tmp, "home"))
    env = {**os.environ, **server.env(), "PATH": BIN + os.pathsep + os.environ["PATH"],
           "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    os.environ.update(server.env())
    try:
        run(["prefect", "work-pool", "create", POOL, "--type", "process"], tmp, env)
        remote, repo = os.path.join(tmp, "remote.git"), os.path.join(tmp, "repo")
        run(["git", "init", "-q", "--bare", "-b", "main", remote], tmp, env)
        run(["git", "init", "-q", "-b", "main", repo], tmp, env)
        git = lambda *a: run(["git", *a], repo, env)  # noqa: E731
        git("remote", "add", "origin", "file://" + remote)
        os.makedirs(os.path.join(repo, "flows"))
        for i in range(n):
            with open(os.path.join(repo, "flows", f"f{i:03d}.py"), "w") as f:
                f.write(flow_file(i, 0))
        with open(os.path.join(repo, "README.md"), "w") as f:
            f.write("bench\n")
        with open(os.path.join(repo, "pyproject.toml"), "w") as f:
            f.write(f'[tool.prefect-push]\nwork-pool = "{POOL}"\nflows = ["flows/*.py"]\n')
        # prefect deploy --all: the same flows, the same pull step, its own deployment names
        with open(os.path.join(repo, "prefect.yaml"), "w") as f:
            f.write("pull:\n- prefect.deployments.steps.git_clone:\n    repository: file://%s\n    branch: main\n"
                    "deployments:\n" % remote)
            for i in range(n):
                f.write(f"- name: deploy-all\n  entrypoint: flows/f{i:03d}.py:bench_{i:03d}\n"
                        f"  work_pool: {{name: {POOL}}}\n")
        git("add", "-A")
        git("commit", "-qm", "flows")
        git("push", "-q", "--no-verify", "origin", "main")
        run([sys.executable, "-m", "prefect_push", "install"], repo, env)
        git("checkout", "-qb", "bench")
        for i in range(n):
            with open(os.path.join(repo, "flows", f"f{i:03d}.py"), "w") as f:
                f.write(flow_file(i, 1000))
        git("commit", "-qam", "branch off")
        git("push", "-q", "origin", "bench")  # first push of the branch: every flow registered once

        times: dict[str, list[float]] = {k: [] for k in
                                         ("no hook", "no-flow push", "1-flow push", f"{n}-flow push",
                                          "prefect deploy --all", "import prefect")}
        version = 0
        for rnd in range(args.rounds + 1):
            # no hook at all
            with open(os.path.join(repo, "README.md"), "a") as f:
                f.write(".")
            git("commit", "-qam", "docs")
            t_nohook = run(["git", "push", "-q", "--no-verify", "origin", "bench"], repo, env)
            # through the hook, no flow changed
            with open(os.path.join(repo, "README.md"), "a") as f:
                f.write(".")
            git("commit", "-qam", "docs")
            t_noflow = run(["git", "push", "-q", "origin", "bench"], repo, env)
            # one flow
            version += 1
            with open(os.path.join(repo, "flows", "f000.py"), "w") as f:
                f.write(flow_file(0, version))
            git("commit", "-qam", "one flow")
            t_one = run(["git", "push", "-q", "origin", "bench"], repo, env)
            sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
            got = versions("bench-")
            assert got["bench-000/bench"] == sha and got["bench-001/bench"] != sha, "1-flow push registered wrong"
            # every flow
            version += 1
            for i in range(n):
                with open(os.path.join(repo, "flows", f"f{i:03d}.py"), "w") as f:
                    f.write(flow_file(i, version))
            git("commit", "-qam", "all flows")
            t_all = run(["git", "push", "-q", "origin", "bench"], repo, env)
            sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
            got = versions("bench-")
            assert all(got[f"bench-{i:03d}/bench"] == sha for i in range(n)), f"{n}-flow push registered wrong"
            t_deploy = run(["prefect", "--no-prompt", "deploy", "--all"], repo, env)
            t_import = run([sys.executable, "-c", "import prefect"], repo, env)
            if rnd == 0:
                continue  # warm-up
            for key, value in zip(times, (t_nohook, t_noflow, t_one, t_all, t_deploy, t_import)):
                times[key].append(value)

        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"\nprefect-push bench: {n} flows, {args.rounds} rounds (medians), python {sys.version.split()[0]}, "
              f"{os.cpu_count()} cores")
        print(f"{'what':<24}{'median s':>10}   note")
        notes = {
            "no-flow push": f"+{med['no-flow push'] - med['no hook']:.3f} s over no hook",
            "1-flow push": f"{med['1-flow push'] / med['import prefect']:.2f}x one `import prefect`",
            f"{n}-flow push": f"{med['prefect deploy --all'] / med[f'{n}-flow push']:.1f}x faster than "
                              "prefect deploy --all",
        }
        for key, value in med.items():
            print(f"{key:<24}{value:>10.3f}   {notes.get(key, '')}")
        return 0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
