"""Which request fields an older Prefect server accepts: one table, one pure function (no prefect import).

Servers reject fields they do not know (422 extra_forbidden), so a newer client's payload is cut down to what
the server's version has. First versions were read from the released wheels' prefect/server/schemas/actions.py.
"""
from __future__ import annotations

import re
from typing import Any

Version = tuple[int, int, int]

# (field, endpoint, first server version that accepts it)
FIELDS: list[tuple[str, str, Version]] = [
    ("labels", "/flows/", (3, 1, 5)),             # FlowCreate.labels: absent in 3.1.4, present in 3.1.5
    ("labels", "/deployments/", (3, 1, 5)),       # DeploymentCreate.labels: same release
    ("version_info", "/deployments/", (3, 3, 6)),  # DeploymentCreate.version_info: absent in 3.3.5, in 3.3.6
]

MIN_MAJOR = 3  # Prefect 2 servers differ in more than fields (filters, schedules): refused, not adapted


def parse_version(text: str | None) -> Version | None:
    """'3.0.11', '3.4.25.dev3', '3.1.5+12.gabc' -> (3, 0, 11)...; None when it is not a version."""
    match = re.match(r"\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text or "")
    if not match:
        return None
    return (int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0))


def drop_unsupported(payload: dict[str, Any], endpoint: str, server_version: Version | None) -> dict[str, Any]:
    """The payload without the fields this server's version does not accept; an unknown version gets it all."""
    if server_version is None:
        return payload
    drop = {name for name, where, first in FIELDS if where == endpoint and server_version < first}
    return {k: v for k, v in payload.items() if k not in drop} if drop else payload
