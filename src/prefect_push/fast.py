"""The hook's first step: "this push changes no flow" decided with one git call and nothing imported.

Most pushes change no flow, and every one of them waits for this. A flow is a .py file and the settings live in
pyproject.toml, so a branch update whose diff has neither has nothing to register, unless the settings declare
data-dependencies (files flows read), which the full path matches.
Anything else (a .py or pyproject.toml changed, a new branch, a tag, a deletion, a registration to catch up,
an opt-out, input to complain about) goes to the full path in cli.py, which decides it exactly. Only os and
sys here: python's start plus one `git diff` is the whole cost of a push that changes no flow.
"""
from __future__ import annotations

import os
import sys

from . import version  # the package's own, which imports nothing

SKIP_ENV = "PREFECT_PUSH_SKIP"


def run() -> None:
    """The console script and the installed hook: main, then exit.

    After a registration the interpreter's own teardown (freeing prefect's ~100,000 objects module by module)
    takes ~0.2 s, a tenth of a 20-flow push, and git waits for it. By then every client is closed and every
    line written, so the atexit handlers run (logging's flush among them) and the process ends without it."""
    try:
        code = main()
    except SystemExit as exc:  # argparse's usage errors, --help
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - a bug of ours before cli.main's own guard: the same one line
        from .errors import internal_error

        print(f"prefect-push: {internal_error(exc, hook=sys.argv[1:2] == ['hook'])}", file=sys.stderr)
        code = 1
    if "prefect" not in sys.modules:
        sys.exit(code)  # nothing heavy loaded: the usual exit costs nothing
    import atexit

    status = code if isinstance(code, int) else 0 if code is None else 1
    if not isinstance(code, (int, type(None))):
        print(code, file=sys.stderr)  # sys.exit("message") prints it
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with that descriptor closed
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (the reader went away): nothing left to say to it
            pass
    os._exit(status)


def main(argv: list[str] | None = None) -> int:
    """The fast path for `hook`, else cli.main."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--version"]:
        print(f"prefect-push {version()}")
        return 0
    if argv[:1] == ["hook"]:
        stdin = _stdin()
        if nothing_to_do(argv[1:], stdin, os.environ):
            return 0
        import io

        sys.stdin = io.StringIO(stdin)  # the full path reads what this one already took from git
    from .cli import main as cli_main

    return cli_main(argv)


def _stdin() -> str:
    if os.environ.get("PRE_COMMIT_REMOTE_BRANCH") or sys.stdin is None or sys.stdin.isatty():
        return ""  # pre-commit passes no stdin; a terminal means someone ran the hook by hand
    raw = getattr(sys.stdin, "buffer", None)  # bytes: ref names need not be UTF-8 (engine.prepare says so per ref)
    return raw.read().decode("utf-8", "surrogateescape") if raw is not None else sys.stdin.read()


def nothing_to_do(git_args: list[str], stdin: str, env: os._Environ | dict[str, str]) -> bool:
    """True only when the push certainly registers nothing: every pushed ref is an existing branch moving to a
    commit whose diff from the remote's touches no .py file, no prefect.yaml and no pyproject.toml, and nothing is
    pending."""
    if env.get(SKIP_ENV) or "prefect-push" in env.get("SKIP", ""):
        return False  # the full path says it skipped, and remembers what
    git_dir = _git_dir(env)
    if git_dir is None or _has_news(git_dir):
        return False
    if env.get("PRE_COMMIT_REMOTE_BRANCH"):
        frm, to = env.get("PRE_COMMIT_FROM_REF", ""), env.get("PRE_COMMIT_TO_REF", "")
        pairs = [(env["PRE_COMMIT_REMOTE_BRANCH"], frm, to)]
    elif env.get("PRE_COMMIT_TO_REF"):
        return False  # `pre-commit run --hook-stage pre-push` by hand
    else:
        pairs = []
        for line in stdin.splitlines():
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 4:
                return False  # the full path names the bad line
            _, local_sha, remote_ref, remote_sha = fields
            pairs.append((remote_ref, remote_sha, local_sha))
    for remote_ref, frm, to in pairs:
        if not remote_ref.startswith("refs/heads/") or _zero(frm) or _zero(to) or not _hex(frm) or not _hex(to):
            return False  # tags, deletions, new branches and the unexpected: the full path decides
        names = _git("diff", "--name-only", "-z", "--no-renames", frm, to)
        if names is None:
            return False  # the remote's commit is not here (a force push over unfetched work): full path
        for name in names.split(b"\0"):
            if name.endswith((b".py", b"prefect.yaml")) or name == b"pyproject.toml":
                return False  # a prefect.yaml's entries are deployment settings (prefectyaml_apply)
        if not names.strip(b"\0"):
            continue
        settings = _git("cat-file", "blob", f"{to}:pyproject.toml") or b""
        if b"data-dependencies" in settings:
            return False  # files flows read are declared: the full path matches the changed files against them
        if b"prefect-yaml" in settings and any(n.endswith((b".yaml", b".yml")) for n in names.split(b"\0")):
            return False  # prefect.yaml files under other names: the full path matches them
    return True


def _has_news(git_dir: str) -> bool:
    """A registration to catch up, or a background result the next push must show."""
    state = os.path.join(git_dir, "prefect-push")
    if os.path.exists(os.path.join(state, "pending.json")):
        return True
    try:
        with open(os.path.join(state, "after-push.json")) as f:
            return '"shown": true' not in f.read()
    except OSError:
        return False


def _git_dir(env: os._Environ | dict[str, str]) -> str | None:
    """The repository's git dir without running git: $GIT_DIR, or .git (a directory, or a worktree's file)
    found upwards from here."""
    if env.get("GIT_DIR"):
        return os.path.abspath(env["GIT_DIR"])
    here = os.getcwd()
    while True:
        dot = os.path.join(here, ".git")
        if os.path.isdir(dot):
            return dot
        if os.path.isfile(dot):
            try:
                with open(dot) as f:
                    line = f.read().strip()
            except OSError:
                return None
            if line.startswith("gitdir:"):
                return os.path.normpath(os.path.join(here, line[len("gitdir:"):].strip()))
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _git(*args: str) -> bytes | None:
    """git's stdout, or None when it fails. posix_spawn rather than subprocess: importing subprocess costs more
    than the git call."""
    if not hasattr(os, "posix_spawnp"):
        return None  # the full path copes everywhere
    r, w = os.pipe()
    try:
        pid = os.posix_spawnp("git", ["git", *args], os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, w, 1), (os.POSIX_SPAWN_CLOSE, r),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    except OSError:
        os.close(r)
        os.close(w)
        return None
    os.close(w)
    chunks = []
    while True:
        chunk = os.read(r, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None


def _zero(sha: str) -> bool:
    return not sha.strip("0")


def _hex(sha: str) -> bool:
    return len(sha) in (40, 64) and all(c in "0123456789abcdef" for c in sha)
