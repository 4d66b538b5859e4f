"""`prefect-push init`: a repository set up in one command.

The server is checked, the work pool chosen (a flag, a numbered list on a terminal, or none when every
prefect.yaml entry names its own), `[tool.prefect-push]` written into pyproject.toml and the hook added to
.pre-commit-config.yaml (or the plain git hook installed), both files edited in place: only the lines it adds
change, and the result is parsed back before it is written. Then the first registration's plan (what
`prefect-push plan --all` prints) and, with --register, the registration.

Prompts only when stdin and stdout are a terminal; elsewhere the flags and defaults decide, and what they
cannot decide is said. A second run changes nothing and says so. Imports stay light until the server is asked.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import Any, Callable

from . import git
from .engine import Blocked
from .read.config import ConfigError, load
from .read.suggest import did_you_mean
from .install import read_text as _read
from .initfiles import HOOK_ID, PRE_COMMIT_CONFIG, PYPROJECT, add_pre_commit_hook, hook_listed, set_toml_key, toml_value
from .report import say

CREATE_POOL = "prefect work-pool create {name} --type process"


def add_parser(sub: Any) -> None:
    """The `init` subcommand's flags (cli.parser calls this)."""
    p = sub.add_parser("init", help="set up this repository: server check, work pool, pyproject.toml, the hook")
    p.add_argument("--pool", metavar="NAME", default=None,
                   help="the work pool the flows run on (written as work-pool in [tool.prefect-push])")
    p.add_argument("--plain", action="store_true",
                   help="install the plain git pre-push hook (prefect-push install) instead of pre-commit's")
    p.add_argument("--hook-repo", metavar="URL", default=None,
                   help="the repository pre-commit installs prefect-push from (default: the package's Source URL)")
    p.add_argument("--hook-rev", metavar="REV", default=None,
                   help="the rev: pre-commit pins (default: this version's release tag, v<version>)")
    p.add_argument("--register", action="store_true",
                   help="register the current branch's flows now (prefect-push register --all), not only plan")
    p.add_argument("--yes", "-y", action="store_true",
                   help="answer yes to every question (commit the files init wrote; the server's only pool)")
    p.set_defaults(func=cmd_init)


# --- facts: the server, the repository ------------------------------------------------------------------------

NO_SERVER = ("no Prefect server configured: run `prefect config set PREFECT_API_URL=http://<your-server>:4200/api` "
             "(on Prefect Cloud, its workspace URL and PREFECT_API_KEY too), then `prefect-push init` again")


def server_pools(cwd: str) -> tuple[str, list[tuple[str, str]]]:
    """(the API URL as printed, the server's work pools as (name, type)); Blocked, in one line, when no server is
    configured or it does not answer."""
    from .housekeeping import start_prefect, with_server

    server = start_prefect("nothing changed")
    if not server.settings()[0].url:
        raise Blocked(NO_SERVER)

    async def pools(s: Any) -> list[tuple[str, str]]:
        return sorted((p.name, p.type) for p in await s.work_pools())

    return server.api_url(), with_server(pools, cwd, lambda: "nothing changed")


def missing_pool(name: str, url: str, pools: list[tuple[str, str]]) -> str:
    """As a push says it (server.py): the near name the server has, and the command that creates it."""
    return (f"work-pool {name!r} does not exist on {url}{did_you_mean(name, [n for n, _ in pools])}; create it "
            f"with `{CREATE_POOL.format(name=name)}`")


def entry_pool(entry: Any) -> str | None:
    pool = entry.config.get("work_pool")
    name = pool.get("name") if isinstance(pool, dict) else None
    return name if isinstance(name, str) and name.strip() else None


def pool_needed(config: Any, declared: Any) -> tuple[bool, str]:
    """Whether [tool.prefect-push] needs a work-pool, and why (or why not), from the prefect.yaml files."""
    if not declared.governs:
        return True, "no prefect.yaml lists deployments: every flow runs on the work-pool of [tool.prefect-push]"
    if config.unlisted_flows == "register":
        return True, "unlisted-flows = \"register\": flows no prefect.yaml entry lists run on its work-pool"
    entries = [e for f in declared.files for e in f.entries]
    unnamed = [e for e in entries if entry_pool(e) is None]
    if unnamed:
        return True, f"{unnamed[0].where()}: deployment {unnamed[0].name!r} names no work pool"
    if declared.broken:
        return True, f"{declared.broken[0][0]} cannot be read ({declared.broken[0][1]})"
    return False, "every prefect.yaml entry names its work pool"


