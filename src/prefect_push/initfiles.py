"""The two files `prefect-push init` edits, edited in place: pyproject.toml's [tool.prefect-push] and
.pre-commit-config.yaml. Pure: text in, text out; only the lines added or the one value set change (comments,
order and layout kept), and each result is parsed back and compared with the document it must be, or refused
with what to add by hand.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .engine import Blocked
from .read.config import ConfigError

PYPROJECT = "pyproject.toml"
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
HOOK_ID = "prefect-push"

_TABLE = re.compile(r'^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*(?:prefect-push|"prefect-push")[ \t]*\][ \t]*(?:#.*)?$')
_ANY_TABLE = re.compile(r"^[ \t]*\[")


def toml_value(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def set_toml_key(text: str, key: str, value: str) -> str:
    """pyproject.toml's text with `key = "value"` in [tool.prefect-push]: the key's value replaced where it is
    (a comment after it kept), else a line added at the end of the table, else the table added at the end of the
    file. Raises ConfigError when the result would not be the same document with that one key set."""
    from .read.config import tomllib

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    line = f"{key} = {toml_value(value)}\n"
    start = next((i for i, x in enumerate(lines) if _TABLE.match(x.rstrip("\r\n"))), None)
    if start is None:
        body = "".join(lines)
        gap = "" if not body.strip() else "" if body.endswith("\n\n") else "\n"
        new = f"{body}{gap}[tool.prefect-push]\n{line}"
    else:
        end = next((i for i in range(start + 1, len(lines)) if _ANY_TABLE.match(lines[i])), len(lines))
        name = rf'(?:{re.escape(key)}|"{re.escape(key)}")'
        keyed = re.compile(rf"^[ \t]*{name}[ \t]*=")
        quoted = re.compile(rf'^([ \t]*{name}[ \t]*=[ \t]*)("(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\')(.*)$', re.S)
        for i in range(start + 1, end):
            if keyed.match(lines[i]):
                m = quoted.match(lines[i])
                lines[i] = f"{m.group(1)}{toml_value(value)}{m.group(3)}" if m else line
                break
        else:
            last = max((i for i in range(start, end) if lines[i].strip() and not lines[i].lstrip().startswith("#")),
                       default=start)
            lines.insert(last + 1, line)
        new = "".join(lines)
    by_hand = f"add `{line.strip()}` under [tool.prefect-push] in {PYPROJECT} by hand"
    try:
        expected = tomllib.loads(text)
        got = tomllib.loads(new)
        expected.setdefault("tool", {}).setdefault("prefect-push", {})[key] = value
    except (tomllib.TOMLDecodeError, AttributeError, TypeError):
        raise ConfigError(f"{PYPROJECT}: cannot set {key} in place; {by_hand}") from None
    if got != expected:
        raise ConfigError(f"{PYPROJECT}: cannot set {key} in place (its [tool.prefect-push] is not a plain table "
                          f"of lines); {by_hand}")
    return new


def yaml_scalar(value: str) -> str:
    """`value` as YAML reads it back: plain when it is safe, else a double-quoted (JSON) string."""
    import yaml

    try:
        plain = yaml.safe_load(value) == value and "#" not in value and ": " not in value
    except yaml.YAMLError:
        plain = False
    return value if plain else json.dumps(value)


def hook_listed(data: Any) -> dict | None:
    """The repos: entry of a parsed pre-commit config that lists the prefect-push hook, if any."""
    repos = data.get("repos") if isinstance(data, dict) else None
    for repo in repos if isinstance(repos, list) else ():
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        if isinstance(hooks, list) and any(isinstance(h, dict) and h.get("id") == HOOK_ID for h in hooks):
            return repo
    return None


def _top_level(line: str) -> bool:
    """A line that starts a top-level key (not indented, not a comment, not a sequence item, not blank)."""
    return bool(line.strip()) and line[0] not in " \t#-"


def add_pre_commit_hook(text: str, url: str, rev: str) -> str:
    """A pre-commit config's text with a repos: entry for prefect-push appended and pre-push in
    default_install_hook_types; every other line as it was. Raises Blocked when that cannot be done in place."""
    import yaml

    by_hand = (f"add this entry to repos: in {PRE_COMMIT_CONFIG} by hand: `- repo: {url}` / `rev: {rev}` / "
               f"`hooks: [{{id: {HOOK_ID}}}]`, and pre-push to default_install_hook_types")
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise Blocked(f"{PRE_COMMIT_CONFIG}: not valid YAML ({' '.join(str(exc).split())})") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise Blocked(f"{PRE_COMMIT_CONFIG}: not a mapping; {by_hand}")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"

    def entry(indent: int) -> list[str]:
        pad = " " * indent
        return [f"{pad}- repo: {yaml_scalar(url)}\n", f"{pad}  rev: {yaml_scalar(rev)}\n", f"{pad}  hooks:\n",
                f"{pad}    - id: {HOOK_ID}\n"]

    def block_end(at: int) -> int:
        return next((j for j in range(at + 1, len(lines)) if _top_level(lines[j])), len(lines))

    def items(at: int) -> list[int]:
        return [j for j in range(at + 1, block_end(at)) if lines[j].strip() and not lines[j].lstrip().startswith("#")]

    key = re.compile(r"^repos[ \t]*:")
    r = next((i for i, x in enumerate(lines) if key.match(x)), None)
    if r is None:
        lines += ["repos:\n", *entry(2)]
    else:
        empty = re.match(r"^repos[ \t]*:[ \t]*(\[[ \t]*\])?[ \t]*(#.*)?$", lines[r].rstrip("\r\n"))
        if empty is None:
            raise Blocked(f"{PRE_COMMIT_CONFIG}: repos: is written on one line; {by_hand}")
        if empty.group(1):
            lines[r] = "repos:" + (f"  {empty.group(2)}" if empty.group(2) else "") + "\n"
        present = items(r)
        first = next((re.match(r"^([ \t]*)- ", lines[j]) for j in present if re.match(r"^[ \t]*- ", lines[j])), None)
        at = present[-1] + 1 if present else r + 1
        lines[at:at] = entry(len(first.group(1)) if first else 2)
    types = data.get("default_install_hook_types")
    if types is None:
        r = next(i for i, x in enumerate(lines) if key.match(x))
        lines.insert(r, "default_install_hook_types: [pre-commit, pre-push]\n")
    elif isinstance(types, list) and "pre-push" not in types:
        d = next((i for i, x in enumerate(lines) if re.match(r"^default_install_hook_types[ \t]*:", x)), None)
        flow = re.match(r"^(default_install_hook_types[ \t]*:[ \t]*\[)([^\]]*)(\].*)$", lines[d] if d is not None
                        else "", re.S)
        if flow:
            inside = flow.group(2).strip()
            lines[d] = f"{flow.group(1)}{inside + ', ' if inside else ''}pre-push{flow.group(3)}"
        elif d is not None and items(d):
            last = items(d)[-1]
            pad = re.match(r"^([ \t]*)", lines[last]).group(1)
            lines.insert(last + 1, f"{pad}- pre-push\n")
    new = "".join(lines)
    expected = dict(data)
    repos = data.get("repos")
    expected["repos"] = (list(repos) if isinstance(repos, list) else []) + [
        {"repo": url, "rev": rev, "hooks": [{"id": HOOK_ID}]}]
    if types is None:
        expected["default_install_hook_types"] = ["pre-commit", "pre-push"]
    elif isinstance(types, list) and "pre-push" not in types:
        expected["default_install_hook_types"] = [*types, "pre-push"]
    try:
        ok = yaml.safe_load(new) == expected
    except yaml.YAMLError:
        ok = False
    if not ok:
        raise Blocked(f"{PRE_COMMIT_CONFIG}: cannot add the hook in place; {by_hand}")
    return new
