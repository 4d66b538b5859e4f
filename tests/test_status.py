"""`prefect-push status` and `prune`: the pure grouping, and real pushes, a real remote and the session's server."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import BIN, Repo, deployments, flow_source, per_tag

from prefect_push.git import parse_ls_remote, repo_key
from prefect_push.status import NOT_HERE, Registered, age, beyond_keep, by_ref, stale, status_rows

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
SHA = "a" * 40


def reg(flow: str, ref: str | None, commit: str | None = SHA, minutes: int = 5) -> Registered:
    return Registered(f"id-{flow}-{ref}", flow, (ref or "x").rsplit("/", 1)[-1], ref, commit,
                      NOW - timedelta(minutes=minutes), "pool")


# --- pure ---

def test_age_picks_the_largest_unit():
    assert age(NOW - timedelta(seconds=45), NOW) == "45s ago"
    assert age(NOW - timedelta(minutes=3, seconds=59), NOW) == "3m ago"
    assert age(NOW - timedelta(hours=5), NOW) == "5h ago"
    assert age(NOW - timedelta(days=2, hours=23), NOW) == "2d ago"
    assert age(NOW + timedelta(seconds=5), NOW) == "just now"  # clocks disagree
    assert age(None, NOW) == "?"
    assert age(datetime(2024, 5, 1, 11, 0), NOW) == "1h ago"  # naive: the server's UTC


def test_by_ref_groups_sorts_and_marks_what_the_remote_has():
    remote = {"refs/heads/main": SHA, "refs/tags/v1": SHA, "HEAD": SHA}
    refs = by_ref([reg("b", "refs/heads/main"), reg("x", "refs/heads/gone"), reg("a", "refs/heads/main"),
                   reg("a", "refs/tags/v1"), reg("a", None)], remote)
    assert [(r.ref, r.on_remote) for r in refs] == [
        ("(no git-ref tag)", None), ("refs/heads/gone", False), ("refs/heads/main", True), ("refs/tags/v1", True)]
    assert [d.flow for d in refs[2].deployments] == ["a", "b"]
    assert refs[1].short == "gone"


def test_unknown_remote_state_prunes_nothing():
    refs = by_ref([reg("a", "refs/heads/main"), reg("a", None)], None)
    assert [r.on_remote for r in refs] == [None, None]
    assert stale(refs) == []


def test_stale_takes_only_branches_and_tags_the_remote_lacks():
    refs = by_ref([reg("a", "refs/heads/main"), reg("a", "refs/heads/gone"), reg("a", "refs/tags/old"),
                   reg("a", "refs/for/main"), reg("a", None)], {"refs/heads/main": SHA})
    assert [r.ref for r in stale(refs)] == ["refs/heads/gone", "refs/tags/old"]
    assert stale(by_ref([reg("a", "refs/heads/main")], {})) != []  # an empty remote has no refs at all


def test_a_release_is_its_own_section_on_the_remote_while_its_tags_are_and_never_stale():
    at = lambda flow, tag: Registered(f"id-{flow}", flow, "production", "release:production", SHA,  # noqa: E731
                                      NOW - timedelta(days=2), "pool", ("prefect-push", f"git-tag:{tag}"))
    refs = by_ref([reg("a", "refs/heads/main"), at("a", "v2"), at("b", "v1")], {"refs/heads/main": SHA,
                                                                                "refs/tags/v1": SHA, "refs/tags/v2": SHA})
    assert [(r.ref, r.release, r.on_remote) for r in refs] == [("refs/heads/main", None, True),
                                                               ("release:production", "production", True)]
    rows = status_rows(refs, {SHA: "s"}, NOW)[1]
    assert [(d["flow"], d["tag"], d["commit"], d["age"]) for d in rows["deployments"]] == [
        ("a", "v2", SHA[:12], "2d ago"), ("b", "v1", SHA[:12], "2d ago")]
    lost_v1 = by_ref([at("a", "v2"), at("b", "v1")], {"refs/tags/v2": SHA})
    assert lost_v1[0].on_remote is False and stale(lost_v1) == []  # shown as gone, never pruned


def test_beyond_keep_takes_each_flows_tags_past_the_newest_n():
    regs = [reg("a", f"refs/tags/v{i}") for i in (1, 2, 3)] + [reg("b", "refs/tags/v1"), reg("a", "refs/tags/old")]
    remote = {f"refs/tags/v{i}": SHA for i in (1, 2, 3)}  # "old" is gone: stale takes it whole, not counted here
    newness = {"refs/tags/v1": 1.0, "refs/tags/v2": 2.0, "refs/tags/v3": 3.0}
    old = beyond_keep(by_ref(regs, remote), 2, newness)
    assert [(d.flow, r.ref) for r, d in old] == [("a", "refs/tags/v1")]  # b has one tag: kept
    assert beyond_keep(by_ref(regs, None), 1, newness) == []  # an unknown remote deletes nothing


def test_beyond_keep_ranks_tags_of_one_date_in_version_order():
    tags = ("v1.8", "v1.10", "v1.9")
    refs = by_ref([reg("a", f"refs/tags/{t}") for t in tags], {f"refs/tags/{t}": SHA for t in tags})
    old = beyond_keep(refs, 2, {f"refs/tags/{t}": 1.0 for t in tags})  # tagged within one second
    assert [r.short for r, _ in old] == ["v1.8"]  # not v1.10, which sorts first as a string


def test_status_rows_name_commits_this_clone_lacks():
    other = "b" * 40
    refs = by_ref([reg("a", "refs/heads/main"), reg("b", "refs/heads/main", other), reg("c", "refs/heads/main", None)],
                  {"refs/heads/main": SHA})
    (row,) = status_rows(refs, {SHA: "first commit"}, NOW)
    assert row["ref"] == "refs/heads/main" and row["on_remote"] is True
    a, b, c = row["deployments"]
    assert (a["commit"], a["sha"], a["subject"], a["age"], a["work_pool"]) == (SHA[:12], SHA, "first commit", "5m ago",
                                                                               "pool")
    assert a["updated"] == (NOW - timedelta(minutes=5)).isoformat()
    assert (b["commit"], b["subject"]) == (other[:12], NOT_HERE)
    assert (c["commit"], c["subject"]) == ("", "")


def test_parse_ls_remote_drops_peeled_tags():
    text = f"{SHA}\tHEAD\n{SHA}\trefs/heads/main\n{'c' * 40}\trefs/tags/v1\n{SHA}\trefs/tags/v1^{{}}\n"
    assert parse_ls_remote(text) == {"HEAD": SHA, "refs/heads/main": SHA, "refs/tags/v1": "c" * 40}


# --- real ---

def status(r: Repo, *args: str, env: dict[str, str] | None = None) -> dict:
    proc = r.cli("status", "--json", *args, env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def by_name(data: dict) -> dict[str, dict]:
    return {r["ref"]: r for r in data["refs"]}


def marker(r: Repo, ref: str):
    from prefect.client.orchestration import get_client

    from prefect_push.server import marker_name

    with get_client(sync_client=True) as client:
        return client.read_variable_by_name(marker_name(repo_key(r.url), ref))


def test_status_shows_refs_and_prune_deletes_what_the_remote_lost(hooked: Repo, tmp_path: Path):
    r = hooked
    per_tag(r)  # a tag's own deployments (tests/test_releases.py shows a release in status)
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    main = r.commit("two flows")
    assert r.push("main").returncode == 0
    r.git("tag", "v1")
    assert r.push("v1").returncode == 0
    other = Repo(tmp_path / "other", r.remote, r.uid)  # cloned before the feature branch exists
    subprocess.run(["git", "clone", "-q", r.url, str(other.path)], check=True, capture_output=True)
    r.git("checkout", "-qb", "feature/x")
    r.write("flows/a.py", flow_source(a, body="return 2"))
    feature = r.commit("change a on the feature")
    assert r.push("feature/x").returncode == 0

    data = status(r)
    assert data["repository"] == repo_key(r.url) and data["api_url"].startswith("http://127.0.0.1:")
    refs = by_name(data)
    assert list(refs) == ["refs/heads/feature/x", "refs/heads/main", "refs/tags/v1"]
    assert all(ref["on_remote"] is True for ref in refs.values())
    assert [(d["flow"], d["deployment"], d["commit"], d["subject"]) for d in refs["refs/heads/main"]["deployments"]] \
        == [(a, "main", main[:12], "two flows"), (b, "main", main[:12], "two flows")]
    (f,) = refs["refs/heads/feature/x"]["deployments"]
    assert (f["flow"], f["deployment"], f["commit"], f["subject"]) == (a, "feature-x", feature[:12],
                                                                       "change a on the feature")
    assert f["age"].endswith("s ago") or f["age"] in ("1m ago", "just now")
    assert f["work_pool"] == "test-pool" and f["updated"]
    # the same repository from another clone (same key), which lacks the feature's commit
    theirs = by_name(status(other))
    assert theirs["refs/heads/feature/x"]["deployments"][0]["subject"] == NOT_HERE
    assert theirs["refs/heads/main"]["deployments"][0]["subject"] == "two flows"
    table = r.cli("status")
    assert table.returncode == 0 and table.stderr == ""  # the table is status's result: on stdout
    assert "feature/x" in table.stdout and "two flows" in table.stdout and "yes" in table.stdout

    # the branch goes from the remote without the hook seeing it
    subprocess.run(["git", "--git-dir", str(r.remote), "update-ref", "-d", "refs/heads/feature/x"], check=True)
    refs = by_name(status(r))
    assert refs["refs/heads/feature/x"]["on_remote"] is False
    assert refs["refs/heads/main"]["on_remote"] is True and refs["refs/tags/v1"]["on_remote"] is True
    before = set(deployments(r.uid))
    assert before == {f"{a}/main", f"{b}/main", f"{a}/v1", f"{b}/v1", f"{a}/feature-x"}
    assert marker(r, "refs/heads/feature/x") is not None

    proc = r.cli("prune", "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["dry_run"] is True
    assert [(x["ref"], x["flow"], x["deployment"], x["action"]) for x in out["actions"]] == [
        ("refs/heads/feature/x", a, "feature-x", "would delete")]
    assert set(deployments(r.uid)) == before and marker(r, "refs/heads/feature/x") is not None
    proc = r.cli("prune", "--dry-run")
    assert "nothing written" in proc.stdout and "would delete" in proc.stdout

    proc = r.cli("prune", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [(x["ref"], x["action"], x["error"]) for x in json.loads(proc.stdout)["actions"]] == [
        ("refs/heads/feature/x", "delete", None)]
    assert set(deployments(r.uid)) == before - {f"{a}/feature-x"}
    assert marker(r, "refs/heads/feature/x") is None
    assert marker(r, "refs/heads/main") is not None  # other refs keep theirs
    assert list(by_name(status(r))) == ["refs/heads/main", "refs/tags/v1"]
    proc = r.cli("prune")
    assert proc.returncode == 0 and "nothing to prune" in proc.stdout

    # a tag goes too once the remote loses it
    subprocess.run(["git", "--git-dir", str(r.remote), "update-ref", "-d", "refs/tags/v1"], check=True)
    proc = r.cli("prune", "--json")
    assert [(x["ref"], x["flow"]) for x in json.loads(proc.stdout)["actions"]] == [("refs/tags/v1", a),
                                                                                   ("refs/tags/v1", b)]
    assert set(deployments(r.uid)) == {f"{a}/main", f"{b}/main"}


def test_unreachable_remote_is_unknown_for_status_and_refused_by_prune(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    assert r.push("main").returncode == 0
    moved = r.remote.with_name("moved.git")
    r.remote.rename(moved)  # the same URL (the same repository key), nothing answering at it
    try:
        data = status(r)
        assert [(x["ref"], x["on_remote"]) for x in data["refs"]] == [("refs/heads/main", None)]
        proc = r.cli("status")
        assert "unknown" in proc.stdout and "cannot reach remote" in proc.stderr  # the table; the note
        proc = r.cli("prune")
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert "cannot reach remote" in proc.stderr and "pruning nothing" in proc.stderr
        assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}
    finally:
        moved.rename(r.remote)


def test_nothing_registered_and_server_trouble_are_one_line(repo: Repo, prefect_server):
    r = repo
    r.commit()
    subprocess.run(["git", "--git-dir", str(r.remote), "fetch", "-q", str(r.path), "main:main"], check=True)
    proc = r.cli("status")
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1 and proc.stderr == ""
    assert "nothing registered for" in proc.stdout and repo_key(r.url) in proc.stdout
    assert json.loads(r.cli("status", "--json").stdout)["refs"] == []
    dead = "http://127.0.0.1:9/api"
    for cmd in ("status", "prune"):
        proc = r.cli(cmd, env={"PREFECT_API_URL": dead})
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert dead in proc.stderr and "unreachable" in proc.stderr and proc.stderr.count("\n") == 1
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.run([str(BIN / "prefect-push"), "status"], cwd=r.path, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "no Prefect API configured" in proc.stderr


def test_prune_keeps_the_highest_versions_of_tags_made_within_one_second(hooked: Repo):
    """keep-tags = 2 after v1.8, v1.9 and v1.10 share their date (tagged, or committed, in one second): v1.9 and
    v1.10 stay, v1.8 goes."""
    r = hooked
    per_tag(r, "keep-tags = 2\n")
    a = r.flow("a")
    same_second = {**os.environ, "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+0000",
                   "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+0000"}
    for i, tag in enumerate(("v1.8", "v1.9", "v1.10")):
        r.write("flows/a.py", flow_source(a, body=f"return {i}"))
        r.git("add", "-A")
        r.git("commit", "-qm", tag, env=same_second)
        r.git("tag", "-a", tag, "-m", tag, env=same_second)
        proc = r.push("main", tag)
        assert proc.returncode == 0, proc.stderr
    dates = r.git("for-each-ref", "--format=%(creatordate:unix)", "refs/tags").stdout.split()
    assert len(dates) == 3 and len(set(dates)) == 1  # one date: only the names can tell them apart
    assert {f"{a}/v1.8", f"{a}/v1.9", f"{a}/v1.10"} <= set(deployments(r.uid))
    proc = r.cli("prune", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [(x["deployment"], x["reason"]) for x in json.loads(proc.stdout)["actions"]] == [
        ("v1.8", "older than the newest 2 tags of its flow (keep-tags)")]
    left = set(deployments(r.uid))
    assert f"{a}/v1.8" not in left and {f"{a}/v1.9", f"{a}/v1.10", f"{a}/main"} <= left
