"""The server phase of a push: read the marker and deployments, build the final plan, apply it."""
from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Coroutine, Iterable

from . import git, state
from .base import Row, decide
from .engine import Blocked, Outcome, Prepared, changed_flows, decide_base
from .errors import log_detail
from .facts import gather, in_history, release_tag_at, remote_holds
from .plan import (GIT_TAG, RELEASE_REF, Action, Op, RefPlan, Target, build, build_ref_deletion, deployment_name,
                   suffix_of)
from .push import short_ref

if TYPE_CHECKING:
    from .read.flows import FlowSpec


def marker_of(target: Target) -> Target:
    """The target whose marker records target's registration: a release tag's is the release's, not the tag's."""
    return replace(target, ref=target.owner, release="") if target.release else target


def run(prepared: list[Prepared], cwd: str, *, dry_run: bool) -> Outcome:
    """The server phase. An exception it raises says, in `nothing_written`, whether any write had started.

    `timeout` bounds a server that stops answering, not the work: the phase is cancelled once no answer has
    come for that long, so a push of any size can finish and a hung server still never hangs `git push`."""
    timeout = min(p.config.timeout for p in prepared)
    writing: list[bool] = []  # set once the first write is sent
    progress = None
    try:
        if git.is_shallow(cwd):
            _fetch_bases(prepared, cwd, timeout)
        from .report import WriteProgress

        progress = WriteProgress()
        return asyncio.run(_watched(_run(prepared, cwd, dry_run=dry_run, writing=writing), timeout, progress))
    except TimeoutError:
        from .server import ServerError, api_url

        exc: Exception = ServerError(f"Prefect API at {api_url()} did not answer for {timeout:g}s (timeout in "
                                     "[tool.prefect-push])")
        exc.nothing_written = not writing  # type: ignore[attr-defined]
        raise exc from None
    except Exception as exc:
        exc.nothing_written = not writing  # type: ignore[attr-defined]
        raise
    finally:
        if progress is not None:
            progress.close()  # the bar off the terminal before the table or the error line


async def _watched(work: Coroutine[Any, Any, Outcome], timeout: float,
                   progress: Callable[[int, int], None]) -> Outcome:
    """`work`, cancelled by a watchdog once the API has not answered for `timeout` s (TimeoutError then)."""
    from .server import ACTIVITY, Activity

    activity = Activity(progress=progress)
    ACTIVITY.set(activity)  # before the task exists: it runs in a copy of this context, and so do its writes
    main = asyncio.ensure_future(work)
    dog = asyncio.ensure_future(_watchdog(main, activity, timeout))
    try:
        return await main
    except (asyncio.CancelledError, Exception):
        # the watchdog returns only after it cancelled `main`: whatever `main` raised on its way out is that
        if dog.done() and not dog.cancelled():
            raise TimeoutError from None
        raise
    finally:
        dog.cancel()


async def _watchdog(main: asyncio.Future, activity: Any, timeout: float) -> None:
    tick = min(timeout / 4, 0.5)
    while True:
        before = time.monotonic()
        await asyncio.sleep(tick)
        late = time.monotonic() - before - tick
        if late > tick:
            # the loop was busy with our own work (git, parsing, building requests): not the server's silence
            activity.last_answer += late
        if time.monotonic() - activity.last_answer > timeout:
            main.cancel()
            return


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
            decide(gather(p, cwd, marker=marker, fetch=True))  # fetches what the deciding row needs


async def _markers(prepared: list[Prepared]) -> list[str | None]:
    from .server import Server, check_configured

    check_configured()  # before any client exists, as in _run
    async with Server() as server:
        await server.check_reachable()
        return [await server.marker(marker_of(p.target)) for p in prepared]


async def _run(prepared: list[Prepared], cwd: str, *, dry_run: bool, writing: list[bool]) -> Outcome:
    from .server import Server, api_url, check_configured

    outcome = Outcome(api_url=api_url())
    check_configured()  # before any client exists: building one without a URL starts Prefect's ephemeral server
    writers, adaptive = writers_for(prepared, cwd)
    async with Server(writers, adaptive=adaptive) as server:
        await server.check_reachable()
        for p in prepared:
            outcome.plans.append(await _plan_ref(server, p, cwd))
            outcome.warnings += [h for h in outcome.plans[-1].hints if h not in outcome.warnings]
        branch = next((p for p in prepared if p.target.commit is not None and not p.target.is_tag), None)
        if branch is not None and not dry_run and not any(p.target.is_tag for p in prepared):
            missed_tag = await _release_tag_not_registered(server, branch, cwd)
            outcome.warnings += [missed_tag] if missed_tag else []
        problems = [msg for plan in outcome.plans for msg in plan.problems]
        if problems:
            raise Blocked("\n".join(problems))
        writes: dict[str, tuple[Prepared, list]] = {}  # one check per config: the writes of every ref using it
        for p, plan in zip(prepared, outcome.plans):
            if plan.writes and p.target.commit is not None:
                writes.setdefault(p.config_where, (p, []))[1].extend(plan.writes)
        for where, (p, actions) in writes.items():
            await server.check_settings(p.config, where, actions)
        # what the registered schemas could not follow: one line per flow, after the table
        outcome.warnings += reader_lines((a.flow for plan in outcome.plans for a in plan.writes if a.flow), cwd)
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
                        await server.set_marker(marker_of(p.target))
                    continue
                results = await server.apply(plan, p.config)
                failed = [((a.flow_name, a.deployment), err) for a, err in results if err is not None]
                if failed:
                    outcome.errors[i] = failed
                elif p.target.commit is None:
                    await server.delete_marker(p.target)
                else:
                    await server.set_marker(marker_of(p.target))
                    outcome.warnings += await _settle_schedules(server, plan, p.config, cwd, p.remote)
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


