"""Terminal and JSON output. rich is imported only when there is a table to draw."""
from __future__ import annotations

import sys
from typing import Any

from .engine import Outcome
from .plan import Op

PREFIX = "prefect-push:"


def say(message: str) -> None:
    """One line to stderr: the form every message of the hook takes."""
    print(f"{PREFIX} {message}", file=sys.stderr, flush=True)


def print_json(data: dict[str, Any]) -> None:
    import json

    json.dump(data, sys.stdout, indent=2)
    print()


def print_table(table: Any) -> None:
    """A rich table on stderr; 140 columns when stderr is no terminal (pre-commit, CI logs)."""
    from rich.console import Console

    Console(stderr=True, width=None if sys.stderr.isatty() else 140).print(table)


def rows(outcome: Outcome, *, dry_run: bool = False) -> list[dict[str, Any]]:
    out = []
    for i, plan in enumerate(outcome.plans):
        errors = dict(outcome.errors.get(i, []))
        t = plan.target
        base = {"repository": t.repository, "ref": t.ref, "commit": t.commit}
        if plan.note and not plan.actions:
            out.append({**base, "action": "skip", "flow": None, "deployment": None, "reason": plan.note,
                        "entrypoint": None, "error": None, "runtime": None, "work_pool": None, "schedule": None,
                        "entry": None})
        for a in plan.actions:
            out.append({
                **base,
                "action": ("would " + a.op.value) if dry_run and a.op is not Op.SKIP else a.op.value,
                "flow": a.flow_name, "deployment": a.deployment, "reason": a.reason,
                "entrypoint": a.flow.entrypoint if a.flow else None,
                "error": errors.get((a.flow_name, a.deployment)),
                "runtime": a.runtime.name if a.runtime else None,
                "work_pool": a.runtime.work_pool if a.runtime else None,
                "schedule": a.schedule or None,
                "entry": a.entry or None,  # the prefect.yaml entry whose settings it carries
            })
    return out


def render(outcome: Outcome, *, as_json: bool = False, dry_run: bool = False) -> None:
    data = rows(outcome, dry_run=dry_run)
    if as_json:
        print_json({"api_url": outcome.api_url, "dry_run": dry_run, "actions": data})
        return
    if not data:
        return
    from rich.markup import escape
    from rich.table import Table

    title = "prefect-push plan (nothing written)" if dry_run else "prefect-push"
    table = Table(title=f"{title} → {outcome.api_url}", title_justify="left")
    # runtime and schedule columns only when some row has one: the common single-pool repo keeps a narrow table
    show_runtime = any(r["runtime"] not in (None, "default") for r in data)
    show_schedule = any(r["schedule"] for r in data)
    show_entry = any(r["entry"] for r in data)
    cols = ["ref", "flow", "deployment", "action", "commit"] + (["runtime"] if show_runtime else []) + (
        ["schedule"] if show_schedule else []) + (["entry"] if show_entry else []) + ["why"]
    for col in cols:
        # names stay whole (copied into `prefect deployment run`); the reasons wrap instead
        table.add_column(col, no_wrap=col in ("ref", "deployment", "commit", "entry"), overflow="fold")
    styles = {"register": "green", "update": "cyan", "delete": "red", "skip": "dim", "off": "yellow"}
    for r in data:
        action = r["action"]
        style = styles.get(action.split()[-1], "")
        if r["error"]:
            action, style = f"FAILED ({r['error']})", "bold red"
        deployment = f"{r['flow']}/{r['deployment']}" if r["flow"] else ""
        # names, refs and reasons are data: never let rich read "[...]" in them as markup
        cells = [escape(r["ref"]), escape(r["flow"] or ""), escape(deployment), (f"[{style}]{escape(action)}[/]" if style else escape(action)),
                 (r["commit"] or "")[:12]]
        if show_runtime:
            cells.append(escape(f"{r['runtime']} ({r['work_pool']})" if r["runtime"] else ""))
        if show_schedule:
            cells.append(escape(r["schedule"] or ""))
        if show_entry:
            cells.append(escape(r["entry"] or ""))
        table.add_row(*cells, escape(r["reason"]))
    print_table(table)


