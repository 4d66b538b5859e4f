"""Terminal and JSON output. rich is imported only when there is a table to draw."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

from .engine import Outcome
from .plan import Op

PREFIX = "prefect-push:"


def say(message: str) -> None:
    """One line to stderr: the form every message of the hook takes, and every error of any command."""
    print(f"{PREFIX} {message}", file=sys.stderr, flush=True)


def result(message: str) -> None:
    """One line of a command's result (`status`: nothing registered), on stdout with the tables."""
    print(f"{PREFIX} {message}", file=sys.stdout, flush=True)


def print_json(data: dict[str, Any]) -> None:
    import json

    json.dump(data, sys.stdout, indent=2)
    print()


# --- tables: on stdout, the result of plan, status, prune, register and release; on stderr for the hook, whose
# output is a note beside `git push`'s. As wide as the terminal (COLUMNS when set); off a terminal (a pipe, a
# file, a CI log, pre-commit) one line a row, never wrapped. A table that does not fit drops or shortens what
# matters least; --json has it all. ---

NEVER = 100  # a column's `keep` when it is never dropped; 0: shown only when the whole table fits
NAME_FOLD = 40  # a name wider than this folds onto a second line rather than squeeze the others
NARROWEST = 8  # no column is squeezed below this, whatever the width


@dataclass
class Col:
    header: str
    cells: list[str] = field(default_factory=list)  # plain text, never read as markup
    keep: int = NEVER  # a table that does not fit drops its lowest first
    floor: int = 0  # text: its narrowest readable width (it wraps); 0, a name: whole, up to NAME_FOLD
    short: Callable[[str], str] | None = None  # the abbreviation a table that does not fit uses
    styles: list[str] = field(default_factory=list)  # a rich style per cell ("" none)


def table_width(stream: Any) -> int | None:
    """The width of the terminal `stream` is (COLUMNS when set); None off a terminal: no limit, a row a line.
    COLUMNS alone does not make a terminal: git sets COLUMNS=80 for its hooks even when writing to a pipe."""
    try:
        if not stream.isatty():
            return None
        columns = os.environ.get("COLUMNS", "").strip()
        if columns.isdigit() and int(columns) > 0:
            return int(columns)
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return None


def _overhead(n: int) -> int:
    return 3 * n + 1  # rich's borders and one space of padding either side of each cell


def fit(cols: list[Col], width: int | None) -> tuple[list[Col], list[int] | None]:
    """The columns to draw and their widths (None: each as wide as its widest cell). One that does not fit in
    `width` shortens what has an abbreviation, then keeps, from the column that matters most down, each one whose
    readable width still fits, and gives the room left to the columns that matter most."""
    from rich.cells import cell_len

    def natural(c: Col) -> int:
        return max([cell_len(c.header)] + [cell_len(x) for x in c.cells])

    if width is None or sum(map(natural, cols)) + _overhead(len(cols)) <= width:
        return cols, None
    cols = [Col(c.header, [c.short(x) for x in c.cells], c.keep, c.floor, None, c.styles) if c.short else c
            for c in cols]

    def least(c: Col) -> int:
        return min(natural(c), c.floor or NAME_FOLD)

    chosen: set[int] = set()
    for i in sorted(range(len(cols)), key=lambda i: -cols[i].keep):  # what matters most first
        trial = chosen | {i}
        if cols[i].keep >= NEVER or cols[i].keep > 0 and sum(least(cols[j]) for j in trial) + _overhead(len(trial)) <= width:
            chosen = trial  # (a column that does not fit is left out; a narrower one that matters less may)
    cols = [c for i, c in enumerate(cols) if i in chosen]
    widths = [least(c) for c in cols]
    spare = width - _overhead(len(cols)) - sum(widths)
    for names in (False, True):  # too narrow even for what is never left out: text wraps more, then names fold
        while spare < 0:
            i = max((i for i, c in enumerate(cols) if (not c.floor) is names and widths[i] > NARROWEST),
                    key=lambda i: widths[i], default=None)
            if i is None:
                break
            widths[i] -= 1
            spare += 1
    for i in sorted(range(len(cols)), key=lambda i: -cols[i].keep):  # stable: in column order among equals
        grow = max(0, min(spare, natural(cols[i]) - widths[i]))
        widths[i] += grow
        spare -= grow
    return cols, widths


