"""The pages whose content the code decides: every setting in docs/configuration.md, every module in
docs/development.md, the why column of the base table, troubleshooting's messages, runtimes' job-variable message,
the status and prune tables."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from docs_text import KNOWN, ROOT, of, printed, source_messages


def test_every_setting_is_in_the_configuration_pages_table():
    text = (ROOT / "docs" / "configuration.md").read_text()
    table = "\n".join(line for line in text.splitlines() if line.startswith("| `"))
    missing = sorted(k for k in KNOWN if f"`{k}`" not in table)
    assert not missing, f"docs/configuration.md's table of every setting lacks {missing}"


def test_every_module_is_in_the_development_pages_table():
    text = (ROOT / "docs" / "development.md").read_text()
    modules = [str(p.relative_to(ROOT / "src" / "prefect_push")) for p in (ROOT / "src" / "prefect_push").rglob("*.py")
               if not p.name.startswith("__")]
    missing = sorted(m for m in modules if f"`{m}`" not in text)
    assert not missing, f"docs/development.md's table of modules lacks {missing}"


# --- the base table: its `why` column is what base.decide says for the rows of tests/test_base.py ---

def _pattern(example: str) -> re.Pattern[str]:
    """`since release v1 (3f2a…)` matches `since release v3 (mmmmmmmmmmmm)`: shas (…) and tag names stand for any."""
    parts = re.split(r"\S*…|\bv\d[\w.]*", example)
    return re.compile(".+?".join(re.escape(p) for p in parts))


def test_the_base_tables_why_column_is_what_base_decide_says():
    import test_base
    from prefect_push.base import decide

    said = [decide(test_base.facts(**row[0])).why for row in test_base.ROWS + getattr(test_base, "RELEASE_ROWS", [])]
    table = [line for line in (ROOT / "docs" / "what-gets-registered.md").read_text().splitlines()
             if line.startswith("| ") and not line.startswith("| the ref")]
    assert len(table) >= 12
    examples = [w for line in table for w in re.findall(r"`([^`]+)`", line.rsplit(" | ", 1)[-1])]
    unsaid = [w for w in examples if not any(_pattern(w).fullmatch(s) for s in said)]
    assert not unsaid, f"docs/what-gets-registered.md's why column says what base.decide never does: {unsaid}"
    assert not _pattern("since registered 3f2a…").fullmatch("since forked at kkkkkkkkkkkk")


# --- troubleshooting: the messages it explains are messages the code prints ---

def test_troubleshooting_explains_messages_the_code_prints():
    quoted = re.findall(r"^- \*\*`([^`]+)`\*\*", (ROOT / "docs" / "troubleshooting.md").read_text(), re.M)
    assert len(quoted) >= 4
    sources = source_messages()
    gone = [q for q in quoted if not printed(q, sources)]
    assert not gone, f"docs/troubleshooting.md explains messages no code prints any more: {gone}"
    assert not printed("work-pool 'p' was deleted by a cosmic ray", sources)


def test_the_job_variable_message_shown_is_the_checks_own():
    """docs/runtimes.md's message for a typo, against the kubernetes template prefect ships (what the tests' real
    kubernetes pool is made from, tests/test_runtimes.py)."""
    import json
    from importlib.util import find_spec

    from prefect_push.server import job_variables_problem

    views = Path(find_spec("prefect").origin).parent / "server" / "api" / "collections_data" / "views"
    meta = json.loads((views / "aggregate-worker-metadata.json").read_text())
    problem = job_variables_problem({"cpu_reqest": "2"}, meta["prefect-kubernetes"]["kubernetes"][
        "default_base_job_configuration"])
    line = next(b for b in of("text") if b.doc.name == "runtimes.md" and "cpu_reqest" in b.text).text
    head, _, names = problem.partition("(it has: ")
    assert head + "(it has: " in line, f"docs/runtimes.md shows {line!r}; the check says {problem!r}"
    shown = line.split("(it has: ")[1].split(", ...)")[0]
    assert names.startswith(shown + ", "), f"docs/runtimes.md lists {shown!r}; the pool has {names!r}"


# --- status and prune: the tables in docs/status-and-prune.md are drawn by the real renderers ---
# From fixed data (what a server and a remote would answer) through status.by_ref/status_rows/stale and
# report.render_status/render_prune. When the output changes, the test fails with the new table; rerun with
# PREFECT_PUSH_WRITE_DOCS=1 to write it into the page.

def _example_data():
    from datetime import datetime, timedelta, timezone

    from prefect_push.status import GIT_TAG, RELEASE_REF, Registered

    now = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    main, v11, feat = "68e1a4c2f85e" + "0" * 28, "9b07d3e1a4c2" + "0" * 28, "c85d2eb5f5f5" + "0" * 28
    registered = [
        Registered("1", "etl", "feature-new-etl", "refs/heads/feature/new-etl", feat, now - timedelta(days=2),
                   "k8s-pool"),
        Registered("2", "etl", "main", "refs/heads/main", main, now - timedelta(hours=3), "k8s-pool"),
        Registered("3", "report", "main", "refs/heads/main", main, now - timedelta(hours=3), "k8s-pool"),
        Registered("4", "etl", "production", RELEASE_REF + "production", v11, now - timedelta(hours=1), "k8s-pool",
                   (GIT_TAG + "v1.1",)),
        Registered("5", "report", "production", RELEASE_REF + "production", main, now - timedelta(days=9),
                   "k8s-pool", (GIT_TAG + "v1.0",)),
    ]
    remote_refs = {"refs/heads/main": main, "refs/tags/v1.0": main, "refs/tags/v1.1": v11}
    subjects = {main: "Add etl and report flows", v11: "etl: load incrementally", feat: "etl: try a new loader"}
    return now, registered, remote_refs, subjects


def _status_output(capsys) -> str:
    from prefect_push import status
    from prefect_push.report import render_status

    now, registered, remote_refs, subjects = _example_data()
    render_status({"api_url": "http://prefect:4200/api", "repository": "github.com/acme/flows", "remote": "origin",
                   "refs": status.status_rows(status.by_ref(registered, remote_refs), subjects, now),
                   "after_push": None})
    return capsys.readouterr().out


def _prune_output(capsys) -> str:
    from prefect_push import status
    from prefect_push.report import render_prune

    _, registered, remote_refs, _ = _example_data()
    actions = [{"ref": r.ref, "flow": d.flow, "deployment": d.deployment, "commit": status.short_sha(d.commit),
                "action": "would delete", "reason": "branch no longer on origin", "error": None}  # as cmd_prune
               for r in status.stale(status.by_ref(registered, remote_refs)) for d in r.deployments]
    render_prune({"api_url": "http://prefect:4200/api", "repository": "github.com/acme/flows", "remote": "origin",
                  "dry_run": True, "actions": actions})
    return capsys.readouterr().out


@pytest.mark.parametrize("command,draw", [("prefect-push status", _status_output),
                                          ("prefect-push prune --dry-run", _prune_output)])
def test_the_status_and_prune_tables_are_what_the_code_draws(command, draw, capsys, monkeypatch):
    import os

    for var in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    page = ROOT / "docs" / "status-and-prune.md"
    text = page.read_text()
    drawn = "\n".join(line.rstrip() for line in draw(capsys).splitlines()) + "\n"
    block = re.search(rf"```console\n\$ {re.escape(command)}\n(.*?)(?=^\$ |^```)", text, re.S | re.M)
    assert block, f"docs/status-and-prune.md: no console block starting `$ {command}`"
    if os.environ.get("PREFECT_PUSH_WRITE_DOCS") and block.group(1) != drawn:
        page.write_text(text[:block.start(1)] + drawn + text[block.end(1):])
        return
    assert block.group(1) == drawn, f"docs/status-and-prune.md's `{command}` table is not what the code draws " \
                                    f"(PREFECT_PUSH_WRITE_DOCS=1 writes it):\n{drawn}"
