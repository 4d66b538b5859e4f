"""One push's path, shared by every command that registers: ref updates -> engine (prepare, the diff base) ->
registrar (the server phase) -> the outcome, said (execute). The hook, `register`, `plan` and `release` (cli.py),
init's first registration (init.py) and the after-push worker (afterpush.py) run it. Here too: the ref update that
`register` and `plan` name (--from/--to/--ref, or the push a CI job runs for), the names a misspelt remote or ref
is compared with, and how a command starts prefect.

Below cli, init, housekeeping and afterpush, and imports none of them: the hook's hand-off to the background
(afterpush.spawn) is passed in.
"""
from __future__ import annotations

import argparse
import os
from typing import Callable

from . import ci, git
from .engine import (DELETED, Blocked, Outcome, Prepared, decide_base, for_tags, missed, one_release_each,
                     pending_deletions, pending_key, prepare, read_pending, ref_from_env, write_pending)
from .push import RefUpdate, full_ref, is_zero, short_ref
from .read.config import ConfigError
from .read.suggest import did_you_mean
from .report import render, say

SKIP_ENV = "PREFECT_PUSH_SKIP"
# (updates, remote, url, cwd, wait): starts the background registration of mode = "after-push" (afterpush.spawn)
Defer = Callable[[list[RefUpdate], str, str, str, float], None]


def start_prefect(consequence: str):
    """The first import of prefect, which reads its settings (profile, ./pyproject.toml) on first use: a failure
    there is one line saying what it means (`consequence`), never a traceback. Returns the server module."""
    try:
        from . import server

        server.api_url(strict=True)
    except Exception as exc:  # noqa: BLE001 - e.g. an invalid ./pyproject.toml in the working tree
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Blocked(f"prefect cannot start here: {first} (prefect reads ./pyproject.toml and its profile when "
                      f"imported); {consequence}") from None
    return server


def execute(updates: list[RefUpdate], remote: str, url: str, *, dry_run: bool = False, as_json: bool = False,
            always_ask_server: bool = False, all_flows: bool = False, defer: Defer | None = None,
            explicit_from: bool = False, release: bool = False) -> int:
    """One push's path; defer: the hook's hand-off of the registration to the background in after-push mode
    (afterpush.spawn, passed in: afterpush imports this module); explicit_from: the updates' remote_sha is a
    --from the user gave; release: `prefect-push release`."""
    may_defer = defer is not None
    cwd = git.toplevel()
    pending = read_pending(cwd)
    targets: list[Prepared] = []
    for update in updates:
        first = prepare(update, remote, url, cwd)
        if first.refused:
            say(first.refused)
            continue
        these = for_tags(first, release=release)  # a tag: its release, its own deployments, or nothing
        if release and not these:
            raise Blocked(f"{first.target.repository} is not the team's repository (the first entry of remotes in "
                          "[tool.prefect-push]): releases are made there, not from a fork")
        targets += these
    targets, superseded = one_release_each(targets, cwd)  # `git push --tags`: the release moves once
    for line in superseded:
        say(line)
    prepared: list[Prepared] = []
    for p in targets:
        p.pending = pending.get(pending_key(p.target))
        if p.pending is not None and p.pending.startswith(DELETED):
            p.pending = None  # the ref was deleted, then pushed again: this push decides
        p.explicit_from, p.all_flows = explicit_from, all_flows
        prepared.append(decide_base(p, cwd, read=False) if p.target.commit is not None else p)
    if not dry_run and prepared:
        # deletions an earlier push could not tell the server (down, on-error = "warn"): replay them now
        config, where = prepared[0].config, prepared[0].config_where
        for target, deleted_at in pending_deletions(pending, {pending_key(p.target) for p in prepared}):
            prepared.append(Prepared(RefUpdate("(delete)", "0" * len(deleted_at), target.ref, deleted_at), target,
                                     config, where, deleted_at=deleted_at))
    problems = [msg for p in prepared if p.wanted for msg in p.wanted.problems]
    if problems:
        raise Blocked("\n".join(problems))  # main closes it with NOTHING_REGISTERED
    todo = [p for p in prepared
            if always_ask_server or p.wanted is None or p.wanted.upserts or p.wanted.removals
            or p.pending is not None or p.target.release]  # a release's base is the server's to say
    if not todo:
        if as_json:
            render(Outcome(), as_json=True, dry_run=dry_run)
        return 0  # nothing changed a flow: no Prefect import, no API call, no output
    if defer is not None and not dry_run and all(p.config.mode == "after-push" for p in todo):
        for p in todo:  # recorded first: should the background process never finish, the next push catches up
            missed(p.target, pending, p.update.remote_sha)
        write_pending(cwd, pending)
        defer([p.update for p in todo], remote, url, cwd, wait=max(p.config.after_push_wait for p in todo))
        say(f"after-push mode: {', '.join(p.target.short for p in todo)} will be registered in the background once "
            f"{git.strip_credentials(remote)} has the pushed commit; the next push and `prefect-push status` "
            "show how it went")
        return 0
    warn = all(p.config.on_error == "warn" for p in todo)
    server = start_prefect("nothing registered")
    from . import registrar

    try:
        outcome = registrar.run(todo, cwd, dry_run=dry_run)
    except (Blocked, ConfigError, git.GitError):
        raise
    except Exception as exc:  # noqa: BLE001 - the server edge (httpx, Prefect), or a bug of ours: one line
        from .errors import describe, from_outside, internal_error

        # a bug is said as one (the traceback in the log) but handled as an outage: the refs are recorded as
        # missed and on-error decides, so a bug met while registering never blocks more than an outage would
        msg = (str(exc) if isinstance(exc, server.ServerError)
               else f"Prefect API at {server.api_url()} failed: {describe(exc)}" if from_outside(exc)
               else internal_error(exc))
        done = "nothing registered" if getattr(exc, "nothing_written", False) else "registration incomplete"
        if dry_run:
            raise Blocked(msg) from None
        written = not getattr(exc, "nothing_written", False)
        for p in todo:
            missed(p.target, pending, p.update.remote_sha)
        write_pending(cwd, pending)
        if warn:
            say(f"{msg}; {done}, the push goes on (on-error = \"warn\"): the next push of "
                f"{', '.join(p.target.short for p in todo)} or `prefect-push register` catches up")
            return 0
        stop = Blocked(f"{msg}; {done}, markers did not move. Fix it and push again, or set "
                       f"on-error = \"warn\" in [tool.prefect-push], or push with {SKIP_ENV}=1")
        stop.nothing_written = not written  # type: ignore[attr-defined]
        raise stop from None
    if not (may_defer and not as_json and all(not plan.actions and plan.note.startswith("already registered")
                                               for plan in outcome.plans)):
        # (a hook whose every ref is registered at its commit already, by the other hook or CI, stays quiet).
        # The hook's table is a note beside `git push`'s output, on stderr; every other command's is its result
        render(outcome, as_json=as_json, dry_run=dry_run, stderr=may_defer)
    for warning in outcome.warnings:
        say(warning)
    if not dry_run:
        for i, p in enumerate(todo):
            if i in outcome.errors:
                missed(p.target, pending, p.update.remote_sha)
            else:
                pending.pop(pending_key(p.target), None)
        write_pending(cwd, pending)
    if outcome.errors:
        failed = sum(len(v) for v in outcome.errors.values())
        if warn:
            say(f"{failed} registration(s) failed; the push goes on (on-error = \"warn\"), the next push catches up")
            return 0
        say(f"{failed} registration(s) failed (see the table); the marker did not move, push again to retry")
        return 1
    return 0


