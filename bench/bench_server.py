"""The server side of the bench: the local Prefect server's database (SQLite, or PostgreSQL with --postgres), the
raw REST writes that are the server's floor, and the reads that check what each push registered.

The bench process itself never imports prefect: it talks to the server with httpx (which prefect ships).
"""
from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

import httpx

POOL = "bench-pool"
PAGE = 200  # the server's default (and maximum) page size


class CheckFailed(Exception):
    """A push (or a write) did not leave on the server exactly what it should have: the bench is void."""


class NoPostgres(RuntimeError):
    """PostgreSQL was asked for and is not installed."""


# the caller's Prefect settings: the server started here (and every prefect-push it runs) must not see them
CALLER_SETTINGS = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_API_DATABASE_CONNECTION_URL",
                   "PREFECT_SERVER_DATABASE_CONNECTION_URL")


@contextmanager
def local_server(tmp: str, *, postgres: bool, log: Callable[[str], None] = lambda msg: None
                 ) -> Iterator[tuple[object, str, "Api"]]:
    """A Prefect server of the bench's own, its home in tmp, on SQLite or (postgres) on a PostgreSQL it starts:
    yields (server, database label, Api); stops them all on the way out. NoPostgres: none installed."""
    from prefect_push import localserver  # the caller put src/ on sys.path; imports no prefect

    for var in CALLER_SETTINGS:
        os.environ.pop(var, None)  # the server localserver starts inherits this environment
    bindir = postgres_bindir() if postgres else None
    if postgres and bindir is None:
        raise NoPostgres("no PostgreSQL binaries (initdb, pg_ctl in /usr/lib/postgresql/*/bin or on PATH)")
    pg = server = api = None
    try:
        db = "SQLite"
        if bindir is not None:
            pg = start_postgres(bindir, localserver.free_port())
            os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = pg.url
            found = re.search(r"\d+(?:\.\d+)+", pg.version)
            db = f"PostgreSQL {found.group(0) if found else '?'}"
            log(f"PostgreSQL up in {pg.base}")
        log(f"starting a Prefect server ({db}) in {tmp}")
        server = localserver.start(os.path.join(tmp, "prefect-home"))
        log(f"server at {server.url}")
        api = Api(server.url)
        yield server, db, api
    finally:
        if api is not None:
            api.close()
        if server is not None:
            server.stop()
        if pg is not None:
            pg.stop()


# --- PostgreSQL (optional): Debian's postgresql package, run as a non-root user in a temp dir ---

def postgres_bindir() -> str | None:
    def version(path: str) -> tuple[int, ...]:
        part = path.rstrip("/").split("/")[-2]
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True):
        if all(os.access(os.path.join(bindir, b), os.X_OK) for b in ("initdb", "pg_ctl", "createdb")):
            return bindir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl") and shutil.which("createdb"):
        return os.path.dirname(initdb)
    return None


@dataclass
class Postgres:
    base: str
    data: str
    bindir: str
    runner: list[str]
    url: str
    version: str

    def stop(self) -> None:
        subprocess.run([*self.runner, os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                        "stop"], cwd=self.base, capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)


