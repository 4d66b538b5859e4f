"""prefect-push hook | register | plan | release | install | demo (status and prune: housekeeping.py; one push's
path, which the hook, register, plan and release share with init and the after-push worker: run.py).

Imports stay light here: a push that changes no flow decides "nothing to do" without prefect or rich.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import git
from .engine import Blocked
from .housekeeping import cmd_prune, cmd_status
from .push import PushLineError, RefUpdate, parse_push_lines
from .read.config import ConfigError
from .read.suggest import did_you_mean
from .report import say
from .run import SKIP_ENV, cmd_plan, cmd_register, execute, ref_names, remote_hint, remote_url
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
    from .afterpush import announce_last, spawn

    last = announce_last(git.toplevel())  # how the previous push's background registration went, once
    if last:
        say(last)
    if not updates:
        return 0
    if git_push_dry_run():
        say("git push --dry-run: registering nothing; `prefect-push plan` shows what a real push would do")
        return 0
    return execute(updates, remote, url, as_json=args.json, defer=spawn)


def cmd_after_push_worker(args: argparse.Namespace) -> int:
    from .afterpush import worker

    return worker(args.payload)


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