def has_pool(config: Any) -> bool:
    return config.work_pool is not None or bool(config.runtimes) and all(r.work_pool for r in config.runtimes)


def pre_commit_command() -> list[str]:
    import importlib.util
    import shutil

    if importlib.util.find_spec("pre_commit") is not None:
        return [sys.executable, "-m", "pre_commit"]
    found = shutil.which("pre-commit")
    if found is None:
        raise Blocked("pre-commit is not installed here: `pipx install pre-commit`, or `prefect-push init --plain` "
                      "for the plain git hook")
    return [found]


def default_hook_repo() -> str:
    """The package's Source (or Repository, or Homepage) URL from its installed metadata."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("prefect-push").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    found = dict(u.split(",", 1) for u in urls if "," in u)
    found = {k.strip().lower(): v.strip() for k, v in found.items()}
    for label in ("source", "repository", "homepage"):
        if found.get(label):
            return found[label]
    raise Blocked("this prefect-push has no project URL in its metadata: pass --hook-repo URL")


def _hooks_dir(cwd: str) -> str:
    return os.path.abspath(os.path.join(cwd, git.git("rev-parse", "--git-path", "hooks", cwd=cwd).strip()))


def uncommitted(paths: list[str], cwd: str) -> list[str]:
    """Which of `paths` differ from HEAD (or are untracked)."""
    out = git.git("status", "--porcelain", "--untracked-files=all", "--", *paths, cwd=cwd, check=False)
    changed = {line[3:].strip().strip('"') for line in out.splitlines() if len(line) > 3}
    return [p for p in paths if p in changed]


def commit_with(head: str, paths: list[str], cwd: str) -> str:
    """A commit object (on no ref) of HEAD's tree with `paths` as they are in the working tree: what the push
    will read once they are committed, for the plan."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="prefect-push-init-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": os.path.join(tmp, "index")}

        def run(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                                  text=True).stdout.strip()

        run("read-tree", head)
        run("add", "--", *paths)
        tree = run("write-tree")
        return run("commit-tree", tree, "-p", head, "-m", "prefect-push init (not committed)")


# --- the command -------------------------------------------------------------------------------------------------