async def _settle_schedules(server, plan: RefPlan, config, cwd: str, remote: str) -> list[str]:
    """One live schedule per flow: with schedules-on unset, a release deployment whose flow fires switches off
    that flow's schedule everywhere else in the repository (main's, from before the first release; old tags');
    with schedules-on set, a tag switches it off on older tags (their commits are ancestors of this one), and
    any other live schedule of the same flow (main and a tag, say) is left alone and named, since both fire."""
    target = plan.target
    scheduled = {a.flow_name for a in plan.writes
                 if a.op in (Op.REGISTER, Op.UPDATE) and a.flow and a.has_schedule and a.schedule_live}
    if not scheduled:
        return []
    warnings = []
    for d, flow_name, ref in await server.live_schedules(target.repository, scheduled):
        if ref == target.owner:
            continue
        if target.release and config.schedules_on is None:
            await server.switch_off_schedules(d)
            plan.actions.append(Action(Op.UNSCHEDULE, flow_name, d.name, f"{flow_name}/{target.release} fires it"))
        elif (target.is_tag and ref.startswith("refs/tags/") and d.version and target.commit
                and in_history(d.version, [target.commit], remote, cwd, fetch=False)):  # a tag's clone is complete
            await server.switch_off_schedules(d)
            plan.actions.append(Action(Op.UNSCHEDULE, flow_name, d.name, f"superseded by {target.short}"))
        else:
            where = ref.removeprefix(RELEASE_REF) if ref.startswith(RELEASE_REF) else short_ref(ref)
            warnings.append(f"{flow_name}: its schedule is live on {where} too ({flow_name}/{d.name}), "
                            "and both fire; keep one with schedules-on in [tool.prefect-push]")
    return warnings


async def _release_tag_not_registered(server, p: Prepared, cwd: str) -> str:
    """pre-commit runs no hook for a pushed tag (`git push --tags`, or a tag on a commit the remote has): the
    next branch push that talks to the server names the newest release tag of this clone that the remote has,
    made after the release last moved and descending from where it is (a deliberate rollback, moved after the
    tag was made, is not undone). One Variable read and local git calls; one ls-remote only in that case."""
    config, target = p.config, p.target
    if not config.release_tags or not config.is_home(target.repository):
        return ""
    tags = [t for t in git.git("tag", "--sort=-version:refname", cwd=cwd, check=False).split()
            if config.is_release(f"refs/tags/{t}")]
    if not tags:
        return ""
    newest = tags[0]
    commit = git.git("rev-parse", "--verify", "-q", f"refs/tags/{newest}^{{commit}}", cwd=cwd, check=False).strip()
    at, moved = await server.marker_and_time(Target(target.repository, RELEASE_REF + config.release_name, None))
    if not commit or at == commit:
        return ""
    if at is not None:
        if not git.ok("cat-file", "-e", f"{at}^{{commit}}", cwd=cwd):
            return ""  # this clone lacks the release's commit: it cannot tell which is newer
        if not git.ok("merge-base", "--is-ancestor", at, commit, cwd=cwd):
            return ""  # the release is past the tag, or on another line: not a tag left behind
        made = git.git("log", "-1", "--format=%ct", f"refs/tags/{newest}", cwd=cwd, check=False).strip()
        tagged = git.git("for-each-ref", "--format=%(taggerdate:unix)", f"refs/tags/{newest}", cwd=cwd,
                         check=False).strip() or made
        if moved is not None and tagged.isdigit() and int(tagged) < int(moved.timestamp()):
            return ""  # the release was moved after the tag was made: on purpose (a rollback)
    if git.ls_remote_ref(p.remote, f"refs/tags/{newest}", cwd) is None:
        return ""  # not pushed yet: its own push will move the release
    now = f"at {release_tag_at(at, config, cwd) or at[:12]}" if at else "not made yet"
    return (f"{newest} is on {git.strip_credentials(p.remote)} but {config.release_name} is {now}: it was pushed "
            f"without the hook (pre-commit runs none for a tag); `prefect-push release {newest}` moves it")


