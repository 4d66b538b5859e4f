"""What a server's refusal looks like to the user: one short line (status and the server's own message, cut), the
whole answer appended to .git/prefect-push/server-errors.log, which the line names. The same for what the readers
could not follow in a flow's file (reader_lines): one line per flow, a traceback in .git/prefect-push/
reader-errors.log. No prefect import at module level: server.py imports this, and the hook's no-flow path imports
neither. A leaf every module may use: it imports nothing of the package but git and state (the bottom floor).
"""
from __future__ import annotations

import os
import time

from .git import strip_credentials


class ServerError(RuntimeError):
    """The server could not be reached or refused a request: one line, naming the API URL (server.py raises it)."""


def describe(exc: BaseException) -> str:
    """One line for an exception at the server edge. One that no server or network raises (a bug of ours met
    while talking to it) also names the log its traceback went to, as internal_error does."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):  # Prefect's text of one holds the whole answer: short, and logged
        return write_error(exc)
    text = _redact(_safe_str(exc)).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
    if from_outside(exc):
        return line
    log = _keep_log(_traceback(exc))
    return f"{line} (details in {log})" if log else line


def from_outside(exc: BaseException) -> bool:
    """What a server, a proxy or the network causes: an HTTP or socket error, a timeout, Prefect's own exceptions,
    an answer that is not the JSON expected. Anything else while talking to the server is a bug of ours."""
    import json
    import sys

    import httpx

    outside: tuple[type, ...] = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError, TimeoutError,
                                 ServerError, json.JSONDecodeError)
    try:
        from pydantic import ValidationError

        outside += (ValidationError,)
        if "prefect" in sys.modules:  # a push that never imported prefect met none of its exceptions
            from prefect.exceptions import PrefectException

            outside += (PrefectException,)
    except Exception:  # noqa: BLE001 - prefect cannot even be imported: nothing more to say about the exception
        return True
    return isinstance(exc, outside)


def _no_credentials(text: str) -> str:
    """An exception's text with any URL's user:password@ cut out (httpx names the URL it failed on)."""
    import re

    return re.sub(r"(\b[a-z][a-z0-9+.-]*://)[^/@\s]*@", r"\1", text, flags=re.I)


ERROR_LINE = 80  # characters of the server's message in a table row; the whole answer goes to ERROR_LOG
ERROR_LOG = "server-errors.log"  # in .git/prefect-push/


def _error_log_path() -> str | None:
    import subprocess

    try:
        git_dir = subprocess.run(["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return os.path.join(git_dir, "prefect-push", ERROR_LOG) if git_dir else None


def error_detail(body: str) -> str:
    """The server's own message: FastAPI's `detail` (a text, or a list of {loc, msg}), else an HTML page's title
    (a proxy's error page) or the body's text with tags stripped; one line."""
    import json
    import re

    try:
        answer = json.loads(body)
        # FastAPI's, then Prefect's own (a 422 with exception_detail, a 401 with only exception_message)
        detail = answer.get("detail") or answer.get("exception_detail") or answer.get("exception_message")
    except (ValueError, AttributeError):
        detail = None
    more = ""
    if isinstance(detail, list) and detail:  # a validation error: the first problem, and how many more
        first = detail[0]
        more = f" (+{len(detail) - 1} more)" if len(detail) > 1 else ""
        loc = first.get("loc") if isinstance(first, dict) else None
        where = ".".join(str(p) for p in loc[1:]) if isinstance(loc, (list, tuple)) else ""
        detail = (f"{where}: {first.get('msg', '')}".removeprefix(": ") if isinstance(first, dict) else str(first))
    title = None if detail else re.search(r"<title[^>]*>(.*?)</title>", body, re.I | re.S)
    text = str(detail) if detail else title.group(1) if title else re.sub(r"<[^>]*>", " ", body)
    text = " ".join(text.split())
    room = ERROR_LINE - len(more)
    return (text if len(text) <= room else text[:room - 3] + "...") + more


def write_error(exc: BaseException) -> str:
    """One short line for a failed write's table row; an error status's whole answer is appended to the log,
    which the line names."""
    import httpx

    if not isinstance(exc, httpx.HTTPStatusError):
        return describe(exc)
    response = exc.response
    body = response.text
    detail = error_detail(body) or response.reason_phrase
    status = str(response.status_code)
    line = detail if detail.startswith(status) else f"{status} {detail}".strip()  # "502 Bad Gateway", once
    log = _error_log_path()
    if log:
        try:
            os.makedirs(os.path.dirname(log), exist_ok=True)
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {exc.request.method} "
                        f"{strip_credentials(str(exc.request.url))} -> "
                        f"{response.status_code}\n{body}\n\n")
            line += f" (full answer: {os.path.relpath(log)})"
        except OSError:
            pass
    return line


# --- an exception nobody expected (a bug of prefect-push's): one line, the traceback in a log file ---

INTERNAL_LOG = "errors.log"  # in .git/prefect-push/, else a temp file
SECRET_SETTINGS = ("PREFECT_API_KEY", "PREFECT_API_AUTH_STRING")


def internal_error(exc: BaseException, *, hook: bool = False) -> str:
    """The line for an unexpected exception: its type and first line, where its traceback went, and for the hook
    how to push anyway. Never raises: it runs when something already went wrong."""
    log = _keep_log(_traceback(exc))
    lines = _redact(_safe_str(exc)).strip().splitlines()
    what = f"{type(exc).__name__}{': ' + lines[0] if lines else ''}"
    line = f"internal error: {what} (details in {log})" if log else f"internal error: {what} (no log could be written)"
    if hook:
        line += ("; nothing was registered and the push stops: push again with PREFECT_PUSH_SKIP=1 to push without "
                 "registering, `prefect-push register` catches up once fixed")
    return line


def _traceback(exc: BaseException) -> str:
    import traceback

    try:
        return _redact("".join(traceback.format_exception(exc)))
    except Exception:  # noqa: BLE001 - a traceback that cannot be formatted: its type still says something
        return f"{type(exc).__name__} (its traceback could not be formatted)\n"


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001
        return ""


def _redact(text: str) -> str:
    """No URL's user:password@, and no value of a credential setting of this environment."""
    text = _no_credentials(text)
    for name in SECRET_SETTINGS:
        value = os.environ.get(name, "")
        if len(value) >= 4:
            text = text.replace(value, f"<{name}>")
    return text


def _keep_log(text: str) -> str | None:
    """Appends the traceback to .git/prefect-push/errors.log inside a repository, else to a new temp file; its
    path (relative to here when it is below here), None when neither could be written."""
    import tempfile

    stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} prefect-push {_version()}\n"
    try:
        from . import git, state

        if git.locate() is not None:
            log = state.path(git.toplevel(), INTERNAL_LOG)
            os.makedirs(os.path.dirname(log), exist_ok=True)
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{stamp}{text}\n")
            rel = os.path.relpath(log)
            return log if rel.startswith("..") else rel
    except Exception:  # noqa: BLE001 - a read-only clone, no git: the temp file below
        pass
    try:
        fd, log = tempfile.mkstemp(prefix="prefect-push-error-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"{stamp}{text}\n")
        return log
    except Exception:  # noqa: BLE001
        return None


def _version() -> str:
    try:
        from . import version

        return version()
    except Exception:  # noqa: BLE001 - broken metadata: the log still gets the traceback
        return "(version unknown)"


READER_LOG = "reader-errors.log"  # in .git/prefect-push/: tracebacks of the file readers' internal errors


def log_detail(cwd: str, what: str, detail: str) -> str | None:
    """Append an internal error's traceback to READER_LOG; the path to name in the line (relative to the current
    directory, as the user runs git there), None when it cannot be written."""
    from . import state

    log = state.path(cwd, READER_LOG)
    try:
        os.makedirs(os.path.dirname(log), exist_ok=True)
        with open(log, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {what}\n{detail.rstrip()}\n\n")
    except OSError:
        return None
    return os.path.relpath(log)
