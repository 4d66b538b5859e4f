"""prefect-push hook | register | plan | release | install | demo (status and prune: housekeeping.py).

Imports stay light here: a push that changes no flow decides "nothing to do" without prefect or rich.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import ci, git
from .read.config import ConfigError
from .engine import (DELETED, Blocked, Outcome, Prepared, decide_base, for_tags, missed, one_release_each,
                     pending_deletions, pending_key, prepare, read_pending, ref_from_env, write_pending)
from .housekeeping import cmd_prune, cmd_status, ref_names, remote_hint, remote_url, start_prefect
from .push import PushLineError, RefUpdate, full_ref, is_zero, parse_push_lines, short_ref
from .read.suggest import did_you_mean
from .report import render, say

SKIP_ENV = "PREFECT_PUSH_SKIP"
NOTHING_REGISTERED = "nothing was registered"  # the last line of every refusal of a push (main)
PUSHES = ("hook", "register", "release")  # the commands that register: a refusal of theirs says NOTHING_REGISTERED


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
            always_ask_server: bool = False, all_flows: bool = False, may_defer: bool = False,
            explicit_from: bool = False, release: bool = False) -> int:
    """One push's path; may_defer: the hook, which hands registration to the background in after-push mode;
    explicit_from: the updates' remote_sha is a --from the user gave; release: `prefect-push release`."""
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
    if may_defer and not dry_run and all(p.config.mode == "after-push" for p in todo):
        from .afterpush import spawn

        for p in todo:  # recorded first: should the background process never finish, the next push catches up
            missed(p.target, pending, p.update.remote_sha)
        write_pending(cwd, pending)
        spawn([p.update for p in todo], remote, url, cwd, wait=max(p.config.after_push_wait for p in todo))
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


def cmd_hook(args: argparse.Namespace) -> int:
    if os.environ.get("PRE_COMMIT_REMOTE_BRANCH") or sys.stdin is None or sys.stdin.isatty():
        stdin = ""  # pre-commit passes no stdin; a terminal means someone ran the hook by hand
    else:
        # bytes: git passes ref names as they are, and they need not be UTF-8 (engine.prepare says so per ref)
        raw = getattr(sys.stdin, "buffer", None)
        stdin = raw.read().decode("utf-8", "surrogateescape") if raw is not None else sys.stdin.read()
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
    from .afterpush import announce_last

    last = announce_last(git.toplevel())  # how the previous push's background registration went, once
    if last:
        say(last)
    if not updates:
        return 0
    if git_push_dry_run():
        say("git push --dry-run: registering nothing; `prefect-push plan` shows what a real push would do")
        return 0
    return execute(updates, remote, url, as_json=args.json, may_defer=True)


def cmd_after_push_worker(args: argparse.Namespace) -> int:
    from .afterpush import worker

    return worker(args.payload)


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