def _range_updates(args: argparse.Namespace) -> tuple[list[RefUpdate], str, str]:
    """--from/--to/--ref as a ref update; what the CI job runs for (ci.py) fills in what they leave out, then
    BUILD_TAG / GIT_BRANCH; --to defaults to the ref's own commit, never to whatever is checked out."""
    from .facts import have_commit, in_history

    cwd = git.toplevel()
    detected = _ci_push(args)
    if detected is not None:
        say(detected.describe())
        if detected.deleted and args.from_ is None and not args.to:
            # as the hook sees `git push --delete`: the engine deletes what the server has for the ref
            zeros = "0" * len(detected.before or "0" * 40)
            return ([RefUpdate("(delete)", zeros, detected.ref, detected.before or zeros)], args.remote,
                    remote_url(args.remote))
    ref = args.ref or (detected.ref if detected else None)
    if ref is None:
        ref = ref_from_env(args.remote)
        if ref is not None:
            say(f"BUILD_TAG / GIT_BRANCH name {ref}")
    if ref is None:
        ref = git.git("symbolic-ref", "-q", "HEAD", check=False).strip()
        if not ref:
            raise Blocked("HEAD is detached: name the ref with --ref (e.g. --ref main or --ref refs/tags/v1), "
                          "or set GIT_BRANCH / BUILD_TAG")
    ref, local = _resolve_ref(ref, args.remote)
    rev = args.to or (detected.after if detected else None) or local
    if rev is None:
        named = args.ref or ref
        raise Blocked(f"--ref {named!r} is not a branch or tag in this clone (nor on "
                      f"{git.strip_credentials(args.remote)}){did_you_mean(short_ref(named), ref_names(cwd))}; "
                      "pass --to SHA to say which commit it points at")
    to = have_commit(rev, args.remote, cwd)  # a shallow clone fetches it (CI re-runs an older commit)
    if to is None:
        what = "--to" if args.to or not detected else f"the {detected.source} push's commit"
        raise Blocked(f"{what} {rev!r} is not a commit in this clone (shallow clone? fetch more history)")
    given = args.from_ if args.from_ is not None else (detected.before if detected else None)
    frm = given or ""
    if frm and not is_zero(frm):
        resolved = have_commit(frm, args.remote, cwd)  # a shallow clone fetches that one commit
        if resolved is None:
            # a force push (CI's "before" is gone): diff like a new branch; the server's marker, when there is
            # one, still decides the base
            what = f"the {detected.source} push's before" if detected and not args.from_ else "--from"
            if git.is_shallow(cwd):
                say(f"{what} {frm[:12]} is not in this shallow clone, and {git.strip_credentials(args.remote)} "
                    "does not have it either (a force push dropped it); diffing against the remote's other "
                    "branches instead")
            else:
                say(f"{what} {frm[:12]} is not in this clone (force push, or a shallow checkout: fetch-depth: 0 "
                    "fetches it); diffing against the remote's other branches instead")
            frm = ""
        elif not in_history(resolved, [to], args.remote, cwd):
            # a force push: the old commit may still be served by id (a shallow clone gets it, a complete clone
            # made since has not), but the branch no longer holds it; every clone diffs alike, as above
            what = f"the {detected.source} push's before" if detected and not args.from_ else "--from"
            say(f"{what} {frm[:12]} is not in the history of {to[:12]} (a force push replaced it); diffing "
                "against the remote's other branches instead")
            frm = ""
        else:
            frm = resolved
    if not frm or is_zero(frm):
        frm = "0" * len(to)
    url = remote_url(args.remote)
    return [RefUpdate(rev, to, ref, frm)], args.remote, url