def draw(title: str, cols: list[Col], *, stderr: bool = False, ends: tuple[int, ...] = ()) -> None:
    """A table with its title line above it; `ends`: the rows after which a section ends (a line across)."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    stream = sys.stderr if stderr else sys.stdout
    width = table_width(stream)
    cols, widths = fit(cols, width)
    table = Table()
    for i, c in enumerate(cols):
        table.add_column(c.header, overflow="fold", no_wrap=widths is None,
                         width=None if widths is None else widths[i])
    n = max((len(c.cells) for c in cols), default=0)
    for row in range(n):
        table.add_row(*(Text(c.cells[row], style=(c.styles[row] if c.styles else "") or "") for c in cols),
                      end_section=row in ends and row != n - 1)
    if width is None:  # off a terminal: as wide as it is, one line a row
        width = max(cell_len(title), sum(max([cell_len(c.header)] + [cell_len(x) for x in c.cells]) for c in cols)
                    + _overhead(len(cols)))
    console = Console(file=stream, width=width)
    console.print(Text(title, style="table.title"), overflow="fold")
    console.print(table)


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


def _branch(ref: str) -> str:
    """refs/heads/x -> x: the abbreviation of a ref in a table that does not fit (a tag keeps refs/tags/)."""
    return ref.removeprefix("refs/heads/")


def _sha(commit: str) -> str:
    return commit[:7]


def _shas(text: str) -> str:
    """The commits a reason names, as 7 characters (`since registered 3f2a9c1`)."""
    import re

    return re.sub(r"\b([0-9a-f]{7})[0-9a-f]{5,}\b", r"\1", text)


def render(outcome: Outcome, *, as_json: bool = False, dry_run: bool = False, stderr: bool = False) -> None:
    """What a push did (or, dry_run, would do); on stderr for the hook (`stderr`), else on stdout."""
    data = rows(outcome, dry_run=dry_run)
    if as_json:
        print_json({"api_url": outcome.api_url, "dry_run": dry_run, "actions": data})
        return
    if not data:
        return
    title = "prefect-push plan (nothing written)" if dry_run else "prefect-push"
    # runtime, schedule and entry columns only when some row has one: the common single-pool repo keeps a narrow
    # table. Names stay whole where they fit (copied into `prefect deployment run`); the reasons wrap
    # the flow column repeats the deployment column's first part: shown only when everything fits
    ref, flow, deployment = Col("ref", short=_branch), Col("flow", keep=0), Col("deployment")
    action, commit = Col("action", floor=14), Col("commit", keep=40, short=_sha)  # 14: "would register"
    runtime, schedule = Col("runtime", keep=50), Col("schedule", keep=60, floor=20)
    entry, why = Col("entry", keep=30), Col("why", floor=30, short=_shas)
    styles = {"register": "green", "update": "cyan", "delete": "red", "skip": "dim", "off": "yellow"}
    for r in data:
        text = r["action"]
        style = styles.get(text.split()[-1], "")
        if r["error"]:
            text, style = f"FAILED ({r['error']})", "bold red"
        ref.cells.append(r["ref"])
        flow.cells.append(r["flow"] or "")
        deployment.cells.append(f"{r['flow']}/{r['deployment']}" if r["flow"] else "")
        action.cells.append(text)
        action.styles.append(style)
        commit.cells.append((r["commit"] or "")[:12])
        runtime.cells.append(f"{r['runtime']} ({r['work_pool']})" if r["runtime"] else "")
        schedule.cells.append(r["schedule"] or "")
        entry.cells.append(r["entry"] or "")
        why.cells.append(r["reason"])
    cols = [ref, flow, deployment, action, commit]
    cols += [runtime] if any(x["runtime"] not in (None, "default") for x in data) else []
    cols += [schedule] if any(x["schedule"] for x in data) else []
    cols += [entry] if any(x["entry"] for x in data) else []
    draw(f"{title} → {outcome.api_url}", cols + [why], stderr=stderr)


def render_status(data: dict[str, Any], *, as_json: bool = False) -> None:
    """`prefect-push status` on stdout: one section per ref, its deployments and whether the remote still has it."""
    from .status import remote_word

    if as_json:
        print_json(data)
    if not data["refs"]:
        # the result itself, unless --json said it (then a note beside the JSON, on stderr)
        (say if as_json else result)(f"nothing registered for {data['repository']} on {data['api_url']}")
        return
    if as_json:
        return
    tagged = any(d.get("tag") for r in data["refs"] for d in r["deployments"])  # a release: the tag it is at
    ref, remote, deployment = Col("ref", short=_branch), Col("on remote", keep=80), Col("deployment")
    tag, commit, subject = Col("tag", keep=70), Col("commit", keep=60, short=_sha), Col("subject", keep=50, floor=20)
    age, pool = Col("age", keep=75), Col("work pool", keep=40)
    styles = {True: "green", False: "red", None: "yellow"}
    ends = []
    for r in data["refs"]:
        for i, d in enumerate(r["deployments"]):
            first = i == 0  # the ref once per section: the table reads as groups
            ref.cells.append(r["ref"] if first else "")
            remote.cells.append(remote_word(r["on_remote"]) if first else "")
            remote.styles.append(styles[r["on_remote"]] if first else "")
            deployment.cells.append(f"{d['flow']}/{d['deployment']}")
            tag.cells.append(d.get("tag") or "")
            commit.cells.append(d["commit"])
            subject.cells.append(d["subject"])
            age.cells.append(d["age"])
            pool.cells.append(d["work_pool"] or "")
        ends.append(len(ref.cells) - 1)
    draw(f"prefect-push status: {data['repository']} → {data['api_url']}",
         [ref, remote, deployment, *([tag] if tagged else []), commit, subject, age, pool], ends=tuple(ends))


def render_prune(data: dict[str, Any], *, as_json: bool = False) -> None:
    """`prefect-push prune` on stdout: what was (or, with --dry-run, would be) deleted."""
    if as_json:
        print_json(data)
    if not data["actions"]:
        (say if as_json else result)(
            f"nothing to prune: every ref of {data['repository']} with deployments on {data['api_url']} is still "
            f"on {data['remote']}")
        return
    if as_json:
        return
    title = "prefect-push prune (nothing written)" if data["dry_run"] else "prefect-push prune"
    ref, deployment, commit = Col("ref", short=_branch), Col("deployment"), Col("commit", keep=40, short=_sha)
    action, why = Col("action", floor=14), Col("why", floor=30, short=_shas)
    for a in data["actions"]:
        text, style = a["action"], "red"
        if a["error"]:
            text, style = f"FAILED ({a['error']})", "bold red"
        ref.cells.append(a["ref"])
        deployment.cells.append(f"{a['flow']}/{a['deployment']}")
        commit.cells.append(a["commit"])
        action.cells.append(text)
        action.styles.append(style)
        why.cells.append(a["reason"])
    draw(f"{title} → {data['api_url']}", [ref, deployment, commit, action, why])


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
