"""The Prefect edge: the only module that talks to the Prefect API (imported only when a plan needs it).

Reads the marker and existing deployments, applies a plan, advances the marker only when every action of a
ref succeeded.
"""
from __future__ import annotations

import hashlib
import os
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from typing import Any, Callable

from . import compat, git
from .api import bodies
from .api.client import Api, build, is_cloud
from .api.settings import ApiSettings, resolve
from .errors import ServerError, describe, write_error
from .read.config import Config
from .engine import Blocked
from .plan import REF_TAG, REPO_TAG, Action, Existing, Op, RefPlan, Target, deployment_description, deployment_tags
from .deploy_fields import entry_fields, pull_steps, schedules
from .prefectyaml_apply import entry_of
from .read.schema import parameter_schema
from .status import Registered

PAGE = 200
CLIENT_ENV = "PREFECT_PUSH_CLIENT"  # "prefect": talk through Prefect's own client (tests/test_api_paths.py)


def _full_path_asked() -> bool:
    return os.environ.get(CLIENT_ENV, "").strip().lower() == "prefect"


_SETTINGS: dict[tuple, tuple[ApiSettings, bool]] = {}


def settings() -> tuple[ApiSettings, bool]:
    """The API settings and whether they were settled without Prefect (False: Prefect's own, read through its
    settings: a source api.settings cannot settle, or PREFECT_PUSH_CLIENT=prefect). Read once per environment
    and directory."""
    # Where Prefect's own client is used (settings only Prefect can settle, PREFECT_PUSH_CLIENT=prefect, a
    # prefect.yaml entry's blocks), its retries wait 2, 4, 8, ... s: one 503 from a busy SQLite server cost a push
    # 2 s; api.client.Api retries from 10 ms instead. Set here, on the push's first question about its server,
    # before prefect is imported (Prefect reads its settings then), not on importing this module (a test process
    # would pass it on to the workers it starts); an explicit setting of the user's is kept.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "0")
    key = (tuple(sorted((k, v) for k, v in os.environ.items()
                        if k.upper().startswith("PREFECT_") or k in ("SSL_CERT_FILE", "HOME"))), os.getcwd())
    if key not in _SETTINGS:
        fast = None if _full_path_asked() else resolve(os.environ, os.getcwd())
        _SETTINGS[key] = (fast, True) if fast is not None else (_prefect_settings(), False)
    return _SETTINGS[key]


def _prefect_settings() -> ApiSettings:
    """The same settings as Prefect's client reads them (imports prefect: ~0.9 s)."""
    from prefect.settings import get_current_settings

    s = get_current_settings()

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if hasattr(value, "get_secret_value") else value

    return ApiSettings(url=s.api.url, key=secret(s.api.key), auth_string=secret(s.api.auth_string),
                       tls_insecure_skip_verify=s.api.tls_insecure_skip_verify, ssl_cert_file=s.api.ssl_cert_file,
                       custom_headers=dict(s.client.custom_headers), csrf_support=s.client.csrf_support_enabled,
                       request_timeout=s.api.request_timeout, enable_http2=s.api.enable_http2,
                       cloud_api_url=s.cloud.api_url)


def api_url(strict: bool = False) -> str:
    """The API URL as printed: never a user:password@ it may carry."""
    try:
        url = settings()[0].url
        return git.strip_credentials(url) if url else "(no PREFECT_API_URL: Prefect's ephemeral local server)"
    except Exception:
        if strict:
            raise
        return "(Prefect settings unreadable)"


def auth_refused(status: int) -> str:
    """One line for a 401/403: which credential to set, and whether one was sent (never its value)."""
    s = settings()[0]
    sent = [name for name, value in (("PREFECT_API_AUTH_STRING", s.auth_string), ("PREFECT_API_KEY", s.key))
            if value]
    what = f"it refused the {' and '.join(sent)} that is set" if sent else "no credentials are set"
    return (f"Prefect API at {api_url()} answered {status} {'Unauthorized' if status == 401 else 'Forbidden'} "
            f"({what}): set PREFECT_API_AUTH_STRING to the server's user:password (its "
            "PREFECT_SERVER_API_AUTH_STRING), or PREFECT_API_KEY for Prefect Cloud")


def check_configured() -> None:
    if not settings()[0].url:
        # Prefect would fall back to a throwaway ephemeral server that no worker watches
        raise Blocked("no Prefect API configured: set PREFECT_API_URL (or `prefect config set PREFECT_API_URL=...` "
                      "in your profile) to the server your workers use")


