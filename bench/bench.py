#!/usr/bin/env python3
"""prefect-push's speed goals, each measured beside its floor in one run.

    .venv/bin/python bench/bench.py              # full size (a few minutes)
    .venv/bin/python bench/bench.py --small      # CI smoke: tiny sizes, 2 rounds
    .venv/bin/python bench/bench.py --postgres   # the server on PostgreSQL (Debian's postgresql package) instead
    .venv/bin/python bench/bench.py --json out.json
    .venv/bin/python bench/bench.py --race 0     # without the race check (bench/race.py) after the rounds
    .venv/bin/python bench/bench.py --big-batch 2000   # also time `register --ref main --all` of 2,000 flows
    .venv/bin/python bench/bench.py --p6 200 --p6-db own   # P6 at 200 flows, on the bench's own database only

Builds its own fixture repos (bare file:// remotes; a big one with `git fast-import`), starts a real Prefect
server (temp PREFECT_HOME, SQLite unless --postgres, its own port), and runs every measurement once per round,
interleaved (A B C ... A B C ..., the order rotated each round), after a warm-up round; reports medians.

Floors, measured in the same run: `git push` with no hook; a push through a no-op pre-commit hook of the same
language as the prefect-push hook measured (`language: python` for the default `--pre-commit-hook repo`: the
`repo:` + `rev:` install the README shows, a snapshot of this checkout that pre-commit pip-installs;
`language: system` for `--pre-commit-hook local`, the venv's own prefect-push, the --small default);
`python -c "import prefect"`; `python -c "import httpx, pydantic"` (what a registering push needs once it does not
import prefect); N raw deployment writes (POST /deployments/ with httpx), sequential and with 4 concurrent writers.

Goals (PASS/FAIL; the exit code is 0 either way, this is a measurement):
  P1  a push that changes no flow: through pre-commit <= +0.05 s over the no-op pre-commit hook; through the
      plain hook (`prefect-push install`) <= +0.08 s over no hook
  P2  20 changed flows, one push of a new branch (pre-commit) <= 1.25 x (no-op pre-commit push + import prefect
      + 20 raw writes); `prefect deploy --all` of the same flows beside it
  P2' the same 20-flow push <= 1.25 x (no-op pre-commit push + import httpx, pydantic + 20 raw writes): the
      floor of a push that does not import prefect
  P2b 200 changed flows: (200-flow push - 20-flow push) <= 1.25 x (200 raw writes - 20 raw writes)
  P3  a one-flow push in a repo of 2,000 flow files and 10,000 commits <= +0.15 s over the same push in a
      20-flow repo (plain hook)
  P4  peak RSS of `prefect-push register` of 200 flows <= 150 MiB
  P5  a push of a branch changing one flow (exactly one deployment written), through pre-commit <= +0.35 s over
      the no-op pre-commit hook
P1, P3 and P5 are differences: measured and floor run in back-to-back pairs (order alternating, --pairs a round),
and the goal is the median of the pairs' differences.
  P6  `prefect-push register --ref main --all` of N flows (--p6, default 2,000; 0: not run) <= 1.1 x N raw
      deployment writes from as many writers as the register's write-concurrency = "auto" ended with (4, or 1
      once the server answered busy: SQLite does), one run of each after the rounds; on the bench's own
      database and (--p6-db both, the default; --small: own) on the other one, SQLite or PostgreSQL, a server of
      its own started once the bench's has stopped

Every timed push is checked on the server: exactly the changed flows got a deployment for the pushed ref at the
pushed commit, nothing else changed. If any check fails the bench stops with exit code 2.

After the rounds (so they never disturb a timed run), on the same server: --race N races of clones pushing one
new branch at once (bench/race.py; the invariant checked, exit code 2 after the report if it broke) and, with
--big-batch N, one timed and checked `prefect-push register --ref main --all` of N flows (bench/bigbatch.py);
then P6 (bigbatch.p6).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_fixtures import (BIN, NOOP_HOOK_NAME, PREFECT_PUSH_HOOK_NAME, PREFECT_PUSH_LOCAL_CONFIG,  # noqa: E402
                            ROOT, SYSTEM_NOOP_CONFIG, SYSTEM_NOOP_NAME, Repo, Shell, base_env, flow_path, hook_passed,
                            hook_repo_snapshot, install_pre_commit, make_big_repo, make_repo, noop_hook_repo,
                            repo_hook_config)
from bench_server import POOL, Api, CheckFailed, NoPostgres, expect, local_server  # noqa: E402
from bigbatch import BigBatchResult, P6Result, big_batch, p6  # noqa: E402
from race import RaceResult, race  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "src"))  # prefect_push.localserver, for bench_server.local_server

HOOK_KIND = {"repo": "`repo:` + `rev:`, language: python", "local": "`repo: local`, language: system"}
FULL = dict(flows=20, many=200, rounds=5, warmup=1, big_files=2000, big_commits=10000, pairs=3, race=1,
            race_clones=3, race_rounds=2, p6=2000)
# --small's race: 2 clones, 1 round (a few seconds): the smoke runs race.py's code, not a thorough race
SMALL = dict(flows=3, many=10, rounds=2, warmup=0, big_files=50, big_commits=200, pairs=1, race=1, race_clones=2,
             race_rounds=1, p6=20)


_T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"bench [{time.perf_counter() - _T0:6.1f} s]: {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: str, sh: Shell, api: Api, db: str = "SQLite") -> None:
        self.a, self.tmp, self.sh, self.api, self.db = args, tmp, sh, api, db
        self.series: dict[str, list[float]] = {}
        self.rss: dict[str, list[float]] = {}
        self.retried: dict[str, list[tuple[int, int]]] = {}  # raw writes: (503s retried, writes) per round
        self.labels: dict[str, str] = {}
        # goals that are a difference (P1, P3, P5): measured minus floor, pair by pair (see run)
        self.diffs: dict[str, list[float]] = {}
        self._pushes = 0
        self.checks = 0
        self.snaps: dict[str, dict] = {}  # prefix -> the server's deployments of those flows after the last check
        self.races: list[RaceResult | str] = []  # a result, or the violated invariant's message
        self.big: BigBatchResult | None = None
        self.p6: list[P6Result | str] = []  # per database: a result, or why it was not measured

    # --- checked operations ---
    def snapshot(self, repo: Repo) -> dict:
        if repo.prefix not in self.snaps:
            self.snaps[repo.prefix] = self.api.snapshot(repo.prefix)
        return self.snaps[repo.prefix]

    def checked(self, what: str, repo: Repo, run: Callable[[], object], flows: set[str], deployment: str,
                sha: str | None, branch: str | None) -> object:
        """run() while checking on the server that exactly `flows` got `deployment` (at `sha`, cloning `branch`)."""
        before = self.snapshot(repo)
        result = run()
        after = self.api.snapshot(repo.prefix)
        expect(what, before, after, flows, deployment, sha, branch)
        self.snaps[repo.prefix] = after
        self.checks += 1
        return result

    def push(self, what: str, repo: Repo, branch: str, flows: set[str], hook: str | None = None) -> float:
        """Time `git push origin <branch>` of the commit just made; check the remote took it, pre-commit ran the hook
        (when given) and the server got exactly `flows` registered for the branch at that commit."""
        sha = repo.git("rev-parse", "HEAD")
        res = self.checked(what, repo, lambda: repo.push(branch), flows, branch, sha, branch)
        if hook is not None and not hook_passed(res.output, hook):
            raise CheckFailed(f"{what}: pre-commit did not report {hook!r} as passed:\n{res.output[-2000:]}")
        if repo.remote_sha(branch) != sha:
            raise CheckFailed(f"{what}: the remote's {branch} is not the pushed {sha[:12]}")
        return res.seconds

    def plain_push(self, what: str, repo: Repo, branch: str, hook: str | None = None) -> float:
        """A push where no prefect-push runs at all: only the remote (and the no-op hook's status line) to check."""
        sha = repo.git("rev-parse", "HEAD")
        res = repo.push(branch)
        if hook is not None and not hook_passed(res.output, hook):
            raise CheckFailed(f"{what}: pre-commit did not report {hook!r} as passed:\n{res.output[-2000:]}")
        if repo.remote_sha(branch) != sha:
            raise CheckFailed(f"{what}: the remote's {branch} is not the pushed {sha[:12]}")
        self.checks += 1
        return res.seconds

    # --- setup ---
    def setup(self) -> None:
        a, sh, tmp = self.a, self.sh, self.tmp
        n, m = a.flows, a.many
        t0 = time.perf_counter()
        sh.run([os.path.join(BIN, "prefect"), "work-pool", "create", POOL, "--type", "process"], tmp)
        self.raw_ids = self.api.create_flows([f"raw-{i:04d}" for i in range(max(n, m))])
        self.raw_url = "file://" + os.path.join(tmp, "raw.git")

        self.r_nohook = make_repo(sh, tmp, "nohook", "nohook", n)
        self.plain_push("setup: no hook", self.r_nohook, "main")
        if a.pre_commit_hook == "repo":
            log("pre-commit hook repos (a snapshot of this checkout; a no-op python hook)")
            snap_url, snap_rev = hook_repo_snapshot(sh, tmp)
            noop_url, noop_rev = noop_hook_repo(sh, tmp)
            pp_config = repo_hook_config(snap_url, snap_rev, "prefect-push")
            self.r_noop = make_repo(sh, tmp, "pcnoop", "pcnoop", n,
                                    {".pre-commit-config.yaml": repo_hook_config(noop_url, noop_rev, "noop")})
            install_pre_commit(self.r_noop)
            self.plain_push("setup: no-op pre-commit hook", self.r_noop, "main", NOOP_HOOK_NAME)
        else:
            pp_config = PREFECT_PUSH_LOCAL_CONFIG

        self.r_sys = make_repo(sh, tmp, "pcsys", "pcsys", n, {".pre-commit-config.yaml": SYSTEM_NOOP_CONFIG})
        install_pre_commit(self.r_sys)
        self.plain_push("setup: no-op system hook", self.r_sys, "main", SYSTEM_NOOP_NAME)

        log("pre-commit's prefect-push hook" + (" (building its environment: pip install of the snapshot, once)"
                                                if a.pre_commit_hook == "repo" else " (repo: local, language: system)"))
        self.r_pc = make_repo(sh, tmp, "pcsmall", "pcsmall", n, {".pre-commit-config.yaml": pp_config})
        install_pre_commit(self.r_pc)
        with open(os.path.join(self.r_pc.path, ".git", "info", "exclude"), "a") as f:
            f.write("prefect.yaml\n.prefect/\n")  # `prefect deploy --all` runs in this work tree
        self.push("setup: pre-commit, first push of main", self.r_pc, "main", self.r_pc.flow_names(),
                  PREFECT_PUSH_HOOK_NAME)
        self.r_pc.git("checkout", "-q", "-b", "p5")  # P5: pushes of this branch, each changing one flow
        self.r_pc.bump([0])
        self.r_pc.commit("p5 starts")
        self.push("setup: pre-commit, first push of p5", self.r_pc, "p5", {self.r_pc.flow_name(0)},
                  PREFECT_PUSH_HOOK_NAME)
        self.r_pc.git("checkout", "-q", "main")

        log(f"the {m}-flow repo: first push through pre-commit")
        self.r_many = make_repo(sh, tmp, "pcmany", "pcmany", m, {".pre-commit-config.yaml": pp_config})
        install_pre_commit(self.r_many)
        self.push(f"setup: pre-commit, first push of main ({m} flows)", self.r_many, "main",
                  self.r_many.flow_names(), PREFECT_PUSH_HOOK_NAME)
        self.many_main = self.r_many.git("rev-parse", "main")

        log("the plain-hook repo")
        self.r_plain = make_repo(sh, tmp, "plain", "plain", n)
        sh.run([os.path.join(BIN, "prefect-push"), "install"], self.r_plain.path)
        self.push("setup: plain hook, first push of main", self.r_plain, "main", self.r_plain.flow_names())
        self.r_plain.git("checkout", "-q", "-b", "p3")
        self.r_plain.bump([0])
        self.r_plain.commit("p3 starts")
        self.push("setup: plain hook, first push of p3", self.r_plain, "p3", {self.r_plain.flow_name(0)})

        log(f"big repo: {a.big_files} flow files, {a.big_commits} commits (git fast-import)")
        t = time.perf_counter()
        self.r_big = make_big_repo(sh, tmp, "big", "big", a.big_files, a.big_commits)
        sh.run([os.path.join(BIN, "prefect-push"), "install"], self.r_big.path)
        log(f"big repo generated and cloned in {time.perf_counter() - t:.1f} s")
        self.r_big.git("checkout", "-q", "-b", "p3")
        self.r_big.bump([0])
        self.r_big.commit("p3 starts")
        self.push("setup: big repo, first push of p3", self.r_big, "p3", {self.r_big.flow_name(0)})
        log(f"setup done in {time.perf_counter() - t0:.0f} s")

    # --- one measurement each; every one makes fresh changes, so nothing is ever skipped as already registered ---
    def items(self) -> list[tuple[str, str, Callable[[int], float | None]]]:
        a = self.a
        n, m = a.flows, a.many
        every = lambda r: r.flow_names()  # noqa: E731

        def nohook(rnd: int) -> float:
            r = self.r_nohook
            r.touch_readme()
            r.commit("docs")
            return self.plain_push("push, no hook", r, "main")

        def noop(rnd: int) -> float:
            r = self.r_noop
            r.touch_readme()
            r.commit("docs")
            return self.plain_push("push, no-op pre-commit hook", r, "main", NOOP_HOOK_NAME)

        def noop_system(rnd: int) -> float:
            r = self.r_sys
            r.touch_readme()
            r.commit("docs")
            return self.plain_push("push, no-op system hook", r, "main", SYSTEM_NOOP_NAME)

        def p1_pc(rnd: int) -> float:
            r = self.r_pc
            r.git("checkout", "-q", "main")
            r.touch_readme()
            r.commit("docs")
            return self.push("P1 pre-commit no-flow push", r, "main", set(), PREFECT_PUSH_HOOK_NAME)

        def p1_plain(rnd: int) -> float:
            r = self.r_plain
            r.git("checkout", "-q", "main")
            r.touch_readme()
            r.commit("docs")
            return self.push("P1 plain no-flow push", r, "main", set())

        def import_prefect(rnd: int) -> float:
            res = self.sh.measure([sys.executable, "-c", "import prefect"], self.tmp)
            self.rss.setdefault("import", []).append(res.rss_mib)
            return res.seconds

        def import_httpx(rnd: int) -> float:  # what a registering push must load, once it needs no prefect
            return self.sh.measure([sys.executable, "-c", "import httpx, pydantic"], self.tmp).seconds

        def raw(key: str, count: int, writers: int) -> Callable[[int], float]:
            def go(rnd: int) -> float:
                took, retried = self.api.raw_writes(self.raw_ids[:count], f"raw-{count}-w{writers}-r{rnd}",
                                                    self.raw_url, writers)
                if rnd >= self.a.warmup:
                    self.retried.setdefault(key, []).append((retried, count))
                self.checks += 1
                return took
            return go

        def new_branch(r: Repo, name: str, what: str, hook: str | None) -> Callable[[int], float]:
            def go(rnd: int) -> float:
                branch = f"{name}-r{rnd}"
                r.git("checkout", "-q", "-B", branch, "main")
                r.bump(range(r.n))
                r.commit(f"change every flow ({branch})")
                return self.push(what, r, branch, every(r), hook)
            return go

        def deploy_all(rnd: int) -> float:
            r = self.r_pc
            name = f"deploy-r{rnd}"
            with open(os.path.join(r.path, "prefect.yaml"), "w") as f:
                f.write(f"pull:\n- prefect.deployments.steps.git_clone:\n    repository: {r.url}\n    branch: main\n"
                        "deployments:\n")
                for i in range(r.n):
                    f.write(f"- name: {name}\n  entrypoint: {flow_path(i)}:{r.prefix}_{i:04d}\n"
                            f"  work_pool: {{name: {POOL}}}\n")
            res = self.checked("prefect deploy --all", r, lambda: self.sh.measure(
                [os.path.join(BIN, "prefect"), "--no-prompt", "deploy", "--all"], r.path), every(r), name, None, "main")
            return res.seconds  # type: ignore[attr-defined]

        def one_flow(r: Repo, what: str, branch: str = "p3", hook: str | None = None) -> Callable[[int], float]:
            """A push of `branch` (pushed once in setup) changing one flow: exactly one deployment written."""
            def go(rnd: int) -> float:
                self._pushes += 1
                r.git("checkout", "-q", branch)
                i = 1 + (self._pushes * 37) % (r.n - 1)
                r.bump([i])
                r.commit(f"change {r.flow_name(i)}")
                return self.push(what, r, branch, {r.flow_name(i)}, hook)
            return go

        def p4(rnd: int) -> float:
            r = self.r_many
            branch = f"p4-r{rnd}"
            r.git("checkout", "-q", "-B", branch, "main")
            r.bump(range(r.n))
            sha = r.commit(f"change every flow ({branch})")
            cmd = [os.path.join(BIN, "prefect-push"), "register", "--ref", branch, "--from", self.many_main,
                   "--to", sha]
            res = self.checked("P4 prefect-push register", r, lambda: self.sh.measure(cmd, r.path), every(r), branch,
                               sha, branch)
            self.rss.setdefault("p4", []).append(res.rss_mib)  # type: ignore[attr-defined]
            return res.seconds  # type: ignore[attr-defined]

        big = f"{a.big_files} files, {a.big_commits} commits"
        return [
            ("nohook", "git push, no hook", nohook),
            *([("noop", "push, no-op pre-commit hook (language: python)", noop)]
              if a.pre_commit_hook == "repo" else []),
            ("noop_system", "push, no-op pre-commit hook (language: system, `true`)", noop_system),
            ("p1_pc", f"push, pre-commit prefect-push hook ({HOOK_KIND[a.pre_commit_hook]}), no flow changed", p1_pc),
            ("p1_plain", "push, plain prefect-push hook, no flow changed", p1_plain),
            ("import", 'python -c "import prefect"', import_prefect),
            ("import_httpx", 'python -c "import httpx, pydantic"', import_httpx),
            ("raw_n", f"{n} raw deployment writes, sequential", raw("raw_n", n, 1)),
            ("raw_n_4", f"{n} raw deployment writes, 4 writers", raw("raw_n_4", n, 4)),
            ("raw_m", f"{m} raw deployment writes, sequential", raw("raw_m", m, 1)),
            ("raw_m_4", f"{m} raw deployment writes, 4 writers", raw("raw_m_4", m, 4)),
            ("p2", f"push of a new branch changing {n} flows, pre-commit hook",
             new_branch(self.r_pc, "p2", f"P2 {n}-flow push", PREFECT_PUSH_HOOK_NAME)),
            ("p2_plain", f"push of a new branch changing {n} flows, plain hook",
             new_branch(self.r_plain, "p2plain", f"{n}-flow push, plain hook", None)),
            ("deploy", f"prefect deploy --all, the same {n} flows", deploy_all),
            ("p2b", f"push of a new branch changing {m} flows, pre-commit hook",
             new_branch(self.r_many, "p2b", f"P2b {m}-flow push", PREFECT_PUSH_HOOK_NAME)),
            ("p3_big", f"push changing 1 flow, plain hook, {big}", one_flow(self.r_big, "P3 big repo 1-flow push")),
            ("p3_small", f"push changing 1 flow, plain hook, {n}-flow repo",
             one_flow(self.r_plain, "P3 small repo 1-flow push")),
            ("p4", f"prefect-push register of {m} flows (new ref, --from/--to)", p4),
            ("p5", f"push of a branch changing 1 flow, pre-commit hook ({HOOK_KIND[a.pre_commit_hook]})",
             one_flow(self.r_pc, "P5 pre-commit 1-flow push", "p5", PREFECT_PUSH_HOOK_NAME)),
        ]

    def paired(self) -> dict[str, str]:
        """The goals that are a difference, measured -> floor. Each looks for a few hundredths of a second (P3:
        ~0.1 s) between runs that vary by far more (P3's ~1.7 s pushes by 0.5 s), so each pair runs back to back,
        in alternating order, `pairs` times a round, and the goal is the median of the pairs' differences: what
        drifts (the server's database grows, the machine's load comes and goes) cancels out."""
        noop = "noop" if self.a.pre_commit_hook == "repo" else "noop_system"
        return {"p1_pc": noop, "p1_plain": "nohook", "p3_big": "p3_small", "p5": noop}

    def run(self) -> None:
        items = self.items()
        fns = {key: fn for key, _, fn in items}
        for key, label, _ in items:
            self.labels[key] = label
            self.series[key] = []
        paired = self.paired()
        floors = set(paired.values())
        schedule = [key for key, _, _ in items if key not in floors]  # a paired floor runs with its measured
        total = self.a.warmup + self.a.rounds
        for rnd in range(total):
            t = time.perf_counter()
            shift = rnd % len(schedule)
            for key in schedule[shift:] + schedule[:shift]:
                if key not in paired:
                    value = fns[key](rnd)
                    if rnd >= self.a.warmup:
                        self.series[key].append(value)
                    continue
                floor = paired[key]
                for k in range(self.a.pairs):
                    order = (key, floor) if (rnd * self.a.pairs + k) % 2 else (floor, key)
                    took = {which: fns[which](rnd) for which in order}
                    if rnd >= self.a.warmup:
                        for which, value in took.items():
                            self.series[which].append(value)
                        self.diffs.setdefault(key, []).append(took[key] - took[floor])
            kind = "warm-up" if rnd < self.a.warmup else f"round {rnd - self.a.warmup + 1}/{self.a.rounds}"
            log(f"{kind} done in {time.perf_counter() - t:.0f} s ({self.checks} checks passed so far)")

    def after_rounds(self) -> None:
        """The checks that are not timings, run once the rounds are done. A race that breaks its invariant is
        recorded (the report shows it, the exit code is 2) rather than voiding the timings above."""
        for k in range(1, self.a.race + 1):
            try:
                self.races.append(race(self.sh, self.tmp, self.api, clones=self.a.race_clones,
                                       rounds=self.a.race_rounds, name=f"race{k}", log=log))
            except CheckFailed as exc:
                self.races.append(str(exc))
        if self.a.big_batch:
            log(f"big batch: register --ref main --all of {self.a.big_batch} flows")
            self.big = big_batch(self.sh, self.tmp, self.api, flows=self.a.big_batch, log=log)
        if self.a.p6:
            log(f"P6 on this server ({self.db}): register --ref main --all of {self.a.p6} flows, then as many raw "
                "writes")
            self.p6.append(p6(self.sh, self.tmp, self.api, self.db, flows=self.a.p6, name="p6", log=log))

    def p6_other_database(self) -> None:
        """P6 on the database the bench's server did not use, on a server of its own started now (after the bench's
        is stopped, so the two never share the machine)."""
        postgres = self.db == "SQLite"
        tmp = os.path.join(self.tmp, "p6-other")
        os.makedirs(tmp)
        log(f"P6 on {'PostgreSQL' if postgres else 'SQLite'}: a server of its own")
        try:
            with local_server(tmp, postgres=postgres, log=log) as (server, db, api):
                sh = Shell(base_env(tmp, server.env()))
                self.p6.append(p6(sh, tmp, api, db, flows=self.a.p6, name="p6other", log=log))
        except NoPostgres as exc:
            self.p6.append(f"PostgreSQL: {exc}")


# --- report ---

def goals(b: Bench) -> list[dict]:
    med = {k: statistics.median(v) for k, v in b.series.items()}
    n, m = b.a.flows, b.a.many
    out = []
    # pre-commit's floor: a no-op hook of the same language as the prefect-push hook measured
    med["floor"] = med["noop"] if b.a.pre_commit_hook == "repo" else med["noop_system"]
    floor_what = f"no-op pre-commit hook ({'python' if b.a.pre_commit_hook == 'repo' else 'system'})"

    def goal(gid: str, what: str, measured: str, floor: str, value: float, limit: float, vs: str,
             note: str = "") -> None:
        out.append(dict(id=gid, what=what, measured=measured, floor=floor, value=round(value, 4), limit=limit,
                        vs_goal=vs, passed=value <= limit, note=note))

    def paired(key: str) -> tuple[float, str]:
        diffs, floor = b.diffs[key], b.paired()[key]
        return statistics.median(diffs), (f"median of {len(diffs)} back-to-back pairs' differences; difference of "
                                          f"the medians {med[key] - med[floor]:+.3f} s")

    d, how = paired("p1_pc")
    goal("P1 pre-commit", f"push changing no flow, pre-commit hook ({HOOK_KIND[b.a.pre_commit_hook]})",
         f"{med['p1_pc']:.3f} s", f"{med['floor']:.3f} s {floor_what}", d, 0.05,
         f"{d:+.3f} s (goal <= +0.050 s)", how)
    d, how = paired("p1_plain")
    goal("P1 plain", "push changing no flow, plain hook (`prefect-push install`)", f"{med['p1_plain']:.3f} s",
         f"{med['nohook']:.3f} s git push, no hook", d, 0.08, f"{d:+.3f} s (goal <= +0.080 s)", how)
    floor = med["floor"] + med["import"] + med["raw_n"]
    ratio = med["p2"] / floor
    goal("P2", f"new branch changing {n} flows, one push, pre-commit hook", f"{med['p2']:.2f} s",
         f"{floor:.2f} s = {med['floor']:.2f} {floor_what} + {med['import']:.2f} import prefect + "
         f"{med['raw_n']:.2f} {n} raw writes", ratio, 1.25, f"{ratio:.2f}x (goal <= 1.25x)",
         f"`prefect deploy --all` of the same {n} flows: {med['deploy']:.2f} s, the push takes "
         f"{med['p2'] / med['deploy']:.2f}x its time")
    floor = med["floor"] + med["import_httpx"] + med["raw_n"]
    ratio = med["p2"] / floor
    goal("P2'", f"new branch changing {n} flows, one push, pre-commit hook, over a floor without prefect",
         f"{med['p2']:.2f} s",
         f"{floor:.2f} s = {med['floor']:.2f} {floor_what} + {med['import_httpx']:.2f} import httpx, pydantic + "
         f"{med['raw_n']:.2f} {n} raw writes", ratio, 1.25, f"{ratio:.2f}x (goal <= 1.25x)")
    d, draw = med["p2b"] - med["p2"], med["raw_m"] - med["raw_n"]
    ratio = d / draw if draw > 0 else float("inf")
    goal("P2b", f"{m}-flow push minus {n}-flow push (pre-commit hook)",
         f"{d:+.2f} s ({med['p2b']:.2f} - {med['p2']:.2f})",
         f"{draw:+.2f} s raw writes ({med['raw_m']:.2f} - {med['raw_n']:.2f})", ratio, 1.25,
         f"{ratio:.2f}x (goal <= 1.25x)")
    d, how = paired("p3_big")
    goal("P3", f"1-flow push, {b.a.big_files} files / {b.a.big_commits} commits vs a {n}-flow repo (plain hook)",
         f"{med['p3_big']:.3f} s", f"{med['p3_small']:.3f} s same push, {n}-flow repo", d, 0.15,
         f"{d:+.3f} s (goal <= +0.150 s)", how)
    peak = max(b.rss["p4"])
    goal("P4", f"peak RSS of `prefect-push register` of {m} flows", f"{peak:.0f} MiB",
         f"{max(b.rss['import']):.0f} MiB python -c 'import prefect'", peak, 150.0,
         f"{peak:.0f} MiB (goal <= 150 MiB)", f"{statistics.median(b.rss['p4']):.0f} MiB median of "
         f"{len(b.rss['p4'])} runs")
    d, how = paired("p5")
    goal("P5", f"push of a branch changing 1 flow (1 deployment written), pre-commit hook "
         f"({HOOK_KIND[b.a.pre_commit_hook]})", f"{med['p5']:.3f} s", f"{med['floor']:.3f} s {floor_what}", d, 0.35,
         f"{d:+.3f} s (goal <= +0.350 s)", how)
    for r in sorted(b.p6, key=lambda r: (r if isinstance(r, str) else r.db_kind) != "SQLite"):
        if isinstance(r, str):  # not measured (no PostgreSQL installed)
            out.append(dict(id=f"P6 {r.split(':')[0]}", what="register --all", measured="not measured",
                            floor="-", value=None, limit=1.1, vs_goal=r, passed=False, note=""))
            continue
        goal(f"P6 {r.db_kind}", f"`prefect-push register --ref main --all` of {r.flows} flows, {r.db} server",
             f"{r.seconds:.1f} s", f"{r.raw_seconds:.1f} s {r.flows} raw writes, {r.writers} "
             f"writer{'s' if r.writers > 1 else ''} (as the register's write-concurrency = \"auto\" ended)",
             r.ratio, 1.1, f"{r.ratio:.2f}x (goal <= 1.1x)", r.note())
    return out


def machine(db: str) -> dict:
    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "?"

    git = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip().removeprefix("git ")
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "pyproject.toml"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    revision = (head.stdout.strip() or "?") + (" + uncommitted changes" if dirty else "")
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "prefect": version("prefect"),
            "pre-commit": version("pre_commit"), "git": git, "database": db, "prefect-push": revision,
            "platform": platform.platform(terse=True)}


