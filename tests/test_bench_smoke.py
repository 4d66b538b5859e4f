"""bench/bench.py --small runs end to end: its own server, fixture repos and checked pushes, every goal row printed.

Timings on CI are noise, so no goal has to PASS here; what must hold is that the bench measured every goal and
checked on the server that each timed push registered exactly the changed flows (it exits 2 when one did not).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import ROOT

GOALS = ("P1 pre-commit", "P1 plain", "P2", "P2'", "P2b", "P3", "P4", "P5", "P6 SQLite")  # --small: P6 on SQLite only
NUMBER = r"[-+]?\d+(?:\.\d+)?"


def test_bench_small_measures_every_goal_and_checks_every_push(tmp_path):
    out = tmp_path / "bench.json"
    # the bench starts its own server on its own port and home: the session's PREFECT_API_URL (set by conftest in
    # this environment) must not be where it registers
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--small", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout
    for goal in GOALS:
        row = next((line for line in text.splitlines() if line.startswith(f"| {goal} |")), None)
        assert row is not None, f"no row for {goal}:\n{text}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 6, row
        _, _, measured, floor, vs_goal, result = cells
        assert re.search(NUMBER, measured) and re.search(NUMBER, floor) and re.search(NUMBER, vs_goal), row
        assert result in ("PASS", "**FAIL**"), row
    checks = re.search(r"^checks: (\d+) pushes and writes verified", text, re.M)
    assert checks and int(checks.group(1)) > 0, text

    data = json.loads(out.read_text())
    assert [g["id"] for g in data["goals"]] == list(GOALS)
    assert all(isinstance(g["value"], (int, float)) and isinstance(g["passed"], bool) for g in data["goals"])
    assert data["checks"] == int(checks.group(1))
    rounds, pairs = data["sizes"]["rounds"], data["sizes"]["pairs"]
    # --small: a system no-op hook, the floor of both P1 pre-commit and P5 (so it runs in the pairs of each)
    paired = {"p1_pc": "noop_system", "p1_plain": "nohook", "p3_big": "p3_small", "p5": "noop_system"}
    assert set(data["paired_differences"]) == set(paired)
    for key, floor in paired.items():
        diffs = data["paired_differences"][key]
        assert len(diffs) == rounds * pairs
        # each difference is one pair's measured minus its floor, both of which are in the series
        assert all(any(abs(m - f - d) < 1e-9 for m in data["series"][key]["values"]
                       for f in data["series"][floor]["values"]) for d in diffs)
    floors = list(paired.values())
    runs = {key: rounds * pairs if key in paired else rounds * pairs * floors.count(key) or rounds
            for key in data["series"]}
    assert {key: len(s["values"]) for key, s in data["series"].items()} == runs
    # P6 at --small's size: the register and its raw writes, on the bench's own (SQLite) server
    (p6,) = data["p6"]
    assert p6["db"] == "SQLite" and p6["flows"] == data["sizes"]["p6"] and p6["writers"] in (1, 4)
    assert p6["seconds"] > 0 and p6["raw_seconds"] > 0


def test_writers_compares_one_and_four_writes_in_flight_with_checked_pushes():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "writers.py"), "--flows", "3", "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "3-flow push of a new branch, SQLite server" in proc.stdout
    for writers in (1, 4):
        assert re.search(rf"write-concurrency = {writers}: {NUMBER} s", proc.stdout), proc.stdout


def test_bench_check_catches_a_push_that_registered_the_wrong_flows():
    """The check each timed push goes through: the wrong set, a wrong version or a stray write fails it."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_server import CheckFailed, expect
    finally:
        sys.path.remove(str(ROOT / "bench"))
    before = {("f-0001", "main"): ("old", "main", "t0"), ("f-0002", "main"): ("old", "main", "t0")}
    good = {**before, ("f-0001", "b"): ("sha", "b", "t1")}
    expect("ok", before, good, {"f-0001"}, "b", "sha", "b")
    with pytest.raises(CheckFailed, match="did not write"):
        expect("missing", before, good, {"f-0001", "f-0002"}, "b", "sha", "b")
    with pytest.raises(CheckFailed, match="should not have"):
        expect("extra", before, {**good, ("f-0002", "main"): ("old", "main", "t2")}, {"f-0001"}, "b", "sha", "b")
    with pytest.raises(CheckFailed, match="version"):
        expect("version", before, good, {"f-0001"}, "b", "other", "b")
    with pytest.raises(CheckFailed, match="should not have"):
        expect("no-flow push", before, good, set(), "main", None, None)
    with pytest.raises(CheckFailed, match="deleted"):
        expect("gone", before, {("f-0001", "main"): before[("f-0001", "main")]}, set(), "main", None, None)
