"""The docs as users read them: every example in README.md and docs/*.md is checked against the real code.

What a doc author must keep true (each rule is one test, here or, for rules about one page's content, in
tests/test_docs_pages.py; tests/docs_text.py reads the pages):
- ```toml: loads through prefect_push.read.config.load as a pyproject.toml. A block without a `[tool.prefect-push…]`
  header is a fragment of `[tool.prefect-push]`. A block meant to fail has a line `# error: <text>`, and the
  ConfigError must contain <text>. A setting whose comment says `(default)` or `the default` must hold the
  value prefect-push uses when the setting is absent.
- ```python: a flow file, first line `# <path>: flow <name>` (or `flows <name>, <name>`); read_flows reads it
  without error (its PREFECT_PUSH checked by Prefect's own validators) and finds exactly those flows.
- ```yaml: parses; a pre-commit config's hooks are ids of this repository's .pre-commit-hooks.yaml; every
  `prefect-push …` it runs parses with the CLI.
- ```sh / ```console, and `prefect-push …` code spans in prose: a real command with real flags (the CLI's own
  argparser; nothing is run). `python3 dev.py X`: a dev.py command. `.venv/bin/python <file> --flags`: the file
  exists and its --help lists the flags.
- ```text: program output (rare): the job-variable message of docs/runtimes.md is the check's own.
- every command a user types and each of its flags is explained in a paragraph naming the command.
- links to files of this repository, and their #anchors, resolve; every docs/*.md is linked from the README;
  every `src/…`, `tests/…`, `bench/…` path named in a code span exists.
- every paragraph closes its code spans (an unclosed one would shift what the checks read).
- every `[tool.prefect-push]` setting a doc names (in `key = …` or `` `key` `` code spans, or a
  `[tool.prefect-push.<table>]`) is one config.py knows; every setting config.py knows is in the table of
  docs/configuration.md, every module of src/ in docs/development.md.
- the messages docs/troubleshooting.md explains are messages src/ prints; the `why` column of the base table
  is what base.decide says for tests/test_base.py's rows; the status and prune tables of
  docs/status-and-prune.md are drawn by the real renderers (PREFECT_PUSH_WRITE_DOCS=1 rewrites them).
- a block that cannot be checked is rare and marked by `<!-- unchecked: why -->` on the line before it.
No server and no git: parsing, one prefect import (the schedule validators) and each bench script's --help.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from docs_text import (ALL, DOCS, KNOWN, ROOT, Block, anchors, check_command_line, code_spans, of, parse_cli, prose,
                       slug)
from prefect_push import cli
from prefect_push.read import config
from prefect_push.read.flows import BadFlow, read_flows

# kebab-case code spans that are not [tool.prefect-push] settings: command, hook and file names, values
NOT_SETTINGS = {"prefect-push", "pre-push", "after-push", "pre-commit", "feature-x"}


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_code_spans_are_closed_in_every_paragraph(doc: Path):
    """An unclosed ` shifts every span after it, and with them what the checks below read."""
    odd = [p.strip()[:60] for p in prose(doc).split("\n\n") if p.count("`") % 2]
    assert not odd, f"{doc.relative_to(ROOT)}: a paragraph with an unclosed code span: {odd}"


def test_every_fenced_block_has_a_language_and_every_language_is_checked():
    checked = {"toml", "python", "yaml", "sh", "console", "text"}  # text: program output, shown as is
    wrong = [str(b) for b in ALL if b.lang not in checked]
    assert not wrong, f"blocks with no or an unchecked language: {wrong}"
    unchecked = [str(b) for b in ALL if b.unchecked]
    assert len(unchecked) <= 3, f"too many unchecked blocks: {unchecked}"


# --- toml ---

def as_pyproject(text: str) -> bytes:
    if not re.search(r"^\[tool\.prefect-push[\].]", text, re.M):
        text = "[tool.prefect-push]\n" + text
    return text.encode()


@pytest.mark.parametrize("block", of("toml"), ids=str)
def test_toml_blocks_load_as_prefect_push_config(block: Block):
    expected = re.search(r"#\s*error:\s*(.+)$", block.text, re.M)
    if expected:
        with pytest.raises(config.ConfigError) as err:
            config.load(as_pyproject(block.text))
        assert expected.group(1).strip() in str(err.value), f"{block}: the error is {err.value}"
        return
    try:
        config.load(as_pyproject(block.text))
    except config.ConfigError as exc:
        pytest.fail(f"{block}: {exc}")


DEFAULT_COMMENT = re.compile(r"^([a-z-]+)\s*=\s*(.+?)\s*#.*(?:\(default\)|\bthe default\b)")


# settings whose unset value is spelled otherwise in the Config (None for default-runtime means "default")
SAME_AS = {"default-runtime": lambda c: c.default_runtime or config.DEFAULT_RUNTIME}


@pytest.mark.parametrize("block", [b for b in of("toml") if "default" in b.text], ids=str)
def test_a_setting_shown_as_the_default_is_the_default(block: Block):
    for line in block.text.splitlines():
        m = DEFAULT_COMMENT.match(line.strip())
        if not m or "# error:" in line:
            continue
        key, raw = m.group(1), m.group(2)
        value = config.tomllib.loads(f"v = {raw}")["v"]
        read = SAME_AS.get(key, lambda c: getattr(c, key.replace("-", "_")))
        assert read(config.parse({key: value})) == read(config.Config()), \
            f"{block}: {key} = {raw} is not the default any more ({read(config.Config())!r})"


# --- python ---

CLAIM = re.compile(r"^# (\S+\.py): flows? ([\w-]+(?:, [\w-]+)*)\s*$")