def render_status(data: dict[str, Any], *, as_json: bool = False) -> None:
    """`prefect-push status`: one section per ref, its deployments and whether the remote still has it."""
    from .status import remote_word

    if as_json:
        print_json(data)
    if not data["refs"]:
        say(f"nothing registered for {data['repository']} on {data['api_url']}")
        return
    if as_json:
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"prefect-push status: {escape(data['repository'])} → {escape(data['api_url'])}",
                  title_justify="left")
    tagged = any(d.get("tag") for r in data["refs"] for d in r["deployments"])  # a release: the tag it is at
    for col in ("ref", "on remote", "deployment", *(("tag",) if tagged else ()), "commit", "subject", "age", "work pool"):
        table.add_column(col, overflow="fold")
    styles = {True: "green", False: "red", None: "yellow"}
    for r in data["refs"]:
        for i, d in enumerate(r["deployments"]):
            first = i == 0  # the ref once per section: the table reads as groups
            table.add_row(escape(r["ref"]) if first else "",
                          f"[{styles[r['on_remote']]}]{remote_word(r['on_remote'])}[/]" if first else "",
                          escape(f"{d['flow']}/{d['deployment']}"), *((escape(d.get("tag") or ""),) if tagged else ()),
                          d["commit"], escape(d["subject"]), d["age"],
                          escape(d["work_pool"] or ""))
        table.add_section()
    print_table(table)


def render_prune(data: dict[str, Any], *, as_json: bool = False) -> None:
    """`prefect-push prune`: what was (or, with --dry-run, would be) deleted."""
    if as_json:
        print_json(data)
    if not data["actions"]:
        say(f"nothing to prune: every ref of {data['repository']} with deployments on {data['api_url']} is still "
            f"on {data['remote']}")
        return
    if as_json:
        return
    from rich.markup import escape
    from rich.table import Table

    title = "prefect-push prune (nothing written)" if data["dry_run"] else "prefect-push prune"
    table = Table(title=f"{title} → {escape(data['api_url'])}", title_justify="left")
    for col in ("ref", "deployment", "commit", "action", "why"):
        table.add_column(col, overflow="fold")
    for a in data["actions"]:
        action, style = a["action"], "red"
        if a["error"]:
            action, style = f"FAILED ({a['error']})", "bold red"
        table.add_row(escape(a["ref"]), escape(f"{a['flow']}/{a['deployment']}"), a["commit"],
                      f"[{style}]{escape(action)}[/]", escape(a["reason"]))
    print_table(table)


PROGRESS_ABOVE = 50  # writes in one batch: a smaller one ends before anyone wonders whether it hangs
PROGRESS_EVERY = 5.0  # seconds between plain lines when stderr is no terminal (CI logs, pre-commit)


class WriteProgress:
    """Progress of a batch of deployment writes on stderr, for Server.apply's (written, of) calls: a rich bar
    on a terminal, else a line every PROGRESS_EVERY seconds and one at the end. Nothing for small batches."""

    def __init__(self) -> None:
        self._bar: Any = None  # rich.progress.Progress, started at the first big batch
        self._task: Any = None
        self._last_line = 0.0

    def __call__(self, written: int, total: int) -> None:
        if total <= PROGRESS_ABOVE:
            return
        if sys.stderr.isatty():
            self._draw(written, total)
            return
        import time

        now = time.monotonic()
        if written == 0:  # a new batch: the first line comes after PROGRESS_EVERY, not at once
            self._last_line = now
        elif written == total or now - self._last_line >= PROGRESS_EVERY:
            self._last_line = now
            say(f"{written}/{total} deployments written")

    def _draw(self, written: int, total: int) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # transient: the table printed after it says what was written
            self._bar = Progress(TextColumn(PREFIX + " writing deployments"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._bar.start()
        if written == 0 or self._task is None:
            if self._task is not None:
                self._bar.remove_task(self._task)
            self._task = self._bar.add_task("", total=total)
        self._bar.update(self._task, completed=written, total=total)

    def close(self) -> None:
        """Take the bar off the terminal: before the table, or the one-line error of a timeout."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None
