#!/usr/bin/env python3
"""Clones racing to push the same new branch through the plain hook; then the invariant, checked on the server:

    .venv/bin/python bench/race.py [--postgres] [--clones 3] [--rounds 2]

A repo of N+1 flows and its bare file:// remote; main pushed without the hook (the fork point). N clones, each
with `prefect-push install`, push concurrently (threads) to one new branch `race/shared`, each changing its own
flow every round; a rejected push is retried after `git pull --rebase` (bounded tries). Clone 0 then pushes a
branch of its own, `race/solo`, from the fork, changing flow N. Once all have settled, for each branch:

- its deployments (`<flow>/<branch with / replaced by ->`) are exactly the flows whose file changed between the
  fork and the remote's branch head;
- every deployment's `version` is a commit the remote's branch holds (`git rev-list <head>` of the bare remote);
- the entrypoint file's blob at `version` is the blob at the head (the deployment runs the branch's code).

A violation exits 2 (CheckFailed). tests/test_race.py is the same check as a test; bench.py runs this with --race.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))  # prefect_push.localserver, for local_server
from bench_fixtures import BIN, Repo, Shell, base_env, flow_path, flow_source, make_repo  # noqa: E402
from bench_server import POOL, Api, CheckFailed, NoPostgres, local_server  # noqa: E402

SHARED, SOLO = "race/shared", "race/solo"
TRIES = 8  # pushes per commit before a clone gives up: with N clones one of each N racing pushes wins


@dataclass
class Clone:
    repo: Repo
    index: int  # the flow this clone changes
    pushes: int = 0
    rejected: int = 0
    last_error: str = ""


@dataclass
class RaceResult:
    clones: int
    rounds: int
    pushes: int
    rejected: int
    seconds: float
    branches: dict[str, int] = field(default_factory=dict)  # branch -> deployments checked

    def line(self) -> str:
        checked = ", ".join(f"{b}: {n} deployments" for b, n in self.branches.items())
        return (f"{self.clones} clones x {self.rounds} rounds: {self.pushes} pushes, {self.rejected} rejected, "
                f"{self.seconds:.1f} s; invariant held ({checked})")


def remote_git(repo: Repo, *args: str, check: bool = True) -> str:
    return repo.sh.run(["git", "--git-dir", repo.remote, *args], repo.path, check=check).stdout.decode().strip()


def make_clone(origin: Repo, where: str, index: int) -> Clone:
    """A clone of origin's remote with the plain hook installed (`prefect-push install`)."""
    sh = origin.sh
    sh.run(["git", "clone", "-q", origin.url, where], os.path.dirname(where))
    sh.run([os.path.join(BIN, "prefect-push"), "install"], where)
    return Clone(Repo(sh, where, origin.remote, origin.prefix, origin.n), index)


def change_flow(c: Clone, i: int, version: int, message: str) -> None:
    # a new default per commit: a new blob, so a real change to register
    with open(os.path.join(c.repo.path, flow_path(i)), "w") as f:
        f.write(flow_source(c.repo.prefix, i, version))
    c.repo.commit(message)


def push_until_accepted(c: Clone, branch: str) -> None:
    """Push; when rejected (someone was first), take theirs with `git pull --rebase` and go again, as people do."""
    for _ in range(TRIES):
        c.pushes += 1
        res = c.repo.sh.measure(["git", "push", "-q", "origin", branch], c.repo.path, check=False)
        if res.returncode == 0:
            return
        if "Traceback" in res.output:  # the hook crashed: not a race the product handles, a bug
            raise RuntimeError(f"{c.repo.path}: the hook crashed pushing {branch}:\n{res.output[-3000:]}")
        c.rejected += 1
        c.last_error = res.output
        c.repo.sh.run(["git", "pull", "-q", "--rebase", "origin", branch], c.repo.path, check=False)
    raise RuntimeError(f"{c.repo.path} never got {branch} accepted in {TRIES} tries:\n{c.last_error[-3000:]}")


def work(c: Clone, rounds: int, fork: str, solo_flow: int) -> None:
    """One clone's part: its own flow changed and pushed to the shared branch each round; clone 0 then also
    pushes a branch of its own from the fork."""
    for rnd in range(rounds):
        change_flow(c, c.index, 1000 * (rnd + 1) + c.index, f"clone {c.index} round {rnd}")
        push_until_accepted(c, SHARED)
    if c.index == 0:
        c.repo.git("checkout", "-q", "-b", SOLO, fork)
        change_flow(c, solo_flow, 99_999, "clone 0 alone")
        push_until_accepted(c, SOLO)


