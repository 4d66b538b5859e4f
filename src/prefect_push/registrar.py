"""The server phase of a push: read the marker and deployments, build the final plan, apply it."""
from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace

from . import git, state
from .engine import Blocked, Outcome, Prepared, changed_flows, fork_point, have_commit
from .plan import Action, Op, RefPlan, build, build_ref_deletion
from .push import short_ref


def run(prepared: list[Prepared], cwd: str, *, dry_run: bool) -> Outcome:
    """The server phase. An exception it raises says, in `nothing_written`, whether any write had started."""
    timeout = min(p.config.timeout for p in prepared)
    writing: list[bool] = []  # set once the first write is sent
    try:
        if git.is_shallow(cwd):
            _fetch_bases(prepared, cwd, timeout)
        return asyncio.run(asyncio.wait_for(_run(prepared, cwd, dry_run=dry_run, writing=writing), timeout))
    except TimeoutError:
        from .server import ServerError, api_url

        exc: Exception = ServerError(f"Prefect API at {api_url()} did not finish within {timeout:g}s (timeout in "
                                     "[tool.prefect-push])")
        exc.nothing_written = not writing  # type: ignore[attr-defined]
        raise exc from None
    except Exception as exc:
        exc.nothing_written = not writing  # type: ignore[attr-defined]
        raise


def _fetch_bases(prepared: list[Prepared], cwd: str, timeout: float) -> None:
    """A shallow clone (a CI checkout) first fetches the commits its diff bases need: the server's markers say
    which. Apart from the server phase, because git must not spend its time budget (an unshallow can take
    minutes) and a blocking fetch inside it could not be timed out anyway."""
    todo = [p for p in prepared if p.target.commit is not None and not p.all_flows]
    if not todo:
        return
    markers = asyncio.run(asyncio.wait_for(_markers(todo), timeout))
    for p, marker in zip(todo, markers):
        if marker != p.target.commit:
            diff_base(p, marker, cwd, fetch=True)


async def _markers(prepared: list[Prepared]) -> list[str | None]:
    from .server import Server, check_configured

    check_configured()  # before any client exists, as in _run
    async with Server() as server:
        await server.check_reachable()
        return [await server.marker(p.target) for p in prepared]


async def _run(prepared: list[Prepared], cwd: str, *, dry_run: bool, writing: list[bool]) -> Outcome:
    from .server import Server, api_url, check_configured

    outcome = Outcome(api_url=api_url())
    check_configured()  # before any client exists: building one without a URL starts Prefect's ephemeral server
    writers, adaptive = writers_for(prepared, cwd)
    async with Server(writers, adaptive=adaptive) as server:
        await server.check_reachable()
        for p in prepared:
            outcome.plans.append(await _plan_ref(server, p, cwd))
        problems = [msg for plan in outcome.plans for msg in plan.problems]
        if problems:
            raise Blocked("\n".join(problems))
        writes: dict[str, tuple[Prepared, list]] = {}  # one check per config: the writes of every ref using it
        for p, plan in zip(prepared, outcome.plans):
            if plan.writes and p.target.commit is not None:
                writes.setdefault(p.config_where, (p, []))[1].extend(plan.writes)
        for where, (p, actions) in writes.items():
            await server.check_settings(p.config, where, actions)
        if dry_run:
            return outcome
        await server.known_flow_ids({a.flow_name for plan in outcome.plans for a in plan.writes if a.flow})
        writing.append(True)
        try:
            for i, (p, plan) in enumerate(zip(prepared, outcome.plans)):
                if plan.note and not plan.actions:
                    if p.target.commit is None and not plan.keep_marker:
                        await server.delete_marker(p.target)
                    elif plan.advance_marker:
                        await server.set_marker(p.target)
                    continue
                results = await server.apply(plan, p.config)
                failed = [(a.deployment, err) for a, err in results if err is not None]
                if failed:
                    outcome.errors[i] = failed
                elif p.target.commit is None:
                    await server.delete_marker(p.target)
                else:
                    await server.set_marker(p.target)
                    outcome.warnings += await _settle_schedules(server, plan, cwd)
        finally:  # a timeout or a failure halfway is when a busy server matters most
            if adaptive and server.busy:
                remember_busy(cwd)
    return outcome


# write-concurrency = "auto": a PostgreSQL-backed server (what teams run; Prefect Cloud too) took a 200-flow push
# in 5.35 s with 4 writes in flight against 6.64 s one at a time, while a SQLite-backed one answers the second
# writer 503 and took 17.2 s against 7.95 s (bench/writers.py). So 4 in flight until the server first
# answers busy, then one at a time; a server that did is written one at a time for a week (remembered per API
# URL in the clone), then tried again.
AUTO_WRITERS = 4
BUSY_FOR = 7 * 24 * 3600.0
BUSY = "busy-servers.json"  # hashed API URL -> when it last answered busy


def _server_key() -> str:
    from .server import api_url

    return hashlib.sha256(api_url().encode()).hexdigest()[:16]  # hashed: a URL may carry credentials


