"""Adopting what `prefect deploy` made (issue N): a team's deployments keep their names and ids, and each flow
keeps exactly one live schedule. Real `prefect deploy --all` first, then real pushes through the installed hook."""
from __future__ import annotations

import asyncio
import json

from conftest import POOL, Repo, deployments
from test_prefect_yaml import ENV, flow_file, prefect_deploy

TEAM = """\
pull:
  - prefect.deployments.steps.git_clone:
      repository: https://git.example.invalid/team/repo.git
      branch: main
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 7}}
    schedules:
      - cron: "0 3 * * *"
  - name: weekly
    entrypoint: flows/report.py:report
    work_pool: {{name: {pool}}}
    schedules:
      - cron: "0 6 * * 1"
"""
OLD = """\
deployments:
  - name: old-nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    schedules:
      - cron: "0 4 * * *"
"""


def live(uid: str) -> dict[str, list[str]]:
    """flow -> the deployments whose schedules fire (active schedule, deployment not paused)."""
    out: dict[str, list[str]] = {}
    for key, d in sorted(deployments(uid).items()):
        if not d.paused and any(s.active for s in d.schedules):
            out.setdefault(key.split("/")[0], []).append(key.split("/")[1])
    return out


def test_prefect_deploy_s_deployments_are_taken_over_in_place(hooked: Repo) -> None:
    r = hooked
    etl, report = r.flow("etl"), r.flow("report")
    r.write("flows/etl.py", flow_file(etl, "etl", "ETL."))
    r.write("flows/report.py", flow_file(report, "report", "Report."))
    # what the team deployed long ago under another name, still firing
    r.write("prefect.yaml", OLD.format(pool=POOL))
    r.commit("the old prefect.yaml")
    assert prefect_deploy(r.path, ENV).returncode == 0
    r.write("prefect.yaml", TEAM.format(pool=POOL))
    r.commit("the team's prefect.yaml")
    proc = prefect_deploy(r.path, ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before = deployments(r.uid)
    ids = {k: d.id for k, d in before.items()}
    assert sorted(ids) == [f"{etl}/nightly", f"{etl}/old-nightly", f"{report}/weekly"]
    assert live(r.uid) == {etl: ["nightly", "old-nightly"], report: ["weekly"]}  # etl fires twice a night

    # the plan says what becomes of each, the pause first
    plan = r.cli("plan", "--all", "--json")
    assert plan.returncode == 0, plan.stderr
    rows = [(a["action"], a["deployment"]) for a in json.loads(plan.stdout)["actions"]]
    assert rows[0] == ("would pause", "old-nightly"), rows
    assert set(rows) == {("would pause", "old-nightly"), ("would update", "nightly"), ("would update", "weekly")}

    # the first push of main: nightly and weekly updated in place (same ids), old-nightly paused
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    after = deployments(r.uid)
    assert sorted(after) == sorted(ids), sorted(after)
    assert {k: d.id for k, d in after.items()} == ids
    assert after[f"{etl}/nightly"].version == r.sha() and "prefect-push" in after[f"{etl}/nightly"].tags
    assert after[f"{etl}/nightly"].parameters == {"n": 7}
    assert after[f"{etl}/old-nightly"].paused
    assert live(r.uid) == {etl: ["nightly"], report: ["weekly"]}
    assert "made by prefect deploy, updated in place (same id)" in push.stderr, push.stderr

    # a feature branch adds deployments beside them, switched off
    r.git("checkout", "-q", "-b", "feature")
    r.write("flows/etl.py", flow_file(etl, "etl", "ETL, faster."))
    r.commit("faster")
    assert r.push("feature", env=ENV).returncode == 0
    assert f"{etl}/feature" in deployments(r.uid)
    assert live(r.uid) == {etl: ["nightly"], report: ["weekly"]}

    # the first release moves the same deployments (same ids) to the tag; main's own come beside them, off
    r.git("checkout", "-q", "main")
    r.git("tag", "v1")
    tag = r.push("v1", env=ENV)
    assert tag.returncode == 0, tag.stderr
    released = deployments(r.uid)
    assert released[f"{etl}/nightly"].id == ids[f"{etl}/nightly"]
    assert "git-ref:release:production" in released[f"{etl}/nightly"].tags, released[f"{etl}/nightly"].tags
    r.write("flows/etl.py", flow_file(etl, "etl", "ETL, on main after v1."))
    r.commit("main moves on")
    assert r.push("main", env=ENV).returncode == 0
    final = deployments(r.uid)
    assert final[f"{etl}/nightly"].version == r.sha("v1")
    assert f"{etl}/main" in final
    assert live(r.uid) == {etl: ["nightly"], report: ["weekly"]}


def test_keep_schedules_leaves_them_firing_and_says_so(hooked: Repo) -> None:
    r = hooked
    etl = r.flow("etl")
    r.write("flows/etl.py", flow_file(etl, "etl", "ETL."))
    r.write("prefect.yaml", OLD.format(pool=POOL))
    r.commit("old")
    assert prefect_deploy(r.path, ENV).returncode == 0
    r.write("prefect.yaml", TEAM.format(pool=POOL).split("  - name: weekly")[0])
    r.write("pyproject.toml", (r.path / "pyproject.toml").read_text() + "keep-schedules = true\n")
    r.commit("team")
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    assert not deployments(r.uid)[f"{etl}/old-nightly"].paused
    assert (f"{etl}/old-nightly (made without prefect-push) fires beside {etl}/main: both run (keep-schedules = "
            "true)") in push.stderr, push.stderr


def test_removing_an_entry_deletes_the_deployment_taken_over_and_several_entries_pause_nothing(hooked: Repo):
    """Two entries of one flow, both firing in prefect deploy's deployments: both taken over, neither paused.
    Removing one entry deletes the deployment taken over for it (it would keep firing main's code)."""
    r = hooked
    etl = r.flow("etl")
    r.write("flows/etl.py", flow_file(etl, "etl", "ETL."))
    two = TEAM.format(pool=POOL).split("  - name: weekly")[0] + (
        "  - name: hourly\n    entrypoint: flows/etl.py:etl\n    work_pool: {name: " + POOL + "}\n"
        "    schedules:\n      - interval: 3600\n")
    r.write("prefect.yaml", two)
    r.commit("two entries")
    assert prefect_deploy(r.path, ENV).returncode == 0
    ids = {k: d.id for k, d in deployments(r.uid).items()}
    plan = json.loads(r.cli("plan", "--all", "--json").stdout)["actions"]
    assert sorted((a["action"], a["deployment"]) for a in plan) == [("would update", "hourly"),
                                                                    ("would update", "nightly")], plan
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    assert {k: d.id for k, d in deployments(r.uid).items()} == ids
    assert live(r.uid) == {etl: ["hourly", "nightly"]}
    r.write("prefect.yaml", TEAM.format(pool=POOL).split("  - name: weekly")[0])
    r.commit("hourly goes")
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    assert sorted(deployments(r.uid)) == [f"{etl}/nightly"], push.stderr