def _marker_digest(repository: str, ref: str) -> str:
    return hashlib.sha256(f"{repository}\n{ref}".encode()).hexdigest()[:32]


def marker_name(repository: str, ref: str) -> str:
    # A Variable name for the (repository, ref) pair: lowercase letters, digits and underscores only, the rule
    # of every 3.x server (3.0.11 to 3.3.7 refuse a hyphen with 422; 3.4.25 allows it).
    return f"prefect_push_{_marker_digest(repository, ref)}"


def legacy_marker_name(repository: str, ref: str) -> str:
    """The name earlier prefect-push releases wrote: still read, so a ref registered by them keeps its marker,
    and removed when the new name is written."""
    return f"prefect-push-{_marker_digest(repository, ref)}"


@dataclass
class Activity:
    """What the server phase's watchdog reads (registrar.run): when the API last answered. `timeout` bounds a
    silent server, not the size of the work, so every answer counts as progress."""
    last_answer: float = field(default_factory=time.monotonic)
    progress: Callable[[int, int], None] | None = None  # (written, of) during a batch of writes

    def answered(self) -> None:
        self.last_answer = time.monotonic()


# Set by registrar.run for its server phase; a context variable, so that the tasks it starts see it and nothing
# outside it does (status, prune and tests build a Server without one).
ACTIVITY: ContextVar[Activity | None] = ContextVar("prefect_push_activity", default=None)


class Record(dict):
    """An answer of the API (a deployment, a flow, a pool, a variable) read by attribute; a field an older
    server does not send reads None."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def _records(answer: Any) -> list[Record]:
    """A list answer's objects; anything else (a proxy's or gateway's page, say) is said, never read as none."""
    if not isinstance(answer, list) or not all(isinstance(a, dict) for a in answer):
        raise ServerError(f"Prefect API at {api_url()} answered a read with {type(answer).__name__}, not a list "
                          "of objects (a proxy in between?)")
    return [Record(a) for a in answer]


def _record(answer: Any) -> Record:
    if not isinstance(answer, dict):
        raise ServerError(f"Prefect API at {api_url()} answered with {type(answer).__name__}, not an object "
                          "(a proxy in between?)")
    return Record(answer)