async def _left_out(server, p: Prepared, plan: RefPlan, cwd: str) -> str:
    """A never-registered branch registered partly (the hint of base's NEVER_REGISTERED row): how many of the
    commit's flows are neither in this plan nor registered on the ref; "" when none is left out, and for a
    branch other than the default one forked from the remote's others (from its fork point it has every change
    of its own, and its schedules never fire: nothing a user wants is left out)."""
    target = p.target
    forked = p.base is not None and p.base.why.startswith("since forked at")
    if forked and target.ref != "refs/heads/" + p.config.default_branch:
        return ""
    every = changed_flows(replace(target, base=None), p.config, cwd)
    have = {e.flow_name for e in await server.ref_deployments(target)} | {a.flow_name for a in plan.actions}
    left = {spec.flow_name for spec, _ in every.upserts} - have
    if not left:
        return ""
    return (f"{target.ref} is registered partly: {len(left)} flow{'s' if len(left) > 1 else ''} this push did not "
            f"change {'are' if len(left) > 1 else 'is'} not registered on it; `prefect-push register --ref "
            f"{target.short} --all` registers {'them' if len(left) > 1 else 'it'}")


async def _pause_beside(server, plan: RefPlan, config) -> None:
    """Never fire twice: a deployment made without prefect-push (by `prefect deploy`) of a flow this plan gives a
    live schedule, from the same flow file, with a schedule of its own that fires, is paused (Op.PAUSE, shown by
    plan first) — or, with keep-schedules = true, kept and said on every such push."""
    live: dict[str, Action] = {}
    for a in plan.writes:
        if a.op in (Op.REGISTER, Op.UPDATE) and a.flow is not None and a.has_schedule and a.schedule_live:
            live.setdefault(a.flow_name, a)
    if not live:
        return
    written = {(a.flow_name, a.deployment) for a in plan.actions}  # what this plan writes is never paused

    def same_file(entrypoint: str, action: Action) -> bool:
        # as prefect deploy stored it: from the repository root, or from the prefect.yaml's folder (./flow.py:fn)
        path = entrypoint.rsplit(":", 1)[0].removeprefix("./")
        entry = getattr(action.flow, "entry", None)
        return path == action.flow.path or (entry is not None and path == entry.entrypoint.rsplit(":", 1)[0]
                                            .removeprefix("./"))
    pauses = []
    for e in await server.firing_elsewhere(set(live)):
        action = live[e.flow_name]
        if (e.flow_name, e.name) in written or not same_file(e.entrypoint or "", action):
            continue  # taken over or written by this plan, or another project's flow of the same name
        if config.keep_schedules:
            plan.hints.append(f"{e.flow_name}/{e.name} (made without prefect-push) fires beside "
                              f"{e.flow_name}/{action.deployment}: both run (keep-schedules = true)")
        else:
            pauses.append(Action(Op.PAUSE, e.flow_name, e.name, f"made without prefect-push; would fire beside "
                                                                 f"{e.flow_name}/{action.deployment}",
                                 existing_id=e.id))
    plan.actions[:0] = pauses  # said first


