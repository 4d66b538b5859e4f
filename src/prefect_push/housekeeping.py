"""prefect-push status | prune: what prefect-push registered for this repository, and the refs its remote no
longer has; and the one way every command starts prefect and talks to the server (with_server).
"""
from __future__ import annotations

import argparse
from typing import Callable

from . import git
from .read.config import ConfigError
from .engine import Blocked
from .report import say
from .run import remote_hint, remote_url, start_prefect


def with_server(work, cwd: str, what: Callable[[], str]):
    """`await work(server)` against the configured Prefect API; any failure is one line naming the API URL.

    `what()` says what the failure means for the command, asked when it happens ("nothing pruned" only
    holds until the first deletion).
    """
    server = start_prefect(what())
    import asyncio

    timeout = _config(cwd).timeout

    async def session():
        server.check_configured()  # before any client exists: Prefect's ephemeral server holds nothing of ours
        async with server.Server() as s:
            await s.check_reachable()
            return await work(s)

    try:
        return asyncio.run(asyncio.wait_for(session(), timeout))
    except (Blocked, ConfigError, git.GitError):
        raise
    except asyncio.TimeoutError:
        raise Blocked(f"Prefect API at {server.api_url()} did not finish within {timeout:g}s (timeout in "
                      f"[tool.prefect-push]); {what()}") from None
    except server.ServerError as exc:
        raise Blocked(f"{exc}; {what()}") from None
    except Exception as exc:  # noqa: BLE001 - the server edge (httpx, Prefect), or a bug of ours: one line
        from .errors import describe, from_outside, internal_error

        if not from_outside(exc):
            raise Blocked(f"{internal_error(exc)}; {what()}") from None
        raise Blocked(f"Prefect API at {server.api_url()} failed: {describe(exc)}; {what()}") from None


def _repository(remote: str, cwd: str) -> str:
    return git.repo_key(remote_url(remote, cwd), cwd)


def cmd_status(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import datetime, timezone

    from . import status
    from .report import render_status

    cwd = git.toplevel()
    repository = _repository(args.remote, cwd)

    async def read(server):
        # the remote is asked while the server answers: one wait, not two
        return await asyncio.gather(server.repo_deployments(repository),
                                    asyncio.to_thread(git.ls_remote, args.remote, cwd))

    registered, remote_refs = with_server(read, cwd, lambda: "nothing shown")
    from .server import api_url

    remote = git.strip_credentials(args.remote)
    if remote_refs is None and registered:
        say(f"cannot reach remote {remote} (git ls-remote failed){remote_hint(args.remote, cwd)}: whether it still "
            "has each ref is unknown")
    refs = status.by_ref(registered, remote_refs)
    subjects = git.subjects([d.commit for d in registered if d.commit], cwd)
    from .afterpush import describe, read_result

    background = read_result(cwd)  # mode = "after-push": how the last background registration went
    if background is not None and not args.json:
        say(describe(background))
    render_status({"api_url": api_url(), "repository": repository, "remote": remote,
                   "refs": status.status_rows(refs, subjects, datetime.now(timezone.utc)),
                   "after_push": None if background is None else {
                       "status": background.status, "refs": background.refs, "message": background.message,
                       "finished": background.finished}}, as_json=args.json)
    return 0


def _config(cwd: str):
    """The checked-out commit's settings, for commands that are not about one pushed commit."""
    from .read.config import Config
    from .engine import config_at

    try:
        return config_at(None, cwd)[0]
    except ConfigError:
        return Config()  # a broken config must not keep anyone from looking at the server (nor prune by it)


def _tag_dates(cwd: str) -> dict[str, float]:
    """refs/tags/x -> its date in this clone (an annotated tag's, else its commit's): newer is larger."""
    out = git.git("for-each-ref", "--format=%(creatordate:unix) %(refname)", "refs/tags", cwd=cwd, check=False)
    dates = {}
    for line in out.splitlines():
        when, _, ref = line.partition(" ")
        if when.isdigit():
            dates[ref] = float(when)
    return dates


def cmd_prune(args: argparse.Namespace) -> int:
    import asyncio

    from . import status
    from .plan import Target
    from .report import render_prune

    cwd = git.toplevel()
    repository = _repository(args.remote, cwd)
    remote = git.strip_credentials(args.remote)
    actions: list[dict] = []

    async def delete(server, ref, d, why: str) -> bool:
        """One deployment's row in the table, and its deletion unless --dry-run; False when the deletion failed."""
        from .errors import describe

        row = {"ref": ref.ref, "flow": d.flow, "deployment": d.deployment, "commit": status.short_sha(d.commit),
               "action": "would delete" if args.dry_run else "delete", "reason": why, "error": None}
        actions.append(row)
        if args.dry_run:
            return True
        try:
            await server.delete_deployment(d.id)
        except Exception as exc:  # noqa: BLE001 - reported per deployment; the ref's marker stays
            row["error"] = describe(exc)
            return False
        return True

    async def prune(server) -> None:
        registered = await server.repo_deployments(repository)
        # the remote is asked after the server: a push registers before the remote takes the ref, so reading in
        # this order narrows (cannot close) the window in which a ref being pushed right now looks deleted
        remote_refs = await asyncio.to_thread(git.ls_remote, args.remote, cwd)
        if remote_refs is None:
            raise Blocked(f"cannot reach remote {remote} (git ls-remote failed){remote_hint(args.remote, cwd)}: "
                          "pruning nothing, an unknown remote state is no reason to delete")
        for ref in status.stale(status.by_ref(registered, remote_refs)):
            why = f"{'tag' if ref.ref.startswith('refs/tags/') else 'branch'} no longer on {remote}"
            ok = [await delete(server, ref, d, why) for d in ref.deployments]
            if not args.dry_run and all(ok):
                # the ref may be pushed again one day: as a new ref, from its fork point, not from a stale marker
                await server.delete_marker(Target(repository, ref.ref, None))

        config = _config(cwd)
        if not config.tag_deployments:
            return
        refs = status.by_ref(registered, remote_refs)
        old = status.beyond_keep(refs, config.keep_tags, _tag_dates(cwd))
        why = f"older than the newest {config.keep_tags} tags of its flow (keep-tags)"
        failed_refs: set[str] = set()
        for ref, d in old:
            if not await delete(server, ref, d, why):
                failed_refs.add(ref.ref)
        pruned = {id(d) for _, d in old}
        for ref in refs:
            if not args.dry_run and ref.ref not in failed_refs and ref.deployments and all(
                    id(d) in pruned for d in ref.deployments):
                # every deployment of the tag went: `register --ref <tag>` may bring them back
                await server.delete_marker(Target(repository, ref.ref, None))

    with_server(prune, cwd, lambda: "nothing pruned" if args.dry_run or not actions
                 else "prune incomplete, run it again")
    from .server import api_url

    render_prune({"api_url": api_url(), "repository": repository, "remote": remote, "dry_run": args.dry_run,
                  "actions": actions}, as_json=args.json)
    failed = sum(1 for a in actions if a["error"])
    if failed:
        say(f"{failed} deletion(s) failed (see the table); their refs' markers stay, run prune again to retry")
        return 1
    return 0