def start_postgres(bindir: str, port: int) -> Postgres:
    """initdb + pg_ctl start in a fresh temp dir (trust auth on 127.0.0.1 only) and a `prefect` database."""
    base = tempfile.mkdtemp(prefix="prefect-push-bench-pg-")
    runner: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if user is None:
            raise RuntimeError("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as")
        pw = pwd.getpwnam(user)
        runner = (["runuser", "-u", user, "--"] if shutil.which("runuser")
                  else ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"])
        os.chmod(base, 0o755)
        os.chown(base, pw.pw_uid, pw.pw_gid)
    data = os.path.join(base, "data")

    def run(*cmd: str) -> str:
        proc = subprocess.run([*runner, *cmd], cwd=base, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    try:
        run(os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8")
        run(os.path.join(bindir, "pg_ctl"), "-D", data, "-l", os.path.join(base, "postgres.log"), "-w", "-t", "60",
            "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1", "start")
        run(os.path.join(bindir, "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect")
        version = run(os.path.join(bindir, "pg_ctl"), "--version").strip()
    except BaseException:
        subprocess.run([*runner, os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "stop"], cwd=base,
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
        raise
    return Postgres(base, data, bindir, runner, f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect", version)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


# --- REST ---

class Api:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=120)

    def close(self) -> None:
        self.client.close()

    def _post(self, path: str, body: dict) -> object:
        resp = self.client.post(path, json=body)
        if resp.status_code >= 300:
            raise CheckFailed(f"POST {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json()

    def create_flows(self, names: list[str]) -> list[str]:
        return [self._post("/flows/", {"name": n})["id"] for n in names]  # type: ignore[index]

    def flow_ids(self, prefix: str) -> list[str]:
        """The ids of the flows named `<prefix>-...` (all pages)."""
        ids: list[str] = []
        offset = 0
        while True:
            page = self._post("/flows/filter", {"flows": {"name": {"like_": f"{prefix}-"}}, "limit": PAGE,
                                                "offset": offset, "sort": "NAME_ASC"})
            ids += [f["id"] for f in page if f["name"].startswith(prefix + "-")]  # type: ignore[union-attr,index]
            if len(page) < PAGE:  # type: ignore[arg-type]
                return ids
            offset += PAGE

    def count_deployments(self, name: str) -> int:
        body = {"deployments": {"name": {"any_": [name]}}}
        return self._post("/deployments/count", body)  # type: ignore[return-value]

    # the server floor: the minimal deployment write, over and over
    def raw_writes(self, flow_ids: list[str], name: str, repository: str, writers: int = 1) -> tuple[float, int]:
        """len(flow_ids) deployment writes (one per flow, each a new deployment named `name`), sequential or
        split over `writers` concurrent clients: (wall time of the writes alone, retries).

        A write the server refuses for being busy is sent again after 10 ms, 20 ms, ... (at most 0.5 s) and
        counted. On SQLite a write that collides with another transaction fails with "database is locked", which
        the server answers with 503 within tens of milliseconds; a busy server may also reset a connection.
        Prefect's own client waits 2 s, 4 s, ... before each retry of a 503."""
        bodies = [{"name": name, "flow_id": fid, "work_pool_name": POOL, "entrypoint": f"flows/raw.py:raw_{i}",
                   "pull_steps": [{"prefect.deployments.steps.git_clone": {"repository": repository,
                                                                             "branch": name}}]}
                  for i, fid in enumerate(flow_ids)]
        clients = [self.client] if writers == 1 else [httpx.Client(base_url=self.url, timeout=120)
                                                      for _ in range(writers)]
        retries: list[int] = []
        errors: list[str] = []

        def write(k: int) -> None:
            client = clients[k]
            for body in bodies[k::len(clients)]:
                for attempt in range(40):
                    if attempt:
                        retries.append(1)
                        time.sleep(min(0.5, 0.01 * 2 ** (attempt - 1)))
                    try:
                        resp = client.post("/deployments/", json=body)
                    except httpx.TransportError:  # e.g. a connection the busy server reset
                        continue
                    if resp.status_code == 503:
                        continue
                    if resp.status_code >= 300:
                        errors.append(f"{resp.status_code} {resp.text[:200]}")
                    break
                else:
                    errors.append("refused 40 times (503 or reset)")

        try:
            if writers > 1:  # connections up before the clock starts, as the sequential client's is
                for c in clients:
                    c.get("/health")
            start = time.perf_counter()
            if writers == 1:
                write(0)
            else:
                with ThreadPoolExecutor(writers) as pool:
                    list(pool.map(write, range(writers)))
            took = time.perf_counter() - start
        finally:
            if writers > 1:
                for c in clients:
                    c.close()
        if errors:
            raise CheckFailed(f"raw deployment writes {name!r} failed: {errors[0]} ({len(errors)} failures)")
        got = self.count_deployments(name)
        if got != len(bodies):
            raise CheckFailed(f"raw deployment writes {name!r}: the server has {got} deployments, not {len(bodies)}")
        return took, len(retries)

    def has_pool(self, name: str) -> bool:
        resp = self.client.get(f"/work_pools/{name}")
        if resp.status_code not in (200, 404):
            raise CheckFailed(f"GET /work_pools/{name}: {resp.status_code} {resp.text[:300]}")
        return resp.status_code == 200

    # reads that check a push
    def snapshot(self, prefix: str) -> dict[tuple[str, str], tuple]:
        """Every deployment of the flows named `<prefix>-...`: (flow, deployment) -> (version, branch, updated)."""
        out: dict[tuple[str, str], tuple] = {}
        for flow, d in self._deployments_of(prefix):
            steps = d.get("pull_steps") or [{}]
            branch = (steps[0].get("prefect.deployments.steps.git_clone") or {}).get("branch")
            out[(flow, d["name"])] = (d.get("version"), branch, d.get("updated"))
        return out

    def deployments(self, prefix: str) -> dict[str, dict]:
        """Every deployment of the flows named `<prefix>-...`, by 'flow/deployment': the server's whole record
        (the race check needs the entrypoint, which snapshot leaves out)."""
        return {f"{flow}/{d['name']}": d for flow, d in self._deployments_of(prefix)}

    def _deployments_of(self, prefix: str) -> list[tuple[str, dict]]:
        """(flow name, deployment) for every deployment of the flows named `<prefix>-...`, all pages read."""
        only = {"name": {"like_": f"{prefix}-"}}
        names: dict[str, str] = {}
        offset = 0
        while True:
            page = self._post("/flows/filter", {"flows": only, "limit": PAGE, "offset": offset, "sort": "NAME_ASC"})
            names.update({f["id"]: f["name"] for f in page})  # type: ignore[union-attr,index]
            if len(page) < PAGE:  # type: ignore[arg-type]
                break
            offset += PAGE
        total = self._post("/deployments/count", {"flows": only})
        # CREATED_DESC: the other sorts tie (many deployments share a name), which offset paging cannot page
        seen: dict[str, dict] = {}
        offset = 0
        while True:
            page = self._post("/deployments/filter", {"flows": only, "limit": PAGE, "offset": offset,
                                                      "sort": "CREATED_DESC"})
            seen.update({d["id"]: d for d in page})  # type: ignore[union-attr,index]
            if len(page) < PAGE:  # type: ignore[arg-type]
                break
            offset += PAGE
        if len(seen) != total:
            raise CheckFailed(f"reading deployments of {prefix}-*: paged {len(seen)} of {total}")
        # like_ is a substring match: keep only the flows that start with the prefix
        return [(names.get(d["flow_id"], "?"), d) for d in seen.values()
                if names.get(d["flow_id"], "?").startswith(prefix + "-")]


def expect(what: str, before: dict, after: dict, flows: set[str], deployment: str, sha: str | None,
           branch: str | None = None) -> None:
    """Between two snapshots, exactly `flows` got (re)written as `deployment`, at version `sha` (when given) with a
    git_clone of `branch`; every other deployment is untouched (same version, same update time) and none is gone."""
    want = {(f, deployment) for f in flows}
    touched = {k for k, v in after.items() if before.get(k) != v}
    gone = set(before) - set(after)
    problems = []
    if touched - want:
        problems.append(f"wrote {len(touched - want)} it should not have, e.g. {sorted(touched - want)[:3]}")
    if want - touched:
        problems.append(f"did not write {len(want - touched)} it should have, e.g. {sorted(want - touched)[:3]}")
    if gone:
        problems.append(f"deleted {len(gone)}, e.g. {sorted(gone)[:3]}")
    for key in sorted(want & touched):
        version, got_branch, _ = after[key]
        if sha is not None and version != sha:
            problems.append(f"{key[0]}/{key[1]} has version {version!r}, not the pushed {sha[:12]}")
            break
        if branch is not None and got_branch != branch:
            problems.append(f"{key[0]}/{key[1]} clones branch {got_branch!r}, not {branch!r}")
            break
    if problems:
        raise CheckFailed(f"{what}: " + "; ".join(problems))
