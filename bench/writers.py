#!/usr/bin/env python3
"""Our own push with `write-concurrency = 1` against `= 4`, same server, alternating, medians:

    .venv/bin/python bench/writers.py --postgres     # a PostgreSQL-backed server (Debian's postgresql package)
    .venv/bin/python bench/writers.py                # a SQLite-backed one

Why `write-concurrency = "auto"` starts with 4 writes in flight and drops to one at the first busy answer: a
PostgreSQL-backed server takes concurrent writes, a SQLite-backed one answers them 503. Each round pushes a new
branch changing every flow (each with its own signature, as real flows have) through the plain hook; the
deployments are checked to be at the pushed commit.
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))
from bench_server import Api, CheckFailed, NoPostgres, expect, local_server  # noqa: E402

BIN = os.path.dirname(sys.executable)


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--flows", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=4, help="measured rounds (after one warm-up)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="prefect-push-writers-")
    try:
        with local_server(tmp, postgres=a.postgres) as (server, db, api):
            os.environ.update(server.env())
            subprocess.run([os.path.join(BIN, "prefect"), "work-pool", "create", "pool", "--type", "process"],
                           check=True, capture_output=True)
            times = measure_alternating(a, tmp, api)
        print(f"{a.flows}-flow push of a new branch, {db} server, medians of {a.rounds} (alternating):")
        for writers, values in times.items():
            print(f"  write-concurrency = {writers}: {statistics.median(values):.2f} s  "
                  f"(min {min(values):.2f}, max {max(values):.2f})")
        return 0
    except NoPostgres as exc:
        print(f"writers: --postgres: {exc}; skipped")
        return 0
    except (CheckFailed, RuntimeError) as exc:
        print(f"writers: {exc}")
        return 2 if isinstance(exc, CheckFailed) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def measure_alternating(a: argparse.Namespace, tmp: str, api: Api) -> dict[int, list[float]]:
    """Each round, a new branch changing every flow in each repo, 1 and 4 writers in alternating order; every
    push checked on the server (exactly its flows, at its commit, cloning its branch)."""
    times: dict[int, list[float]] = {1: [], 4: []}
    for writers in times:
        repo, remote = os.path.join(tmp, f"w{writers}"), os.path.join(tmp, f"w{writers}.git")
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", remote], check=True)
        subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
        git(repo, "remote", "add", "origin", "file://" + remote)
        with open(os.path.join(repo, "pyproject.toml"), "w") as f:
            f.write(f'[tool.prefect-push]\nwork-pool = "pool"\nwrite-concurrency = {writers}\n')
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "start")
        git(repo, "push", "-q", "--no-verify", "origin", "main")
    for rnd in range(a.rounds + 1):
        for writers in (1, 4) if rnd % 2 else (4, 1):
            repo, remote = os.path.join(tmp, f"w{writers}"), os.path.join(tmp, f"w{writers}.git")
            prefix, branch = f"w{writers}", f"w{writers}-r{rnd}"
            git(repo, "checkout", "-qB", branch, "main")  # main has no flows: git removed flows/
            os.makedirs(os.path.join(repo, "flows"), exist_ok=True)
            names = set()
            for i in range(a.flows):
                names.add(f"{prefix}-{i:04d}")
                with open(os.path.join(repo, "flows", f"f{i}.py"), "w") as f:
                    f.write(f"from prefect import flow\n\n\n@flow(name='{prefix}-{i:04d}')\n"
                            f"def f_{i}(n: int = {rnd * 10000 + i}, label: str = 'x') -> int:\n    return n\n")
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", branch)
            sha = git(repo, "rev-parse", "HEAD")
            before = api.snapshot(prefix)
            started = time.perf_counter()
            proc = subprocess.run([os.path.join(BIN, "prefect-push"), "hook", "origin", "file://" + remote],
                                  cwd=repo, input=f"refs/heads/{branch} {sha} refs/heads/{branch} {'0' * 40}\n",
                                  text=True, capture_output=True)
            took = time.perf_counter() - started
            if proc.returncode != 0:
                raise RuntimeError(f"the push failed:\n{proc.stderr[-2000:]}")
            expect(f"{branch} ({writers} writers)", before, api.snapshot(prefix), names, branch, sha, branch)
            if rnd:
                times[writers].append(took)
    return times


if __name__ == "__main__":
    sys.exit(main())