def _when(text: Any) -> Any:
    """A timestamp of the API as a datetime (None: none, or unreadable)."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


async def _fail_fast(response: Any) -> None:
    from .api.client import RETRY_STATUS

    if response.status_code in RETRY_STATUS:
        await response.aread()
        response.raise_for_status()


def _status(exc: BaseException) -> int | None:
    import httpx

    return exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None


class Server:
    """One API client for the whole push: httpx set up from the settings, or Prefect's own (see settings)."""

    def __init__(self, writers: int = 1, *, adaptive: bool = False) -> None:
        self.writers = writers  # deployment writes in flight at once
        self.adaptive = adaptive  # one at a time from the first busy answer on (see registrar.writers_for)
        self._activity = ACTIVITY.get()
        self._settings, self.fast = settings()
        self._prefect: Any = None  # Prefect's client: the full path's transport, or for what only Prefect does
        self._stack: Any = None
        answered = self._activity.answered if self._activity is not None else None
        if self.fast:
            self._client = Api(build(self._settings), csrf=self._settings.csrf_support
                               and not is_cloud(self._settings), answered=answered)
        else:
            from prefect.client.orchestration import get_client

            self._prefect = get_client()
            self._client = Api(self._prefect._client, csrf=False, answered=answered)  # it does CSRF itself
        self._flow_ids: dict[str, Any] = {}
        self._pools: dict[str, Any] = {}
        self._pool_names: list[str] | None = None  # every pool's name, read once a push when one is missing
        self._limited: set[tuple[str, str]] = set()  # (flow, deployment) read with a concurrency limit
        self.version: compat.Version | None = None  # the server's, read once in check_reachable; None: unknown
        self._legacy_markers: set[str] = set()  # markers read under legacy_marker_name: renamed on the next write
        self._resolved: dict[tuple[str, str, str, str], Any] = {}  # prefect.yaml entry -> prefectyaml_resolve.Resolved

    @property
    def busy(self) -> bool:
        """The server answered busy (503: a SQLite-backed one does, to concurrent writers; 429) at least once."""
        return self._client.busy_answers > 0

    async def __aenter__(self) -> "Server":
        from contextlib import AsyncExitStack

        self._stack = AsyncExitStack()
        await self._stack.__aenter__()
        if self._prefect is not None:
            await self._stack.enter_async_context(self._prefect)
            # Prefect's client sleeps 2**n s after a retryable status even with retries off, before it returns
            # the response: raise at once instead, so Api's short backoff decides
            self._prefect._client.event_hooks["response"].append(_fail_fast)
        else:
            await self._stack.enter_async_context(self._client.http)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._stack.__aexit__(*exc)

    async def _unless(self, absent: tuple[int, ...], method: str, path: str, **kwargs: Any) -> Any:
        """A request's answer, or None where the server answers one of `absent` (no such object, say): what
        Prefect's client turns into ObjectNotFound or ObjectAlreadyExists."""
        try:
            return await self._client.request(method, path, **kwargs)
        except Exception as exc:
            if _status(exc) not in absent:
                raise
            return None

    async def prefect_client(self) -> Any:
        """Prefect's own client, for what only Prefect does (a prefect.yaml entry's blocks and variables):
        started on first use, closed with the server."""
        if self._prefect is None:
            from prefect.client.orchestration import get_client

            self._prefect = await self._stack.enter_async_context(get_client())
            self._prefect._client.event_hooks["response"].append(_fail_fast)  # as in __aenter__: no 2 s sleep
        return self._prefect

    async def check_reachable(self) -> None:
        try:  # no retry: an unreachable server is said at once
            await self._client.send("GET", "/health")
        except Exception as error:  # noqa: BLE001 - any failure is the line below
            raise ServerError(f"Prefect API at {api_url()} is unreachable ({describe(error)})") from None
        if self._activity is not None:
            self._activity.answered()
        await self._read_version()

    async def _read_version(self) -> None:
        """The server's version, once per push: writes leave out what it does not accept (compat.FIELDS). The
        first request that needs credentials (/health does not), so a refused one is said here."""
        import httpx

        text = None
        try:
            response = await self._client.request("GET", "/admin/version")
            text = response.json()
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code in (401, 403):
                raise Blocked(auth_refused(exc.response.status_code)) from None
            return  # a server (or proxy) without it: assume it takes all we send
        except Exception:  # noqa: BLE001 - as above
            return
        self.version = compat.parse_version(text if isinstance(text, str) else None)
        if self.version is not None and self.version[0] < compat.MIN_MAJOR:
            # a setup error, before any write: Blocked, which on-error = "warn" does not cover
            raise Blocked(f"Prefect server at {api_url()} is {text}: prefect-push needs a Prefect 3 server")

    # --- marker: the last commit of (repository, ref) whose registration fully succeeded ---
    async def marker(self, target: Target) -> str | None:
        """One read for both names: the current one wins; a marker found only under the legacy name counts,
        and is renamed when the marker is next written."""
        return (await self.marker_and_time(target))[0]

    async def marker_and_time(self, target: Target) -> tuple[str | None, Any]:
        """The marker's commit and when it was last written (None, None: no marker)."""
        name, legacy = marker_name(target.repository, target.ref), legacy_marker_name(target.repository, target.ref)
        response = await self._client.request("POST", "/variables/filter",
                                              json=bodies.read_variables([name, legacy], 2))
        found = {v.name: v for v in _records(response.json())}
        if legacy in found:
            self._legacy_markers.add(legacy)
        var = found.get(name) or found.get(legacy)
        if var is None or not isinstance(var.value, dict):
            return None, None
        return var.value.get("commit"), _when(var.updated)

    async def set_marker(self, target: Target) -> None:
        name = marker_name(target.repository, target.ref)
        value = {"repository": target.repository, "ref": target.ref, "commit": target.commit}
        update = ("PATCH", f"/variables/name/{name}")
        if await self._unless((404,), *update, json=bodies.update_variable(name, value)) is None:  # one call
            # when the ref was registered before; else created, or updated where a push of the same ref from
            # another clone created it meanwhile (409)
            created = bodies.create_variable(name, value, ["prefect-push"])
            if await self._unless((409,), "POST", "/variables/", json=created) is None:
                await self._client.request(*update, json=bodies.update_variable(name, value))
        legacy = legacy_marker_name(target.repository, target.ref)
        if legacy in self._legacy_markers:  # migrated: the new name holds it now
            await self._delete_variable(legacy)
            self._legacy_markers.discard(legacy)

    async def delete_marker(self, target: Target) -> None:
        await self._delete_variable(marker_name(target.repository, target.ref))
        await self._delete_variable(legacy_marker_name(target.repository, target.ref))

    async def _delete_variable(self, name: str) -> None:
        # 404: none; 422: a server that refuses the name itself has no such variable
        await self._unless((404, 422), "DELETE", f"/variables/name/{name}")

    # --- reads ---
    async def _deployments(self, **filters: Any) -> list[Any]:
        """Every deployment the filters match. Paged newest first: the default order (by name) has no tiebreak,
        and every flow's deployment of one ref has the same name; a deployment created meanwhile only shifts
        pages down, and the repeat is dropped by id."""
        out, seen, offset = [], set(), 0
        while True:
            response = await self._client.request("POST", "/deployments/filter", json=bodies.read_deployments(
                limit=PAGE, offset=offset, sort="CREATED_DESC", **filters))
            page = _records(response.json())
            out.extend(d for d in page if d.id not in seen)
            seen.update(d.id for d in page)
            if len(page) < PAGE:
                return out
            offset += PAGE

    async def _flow_names(self, flow_ids: set[Any]) -> dict[Any, str]:
        if not flow_ids:
            return {}
        ids, names = sorted(flow_ids, key=str), {}
        for i in range(0, len(ids), PAGE):  # the server answers at most PAGE flows a read
            flows = await self._read_flows(bodies.flow_filter(ids=ids[i:i + PAGE]))
            names.update({f.id: f.name for f in flows})
        return names

    async def _read_flows(self, flows: dict[str, Any]) -> list[Record]:
        response = await self._client.request("POST", "/flows/filter",
                                              json=bodies.read_flows(flows=flows, limit=PAGE))
        return _records(response.json())

    async def _as_existing(self, deployments: list[Any]) -> list[Existing]:
        names = await self._flow_names({d.flow_id for d in deployments})
        self._limited.update((names.get(d.flow_id, "?"), d.name) for d in deployments if d.global_concurrency_limit)
        return [Existing(str(d.id), names.get(d.flow_id, "?"), d.name, d.version, tuple(d.tags or ()), d.entrypoint)
                for d in deployments]

    async def existing(self, flow_names: set[str], deployment_names: set[str]) -> list[Existing]:
        if not flow_names:
            return []
        deployments = await self._deployments(flows=bodies.flow_filter(names=sorted(flow_names)),
                                               deployments=bodies.deployment_filter(names=sorted(deployment_names)))
        return await self._as_existing(deployments)

    async def ref_deployments(self, target: Target) -> list[Existing]:
        deployments = await self._deployments(deployments=bodies.deployment_filter(
            all_tags=[REF_TAG + target.ref, REPO_TAG + target.repository]))
        return await self._as_existing(deployments)

    async def check_settings(self, config: Config, where: str, writes: list[Action]) -> None:
        """What the writes name must exist and fit before anything is written: nothing half-registered.

        Each runtime's work pool must exist and its job variables must fit the pool's base job template; a flow's
        default parameters must fit its parameter schema; a credentials Secret block must exist. Every problem
        is reported at once, one line each: one push to learn them all.
        """
        problems: list[str] = await self._resolve_entries(writes)
        checked: set[str] = set()
        for action in writes:
            runtime, spec = action.runtime, action.flow
            if runtime is None or spec is None:
                continue
            resolved, entry = self.resolved(action), entry_of(spec)
            if resolved is None and entry is not None:
                continue  # its entry was refused, and said so: the pool it would name is unknown, not missing
            if spec.settings.parameters:
                problem = _validation_problem(dict(spec.settings.parameters), parameter_schema(spec))
                if problem:
                    problems.append(f"{spec.path}:{spec.line}: PREFECT_PUSH parameters of flow "
                                    f"{spec.flow_name!r}: {problem}")
            if resolved is not None and resolved.parameters and resolved.enforce_parameter_schema:
                # as the server checks them on every run: a misspelt parameter stops the push, not each run
                problem = _validation_problem({**dict(spec.settings.parameters), **resolved.parameters},
                                              parameter_schema(spec))
                if problem:
                    problems.append(f"{entry.where('parameters')}: deployment {entry.name!r}: parameters: {problem}")
            if resolved is not None and resolved.work_pool_name:
                continue  # its entry names the pool: checked in _resolve_entries
            if runtime.name in checked:
                continue
            checked.add(runtime.name)
            who = f"{spec.path} (flow {spec.flow_name!r}, runtime {runtime.name!r})"
            if runtime.work_pool is None:
                problems.append(f"{where}: no work-pool set; add `[tool.prefect-push]` with `work-pool = \"<pool>\"` "
                                f"(the pool whose workers run the flows) to pyproject.toml (needed by {who})")
                continue
            pool, problem = await self._pool_problem(runtime.work_pool, runtime.job_variables)
            if pool is None:
                problems.append(f"{where}: {await self._missing_pool(runtime.work_pool)} (needed by {who})")
            elif problem:
                problems.append(f"{who}: {problem} (work pool {pool.name!r}, type {pool.type}; see "
                                f"`prefect work-pool inspect {pool.name}`)")
        if config.credentials:
            block = await self._unless((404,), "GET", f"/block_types/slug/secret/block_documents/name/"
                                       f"{config.credentials}", params={"include_secrets": True})  # as the client
            if block is None:
                problems.append(
                    f"{where}: credentials Secret block {config.credentials!r} does not exist on {api_url()}; create "
                    "it in the UI or with prefect.blocks.system.Secret(value=...).save(name)")
        if problems:
            raise Blocked("\n".join(problems))

    @staticmethod
    def _entry_key(entry: Any) -> tuple[str, str, str, str, str]:
        # the fingerprint too: one push's refs may carry two versions of one entry (main and a branch)
        return (entry.file, entry.flow_path, entry.function, entry.name, entry.fingerprint)

    def resolved(self, action: Action) -> Any:
        """The prefect.yaml entry the action's deployment carries, as `prefect deploy` would store it; None: none."""
        entry = entry_of(action.flow)
        return self._resolved.get(self._entry_key(entry)) if entry is not None else None

    async def _resolve_entries(self, writes: list[Action]) -> list[str]:
        """Each prefect.yaml entry of the writes resolved as `prefect deploy` resolves it (templates, blocks and
        variables from this server, schedules, triggers), its work pool read and its job variables checked
        against the pool's template: one line each, naming prefect.yaml:line and the entry, before any write."""
        entries = {self._entry_key(e): e for a in writes if (e := entry_of(a.flow)) is not None}
        if not entries:
            return []
        from .read.prefectyaml import PrefectYamlError
        from .read.prefectyaml_resolve import client_resolver, resolve as resolve_entry

        problems = []
        for key, entry in entries.items():
            if key in self._resolved:
                continue
            try:
                resolved = self._resolved[key] = await resolve_entry(entry,
                                                                     client_resolver(await self.prefect_client()))
            except PrefectYamlError as exc:
                problems.append(str(exc))
                continue
            if not resolved.work_pool_name:
                continue  # the runtime's pool ([tool.prefect-push] work-pool), checked with the others
            pool, problem = await self._pool_problem(resolved.work_pool_name, resolved.job_variables)
            if pool is None:
                problems.append(f"{entry.where('work_pool', 'name')}: deployment {entry.name!r}: "
                                f"{await self._missing_pool(resolved.work_pool_name)}")
            elif problem:
                problems.append(f"{entry.where('work_pool', 'job_variables')}: deployment {entry.name!r}: {problem} "
                                f"(work pool {pool.name!r}, type {pool.type})")
        return problems

    async def _missing_pool(self, name: str) -> str:
        """What to say of a work pool the server lacks: the server's pool of a near name (a typo), and the command
        that creates it (a new pool)."""
        from .read.suggest import did_you_mean

        if self._pool_names is None:
            try:
                self._pool_names = [p.name for p in await self.work_pools()]
            except Exception:  # noqa: BLE001 - the suggestion is a help: the line says the pool is missing anyway
                self._pool_names = []
        return (f"work-pool {name!r} does not exist on {api_url()}{did_you_mean(name, self._pool_names)}; create "
                f"it with `prefect work-pool create {name} --type process`")

    async def work_pools(self) -> list[Record]:
        response = await self._client.request("POST", "/work_pools/filter", json=bodies.read_work_pools())
        return _records(response.json())

    async def _pool_problem(self, name: str, job_variables: dict[str, Any]) -> tuple[Any, str | None]:
        """The work pool (read once a push; None: the server has none of that name) and what is wrong with job
        variables for it, judged by its base job template (None: they fit)."""
        pool = self._pools.get(name)
        if pool is None:
            response = await self._unless((404,), "GET", f"/work_pools/{name}")
            if response is None:
                return None, None
            pool = self._pools[name] = _record(response.json())
        return pool, job_variables_problem(job_variables, pool.base_job_template or {})

    async def known_flow_ids(self, names: set[str]) -> None:
        """One read for the ids of flows the server already has: a write per flow only for new flow names."""
        missing = sorted(n for n in names if n not in self._flow_ids)
        if missing:
            for i in range(0, len(missing), PAGE):
                flows = await self._read_flows(bodies.flow_filter(names=missing[i:i + PAGE]))
                self._flow_ids.update({f.name: f.id for f in flows})

    # --- writes ---
    async def apply(self, plan: RefPlan, config: Config) -> list[tuple[Action, str | None]]:
        """Apply a ref's actions, up to `writers` writes in flight (1 for a SQLite server, which answers
        concurrent writers 503); each request is built while earlier ones are in flight. Returns (action, error
        or None) for each."""
        import asyncio
        from collections import deque

        results: list[tuple[Action, str | None]] = []
        in_flight: deque[tuple[Action, asyncio.Task]] = deque()
        progress = self._activity.progress if self._activity is not None else None
        total = sum(action.op is not Op.SKIP for action in plan.actions)
        written = 0

        def done(action: Action, error: str | None) -> None:
            nonlocal written
            results.append((action, error))
            if action.op is not Op.SKIP and progress is not None:
                written += 1
                progress(written, total)
        # new flows first (a write names its flow's id), as many at once as the writes
        await self._create_flows(list(dict.fromkeys(a.flow.flow_name for a in plan.writes if a.flow is not None
                                                    and a.flow.flow_name not in self._flow_ids)))

        async def settle() -> None:
            action, task = in_flight.popleft()
            try:
                await task
                done(action, None)
            except Exception as exc:  # noqa: BLE001 - reported per action, the marker stays put
                done(action, write_error(exc))

        if progress is not None and total:
            progress(0, total)
        try:
            for action in plan.actions:
                if action.op is Op.SKIP:
                    done(action, None)
                    continue
                try:
                    if action.op is Op.DELETE:
                        write = self.delete_deployment(action.existing_id)  # gone already counts as done
                    elif action.op is Op.PAUSE:
                        write = self.pause(action.existing_id)
                    else:
                        write = self._create_deployment(
                            self._deployment_payload(await self._deployment(action, plan.target, config)),
                            self.resolved(action))
                except Exception as exc:  # noqa: BLE001 - the flow could not be created: this action fails
                    done(action, describe(exc))
                    continue
                if self.adaptive and self.busy:
                    self.writers = 1  # busy with what is in flight already: one at a time from here
                try:
                    while len(in_flight) >= self.writers:
                        await settle()
                except BaseException:
                    write.close()  # never started: no "never awaited" warning on the way out
                    raise
                in_flight.append((action, asyncio.ensure_future(write)))
                # Let the write reach the socket before the next request is built (a parameter schema is ~6 ms
                # of CPU): the task passes several of httpx's checkpoints before it sends, so one sleep(0) was not
                # enough and each build delayed its write. A timer lets the loop run it until it waits on the
                # response; the millisecond is spent while the server works on the write.
                await asyncio.sleep(0.001)
            while in_flight:
                await settle()
        except BaseException:  # cancelled (the watchdog's timeout) or worse: no write left running unowned
            for _, task in in_flight:
                task.cancel()
            await asyncio.gather(*(task for _, task in in_flight), return_exceptions=True)
            raise
        order = {id(a): i for i, a in enumerate(plan.actions)}
        return sorted(results, key=lambda r: order[id(r[0])])

    async def _create_flows(self, names: list[str]) -> None:
        """Flows the server does not have yet, up to `writers` at once (one at a time from a busy answer on, as
        the writes): a monorepo's first `register --all` creates thousands. One that fails fails its actions."""
        import asyncio

        async def one(name: str) -> None:
            try:
                self._flow_ids[name] = await self._create_flow(name)
            except Exception:  # noqa: BLE001 - that action fails below, by name
                pass
        while names:
            n = 1 if self.adaptive and self.busy else max(1, self.writers)
            await asyncio.gather(*(one(name) for name in names[:n]))
            names = names[n:]

    @staticmethod
    def _deployment_payload(fields: dict[str, Any]) -> dict[str, Any]:
        """Prefect's client.create_deployment's request body, sending only the fields given (validated by
        Prefect's own DeploymentCreate): create_deployment always sends `concurrency_limit: null`, which makes the
        server load and clear the deployment's limit on every write, 3.4 ms of a 36.5 ms write (measured,
        SQLite). Here the limit is sent only when there is one to set or to take away. Built apart from the
        write so that it is built while the previous write is in flight. api.bodies builds it as plain data; a
        value it cannot vouch for (Unsettled) has it built through Prefect's DeploymentCreate."""
        try:
            return bodies.create_deployment(fields)
        except bodies.Unsettled:
            return prefect_deployment_payload(fields)

    async def _create_flow(self, name: str) -> Any:
        """client.create_flow_from_name, without what this server does not accept (3.0 rejects `labels`)."""
        payload = compat.drop_unsupported(bodies.create_flow(name), "/flows/", self.version)
        response = await self._client.request("POST", "/flows/", json=payload)
        flow_id = response.json().get("id")
        if not flow_id:
            raise ServerError(f"Prefect API at {api_url()} answered a flow write without an id")
        return str(flow_id)

    async def _create_deployment(self, payload: dict[str, Any], resolved: Any = None) -> Any:
        payload = compat.drop_unsupported(payload, "/deployments/", self.version)
        response = await self._client.request("POST", "/deployments/", json=payload)
        deployment_id = response.json().get("id")
        if not deployment_id:
            raise ServerError(f"Prefect API at {api_url()} answered a deployment write without an id")
        if resolved is not None and (resolved.triggers or resolved.entry.config.get("triggers") is not None):
            await self._set_triggers(deployment_id, resolved.triggers)
        return deployment_id

    async def _set_triggers(self, deployment_id: str, triggers: list[Any]) -> None:
        """A prefect.yaml entry's triggers as `prefect deploy` makes them: the deployment's own automations
        replaced by one per trigger, each tied to (owned by) this deployment."""
        from uuid import UUID

        await self._client.request("DELETE", f"/automations/owned-by/prefect.deployment.{deployment_id}")
        for trigger in triggers:
            trigger = trigger.model_copy(deep=True)  # one entry's triggers serve several refs' deployments
            trigger.set_deployment_id(UUID(str(deployment_id)))
            # as client.create_automation sends it (the triggers are Prefect's models: prefect.yaml read them)
            await self._client.request("POST", "/automations/", json=trigger.as_automation().model_dump(mode="json"))

    async def _deployment(self, action: Action, target: Target, config: Config) -> dict[str, Any]:
        """The deployment's fields for a REGISTER/UPDATE action (creating the flow when it is new)."""
        spec, runtime = action.flow, action.runtime
        assert spec is not None and runtime is not None and target.commit is not None
        flow_id = self._flow_ids.get(spec.flow_name)
        if flow_id is None:  # its creation failed in apply: once more, and this action fails if it fails again
            flow_id = self._flow_ids[spec.flow_name] = await self._create_flow(spec.flow_name)
        fields = dict(
            flow_id=flow_id,
            name=action.deployment,
            version=target.commit,
            version_info=dict(type="vcs:git", version=target.commit, commit_sha=target.commit,
                              message=target.message, branch=target.short,
                              repository=target.repository, url=target.clone_url),
            entrypoint=spec.entrypoint,
            pull_steps=pull_steps(target, config, runtime.pull),
            parameter_openapi_schema=parameter_schema(spec),
            work_pool_name=runtime.work_pool,
            work_queue_name=runtime.work_queue,
            job_variables=dict(runtime.job_variables),
            parameters=dict(spec.settings.parameters),
            schedules=schedules(spec.settings, live=action.schedule_live),
            tags=deployment_tags(target, config, action),
            # "" rather than None: the server stores a None description as the text 'None' (prefect 3.9.1)
            description=deployment_description(target, spec.description or ""),
            labels={}, path=None, storage_document_id=None, infrastructure_document_id=None,  # as Prefect sends them
            # a limit to set, or one the deployment had and must lose: see _create_deployment
            **({"concurrency_limit": runtime.concurrency, "concurrency_options": None}
               if runtime.concurrency is not None or (spec.flow_name, action.deployment) in self._limited else {}),
        )
        resolved = self.resolved(action)
        if resolved is not None:
            fields.update(entry_fields(resolved, action, target, config, limited=(spec.flow_name, action.deployment)
                                       in self._limited))
        return fields

    # --- schedules: one live schedule per flow where it can be ---
    async def live_schedules(self, repository: str, flow_names: set[str]) -> list[tuple[Any, str, str]]:
        """(deployment, flow name, ref) of this repository's deployments of these flows with an active schedule."""
        deployments = await self._deployments(flows=bodies.flow_filter(names=sorted(flow_names)),
                                              deployments=bodies.deployment_filter(all_tags=[REPO_TAG + repository]))
        names = await self._flow_names({d.flow_id for d in deployments})
        out = []
        for d in deployments:
            ref = next((t[len(REF_TAG):] for t in d.tags or () if t.startswith(REF_TAG)), None)
            if ref and any(s.get("active") for s in d.schedules or ()):
                out.append((d, names.get(d.flow_id, "?"), ref))
        return out

    async def firing_elsewhere(self, flow_names: set[str]) -> list[Existing]:
        """Deployments of these flows made without prefect-push (no prefect-push tag), not paused, with a schedule
        that is active: they fire beside what prefect-push schedules (registrar._pause_beside)."""
        from .plan import TOOL_TAG

        deployments = await self._deployments(flows=bodies.flow_filter(names=sorted(flow_names)))
        firing = [d for d in deployments if TOOL_TAG not in (d.tags or ()) and not getattr(d, "paused", False)
                  and any(s.get("active") for s in d.schedules or ())]
        return await self._as_existing(firing)

    async def pause(self, deployment_id: str) -> None:
        """Pause a deployment (its schedules stop creating runs; unpausing brings them back as they were)."""
        await self._client.request("PATCH", f"/deployments/{deployment_id}", json=bodies.pause_deployment())

    async def switch_off_schedules(self, deployment: Any) -> None:
        for s in deployment.schedules or ():
            if s.get("active"):
                await self._client.request("PATCH", f"/deployments/{deployment.id}/schedules/{s['id']}",
                                           json=bodies.schedule_active(False))

    # --- status and prune: everything prefect-push registered for one repository ---
    async def repo_deployments(self, repository: str) -> list[Registered]:
        from .plan import TOOL_TAG

        # both tags: a deployment someone tagged git-repo:... by hand is not ours to list or prune
        deployments = await self._deployments(deployments=bodies.deployment_filter(
            all_tags=[TOOL_TAG, REPO_TAG + repository]))
        names = await self._flow_names({d.flow_id for d in deployments})
        return [Registered(str(d.id), names.get(d.flow_id, "?"), d.name,
                           next((t[len(REF_TAG):] for t in d.tags or () if t.startswith(REF_TAG)), None),
                           d.version, _when(d.updated), d.work_pool_name, tuple(d.tags or ()))
                for d in deployments]

    async def delete_deployment(self, deployment_id: str) -> None:
        await self._unless((404,), "DELETE", f"/deployments/{deployment_id}")  # gone: what a plan or prune wanted
        try:  # the automations of its prefect.yaml triggers go with it (the server keeps them otherwise)
            await self._client.request("DELETE", f"/automations/owned-by/prefect.deployment.{deployment_id}")
        except Exception:  # noqa: BLE001 - a server without automations has none to leave behind
            pass