def writers_for(prepared: list[Prepared], cwd: str) -> tuple[int, bool]:
    """(writes in flight at once, whether to drop to one at the first busy answer)."""
    fixed = [p.config.write_concurrency for p in prepared if p.config.write_concurrency is not None]
    if fixed:
        return min(fixed), False
    busy = state.read(cwd, BUSY)
    since = busy.get(_server_key()) if isinstance(busy, dict) else None
    if isinstance(since, (int, float)) and time.time() - since < BUSY_FOR:
        return 1, False
    return AUTO_WRITERS, True


def remember_busy(cwd: str) -> None:
    busy = state.read(cwd, BUSY)
    busy = busy if isinstance(busy, dict) else {}
    busy[_server_key()] = time.time()
    try:
        state.write(cwd, BUSY, busy)
    except OSError:
        pass  # a read-only clone: auto tries 4 writers again next time, which costs a retry, not a result


async def _settle_schedules(server, plan: RefPlan, cwd: str) -> list[str]:
    """One live schedule per flow where possible: a tag whose flow now fires switches off that flow's schedule
    on older tags (their commits are ancestors of this one), so tags do not pile up runs; any other live
    schedule of the same flow (main and a tag, say) is left alone and named, since both fire."""
    target = plan.target
    scheduled = {a.flow_name for a in plan.writes
                 if a.op in (Op.REGISTER, Op.UPDATE) and a.flow and a.flow.settings.schedule and a.schedule_live}
    if not scheduled:
        return []
    warnings = []
    for d, flow_name, ref in await server.live_schedules(target.repository, scheduled):
        if ref == target.ref:
            continue
        if (target.is_tag and ref.startswith("refs/tags/") and d.version and target.commit
                and git.is_ancestor(d.version, target.commit, cwd)):
            await server.switch_off_schedules(d)
            plan.actions.append(Action(Op.UNSCHEDULE, flow_name, d.name, f"superseded by {target.short}"))
        else:
            warnings.append(f"{flow_name}: its schedule is live on {short_ref(ref)} too ({flow_name}/{d.name}), "
                            "and both fire; keep one with schedules-on in [tool.prefect-push]")
    return warnings


async def _plan_ref(server, p: Prepared, cwd: str) -> RefPlan:
    target = p.target
    if target.commit is None:
        if p.deleted_at is not None:
            marker = await server.marker(target)
            if marker is not None and marker != p.deleted_at:
                # registered again since that deletion (by another clone, or CI): those deployments stay
                return RefPlan(target, note=f"re-registered at {marker[:12]} since it was deleted; kept",
                               keep_marker=True)
        return build_ref_deletion(target, await server.ref_deployments(target))
    wanted, from_marker = p.wanted, False
    if not p.all_flows:
        marker = await server.marker(target)
        if marker == target.commit:
            return RefPlan(target, note=f"already registered at {target.commit[:12]}")
        base = diff_base(p, marker, cwd)
        from_marker = marker is not None and base == marker
        if base != target.base:
            # catch up: diff from what is registered, so whatever an earlier push missed is included
            target = replace(target, base=base)
            wanted = changed_flows(target, p.config, cwd, since=p.since)
    assert wanted is not None
    flows = {spec.flow_name for spec, _ in wanted.upserts} | {name for name, _, _ in wanted.removals}
    name_for = p.config.deployment_name_for
    names = {name_for(target.short, spec.flow_name, spec.path, target.repository) for spec, _ in wanted.upserts}
    names |= {name_for(target.short, name, path, target.repository) for name, path, _ in wanted.removals}
    if wanted.upserts:
        target = replace(target, message=git.commit_subject(target.commit, cwd))  # for version_info
    plan = build(target, wanted, p.config, await server.existing(flows, names))
    if not plan.actions and not plan.problems:
        if from_marker:
            plan.note, plan.advance_marker = f"no flow changed since the registered {target.base[:12]}", True
        else:
            plan.note = "no flow changed"
    return plan


def diff_base(p: Prepared, marker: str | None, cwd: str, *, fetch: bool = False) -> str | None:
    """What to diff the pushed commit against: the last fully registered commit when there is one.

    The diff is a tree diff, so ancestry does not matter: after a rebase or force push the marker still names
    the registered state. A marker this clone lacks means the registered state is unknown: every flow (None).
    Without a marker the ref was never registered, so a branch counts from where it forked from the remote's
    other branches, even when the remote has the branch already (pushed with the hook skipped, from another
    clone): what those pushes carried is registered now. A tag counts from the previous tag.
    fetch: a shallow clone fetches the marker, or the history a fork point needs (run, before the server phase).
    """
    target = p.target
    if marker is not None:
        return marker if have_commit(marker, p.remote, cwd, fetch=fetch) else None
    if p.pending is not None:
        return p.pending or None
    if target.is_tag or p.update.is_new:
        return target.base
    assert target.commit is not None
    return fork_point(target.commit, p.remote, target.ref, cwd, fetch=fetch)