def run_threads(clones: list[Clone], target: Callable[[Clone], None], timeout: float = 900) -> None:
    """target(c) for every clone at once; the first failure is raised here, in the caller's thread."""
    errors: list[BaseException] = []

    def run(c: Clone) -> None:
        try:
            target(c)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in clones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"race: a clone was still pushing after {timeout:.0f} s")
    if errors:
        raise errors[0]


def check_settled(api: Api, origin: Repo, branch: str, fork: str, flow_of: dict[str, str]) -> int:
    """The invariant for one branch (see the module doc); CheckFailed when it does not hold. Returns how many
    deployments were checked."""
    name = branch.replace("/", "-")
    head = remote_git(origin, "rev-parse", f"refs/heads/{branch}")
    on_branch = set(remote_git(origin, "rev-list", head).split())
    changed = set(remote_git(origin, "diff", "--name-only", fork, head).split())
    want = {f"{flow_of[path]}/{name}" for path in changed if path in flow_of}
    got = {k: d for k, d in api.deployments(origin.prefix).items() if k.endswith("/" + name)}
    problems = []
    if set(got) - want:
        problems.append(f"{sorted(set(got) - want)} should not exist (their flows did not change on the branch)")
    if want - set(got):
        problems.append(f"{sorted(want - set(got))} are missing")
    for key, d in sorted(got.items()):
        version = d.get("version") or ""
        if version not in on_branch:
            problems.append(f"{key} is at {version[:12] or '(no version)'}, which the remote's {branch} does not hold")
            continue
        path = (d.get("entrypoint") or "").split(":")[0]
        at_version = remote_git(origin, "rev-parse", f"{version}:{path}", check=False)
        if at_version != remote_git(origin, "rev-parse", f"{head}:{path}", check=False):
            problems.append(f"{key} registered {path} at {version[:12]}, not the code the branch has now")
    if problems:
        raise CheckFailed(f"race, {branch}: " + "; ".join(problems))
    return len(got)


def ensure_pool(sh: Shell, tmp: str, api: Api) -> None:
    # bench.py's setup made it already; alone, race.py makes it as users do
    if not api.has_pool(POOL):
        sh.run([os.path.join(BIN, "prefect"), "work-pool", "create", POOL, "--type", "process"], tmp)


def race(sh: Shell, tmp: str, api: Api, *, clones: int = 3, rounds: int = 2, name: str = "race",
         log: Callable[[str], None] = lambda msg: None) -> RaceResult:
    """One race in tmp/<name>*, its flows named `<name>-NNNN` (so several races share a server apart):
    CheckFailed if the invariant does not hold, RuntimeError if a clone could not get its push accepted."""
    ensure_pool(sh, tmp, api)
    origin = make_repo(sh, tmp, name, name, clones + 1)  # no hook here: main is the fork, not under test
    fork = origin.git("rev-parse", "HEAD")
    origin.push("main")
    people = [make_clone(origin, os.path.join(tmp, f"{name}-c{i}"), i) for i in range(clones)]
    for c in people:
        c.repo.git("checkout", "-q", "-b", SHARED)
    log(f"{name}: {clones} clones pushing {SHARED} concurrently, {rounds} rounds")
    started = time.perf_counter()
    run_threads(people, lambda c: work(c, rounds, fork, clones))
    took = time.perf_counter() - started
    flow_of = {flow_path(i): origin.flow_name(i) for i in range(clones + 1)}
    result = RaceResult(clones, rounds, sum(c.pushes for c in people), sum(c.rejected for c in people), took)
    for branch in (SHARED, SOLO):
        result.branches[branch] = check_settled(api, origin, branch, fork, flow_of)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", action="store_true", help="run the Prefect server on PostgreSQL (if installed)")
    ap.add_argument("--clones", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (repos, server log)")
    a = ap.parse_args(argv)
    if a.clones < 1 or a.rounds < 1:
        ap.error("need --clones >= 1 and --rounds >= 1")
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"race [{time.perf_counter() - t0:6.1f} s]: {msg}", file=sys.stderr, flush=True)

    tmp = tempfile.mkdtemp(prefix="prefect-push-race-")
    try:
        with local_server(tmp, postgres=a.postgres, log=log) as (server, db, api):
            sh = Shell(base_env(tmp, server.env()))
            result = race(sh, tmp, api, clones=a.clones, rounds=a.rounds, log=log)
        print(f"race ({db} server): {result.line()}")
        return 0
    except NoPostgres as exc:
        print(f"race: --postgres: {exc}; skipped")
        return 0
    except CheckFailed as exc:
        print(f"race: INVARIANT VIOLATED: {exc}")
        return 2
    except RuntimeError as exc:
        print(f"race: FAILED: {exc}")
        return 1
    finally:
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