def prefect_deployment_payload(fields: dict[str, Any]) -> dict[str, Any]:
    """client.create_deployment's body through Prefect's own DeploymentCreate, with only the fields given (see
    Server._deployment_payload): the reference api.bodies is held to, and its fallback."""
    from prefect.client.schemas.actions import DeploymentCreate

    deployment = DeploymentCreate(**fields)
    payload = deployment.model_dump(mode="json", exclude_unset=True)
    if deployment.version_info is not None:  # as create_deployment sends it: every field, defaults too
        payload["version_info"] = deployment.version_info.model_dump(mode="json")
    return payload


def job_variables_problem(job_variables: dict[str, Any], base_job_template: dict[str, Any]) -> str | None:
    """What is wrong with job variables for a pool, judged by the pool's base job template; None: they fit."""
    variables = base_job_template.get("variables") or {}
    known = variables.get("properties") or {}
    if not variables.get("additionalProperties"):
        for key in job_variables:
            if key not in known:
                return (f"job variable {key!r} is not a variable of this pool "
                        f"(it has: {', '.join(sorted(known)) or 'none'})")
    return _validation_problem(job_variables, variables)


def _validation_problem(values: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """JSON-schema check as Prefect's server and workers apply it (required keys ignored: the pool's defaults
    fill them), as one line. jsonschema directly: prefect.utilities.schema_tools costs 0.2 s to import."""
    if not values:
        return None  # nothing set, nothing to contradict the schema
    import jsonschema

    def no_required(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: no_required(v) for k, v in node.items() if k != "required"}
        if isinstance(node, list):
            return [no_required(v) for v in node]
        return node

    schema = no_required(schema)
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(values))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    return f"field {where!r}: {error.message}" if where else error.message
