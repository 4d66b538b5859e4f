#!/usr/bin/env python3
"""`prefect-push register --ref main --all` of 2,000 flows with the default config, timed and checked:

    .venv/bin/python bench/bigbatch.py [--postgres] [--flows 2000]

A repo of N flow files pushed to its bare file:// remote without the hook (a repo adopting prefect-push), then
one `register --ref main --all` with the default settings (`timeout` = 60 s, which bounds the server's silence,
not the whole run: N writes take far longer than 60 s on SQLite and must still succeed). Every flow must then have
a `main` deployment at the pushed commit cloning main, and nothing else; CheckFailed (exit 2) otherwise.
bench.py runs this with --big-batch N.
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


@dataclass
class BigBatchResult:
    flows: int
    seconds: float  # wall time of `prefect-push register --ref main --all`
    rss_mib: float  # its peak RSS
    per_write_ms: float

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
    return BigBatchResult(flows, res.seconds, res.rss_mib, 1000 * res.seconds / flows)


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