def cmd_release(args: argparse.Namespace) -> int:
    """Move the release deployments to a tag on purpose (rollback, roll-forward): every flow whose code differs
    between the current release and the tag; the table says what moved."""
    cwd = git.toplevel()
    name = args.tag.removeprefix("refs/tags/")
    ref = f"refs/tags/{name}"
    commit = git.commit_of(ref, cwd)
    if commit is None:
        raise Blocked(f"{name!r} is not a tag in this clone{did_you_mean(name, ref_names(cwd, tags_only=True))} "
                      "(`git fetch --tags`, or `git tag` lists them)")
    remote_refs = git.ls_remote(args.remote, cwd)
    remote = git.strip_credentials(args.remote)
    if remote_refs is None:
        raise Blocked(f"cannot reach remote {remote} (git ls-remote failed){remote_hint(args.remote, cwd)}: "
                      "workers clone the tag from it, so the release did not move")
    if ref not in remote_refs:
        raise Blocked(f"tag {name} is not on {remote}, and workers clone it from there: `git push {remote} {name}` "
                      "first (a release tag's push moves the release itself when it descends from it)")
    update = RefUpdate(ref, git.git("rev-parse", ref, cwd=cwd).strip(), ref, "0" * len(commit))
    return execute([update], args.remote, remote_url(args.remote), dry_run=args.dry_run, as_json=args.json,
                   always_ask_server=True, release=True)


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
    p.add_argument("--version", action=_Version, help="print prefect-push's version and exit")
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

    rl = sub.add_parser("release", help="move the release deployments to a tag on purpose (rollback, roll-forward)")
    rl.add_argument("tag", help="the tag to move to (on the remote already), e.g. v1")
    rl.add_argument("--remote", default="origin", help="remote name or URL the tag lives on (default origin)")
    rl.add_argument("--dry-run", action="store_true", help="print what would move; writes nothing")
    rl.add_argument("--json", action="store_true", help="print the outcome as JSON on stdout")
    rl.set_defaults(func=cmd_release)

    i = sub.add_parser("install", help="install the plain git pre-push hook (full fidelity: tags, deletions)")
    i.add_argument("--force", action="store_true", help="replace a pre-push hook that is not prefect-push's")
    i.set_defaults(func=cmd_install)

    from .init import add_parser as add_init  # prefect-push init: the whole setup in one command (init.py)

    add_init(sub)

    # internal: the detached registration of mode = "after-push". No help: argparse lists a subcommand only when
    # it has one (3.11 prints help=SUPPRESS as "==SUPPRESS=="), and the metavar below leaves it out of the usage
    w = sub.add_parser("after-push-worker")
    w.add_argument("payload")
    w.set_defaults(func=cmd_after_push_worker)

    d = sub.add_parser("demo", help="a throwaway repo, a local Prefect server, real pushes and a worker run")
    d.add_argument("--keep", action="store_true", help="keep the demo's temp directory")
    d.set_defaults(func=cmd_demo)

    st = sub.add_parser("status", help="what prefect-push registered for this repository, ref by ref")
    st.add_argument("--remote", default="origin", help="remote name or URL of the repository (default origin)")
    st.add_argument("--json", action="store_true", help="print the status as JSON on stdout")
    st.set_defaults(func=cmd_status)

    pr = sub.add_parser("prune", help="delete the deployments of branches and tags the remote no longer has")
    pr.add_argument("--remote", default="origin", help="remote name or URL of the repository (default origin)")
    pr.add_argument("--dry-run", action="store_true", help="list what would be deleted; writes nothing")
    pr.add_argument("--json", action="store_true", help="print what was deleted as JSON on stdout")
    pr.set_defaults(func=cmd_prune)
    sub.metavar = "{" + ",".join(name for name in sub.choices if name not in HIDDEN) + "}"
    return p


HIDDEN = ("after-push-worker",)  # commands prefect-push runs itself; --help does not list them


class _Version(argparse.Action):
    """--version, asked of the package's metadata only when given (fast.main answers it before this parser)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from . import version

        print(f"prefect-push {version()}")
        parser.exit()


def refused_push(args: argparse.Namespace, exc: BaseException, lines: list[str]) -> bool:
    """Whether a stopped command was a push (hook, register, release, not a dry run) refused before any write,
    whose lines do not say so already: they close with NOTHING_REGISTERED then."""
    if args.command not in PUSHES or getattr(args, "dry_run", False) or getattr(exc, "nothing_written", True) is False:
        return False
    return not any("nothing registered" in line or NOTHING_REGISTERED in line for line in lines)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command in ("hook", "register", "plan", "install", "init", "status", "prune", "release") and git.locate() is None:
            raise Blocked(f"not inside a git repository ({os.getcwd()}): run prefect-push {args.command} in your repo")
        return args.func(args)
    except (Blocked, ConfigError, PushLineError, git.GitError) as exc:
        lines = str(exc).splitlines()
        for line in lines:
            say(line)
        if refused_push(args, exc, lines):
            say(NOTHING_REGISTERED)
        return 1
    except KeyboardInterrupt:
        say("interrupted; nothing after this point was registered, the next push catches up")
        return 130
    except Exception as exc:  # noqa: BLE001 - a bug of ours: one line, the traceback in a log (docs/troubleshooting.md)
        from .errors import internal_error

        say(internal_error(exc, hook=args.command == "hook"))
        return 1


if __name__ == "__main__":
    sys.exit(main())