@pytest.mark.parametrize("block", of("python"), ids=str)
def test_python_blocks_are_flow_files_with_the_flows_they_claim(block: Block):
    claim = CLAIM.match(block.text.splitlines()[0])
    assert claim, f"{block}: first line must be `# <path>.py: flow <name>` (or mark it unchecked)"
    got = read_flows(claim.group(1), block.text.encode())
    assert not isinstance(got, BadFlow), f"{block}: {got.path}:{got.line}: {got.message}"
    assert sorted(f.flow_name for f in got) == sorted(claim.group(2).split(", ")), block


# --- yaml ---

def hooks() -> dict[str, dict]:
    """The hooks this repository offers, from the one file name pre-commit reads them from."""
    return {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}


def runs(node) -> list[str]:
    """Every shell line a CI or pre-commit file would run."""
    if isinstance(node, dict):
        return [line for k, v in node.items() for line in
                (v.splitlines() if k in ("run", "script") and isinstance(v, str) else runs(v))]
    if isinstance(node, list):
        return [line for v in node for line in runs(v)]
    return []


@pytest.mark.parametrize("block", of("yaml"), ids=str)
def test_yaml_blocks_parse_and_name_real_hooks_and_commands(block: Block):
    data = yaml.safe_load(block.text)
    assert isinstance(data, dict), block
    if "repos" in data:  # a .pre-commit-config.yaml
        assert block.text.startswith("# .pre-commit-config.yaml\n"), f"{block}: say which file this is"
        ours = [h["id"] for r in data["repos"] for h in r["hooks"]]
        assert ours and set(ours) <= set(hooks()), f"{block}: hooks {ours}, this repository has {sorted(hooks())}"
        for hook in ours:  # installed by the block's own install line, and run by git push
            assert hooks()[hook]["stages"] == ["pre-push"], hook
            assert "pre-push" in data["default_install_hook_types"], block
    for line in runs(data):
        check_command_line(line, block)


# --- commands ---

@pytest.mark.parametrize("block", of("sh", "console"), ids=str)
def test_shell_blocks_run_real_commands_with_real_flags(block: Block):
    for line in block.text.splitlines():
        if block.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        check_command_line(line, block)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_commands_named_in_prose_are_real(doc: Path):
    for span in code_spans(doc):
        if span.startswith("prefect-push "):
            check_command_line(span, doc.relative_to(ROOT))


INTERNAL = {"hook", "after-push-worker"}  # what the hooks call; users never type them


def test_every_command_and_flag_is_documented():
    """Each command a user types, and each of its flags, in a paragraph that names the command."""
    import argparse

    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    paragraphs = [p.replace("python3 dev.py demo", "prefect-push demo")  # dev.py demo runs prefect-push demo
                  for d in DOCS for p in d.read_text().split("\n\n")]
    missing = []
    for name, command in sub.choices.items():
        if name in INTERNAL:
            continue
        about = [p for p in paragraphs if f"prefect-push {name}" in p or f"`{name}`" in p]
        if not about:
            missing.append(f"prefect-push {name}")
        flags = [o for a in command._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
        missing += [f"prefect-push {name} {f}" for f in flags if not any(f in p for p in about)]
    assert not missing, f"commands and flags no doc explains: {missing}"


def test_the_command_check_catches_a_wrong_flag():
    assert parse_cli(["register", "--ref", "main", "--all"]) is None
    assert "--everything" in parse_cli(["register", "--everything"])
    assert parse_cli(["deploy"]) is not None


# --- links ---

@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_links_to_this_repository_resolve(doc: Path):
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(doc)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address: not checked (no network at test time)
        path, _, anchor = target.partition("#")
        dest = (doc.parent / path).resolve() if path else doc
        assert dest.exists(), f"{doc.relative_to(ROOT)}: link to {target}: no such file"
        if anchor:
            assert anchor in anchors(dest), f"{doc.relative_to(ROOT)}: link to {target}: no such heading"


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_files_of_this_repository_named_in_the_docs_exist(doc: Path):
    named = [s for s in code_spans(doc) if re.fullmatch(r"(src|tests|bench|docs|\.ci|hooks|prefect_push)/[\w./-]+", s)]
    missing = [s for s in named if not (ROOT / s).exists() and not (ROOT / "src" / s).exists()]
    assert not missing, f"{doc.relative_to(ROOT)} names files this repository lacks: {missing}"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in re.findall(r"\]\((docs/[^)\s]+)\)",
                                                                      (ROOT / "README.md").read_text())}
    orphans = [d.name for d in DOCS[1:] if d.resolve() not in linked]
    assert not orphans, f"docs pages the README's table does not link: {orphans}"


def test_the_anchor_rule_is_githubs():
    assert slug("mode: register before or after the remote accepts the push") == \
        "mode-register-before-or-after-the-remote-accepts-the-push"
    assert slug("Races and a 2,000-flow `register --all`") == "races-and-a-2000-flow-register---all"


# --- settings named in prose ---

KEY_SPAN = re.compile(r"^([a-z]+(?:-[a-z]+)+)(?:\s*=\s*.*)?$")


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: str(d.relative_to(ROOT)))
def test_settings_named_in_the_docs_exist(doc: Path):
    named = {m.group(1) for s in code_spans(doc) if (m := KEY_SPAN.match(s.strip()))}
    named |= set(re.findall(r"\[tool\.prefect-push\.([a-z-]+)", doc.read_text()))
    unknown = named - KNOWN - config.RUNTIME_KEYS - NOT_SETTINGS
    assert not unknown, f"{doc.relative_to(ROOT)} names settings config.py does not know: {sorted(unknown)}"


def test_the_setting_check_knows_the_settings():
    assert {"work-pool", "schedules-on", "data-dependencies"} <= KNOWN
    assert "work-pol" not in KNOWN