async def _plan_ref(server, p: Prepared, cwd: str) -> RefPlan:
    target = p.target
    if target.commit is None:
        if p.deleted_at is not None:
            marker = await server.marker(target)
            if marker is not None and marker != p.deleted_at:
                # registered again since that deletion (by another clone, or CI): those deployments stay
                return RefPlan(target, note=f"re-registered at {marker[:12]} since it was deleted; kept",
                               keep_marker=True)
        plan = build_ref_deletion(target, await server.ref_deployments(target))
        if target.is_tag:
            plan.hints += await _release_on(server, p)
        return plan
    if not p.all_flows or target.release:
        marker = await server.marker(marker_of(target))
        if marker == target.commit:
            if target.release:
                return RefPlan(target, note=f"{target.release} is at {target.short} ({target.commit[:12]}) already")
            return RefPlan(target, note=f"already registered at {target.commit[:12]}")
        p = decide_base(p, cwd, marker=marker, fetch=False)  # the shallow clone fetched in _fetch_bases
        assert p.base is not None
        if p.base.row is Row.RELEASE_BEHIND:
            return RefPlan(target, note=f"{target.release} not moved: {p.base.why}", hints=[p.base.hint])
        if p.base.repair:
            p = await _repair(server, p, cwd)
    target, wanted = p.target, p.wanted
    from_marker = p.base is not None and p.base.row in (Row.MARKER, Row.MARKER_ELSEWHERE, Row.MARKER_NOT_ON_REMOTE)
    assert wanted is not None
    flows = {spec.flow_name for spec, _ in wanted.upserts} | {name for name, _, _ in wanted.removals}
    names = {deployment_name(target, p.config, spec.flow_name, spec.path, getattr(spec, "suffix", ""))
             for spec, _ in wanted.upserts}
    names |= {deployment_name(target, p.config, r[0], r[1], suffix_of(r)) for r in wanted.removals}
    names |= {getattr(r, "entry", "") for r in wanted.removals} - {""}  # a deployment taken over in place
    if p.config.schedules_on is None and p.config.is_home(target.repository):
        # whether each flow (each prefect.yaml entry) has a release decides where its schedule fires
        names |= {deployment_name(replace(target, release=p.config.release_name), p.config, spec.flow_name, spec.path,
                                  getattr(spec, "suffix", "")) for spec, _ in wanted.upserts}
        names.add(p.config.release_name)
    # the deployments `prefect deploy` made for the entries (`etl/nightly`): taken over in place (plan.kept_name)
    names |= {e.name for spec, _ in wanted.upserts if (e := getattr(spec, "entry", None)) is not None}
    if wanted.upserts:
        target = replace(target, message=git.commit_subject(target.commit, cwd))  # for version_info
    plan = build(target, wanted, p.config, await server.existing(flows, names))
    await _pause_beside(server, plan, p.config)
    if p.base is not None and p.base.hint:
        hint = await _left_out(server, p, plan, cwd) if p.base.row is Row.NEVER_REGISTERED else p.base.hint
        if hint:
            plan.hints.append(hint)
    if not plan.actions and not plan.problems:
        if target.release and p.base is not None:
            plan.note, plan.advance_marker = f"no flow changed ({p.base.why}); {target.release} moves to {target.short}", True
        elif from_marker:
            plan.note, plan.advance_marker = f"no flow changed ({p.base.why})", True
        else:
            plan.note = "no flow changed"
        if wanted.unlisted and not target.release:  # what changed is there, only not deployed: say so
            plan.note = f"{', '.join(wanted.unlisted)} changed, not listed in prefect.yaml"
    return plan


async def _release_on(server, p: Prepared) -> list[str]:
    """A deleted tag that release deployments clone: their runs would fail, so say which (they stay)."""
    release = replace(p.target, ref=RELEASE_REF + p.config.release_name)
    tag = GIT_TAG + p.target.short
    flows = sorted(e.flow_name for e in await server.ref_deployments(release) if tag in e.tags)
    if not flows:
        return []
    return [f"{p.config.release_name} of {', '.join(flows)} clones {p.target.short}, which this push deletes: their "
            f"runs will fail to clone it; `prefect-push release <tag>` moves them to another tag"]


async def _repair(server, p: Prepared, cwd: str) -> Prepared:
    """The marker names a commit the remote does not hold (a rejected push, rewritten history): every deployment
    of the ref registered at such a commit is registered again at the pushed one, or deleted when the pushed
    commit no longer has its flow. Never every flow: what the remote holds stays as it is."""
    target = p.target
    stale = [e for e in await server.ref_deployments(target)
             if (e.ref, e.repository) == (target.ref, target.repository)
             and not (e.version and remote_holds(e.version, p, cwd))]
    if not stale:
        return p
    remote = git.strip_credentials(p.remote)
    extra = {(e.entrypoint or "").rsplit(":", 1)[0]: f"registered at {(e.version or '?')[:12]}, which {remote} "
                                                       "does not have" for e in stale}
    wanted = changed_flows(target, p.config, cwd, since=p.since, why=p.base.why, extra=extra)
    kept = {spec.flow_name for spec, _ in wanted.upserts}
    removals = tuple((e.flow_name, (e.entrypoint or "").rsplit(":", 1)[0],
                      f"registered at {(e.version or '?')[:12]}, not in {target.short} at {target.commit[:12]}")
                     for e in stale if e.flow_name not in kept)
    return replace(p, wanted=replace(wanted, removals=wanted.removals + removals))


def reader_lines(specs: Iterable[FlowSpec], cwd: str) -> list[str]:
    """One line for each flow whose registered schema is not surely the one `prefect deploy`
    stores (schema.Checked notes), its traceback logged when an internal error caused it."""
    from .read.schema import checked, fallback_line

    lines: list[str] = []
    for spec in specs:
        result = checked(spec)
        if not result.notes:
            continue
        log = log_detail(cwd, f"{spec.entrypoint} (flow {spec.flow_name!r})", result.detail) if result.detail else None
        line = fallback_line(spec, result.notes, log)
        if line not in lines:  # a flow written for two refs of one push: said once
            lines.append(line)
    return lines