def report(b: Bench, rows: list[dict], info: dict, seconds: float) -> str:
    a = b.a
    p6_where = ("P6 not run" if not a.p6 else f"P6 at {a.p6} flows, "
                + ("SQLite and PostgreSQL" if a.p6_db == "both" else "this server only"))
    lines = [f"prefect-push bench ({info['prefect-push']}): {info['nproc']} cores, Python {info['python']}, "
             f"prefect {info['prefect']}, "
             f"pre-commit {info['pre-commit']}, git {info['git']}, {info['database']} server",
             f"pre-commit hook: {HOOK_KIND[a.pre_commit_hook]}; "
             f"{a.flows} / {a.many} flows, big repo {a.big_files} files / {a.big_commits} commits; medians of "
             f"{a.rounds} interleaved rounds after {a.warmup} warm-up (P1, P3, P5: {a.pairs} back-to-back pairs a "
             f"round); {p6_where}; "
             f"{seconds:.0f} s in all", "",
             "| goal | what | measured | floor | vs goal | result |", "|---|---|---|---|---|---|"]
    for g in rows:
        note = f"; {g['note']}" if g["note"] else ""
        result = "NOT RUN" if g["value"] is None else "PASS" if g["passed"] else "**FAIL**"
        lines.append(f"| {g['id']} | {g['what']} | {g['measured']} | {g['floor']} | {g['vs_goal']}{note} | "
                     f"{result} |")
    lines += ["", "| run | median | min | max |", "|---|---|---|---|"]
    for key, values in b.series.items():
        label = b.labels[key]
        if key in b.retried:
            retried, sent = (sum(x) for x in zip(*b.retried[key]))
            label += f" ({retried} retries after 503 for {sent} writes)" if retried else " (no 503)"
        lines.append(f"| {label} | {statistics.median(values):.3f} s | {min(values):.3f} s | "
                     f"{max(values):.3f} s |")
    lines.append("")
    failed = [g["id"] for g in rows if not g["passed"] and g["value"] is not None]
    not_run = [g["id"] for g in rows if g["value"] is None]
    lines.append(f"checks: {b.checks} pushes and writes verified on the server (exactly the changed flows, at the "
                 "pushed commit; nothing else touched)")
    lines.append(("FAIL: " + ", ".join(failed) if failed else "all goals measured PASS")
                 + (f"; not run: {', '.join(not_run)}" if not_run else ""))
    for k, got in enumerate(b.races, 1):
        lines.append(f"race {k}: " + (got.line() if isinstance(got, RaceResult) else f"INVARIANT VIOLATED: {got}"))
    if b.big is not None:
        lines.append(f"big batch: {b.big.line()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", action="store_true",
                    help="CI smoke sizes: 3/10 flows, 2 rounds, a 50-file repo, P6 at 20 flows on this server only")
    ap.add_argument("--postgres", action="store_true", help="run the Prefect server on PostgreSQL (if installed)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (repos, server log)")
    ap.add_argument("--pre-commit-hook", choices=("repo", "local"), default=None,
                    help="how pre-commit runs prefect-push: `repo:` a snapshot of this checkout + `rev:` (what the "
                         "README tells users; pre-commit pip-installs it into its own virtualenv, ~20-60 s once), "
                         "or `repo: local` with language: system (the venv's prefect-push). Default: repo; "
                         "--small: local")
    for key, value in FULL.items():
        ap.add_argument(f"--{key.replace('_', '-')}", type=int, default=None, help=f"(full: {value}, "
                        f"--small: {SMALL[key]})" + (" races after the rounds; 0: none" if key == "race" else "")
                        + (" flows for goal P6 (register --all against raw writes), after the rounds; 0: P6 not "
                           "run" if key == "p6" else ""))
    ap.add_argument("--p6-db", choices=("own", "both"), default=None,
                    help="P6 on the bench's server only (own), or also on the other database (SQLite and "
                         "PostgreSQL), a server of its own after the bench's stops. Default: both; --small: own")
    ap.add_argument("--big-batch", type=int, default=0, metavar="N",
                    help="after the rounds, time `register --ref main --all` of N flows (default: 0, not run)")
    args = ap.parse_args(argv)
    if args.pre_commit_hook is None:
        args.pre_commit_hook = "local" if args.small else "repo"
    if args.p6_db is None:
        args.p6_db = "own" if args.small else "both"
    for key, value in (SMALL if args.small else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.flows < 2 or args.many <= args.flows or args.rounds < 1 or args.warmup < 0 or args.big_files < 2 \
            or args.big_commits < 1 or args.race < 0 or args.race_clones < 1 or args.race_rounds < 1 \
            or args.big_batch < 0 or args.p6 < 0:
        ap.error("need --flows >= 2, --many > --flows, --rounds >= 1, --warmup >= 0, --big-files >= 2, "
                 "--big-commits >= 1, --race >= 0, --race-clones >= 1, --race-rounds >= 1, --big-batch >= 0, --p6 >= 0")

    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="prefect-push-bench-")
    try:
        with local_server(tmp, postgres=args.postgres, log=log) as (server, db, api):
            sh = Shell(base_env(tmp, server.env()))
            bench = Bench(args, tmp, sh, api, db)
            try:
                bench.setup()
                bench.run()
                bench.after_rounds()
            except CheckFailed as exc:
                print(f"bench: CHECK FAILED, the measurements are void: {exc}")
                return 2
            except RuntimeError as exc:  # a command failed: a push the hook refused, a fixture that could not be built
                print(f"bench: FAILED: {exc}")
                return 1
            info = machine(db)
        if args.p6 and args.p6_db == "both":
            try:
                bench.p6_other_database()
            except CheckFailed as exc:
                print(f"bench: CHECK FAILED, the measurements are void: {exc}")
                return 2
            except RuntimeError as exc:
                print(f"bench: FAILED: {exc}")
                return 1
        rows = goals(bench)
        print(report(bench, rows, info, time.perf_counter() - started))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"command": " ".join(shlex.quote(x) for x in [sys.executable, *sys.argv]), "machine": info,
                           "sizes": {k: getattr(args, k) for k in FULL}, "pre_commit_hook": args.pre_commit_hook,
                           "goals": rows,
                           "series": {k: {"label": bench.labels[k], "median": statistics.median(v), "values": v}
                                      for k, v in bench.series.items()},
                           "paired_differences": bench.diffs, "rss_mib": bench.rss, "retried_503": bench.retried,
                           "checks": bench.checks,
                           "races": [vars(r) if isinstance(r, RaceResult) else {"violated": r}
                                     for r in bench.races],
                           "big_batch": vars(bench.big) if bench.big else None,
                           "p6": [dict(db=r.db, **vars(r.run), raw_seconds=r.raw_seconds, raw_retried=r.raw_retried)
                                  if isinstance(r, P6Result) else {"not_measured": r} for r in bench.p6]},
                          f, indent=1)
        # a broken race invariant: the timings above stand, the run does not pass
        return 2 if any(not isinstance(r, RaceResult) for r in bench.races) else 0
    except NoPostgres as exc:
        print(f"bench: --postgres: {exc}; skipped")
        return 0
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
