"""The one way a message names what the user probably meant: a misspelt setting, work pool, tag, ref or remote.

Pure and dependency-free (difflib), in read/ so that the readers (read/config.py) and the rest of the package
share it without the read wing importing anything outside itself.
"""
from __future__ import annotations

from typing import Iterable


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name nearest to `name` (case aside), or None when none is near enough to be a typo of it."""
    import difflib  # here: the hook's no-flow path imports config.py, and only a wrong name needs this

    names = sorted({k for k in known if isinstance(k, str) and k})
    if not name or not names:
        return None
    by_lower: dict[str, str] = {}
    for k in names:
        by_lower.setdefault(k.lower(), k)
    if name.lower() in by_lower and by_lower[name.lower()] != name:
        return by_lower[name.lower()]  # only the case differs
    near = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[near[0]] if near and by_lower[near[0]] != name else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the nearest known name, "" when none is near: appended to the line that
    names the wrong one, as read/prefectyaml.py's unknown-key lines say it."""
    near = closest(name, known)
    return f" (did you mean {near!r}?)" if near is not None else ""