def _ci_push(args: argparse.Namespace) -> ci.CiPush | None:
    """The push CI's environment describes, unless the arguments say it all or name another ref: explicit
    --from/--to/--ref always win, and a CI's before/after are only about its own ref."""
    if args.ref and args.from_ is not None and args.to:
        return None
    detected = ci.detect(os.environ)
    if detected is not None and args.ref and _resolve_ref(args.ref, args.remote)[0] != detected.ref:
        return None
    return detected


def _resolve_ref(name: str, remote: str) -> tuple[str, str | None]:
    """(full ref name, a local ref that holds its commit or None). Tags win over branches, as in git."""
    if name.startswith("refs/"):
        candidates = [name]
        if name.startswith("refs/heads/"):
            candidates.append(f"refs/remotes/{remote}/{name[len('refs/heads/'):]}")
        return name, next((c for c in candidates if git.ok("show-ref", "--verify", "--quiet", c)), None)
    for full, local in ((f"refs/tags/{name}", f"refs/tags/{name}"), (f"refs/heads/{name}", f"refs/heads/{name}"),
                        (f"refs/heads/{name}", f"refs/remotes/{remote}/{name}")):
        if git.ok("show-ref", "--verify", "--quiet", local):
            return full, local
    return full_ref(name), None


def cmd_register(args: argparse.Namespace) -> int:
    updates, remote, url = _range_updates(args)
    return execute(updates, remote, url, as_json=args.json, always_ask_server=True, all_flows=args.all,
                   explicit_from=_gave_from(args, updates))


def cmd_plan(args: argparse.Namespace) -> int:
    updates, remote, url = _range_updates(args)
    return execute(updates, remote, url, dry_run=True, as_json=args.json, always_ask_server=True,
                   all_flows=args.all, explicit_from=_gave_from(args, updates))


def _gave_from(args: argparse.Namespace, updates: list[RefUpdate]) -> bool:
    """--from named a commit this clone has (the update carries it): the base row "--from" applies."""
    return bool(args.from_) and bool(updates) and not is_zero(updates[0].remote_sha)


def remote_hint(remote: str, cwd: str | None = None) -> str:
    """" (did you mean 'origin'?)" when `remote` is a misspelt name of one of this clone's remotes; "" for a URL."""
    from .read.suggest import did_you_mean

    if "/" in remote or ":" in remote:
        return ""  # a URL or a path: not a name to misspell
    return did_you_mean(remote, git.git("remote", cwd=cwd, check=False).split())


def remote_url(remote: str, cwd: str | None = None) -> str:
    """git.remote_url, and a remote name that is none of this clone's says which one it resembles."""
    try:
        return git.remote_url(remote, cwd)
    except git.GitError:
        raise git.GitError(f"remote {remote!r} is not configured in this repository{remote_hint(remote, cwd)} "
                           "(git remote -v lists them)") from None


def ref_names(cwd: str | None = None, *, tags_only: bool = False) -> list[str]:
    """The short names of this clone's tags (and branches, its remote-tracking ones too): what a user may have
    meant by a name that is none of them."""
    patterns = ["refs/tags"] if tags_only else ["refs/tags", "refs/heads", "refs/remotes"]
    out = git.git("for-each-ref", "--format=%(refname)", *patterns, cwd=cwd, check=False)
    names = []
    for ref in out.splitlines():
        if ref.startswith("refs/remotes/"):
            ref = ref.split("/", 3)[-1] if ref.count("/") >= 3 else ref
            if ref == "HEAD":
                continue
        names.append(ref.removeprefix("refs/tags/").removeprefix("refs/heads/"))
    return names
