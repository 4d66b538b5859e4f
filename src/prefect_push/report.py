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


def rows(outcome: Outcome, *, dry_run: bool = False) -> list[dict[str, Any]]:
    out = []
    for i, plan in enumerate(outcome.plans):
        errors = dict(outcome.errors.get(i, []))
        t = plan.target
        base = {"repository": t.repository, "ref": t.ref, "commit": t.commit}
        if plan.note and not plan.actions:
            out.append({**base, "action": "skip", "flow": None, "deployment": None, "reason": plan.note,
                        "entrypoint": None, "error": None})
        for a in plan.actions:
            out.append({
                **base,
                "action": ("would " + a.op.value) if dry_run and a.op is not Op.SKIP else a.op.value,
                "flow": a.flow_name, "deployment": a.deployment, "reason": a.reason,
                "entrypoint": a.flow.entrypoint if a.flow else None,
                "error": errors.get(a.deployment),
            })
    return out


def render(outcome: Outcome, *, as_json: bool = False, dry_run: bool = False) -> None:
    data = rows(outcome, dry_run=dry_run)
    if as_json:
        import json

        json.dump({"api_url": outcome.api_url, "dry_run": dry_run, "actions": data}, sys.stdout, indent=2)
        print()
        return
    if not data:
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    title = "prefect-push plan (nothing written)" if dry_run else "prefect-push"
    table = Table(title=f"{title} → {outcome.api_url}", title_justify="left")
    for col in ("ref", "flow", "deployment", "action", "commit", "why"):
        table.add_column(col, overflow="fold")
    styles = {"register": "green", "update": "cyan", "delete": "red", "skip": "dim"}
    for r in data:
        action = r["action"]
        style = styles.get(action.split()[-1], "")
        if r["error"]:
            action, style = f"FAILED ({r['error']})", "bold red"
        deployment = f"{r['flow']}/{r['deployment']}" if r["flow"] else ""
        # names, refs and reasons are data: never let rich read "[...]" in them as markup
        table.add_row(escape(r["ref"]), escape(r["flow"] or ""), escape(deployment), f"[{style}]{escape(action)}[/]",
                      (r["commit"] or "")[:12], escape(r["reason"]))
    Console(stderr=True, width=None if sys.stderr.isatty() else 140).print(table)
