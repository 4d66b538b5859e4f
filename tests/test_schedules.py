"""read/schedules.py against Prefect's own: the plain cron grammar accepts only what Prefect's croniter accepts,
a time zone is refused in Prefect's words exactly when Prefect refuses it, and the schedule written is the one
Prefect's client sends (DeploymentScheduleCreate(schedule=construct_schedule(...)), exclude_unset)."""
from __future__ import annotations

import random
from datetime import datetime, timezone
from zoneinfo import available_timezones

import pytest

from prefect_push.read.schedules import plain_cron, schedule_create, timezone_problem

SEED = 20261207
ATOMS = ["*", "0", "5", "7", "12", "23", "24", "31", "32", "59", "60", "00", "007", "mon", "FRI", "sun", "jan",
         "Dec", "foo", "L", "W", "#", "?", "H", "R", "-1", ""]


def _item(rng: random.Random) -> str:
    base = rng.choice(ATOMS)
    roll = rng.random()
    if roll < 0.25:
        base = f"{base}-{rng.choice(ATOMS)}"
    if rng.random() < 0.25:
        base = f"{base}/{rng.choice(['0', '1', '2', '5', '15', '30', '61', 'x'])}"
    return base


def _cron(rng: random.Random) -> str:
    n = rng.choice([5, 5, 5, 5, 4, 6])
    fields = [",".join(_item(rng) for _ in range(rng.choice([1, 1, 1, 2, 3]))) for _ in range(n)]
    return rng.choice([" ", " ", "  ", "\t"]).join(fields)


BOUNDS = [(0, 59, []), (0, 23, []), (1, 31, []), (1, 12, ["jan", "Feb", "DEC"]), (0, 7, ["sun", "MON", "fri"])]


def _near_valid(rng: random.Random) -> str:
    """Five fields of values in or just outside each field's range: most valid, the edges probed."""
    fields = []
    for low, high, names in BOUNDS:
        def value() -> str:
            return rng.choice([str(rng.randint(low - 1, high + 1)), str(low), str(high), *names])
        items = []
        for _ in range(rng.choice([1, 1, 2])):
            kind = rng.random()
            item = "*" if kind < 0.3 else value() if kind < 0.7 else f"{value()}-{value()}"
            if rng.random() < 0.2 and item == "*" or (rng.random() < 0.1 and "-" in item):
                item += f"/{rng.choice([0, 1, 2, 5, high, high + 1])}"
            items.append(item)
        fields.append(",".join(items))
    return " ".join(fields)


REAL = ["0 4 * * *", "*/15 * * * *", "0 9 * * 1-5", "0 0 1 * *", "30 2 * * MON-FRI", "0 */6 * * *",
        "0 0 * * 0", "0 0 * * 7", "5,35 8-18 * * *", "0 12 1,15 jan-jun *", "@daily", "0 0 L * *",
        "0 0 * * 5#3", "0 0 29 2 *", "0 0 31 4 *", "1-59/2 * * * *", "* * * * * *", "0 0 ? * *"]


def test_plain_cron_accepts_only_what_prefect_accepts() -> None:
    from prefect._internal.schemas.validators import validate_cron_string

    rng = random.Random(SEED)
    crons = REAL + [_cron(rng) for _ in range(3000)] + [_near_valid(rng) for _ in range(3000)]
    accepted = wrong = 0
    for cron in crons:
        try:
            validate_cron_string(cron)
            prefect_ok = True
        except ValueError:
            prefect_ok = False
        if plain_cron(cron):
            accepted += 1
            wrong += not prefect_ok
            assert prefect_ok, cron
    assert wrong == 0
    assert accepted >= 900  # the grammar is not empty: the common strings stay off Prefect's import
    for cron in ("0 4 * * *", "*/15 * * * *", "0 9 * * 1-5", "30 2 * * MON-FRI", "5,35 8-18 * * *"):
        assert plain_cron(cron), cron


def test_time_zones_refused_exactly_as_prefect_refuses_them() -> None:
    from prefect._internal.schemas.validators import default_timezone

    rng = random.Random(SEED)
    zones = sorted(available_timezones())
    cases = rng.sample(zones, 200) + ["Europe/Pariss", "utc", "UTC", "GMT+2", "America/New York", "Mars/Olympus"]
    for tz in cases:
        try:
            default_timezone(tz)
            theirs = None
        except ValueError as exc:
            theirs = str(exc)
        assert timezone_problem(tz) == theirs, tz


@pytest.mark.parametrize("active", [True, False])
def test_the_schedule_written_is_prefects(active: bool) -> None:
    from prefect.client.schemas.actions import DeploymentCreate, DeploymentScheduleCreate
    from prefect.client.schemas.schedules import construct_schedule

    rng = random.Random(SEED)
    zones = [None, "UTC", "Europe/Paris", "America/Chicago", "Asia/Kolkata"]
    cases = [dict(cron=c) for c in ("0 4 * * *", "*/15 * * * *", "30 2 * * MON-FRI", "@daily")]
    cases += [dict(interval=v) for v in (60, 3600.0, 0.5, 86400 * 7, 90)]
    for case in cases:
        tz = rng.choice(zones)
        before = datetime.now(timezone.utc)
        mine = schedule_create(case.get("cron"), case.get("interval"), tz, active=active)
        schedule = construct_schedule(**case, timezone=tz)
        theirs = DeploymentCreate(name="x", flow_id="00000000-0000-0000-0000-000000000000", schedules=[
            DeploymentScheduleCreate(schedule=schedule, active=active)]).model_dump(
                mode="json", exclude_unset=True)["schedules"][0]
        if "interval" in case:  # both anchored at "now": the same format, within this case's time
            for got in (mine, theirs):
                anchor = got["schedule"].pop("anchor_date")
                assert anchor.endswith("Z")
                assert before <= datetime.fromisoformat(anchor.replace("Z", "+00:00")) <= datetime.now(timezone.utc)
        assert mine == theirs, case
    assert schedule_create(None, None, None, active=True) is None  # an rrule: Prefect writes it
