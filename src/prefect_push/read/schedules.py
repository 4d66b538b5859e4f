"""A flow's PREFECT_PUSH schedule checked and written as Prefect would, without importing prefect.

Prefect checks a cron string with its vendored croniter and a time zone against zoneinfo's names, then sends
`DeploymentScheduleCreate(schedule=construct_schedule(...), active=...)`. Importing either costs the ~0.9 s of
all of prefect. Here: a time zone is checked against the same list (zoneinfo.available_timezones, which is what
Prefect asks); a cron string is accepted only in a plain grammar croniter accepts too (five fields of numbers
in range, month and weekday names, `*`, ranges, lists, steps); anything else (an rrule, `@daily`, `L`, `#`,
six fields...) returns None and the caller asks Prefect, so what is refused is refused in Prefect's words.
tests/test_schedules.py holds both against Prefect's own over generated matrices.
"""
from __future__ import annotations

import re
from typing import Any

# (low, high, names) of the five fields; croniter takes 0-7 for the weekday (0 and 7: Sunday)
_FIELDS = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    (0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_ITEM = re.compile(r"^(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?$")


def plain_cron(cron: str) -> bool:
    """True: a cron string of the plain grammar (which croniter accepts). False: not surely valid; Prefect
    decides (and says why, where it refuses)."""
    fields = cron.split()
    if len(fields) != 5 or cron != cron.strip() or "  " in cron:
        return False
    return all(_field_ok(text.lower(), *spec) for text, spec in zip(fields, _FIELDS))


def _field_ok(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    for item in text.split(","):
        m = _ITEM.match(item)
        if m is None:
            return False
        star, first, last, step = m.groups()
        if step is not None and not 1 <= int(step) <= high:
            return False
        if star:
            continue
        a, b = _value(first, low, high, names), _value(last, low, high, names) if last is not None else None
        if a is None or (last is not None and (b is None or b < a)):
            return False
        if step is not None and last is None:
            return False  # `5/10`: croniter reads it, some versions differently; Prefect decides
    return True


def _value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.isdigit():
        value = int(text)
        return value if low <= value <= high and len(text) <= 2 else None
    return names.index(text) + low if text in names else None


def timezone_problem(tz: str) -> str | None:
    """Prefect's own words for a time zone it refuses (its default_timezone); None: a known one."""
    from zoneinfo import available_timezones

    if tz and tz not in available_timezones():
        return f'Invalid timezone: "{tz}" (specify in IANA tzdata format, for example, America/New_York)'
    return None


def schedule_create(cron: str | None, interval: float | None, tz: str | None, *, active: bool
                    ) -> dict[str, Any] | None:
    """`DeploymentScheduleCreate(schedule=construct_schedule(cron=..|interval=.., timezone=tz), active=active)`
    as Prefect's client sends it (exclude_unset); None: not a schedule this writes (an rrule), Prefect does."""
    if cron is not None:
        return {"schedule": {"cron": cron, "timezone": tz}, "active": active}
    if interval is not None:
        from datetime import datetime, timezone

        from pydantic_core import to_jsonable_python

        # construct_schedule anchors an interval at now, and its time zone is the anchor's (UTC) unless given
        anchor = to_jsonable_python(datetime.now(timezone.utc))
        return {"schedule": {"interval": float(interval), "anchor_date": anchor, "timezone": tz or "UTC"},
                "active": active}
    return None
