#!/usr/bin/env python3
"""`prefect-push register --ref main --all` of 2,000 flows with the default config, timed and checked:

    .venv/bin/python bench/bigbatch.py [--postgres] [--flows 2000]

A repo of N flow files pushed to its bare file:// remote without the hook (a repo adopting prefect-push), then
one `register --ref main --all` with the default settings (`timeout` = 60 s, which bounds the server's silence,
not the whole run: N writes take far longer than 60 s on SQLite and must still succeed). Every flow must then have
a `main` deployment at the pushed commit cloning main, and nothing else; CheckFailed (exit 2) otherwise.
bench.py runs this with --big-batch N; and, as goal P6 (p6 below, bench.py --p6 N), followed by N raw deployment
writes from as many writers as the register ended with, its floor.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))  # prefect_push.localserver, for local_server
from bench_fixtures import BIN, Shell, base_env, make_repo  # noqa: E402
from bench_server import Api, CheckFailed, NoPostgres, expect, local_server  # noqa: E402
from race import ensure_pool  # noqa: E402


# write-concurrency = "auto" (prefect-push's registrar.AUTO_WRITERS, not imported: it is the code under test) keeps
# this many writes in flight until the server first answers busy, then one at a time, and records that answer in
# the clone's .git/prefect-push/busy-servers.json
AUTO_WRITERS = 4
BUSY_RECORD = os.path.join(".git", "prefect-push", "busy-servers.json")


@dataclass
class BigBatchResult:
    flows: int
    seconds: float  # wall time of `prefect-push register --ref main --all`
    rss_mib: float  # its peak RSS
    per_write_ms: float
    writers: int = AUTO_WRITERS  # writes in flight at the end of the run: 1 when the server answered busy
    prefix: str = "bigbatch"  # its flows are named <prefix>-NNNN
    url: str = ""  # the repo's file:// remote

    def line(self) -> str:
        return (f"register --ref main --all of {self.flows} flows (default config): {self.seconds:.1f} s "
                f"({self.per_write_ms:.0f} ms a deployment), peak RSS {self.rss_mib:.0f} MiB; every deployment "
                "checked at the pushed commit")


def big_batch(sh: Shell, tmp: str, api: Api, *, flows: int = 2000, name: str = "bigbatch",
              log: Callable[[str], None] = lambda msg: None) -> BigBatchResult:
    ensure_pool(sh, tmp, api)
    t = time.perf_counter()
    repo = make_repo(sh, tmp, name, name, flows)  # the default pyproject: work pool and flow glob only
    repo.push("main")  # no hook installed: the flows reach the remote unregistered
    sha = repo.git("rev-parse", "HEAD")
    log(f"{name}: {flows} flows committed and pushed without the hook in {time.perf_counter() - t:.1f} s")
    before = api.snapshot(repo.prefix)
    res = sh.measure([os.path.join(BIN, "prefect-push"), "register", "--ref", "main", "--all"], repo.path)
    after = api.snapshot(repo.prefix)
    expect(f"register --all of {flows} flows", before, after, repo.flow_names(), "main", sha, "main")
    writers = 1 if os.path.exists(os.path.join(repo.path, BUSY_RECORD)) else AUTO_WRITERS
    return BigBatchResult(flows, res.seconds, res.rss_mib, 1000 * res.seconds / flows, writers, repo.prefix,
                          repo.url)


@dataclass
class P6Result:
    """Goal P6: `register --ref main --all` of N flows against N raw deployment writes at the same concurrency."""
    db: str  # as local_server names it: "SQLite", "PostgreSQL 15.14"
    run: BigBatchResult
    raw_seconds: float  # N raw POST /deployments/ (bench_server.Api.raw_writes) from run.writers clients
    raw_retried: int  # of those, retries after a busy answer

    @property
    def db_kind(self) -> str:
        return self.db.split()[0]

    @property
    def flows(self) -> int:
        return self.run.flows

    @property
    def seconds(self) -> float:
        return self.run.seconds

    @property
    def writers(self) -> int:
        return self.run.writers

    @property
    def ratio(self) -> float:
        return self.run.seconds / self.raw_seconds

    def note(self) -> str:
        return (f"{self.run.per_write_ms:.0f} ms a deployment, peak RSS {self.run.rss_mib:.0f} MiB, every "
                f"deployment checked at the pushed commit; the raw writes: {self.raw_retried} retried after a busy "
                "answer; one run of each (register first, then the raw writes)")


def p6(sh: Shell, tmp: str, api: Api, db: str, *, flows: int = 2000, name: str = "p6",
       log: Callable[[str], None] = lambda msg: None) -> P6Result:
    """big_batch, then as many raw deployment writes (one per flow the register made, a new deployment each) with
    as many writers as the register's "auto" write-concurrency ended with (4, or 1 once the server answered busy:
    SQLite does)."""
    run = big_batch(sh, tmp, api, flows=flows, name=name, log=log)
    log(f"{name}: register --all {run.seconds:.1f} s ({run.writers} writer(s) at the end); now {flows} raw writes")
    ids = api.flow_ids(run.prefix)
    if len(ids) != flows:
        raise CheckFailed(f"{name}: the server has {len(ids)} flows named {run.prefix}-*, not {flows}")
    took, retried = api.raw_writes(ids, f"{name}-raw", run.url, run.writers)
    log(f"{name}: {flows} raw writes {took:.1f} s")
    return P6Result(db, run, took, retried)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--postgres", action="store_true", help="run the Prefect server on PostgreSQL (if installed)")
    ap.add_argument("--flows", type=int, default=2000)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()

    def log(msg: str) -> None:
        print(f"bigbatch [{time.perf_counter() - t0:6.1f} s]: {msg}", file=sys.stderr, flush=True)

    tmp = tempfile.mkdtemp(prefix="prefect-push-bigbatch-")
    try:
        with local_server(tmp, postgres=a.postgres, log=log) as (server, db, api):
            result = big_batch(Shell(base_env(tmp, server.env())), tmp, api, flows=a.flows, log=log)
        print(f"bigbatch ({db} server): {result.line()}")
        return 0
    except NoPostgres as exc:
        print(f"bigbatch: --postgres: {exc}; skipped")
        return 0
    except CheckFailed as exc:
        print(f"bigbatch: CHECK FAILED: {exc}")
        return 2
    except RuntimeError as exc:  # the register failed (e.g. it gave up on the server)
        print(f"bigbatch: FAILED: {exc}")
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
