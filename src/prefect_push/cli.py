"""prefect-push hook | register | plan | install | demo.

Imports stay light here: a push that changes no flow decides "nothing to do" without prefect or rich.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import git
from .config import ConfigError
from .engine import (DELETED, Blocked, Outcome, Prepared, every_flow, missed, pending_deletions, pending_key,
                     prepare, read_pending, ref_from_env, write_pending)
from .push import PushLineError, RefUpdate, full_ref, is_zero, parse_push_lines
from .report import render, say

SKIP_ENV = "PREFECT_PUSH_SKIP"


def _skipped() -> str | None:
    if os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return f"{SKIP_ENV}=1"
    if "prefect-push" in (s.strip() for s in os.environ.get("SKIP", "").split(",")):
        return "SKIP=prefect-push"
    return None


def git_push_dry_run() -> bool:
    """Whether the `git push` that runs this hook is a --dry-run: git runs pre-push hooks then too.

    git does not tell the hook, so look at the ancestor `git push` process (Linux /proc; elsewhere: assume not).
    """
    pid = os.getppid()
    for _ in range(6):  # git -> [pre-commit's hook script -> pre-commit ->] this process
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            with open(f"/proc/{pid}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if "push" in args and args and os.path.basename(args[0]) == "git":
            opts = args[args.index("push") + 1:]
            return any(a == "--dry-run" or (a.startswith("-") and not a.startswith("--") and "n" in a[1:])
                       for a in opts)
        if pid <= 1:
            return False
        pid = ppid
    return False


def hook_updates(argv: list[str], stdin: str) -> tuple[list[RefUpdate], str, str]:
    """(updates, remote name or URL, remote URL) from pre-commit's environment or git's own pre-push input."""
    env = os.environ
    if env.get("PRE_COMMIT_REMOTE_BRANCH"):
        # Under pre-commit: only the first pushed ref with new commits, and no stdin.
        url = env.get("PRE_COMMIT_REMOTE_URL") or ""
        remote = env.get("PRE_COMMIT_REMOTE_NAME") or url
        local = env.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        to = env.get("PRE_COMMIT_TO_REF") or git.commit_of(local)
        if to is None:
            raise Blocked(f"pre-commit passed local branch {local!r}, which is not a commit here")
        frm = env.get("PRE_COMMIT_FROM_REF") or "0" * len(to)
        return [RefUpdate(local, to, env["PRE_COMMIT_REMOTE_BRANCH"], frm)], remote or "origin", url or remote
    if env.get("PRE_COMMIT_TO_REF") and not argv:
        # `pre-commit run --hook-stage pre-push --from-ref A --to-ref B` by hand: no remote, no stdin. Treat it
        # as a push of the current branch to origin.
        branch = git.git("symbolic-ref", "-q", "HEAD", check=False).strip()
        if not branch:
            raise Blocked("pre-commit run by hand on a detached HEAD: use `prefect-push plan --ref <branch>`")
        to = git.commit_of(env["PRE_COMMIT_TO_REF"])
        frm = git.commit_of(env.get("PRE_COMMIT_FROM_REF") or "") if env.get("PRE_COMMIT_FROM_REF") else None
        if to is None:
            raise Blocked(f"--to-ref {env['PRE_COMMIT_TO_REF']!r} is not a commit here")
        return [RefUpdate(branch, to, branch, frm or "0" * len(to))], "origin", git.remote_url("origin")
    remote = argv[0] if argv else "origin"
    url = argv[1] if len(argv) > 1 else git.remote_url(remote)
    return parse_push_lines(stdin), remote, url


def execute(updates: list[RefUpdate], remote: str, url: str, *, dry_run: bool = False, as_json: bool = False,
            always_ask_server: bool = False, all_flows: bool = False) -> int:
    cwd = git.toplevel()
    pending = read_pending(cwd)
    prepared: list[Prepared] = []
    for update in updates:
        p = prepare(update, remote, url, cwd)
        p.pending = pending.get(pending_key(p.target))
        if p.pending is not None and p.pending.startswith(DELETED):
            p.pending = None  # the ref was deleted, then pushed again: this push decides
        prepared.append(every_flow(p, cwd) if all_flows else p)
    if not dry_run:
        # deletions an earlier push could not tell the server (down, on-error = "warn"): replay them now
        config, where = prepared[0].config, prepared[0].config_where
        for target, deleted_at in pending_deletions(pending, {pending_key(p.target) for p in prepared}):
            prepared.append(Prepared(RefUpdate("(delete)", "0" * len(deleted_at), target.ref, deleted_at), target,
                                     config, where, deleted_at=deleted_at))
    problems = [msg for p in prepared if p.wanted for msg in p.wanted.problems]
    if problems:
        raise Blocked("\n".join(problems) + "\nnothing was registered")
    todo = [p for p in prepared
            if always_ask_server or p.wanted is None or p.wanted.upserts or p.wanted.removals
            or p.pending is not None]
    if not todo:
        if as_json:
            render(Outcome(), as_json=True, dry_run=dry_run)
        return 0  # nothing changed a flow: no Prefect import, no API call, no output
    warn = all(p.config.on_error == "warn" for p in todo)
    try:
        from . import registrar, server  # the first import of prefect

        server.api_url(strict=True)  # prefect reads its settings (profile, ./pyproject.toml) on first use
    except Exception as exc:  # noqa: BLE001 - e.g. an invalid ./pyproject.toml in the working tree
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise Blocked(f"prefect cannot start here: {first} (prefect reads ./pyproject.toml and its profile when "
                      "imported); nothing registered") from None
    try:
        outcome = registrar.run(todo, cwd, dry_run=dry_run)
    except (Blocked, ConfigError, git.GitError):
        raise
    except Exception as exc:  # noqa: BLE001 - the server edge (httpx, Prefect): one line, never a traceback
        msg = (str(exc) if isinstance(exc, server.ServerError)
               else f"Prefect API at {server.api_url()} failed: {server.describe(exc)}")
        done = "nothing registered" if getattr(exc, "nothing_written", False) else "registration incomplete"
        if dry_run:
            raise Blocked(msg) from None
        for p in todo:
            missed(p.target, pending, p.update.remote_sha)
        write_pending(cwd, pending)
        if warn:
            say(f"{msg}; {done}, the push goes on (on-error = \"warn\"): the next push of "
                f"{', '.join(p.target.short for p in todo)} or `prefect-push register` catches up")
            return 0
        raise Blocked(f"{msg}; {done}, markers did not move. Fix it and push again, or set "
                      f"on-error = \"warn\" in [tool.prefect-push], or push with {SKIP_ENV}=1") from None
    render(outcome, as_json=as_json, dry_run=dry_run)
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


def cmd_hook(args: argparse.Namespace) -> int:
    if os.environ.get("PRE_COMMIT_REMOTE_BRANCH") or sys.stdin is None or sys.stdin.isatty():
        stdin = ""  # pre-commit passes no stdin; a terminal means someone ran the hook by hand
    else:
        stdin = sys.stdin.read()
    reason = _skipped()
    if reason:
        say(f"skipped ({reason}); the next push of these refs, or `prefect-push register`, catches up")
        try:
            from .engine import remember_skipped
            remember_skipped(*hook_updates(args.git_args, stdin), git.toplevel())
        except Exception:  # noqa: BLE001 - opting out must never fail the push; the server's marker still lags
            pass
        return 0
    updates, remote, url = hook_updates(args.git_args, stdin)
    if not updates:
        return 0
    if git_push_dry_run():
        say("git push --dry-run: registering nothing; `prefect-push plan` shows what a real push would do")
        return 0
    return execute(updates, remote, url, as_json=args.json)


def _range_updates(args: argparse.Namespace) -> tuple[list[RefUpdate], str, str]:
    """--from/--to/--ref as a ref update; --to defaults to the ref's own commit, never to whatever is checked out."""
    ref = args.ref or ref_from_env(args.remote)
    if ref is None:
        ref = git.git("symbolic-ref", "-q", "HEAD", check=False).strip()
        if not ref:
            raise Blocked("HEAD is detached: name the ref with --ref (e.g. --ref main or --ref refs/tags/v1), "
                          "or set GIT_BRANCH / BUILD_TAG")
    ref, local = _resolve_ref(ref, args.remote)
    rev = args.to or local
    if rev is None:
        raise Blocked(f"--ref {args.ref!r} is not a branch or tag in this clone (nor on "
                      f"{git.strip_credentials(args.remote)}); "
                      "pass --to SHA to say which commit it points at")
    to = git.commit_of(rev)
    if to is None:
        raise Blocked(f"--to {rev!r} is not a commit in this clone (shallow clone? fetch more history)")
    frm = args.from_ or ""
    if frm and not is_zero(frm):
        resolved = git.commit_of(frm)
        if resolved is None:
            # a force push (CI's "before" is gone) or a shallow clone: diff like a new branch; the server's
            # marker, when there is one, still decides the base
            say(f"--from {frm[:12]} is not in this clone (force push, or a shallow checkout: fetch-depth: 0 "
                "fetches it); diffing against the remote's other branches instead")
            frm = ""
        else:
            frm = resolved
    if not frm or is_zero(frm):
        frm = "0" * len(to)
    url = git.remote_url(args.remote)
    return [RefUpdate(rev, to, ref, frm)], args.remote, url


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
    return execute(updates, remote, url, as_json=args.json, always_ask_server=True, all_flows=args.all)


