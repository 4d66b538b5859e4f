"""mode = "after-push": register once the remote really has the pushed commits, in a detached process.

A pre-push hook runs before the remote accepts the push. When the remote then rejects it (non-fast-forward, a
protected branch, a server-side hook), what was registered names commits the remote does not have. In
after-push mode the hook checks flows and config as always (a bad flow still blocks the push), then hands the
registration to a detached process that polls the remote (`git ls-remote`, bounded by after-push-wait) and
registers only the refs the remote shows at the pushed commit. Its output goes to a log file; the last result
is shown by the next push and by `prefect-push status`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from . import git, state
from .push import RefUpdate

LOG = "after-push.log"
RESULT = "after-push.json"


@dataclass
class Result:
    """What the last background registration did, for the next push and `status` to show."""
    status: str  # "running", "registered", "failed", "not on remote"
    refs: list[str]
    message: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    shown: bool = False  # the next push printed it already


def read_result(cwd: str) -> Result | None:
    try:
        return Result(**state.read(cwd, RESULT))
    except TypeError:  # none, or not one
        return None


def write_result(cwd: str, result: Result) -> None:
    state.write(cwd, RESULT, asdict(result))


def describe(result: Result) -> str:
    refs = ", ".join(result.refs)
    if result.status == "running":
        return f"background registration of {refs} still running (started {time.ctime(result.started)})"
    where = os.path.join(".git", "prefect-push", LOG)
    return f"last background registration of {refs}: {result.status}{': ' + result.message if result.message else ''}" \
           f" (log: {where})"


def announce_last(cwd: str) -> str | None:
    """The last background result, once: the next push shows how the previous one went."""
    result = read_result(cwd)
    if result is None or result.shown or result.status == "running":
        return None
    result.shown = True
    try:
        write_result(cwd, result)
    except OSError:
        pass
    return describe(result)


def spawn(updates: list[RefUpdate], remote: str, url: str, cwd: str, wait: float) -> None:
    """Start the detached registration; returns at once (the push must not wait for it)."""
    payload = {"updates": [asdict(u) for u in updates], "remote": remote, "url": url, "wait": wait}
    write_result(cwd, Result("running", [u.remote_ref for u in updates]))  # makes the directory too
    log = open(state.path(cwd, LOG), "a")
    # its own session and no inherited pipes: git, pre-commit or a CI runner waiting on our stderr must not
    # wait for the background process too
    subprocess.Popen([sys.executable, "-m", "prefect_push", "after-push-worker", json.dumps(payload)], cwd=cwd,
                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
    log.close()


def wait_for_remote(url: str, updates: list[RefUpdate], wait: float, cwd: str) -> tuple[list[RefUpdate], list[str]]:
    """(updates the remote shows as pushed, refs it never showed within `wait` seconds). Checked against the
    remote itself, never guessed: a rejected push leaves the remote's ref where it was."""
    deadline, delay = time.monotonic() + wait, 0.2
    todo = list(updates)
    done: list[RefUpdate] = []
    while todo:
        refs = git.ls_remote(url, cwd) or {}
        for u in list(todo):
            have = refs.get(u.remote_ref)
            if (have is None) if u.is_delete else (have == u.local_sha):
                done.append(u)
                todo.remove(u)
        if not todo or time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)
    return done, [u.remote_ref for u in todo]


def worker(payload_json: str) -> int:
    """The detached process: wait for the remote, then register what it has, as the hook would have."""
    from .run import execute  # the engine and the registrar, as the hook would have run them
    from .report import say

    payload = json.loads(payload_json)
    updates = [RefUpdate(**u) for u in payload["updates"]]
    cwd = git.toplevel()
    refs = [u.remote_ref for u in updates]
    say(f"{time.strftime('%Y-%m-%d %H:%M:%S')} waiting up to {payload['wait']:g}s for "
        f"{git.strip_credentials(payload['url'])} to have {', '.join(refs)}")
    try:
        seen, missing = wait_for_remote(payload["url"], updates, payload["wait"], cwd)
    except Exception as exc:  # noqa: BLE001 - a bug of ours: the result must not stay "running" for ever
        from .errors import internal_error

        said = internal_error(exc)
        say(said)
        write_result(cwd, Result("failed", refs, said, finished=time.time()))
        return 1
    message = ""
    if missing:
        message = (f"{', '.join(missing)} not on the remote at the pushed commit after {payload['wait']:g}s "
                   "(push rejected?): nothing registered for it")
        say(message)
    rc = 0
    if seen:
        try:
            rc = execute(seen, payload["remote"], payload["url"])
        except Exception as exc:  # noqa: BLE001 - the log gets one line; the next push catches up (pending)
            from .read.config import ConfigError
            from .engine import Blocked
            from .errors import internal_error

            said = (str(exc).strip() if isinstance(exc, (Blocked, ConfigError, git.GitError))
                    else internal_error(exc))  # a bug: its traceback in errors.log, which the line names
            say(said if said.startswith("internal error") else f"{type(exc).__name__}: {said}")
            rc = 1
            message = (message + "; " if message else "") + (said.splitlines() or ["failed"])[0]
    status = "failed" if rc else ("not on remote" if missing and not seen else "registered")
    if rc and not message:
        message = "see the log"
    write_result(cwd, Result(status, refs, message, finished=time.time()))
    say(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {status}")
    return rc
