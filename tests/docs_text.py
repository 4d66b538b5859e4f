"""Reading README.md and docs/*.md for tests/test_docs.py and tests/test_docs_pages.py: fenced blocks, prose and
its code spans, shell commands checked against the real CLI, headings' anchors, and the messages src/ prints."""
from __future__ import annotations

import ast
import contextlib
import functools
import io
import re
import shlex
from pathlib import Path
from typing import NamedTuple

from prefect_push import cli
from prefect_push.read import config

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


class Block(NamedTuple):
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    unchecked: bool

    def __str__(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line} ({self.lang})"


def blocks(doc: Path) -> list[Block]:
    out, lines = [], doc.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if m:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
            assert end is not None, f"{doc.relative_to(ROOT)}:{i + 1}: a ``` block that never closes"
            unchecked = i > 0 and lines[i - 1].strip().startswith("<!-- unchecked:")
            out.append(Block(doc, i + 1, m.group(1), "\n".join(lines[i + 1:end]) + "\n", unchecked))
            i = end
        i += 1
    return out


ALL = [b for d in DOCS for b in blocks(d)]


def of(*langs: str) -> list[Block]:
    return [b for b in ALL if b.lang in langs and not b.unchecked]


def prose(doc: Path) -> str:
    """The doc without its fenced blocks (so a code span is prose's, not an example's)."""
    return re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)


def code_spans(doc: Path) -> list[str]:
    """Inline code, a span broken over two lines joined again."""
    return [" ".join(s.split()) for s in re.findall(r"``?([^`]+?)``?", prose(doc))]


def known_settings() -> set[str]:
    """What config.py accepts at the top of [tool.prefect-push], as its own error message lists it."""
    try:
        config.parse({"not-a-setting": 1})
    except config.ConfigError as err:
        return set(re.search(r"known: ([^)]*)\)", str(err)).group(1).split(", "))
    raise AssertionError("config.parse took an unknown setting")


KNOWN = known_settings()


def dev_commands() -> set[str]:
    """The commands dev.py's main accepts: the tuple in its `argv[0] not in (...)`."""
    tree = ast.parse((ROOT / "dev.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.NotIn) and isinstance(
                node.comparators[0], ast.Tuple):
            return {e.value for e in node.comparators[0].elts}
    raise AssertionError("dev.py: no command tuple found")


def parse_cli(argv: list[str]) -> str | None:
    """None when prefect-push's own argparser accepts argv, else its complaint."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            cli.parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            return err.getvalue().strip().splitlines()[-1]
    return None


def commands(line: str) -> list[list[str]]:
    """The simple commands of one shell line; <placeholders> become one word, [--optional flags] plain flags."""
    line = re.sub(r"<[^>]*>", "X", line)
    line = re.sub(r"\[(--[^\]|]*)\]", r"\1", line)
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    out: list[list[str]] = [[]]
    for w in words:
        if w in ("|", "||", "&&", ";") or w.startswith((">", "2>")):
            out.append([])
        else:
            out[-1].append(w)
    return [c for c in out if c]


def check_command_line(line: str, where: object) -> None:
    for cmd in commands(line):
        if cmd[0] == "prefect-push":
            problem = parse_cli(cmd[1:])
            assert problem is None, f"{where}: `{' '.join(cmd)}`: {problem}"
        elif cmd[:2] == ["python3", "dev.py"]:
            assert len(cmd) > 2 and cmd[2] in dev_commands(), f"{where}: `{' '.join(cmd)}`: not a dev.py command"
            if cmd[2] == "demo":
                assert parse_cli(cmd[2:]) is None, f"{where}: `{' '.join(cmd)}`"
        elif cmd[0] == ".venv/bin/python" and len(cmd) > 1 and not cmd[1].startswith("-"):
            assert (ROOT / cmd[1]).is_file(), f"{where}: `{' '.join(cmd)}`: no file {cmd[1]}"
            flags = {w.split("=")[0] for w in cmd[2:] if w.startswith("--")}
            unknown = flags - script_flags(cmd[1])
            assert not unknown, f"{where}: `{' '.join(cmd)}`: {cmd[1]} has no {sorted(unknown)}"


def script_flags(script: str) -> set[str]:
    """The flags a script of this repository (bench/*.py) accepts, from its own --help."""
    return _scripts_help()[script]


@functools.lru_cache(maxsize=1)
def _scripts_help() -> dict[str, set[str]]:
    """Every script the docs run, asked for --help at once (each imports its bench helpers: ~0.4 s)."""
    import subprocess
    import sys

    named = sorted({m for b in ALL for m in re.findall(r"^\.venv/bin/python (\S+\.py)", b.text, re.M)
                    if (ROOT / m).is_file()})
    procs = {s: subprocess.Popen([sys.executable, s, "--help"], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for s in named}
    out = {}
    for script, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{script} --help: {stderr.strip()[-300:]}"
        out[script] = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", stdout))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", prose(doc), re.M)}


GAP = "\0"


@functools.lru_cache(maxsize=1)
def source_messages() -> list[str]:
    """Every string literal and f-string of src/, its formatted values as gaps (docstrings are not printed)."""
    out = []
    for path in (ROOT / "src" / "prefect_push").rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(n.value) for n in ast.walk(tree)
                      if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.JoinedStr):
                out.append("".join(v.value if isinstance(v, ast.Constant) else GAP for v in node.values))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append(node.value)
    return out


def fragments(message: str) -> list[str]:
    """What a quoted message must say literally: its parts between … , 'values' and paths or refs."""
    text = re.sub(r"'[^']*'|\S*/\S*|…", GAP, message)
    return [f.strip(" :") for f in text.split(GAP) if f.strip(" :")]


def printed(message: str, sources: list[str]) -> bool:
    def in_order(parts: list[str], text: str) -> bool:
        at = 0
        for part in parts:
            at = text.find(part, at)
            if at < 0:
                return False
            at += len(part)
        return True
    return any(in_order(fragments(message), s) for s in sources)