def cmd_plan(args: argparse.Namespace) -> int:
    updates, remote, url = _range_updates(args)
    return execute(updates, remote, url, dry_run=True, as_json=args.json, always_ask_server=True,
                   all_flows=args.all)


def cmd_install(args: argparse.Namespace) -> int:
    from .install import install

    say(install(force=args.force))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(keep=args.keep)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="prefect-push", description=(
        "Register the Prefect flows a git push changed, as deployments that git_clone the pushed ref."))
    sub = p.add_subparsers(dest="command", required=True)

    h = sub.add_parser("hook", help="what the pre-push hooks call (reads git's pre-push input or pre-commit's env)")
    h.add_argument("git_args", nargs="*", help="remote name and URL, as git passes them to pre-push")
    h.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    h.set_defaults(func=cmd_hook)

    for name, func, text in (("register", cmd_register, "register the flows changed in a commit range (CI)"),
                             ("plan", cmd_plan, "print what register would do; writes nothing")):
        r = sub.add_parser(name, help=text)
        r.add_argument("--from", dest="from_", metavar="SHA", default=None,
                       help="the ref's previous commit (empty or all zeros: a new branch)")
        r.add_argument("--to", metavar="SHA", default=None, help="the pushed commit (default: the ref's commit)")
        r.add_argument("--ref", default=None, help="branch or tag, short or full (default: the current branch)")
        r.add_argument("--remote", default="origin", help="remote name or URL the ref lives on (default origin)")
        r.add_argument("--all", action="store_true",
                       help="every flow at --to, not only the changed ones (adopting prefect-push on a repo)")
        r.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
        r.set_defaults(func=func)

    i = sub.add_parser("install", help="install the plain git pre-push hook (full fidelity: tags, deletions)")
    i.add_argument("--force", action="store_true", help="replace a pre-push hook that is not prefect-push's")
    i.set_defaults(func=cmd_install)

    d = sub.add_parser("demo", help="a throwaway repo, a local Prefect server, real pushes and a worker run")
    d.add_argument("--keep", action="store_true", help="keep the demo's temp directory")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command in ("hook", "register", "plan", "install") and git.locate() is None:
            raise Blocked(f"not inside a git repository ({os.getcwd()}): run prefect-push {args.command} in your repo")
        return args.func(args)
    except (Blocked, ConfigError, PushLineError, git.GitError) as exc:
        for line in str(exc).splitlines():
            say(line)
        return 1
    except KeyboardInterrupt:
        say("interrupted; nothing after this point was registered, the next push catches up")
        return 130


if __name__ == "__main__":
    sys.exit(main())