class Asker:
    """Questions on a terminal only; --yes answers yes; elsewhere the default answer is no."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.tty = bool(sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty())

    def confirm(self, question: str) -> bool:
        if self.yes:
            return True
        if not self.tty:
            return False
        try:
            answer = input(f"{question} [Y/n] ").strip().lower()
        except EOFError:
            return False
        return answer in ("", "y", "yes")

    def pick(self, pools: list[tuple[str, str]], url: str) -> str | None:
        names = [n for n, _ in pools]
        print(f"Work pools on {url}:")
        for i, (name, kind) in enumerate(pools, 1):
            print(f"  {i}. {name} ({kind})")
        for _ in range(3):
            try:
                answer = input(f"Which one do your flows run on? [1-{len(pools)}] ").strip()
            except EOFError:
                return None
            if answer.isdigit() and 1 <= int(answer) <= len(pools):
                return names[int(answer) - 1]
            if answer in names:
                return answer
            print(f"  {answer!r} is none of them{did_you_mean(answer, names)}")
        return None


def cmd_init(args: argparse.Namespace) -> int:
    cwd = git.toplevel()
    ask = Asker(args.yes)
    changed: list[str] = []  # what this run changed
    kept: list[str] = []  # what was set up already
    open_: list[str] = []  # what it could not decide or do, or what would stop a push: one line each, exit 1

    # 1. the server, and its pools
    url, pools = server_pools(cwd)
    names = [n for n, _ in pools]
    say(f"Prefect API at {url} answers; its work pools: {', '.join(names) or 'none'}")

    written: list[str] = []  # the files this run wrote
    dirty = set(uncommitted([PYPROJECT, PRE_COMMIT_CONFIG], cwd))  # the user's own edits: init commits none of them

    # 2. what the repository declares: the working tree's settings, HEAD's prefect.yaml files
    path = os.path.join(cwd, PYPROJECT)
    raw = _read(path)
    config = load(raw.encode() if raw is not None else None, PYPROJECT)
    head = git.commit_of("HEAD", cwd)
    from .prefectyaml_apply import read

    declared = read(head, config, cwd)
    needed, why = pool_needed(config, declared)
    for entry in (e for f in declared.files for e in f.entries):
        named = entry_pool(entry)
        if named and "{{" not in named and named not in names:
            open_.append(f"to fix: {entry.where('work_pool', 'name')}: deployment {entry.name!r}: "
                         f"{missing_pool(named, url, pools)}")

    # 3. the work pool
    pool: str | None = None
    if args.pool is not None:
        if args.pool not in names:
            raise Blocked(missing_pool(args.pool, url, pools))
        pool = args.pool
    elif has_pool(config):
        missing = [p for p in ([config.work_pool] if config.work_pool else [r.work_pool for r in config.runtimes])
                   if p not in names]
        if not missing:
            kept.append(f"{PYPROJECT} has work-pool = {toml_value(config.work_pool)}" if config.work_pool
                        else f"{PYPROJECT}'s runtimes name their work pools")
        else:
            say(f"{PYPROJECT}: {missing_pool(missing[0], url, pools)}")
            if ask.tty and pools and config.work_pool:
                pool = ask.pick(pools, url)
            if pool is None:
                open_.append(f"to fix: {PYPROJECT}: work-pool {missing[0]!r} is not on the server (create it, or "
                             "pass --pool)")
    elif not needed:
        say(f"no work-pool needed: {why}")
    elif ask.tty and pools:
        say(f"a work pool is needed: {why}")
        pool = ask.pick(pools, url)
        if pool is None:
            open_.append("not decided: no work pool chosen: pass --pool NAME")
    elif args.yes and len(pools) == 1:
        pool = names[0]
        say(f"work pool: {pool}, the server's only one (--yes)")
    else:
        how = (f"pass --pool NAME (one of {', '.join(names)})" if pools
               else f"create one (`{CREATE_POOL.format(name='NAME')}`), then pass --pool NAME")
        open_.append(f"not decided: no work pool chosen ({why}): {how}")

    # 4. pyproject.toml: only the keys needed
    if pool is not None:
        if config.work_pool == pool:
            kept.append(f"{PYPROJECT} has work-pool = {toml_value(pool)}")
        else:
            text = set_toml_key(raw or "", "work-pool", pool)
            load(text.encode(), PYPROJECT)  # what the hook will read parses
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            written.append(PYPROJECT)
            what = (f"work-pool {config.work_pool!r} -> {pool!r}" if config.work_pool
                    else f"work-pool = {toml_value(pool)}")
            changed.append(f"{'created' if raw is None else 'wrote'} {PYPROJECT}: {what} in [tool.prefect-push]")
            say(changed[-1])

    # 5. the hook
    if args.plain:
        _plain_hook(cwd, changed, kept)
    else:
        if _pre_commit_hook(cwd, args, changed, kept):
            written.append(PRE_COMMIT_CONFIG)

    # 6. commit what init wrote, when asked to
    files = uncommitted([p for p in (PYPROJECT, PRE_COMMIT_CONFIG) if os.path.exists(os.path.join(cwd, p))], cwd)
    ours = [p for p in files if p not in dirty and p in written]
    if ours and head is not None and ask.confirm(f"Commit {', '.join(ours)}?"):
        git.git("add", "--", *ours, cwd=cwd)
        proc = subprocess.run(["git", "commit", "-q", "-m", "prefect-push init: register flows at git push", "--",
                               *ours], cwd=cwd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Blocked(f"git commit failed: {' '.join((proc.stderr or proc.stdout).split())[:300]}")
        head = git.commit_of("HEAD", cwd)
        changed.append(f"committed {', '.join(ours)} ({head[:12]})")
        say(changed[-1])
        files = [p for p in files if p not in ours]
    if files:
        say(f"not committed: {', '.join(files)}; commit {'them' if len(files) > 1 else 'it'} before `git push` (the "
            "hook reads the pushed commit's settings)" + ("; --yes commits what init wrote" if set(ours) & set(files)
                                                          and head is not None and not ask.tty else ""))

    # 7. the first registration: its plan, or (--register) the registration itself
    code = _first_registration(args, cwd, head, files, pool_ready=not needed or pool is not None or has_pool(config),
                               open_=open_)
    if not changed:
        say(f"nothing to change: {'; '.join(kept) or 'everything is set up'}")
    for line in open_:
        say(line)
    return 1 if open_ or code else 0


def _plain_hook(cwd: str, changed: list[str], kept: list[str]) -> None:
    from .install import PRE_COMMIT_SIGNATURE, hook_text, install

    target = os.path.join(_hooks_dir(cwd), "pre-push")
    if PRE_COMMIT_SIGNATURE in (_read(target) or ""):
        target += ".legacy"
    if _read(target) == hook_text(sys.executable):
        kept.append(f"the plain pre-push hook is installed ({os.path.relpath(target, cwd)})")
        return
    changed.append(install(cwd=cwd))
    say(changed[-1])


def _pre_commit_hook(cwd: str, args: argparse.Namespace, changed: list[str], kept: list[str]) -> bool:
    """The hook in .pre-commit-config.yaml, and pre-commit's pre-push hook installed; True: the file was written."""
    import yaml

    from .install import PRE_COMMIT_SIGNATURE

    path = os.path.join(cwd, PRE_COMMIT_CONFIG)
    text = _read(path)
    try:
        listed = hook_listed(yaml.safe_load(text)) if text else None
    except yaml.YAMLError as exc:
        raise Blocked(f"{PRE_COMMIT_CONFIG}: not valid YAML ({' '.join(str(exc).split())})") from None
    wrote = listed is None
    if not wrote:
        kept.append(f"{PRE_COMMIT_CONFIG} lists {HOOK_ID} (rev {listed.get('rev')})")
    else:
        from . import version

        url = args.hook_repo or default_hook_repo()
        rev = args.hook_rev or f"v{version()}"
        new = add_pre_commit_hook(text or "", url, rev)
        with open(path, "w", encoding="utf-8") as f:
            f.write(new)
        changed.append(f"{'created' if text is None else 'wrote'} {PRE_COMMIT_CONFIG}: {HOOK_ID} from {url} at {rev}")
        say(changed[-1])
    if PRE_COMMIT_SIGNATURE in (_read(os.path.join(_hooks_dir(cwd), "pre-push")) or ""):
        kept.append("pre-commit's pre-push hook is installed")
        return wrote
    proc = subprocess.run([*pre_commit_command(), "install", "--hook-type", "pre-push"], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise Blocked(f"pre-commit install --hook-type pre-push failed: "
                      f"{' '.join((proc.stderr or proc.stdout).split())[:300]}")
    changed.append("ran pre-commit install --hook-type pre-push (pre-commit builds the hook's environment at the "
                   "first push, about a minute, once)")
    say(changed[-1])
    return wrote


def _first_registration(args: argparse.Namespace, cwd: str, head: str | None, files: list[str], *,
                        pool_ready: bool, open_: list[str]) -> int:
    """Print what `prefect-push plan --all` prints for the current branch (with the files init wrote, committed or
    not), or with --register run `prefect-push register --all`. 1: the plan or registration refused."""
    from .run import cmd_plan, cmd_register

    branch = git.git("symbolic-ref", "-q", "--short", "HEAD", cwd=cwd, check=False).strip()
    skip = ("no commit yet: commit your flows, then `git push` registers them" if head is None
            else "HEAD is detached: `prefect-push plan --all --ref <branch>` shows a branch's" if not branch
            else "no remote 'origin' (`git remote add origin <url>`): `prefect-push plan --all` then shows it"
            if "origin" not in git.git("remote", cwd=cwd, check=False).split()
            else "no work pool yet" if not pool_ready else None)
    if skip is not None:
        say(f"no plan shown: {skip}")
        if args.register:
            open_.append(f"not done: --register: nothing registered ({skip})")
        return 0
    if args.register and files:
        open_.append(f"not done: --register: nothing registered, {', '.join(files)} not committed (answer yes, or "
                     "--yes)")
        args = argparse.Namespace(**{**vars(args), "register": False})
    to = commit_with(head, files, cwd) if files else head
    ns = argparse.Namespace(from_=None, to=to, ref=branch, remote="origin", all=True, json=False)
    if args.register:
        say(f"registering every flow of {branch} at {head[:12]} (prefect-push register --all):")
        if git.ls_remote_ref("origin", f"refs/heads/{branch}", cwd) != head:
            say(f"origin's {branch} is not at {head[:12]} yet: workers clone {branch} from origin, so push it (the "
                "hook then finds it registered)")
        run: Callable[[argparse.Namespace], int] = cmd_register
    else:
        say(f"every flow of {branch}, as `prefect-push plan --all` shows it"
            + (f", with {', '.join(files)} as in the working tree" if files else "") + " (nothing is written):")
        run = cmd_plan
    try:
        return run(ns)
    except (Blocked, ConfigError, git.GitError) as exc:
        for line in str(exc).splitlines():
            say(line)
        return 1
