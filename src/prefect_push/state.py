"""The clone's own small records, JSON files under .git/prefect-push: refs whose registration was missed
(pending.json), the last background registration (after-push.json), servers that answered busy
(busy-servers.json). Each is read whole or not at all."""
from __future__ import annotations

import json
import os
from typing import Any

from . import git


def path(cwd: str, name: str) -> str:
    return os.path.join(git.git_dir(cwd), "prefect-push", name)


def read(cwd: str, name: str) -> Any:
    """The record's content; None when there is none or it is unreadable (a record only saves work)."""
    try:
        with open(path(cwd, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write(cwd: str, name: str, content: Any) -> None:
    """Replaces the record whole: another push, or an after-push worker, may read it meanwhile. OSError: a
    read-only clone; the caller decides what losing the record means."""
    target = path(cwd, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(content, f, indent=1)
    os.replace(tmp, target)


def remove(cwd: str, name: str) -> None:
    try:
        os.remove(path(cwd, name))
    except FileNotFoundError:
        pass
