"""Releases against a real server and real pushes: a release tag moves each flow's "<flow>/production"
deployment (docs/releases.md); a real process worker runs what `run_deployment("<flow>/production")` names."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import BIN, POOL, Repo, deployments, flow_source

CLONE = "prefect.deployments.steps.git_clone"


def at(d) -> tuple[str, str]:
    """(tag the deployment clones, commit it is registered at)."""
    return d.pull_steps[0][CLONE]["branch"], d.version


def two_flows(r: Repo) -> tuple[str, str]:
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.commit("two flows")
    assert r.push("main").returncode == 0
    return a, b


def test_release_tags_move_one_production_deployment_per_flow(hooked: Repo):
    r = hooked
    a, b = two_flows(r)
    r.git("tag", "-a", "v1", "-m", "release 1")  # annotated: peeled to its commit
    v1 = r.sha("v1^{commit}")
    proc = r.push("v1")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    # the first release registers every flow, as <flow>/production; no per-tag deployments by default
    assert at(got[f"{a}/production"]) == at(got[f"{b}/production"]) == ("v1", v1)
    assert f"{a}/v1" not in got and "first release: every flow" in proc.stderr
    prod = got[f"{a}/production"]
    assert "git-tag:v1" in prod.tags and prod.description.startswith(f"Release v1 ({v1[:12]})")

    # v2 changes b only: b moves, a stays at v1 (the same code), not even rewritten
    r.write("flows/b.py", flow_source(b, body="return 2"))
    v2 = r.commit("b returns 2")
    r.git("tag", "v2")
    proc = r.push("main", "v2")
    assert proc.returncode == 0, proc.stderr
    now = deployments(r.uid)
    assert at(now[f"{b}/production"]) == ("v2", v2)
    assert at(now[f"{a}/production"]) == ("v1", v1) and now[f"{a}/production"].updated == prod.updated
    assert "since release v1" in proc.stderr

    # a tag that is no release (release-tags = "v*"): nothing
    r.git("tag", "nightly-1")
    proc = r.push("nightly-1")
    assert proc.returncode == 0 and deployments(r.uid).keys() == now.keys()

    # a tag that does not descend from the current release (v2) moves nothing, and says so in one line
    r.git("checkout", "-q", "-b", "hotfix", "v1")
    r.write("flows/a.py", flow_source(a, body="return 9"))
    r.commit("hotfix on the v1 line")
    r.git("tag", "v1.0.1")
    proc = r.push("v1.0.1")
    assert proc.returncode == 0, proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.startswith("prefect-push: ")]
    assert said == [f"prefect-push: v1.0.1 ({r.sha()[:12]}) does not descend from the current release v2 ({v2[:12]}): "
                    "production did not move; `prefect-push release v1.0.1` moves it there on purpose"], proc.stderr
    assert {k: at(d) for k, d in deployments(r.uid).items()} == {k: at(d) for k, d in now.items()}

    # on purpose: rollback to v1 moves what differs (b), says so, and a stays as it is (--dry-run first: no write)
    proc = r.cli("release", "v1", "--dry-run", "--json")
    assert [x["action"] for x in json.loads(proc.stdout)["actions"]] == ["would update"], proc.stderr
    assert at(deployments(r.uid)[f"{b}/production"]) == ("v2", v2)
    proc = r.cli("release", "v1", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["actions"]
    assert [(x["flow"], x["deployment"], x["action"]) for x in rows] == [(b, "production", "update")]
    assert rows[0]["reason"] == f"differs from release v2 ({v2[:12]})"  # said once, not "changed since v2, differs…"
    back = deployments(r.uid)
    assert at(back[f"{b}/production"]) == ("v1", v1) and at(back[f"{a}/production"]) == ("v1", v1)
    # and v2 again, a roll-forward: v2 descends from v1 now, but it was pushed already: the command does it
    proc = r.cli("release", "v2")
    assert proc.returncode == 0 and at(deployments(r.uid)[f"{b}/production"]) == ("v2", v2), proc.stderr
    # deleting the tag production clones: it stays (never deleted with a tag), and the push says what breaks
    proc = r.push("--delete", "v2")
    assert proc.returncode == 0 and f"production of {b} clones v2, which this push deletes" in proc.stderr, proc.stderr
    assert at(deployments(r.uid)[f"{b}/production"]) == ("v2", v2)
    proc = r.cli("release", "v9")
    assert proc.returncode == 1 and proc.stderr.splitlines() == [
        "prefect-push: 'v9' is not a tag in this clone (`git fetch --tags`, or `git tag` lists them)",
        "prefect-push: nothing was registered"]


def test_tag_deployments_are_opt_in_and_prune_keeps_the_newest(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ntag-deployments = true\nkeep-tags = 2\n')
    a = r.flow("a")
    for i in (1, 2, 3):
        r.write("flows/a.py", flow_source(a, body=f"return {i}"))
        r.commit(f"a {i}")
        r.git("tag", f"v{i}")
        assert r.push("main", f"v{i}").returncode == 0
    got = deployments(r.uid)
    assert {f"{a}/v1", f"{a}/v2", f"{a}/v3", f"{a}/production"} <= set(got)
    assert at(got[f"{a}/production"]) == ("v3", r.sha("v3"))
    proc = r.cli("prune", "--json")
    assert proc.returncode == 0, proc.stderr
    gone = [(x["deployment"], x["reason"]) for x in json.loads(proc.stdout)["actions"]]
    assert gone == [("v1", "older than the newest 2 tags of its flow (keep-tags)")]
    left = deployments(r.uid)
    assert f"{a}/v1" not in left and {f"{a}/v2", f"{a}/v3", f"{a}/production", f"{a}/main"} <= set(left)


def live(d) -> bool:
    return any(s.active for s in d.schedules)


def test_one_live_schedule_per_flow_main_until_the_first_release_then_production(hooked: Repo):
    r = hooked
    n = r.flow("nightly")
    cron = '\nPREFECT_PUSH = {"cron": "0 2 * * *"}\n'
    r.write("flows/n.py", flow_source(n) + cron)
    r.commit()
    assert r.push("main").returncode == 0
    assert live(deployments(r.uid)[f"{n}/main"])  # no release yet: main fires
    r.git("checkout", "-qb", "feature/x")
    r.write("flows/n.py", flow_source(n, body="return 2") + cron)
    r.commit()
    assert r.push("feature/x").returncode == 0
    assert not live(deployments(r.uid)[f"{n}/feature-x"])  # never feature branches
    r.git("checkout", "-q", "main")
    r.git("tag", "v1")
    proc = r.push("v1")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert live(got[f"{n}/production"]) and not live(got[f"{n}/main"])  # the release takes it over
    assert "schedule off" in proc.stderr and "both fire" not in proc.stderr
    r.write("flows/n.py", flow_source(n, body="return 3") + cron.replace("0 2", "30 4"))
    r.commit()
    # main's new cron is registered off, and says why: production keeps the old one until the next release
    (row,) = json.loads(r.cli("plan", "--json").stdout)["actions"]
    assert row["schedule"] == "cron 30 4 * * * (off: production (v1) fires this flow; the next release tag brings this)"
    proc = r.push("main")
    assert proc.returncode == 0 and "both fire" not in proc.stderr, proc.stderr
    got = deployments(r.uid)
    assert not live(got[f"{n}/main"]) and live(got[f"{n}/production"])  # main stays off once released

    # status shows the release beside the branches: tag, commit, age
    proc = r.cli("status", "--json")
    assert proc.returncode == 0, proc.stderr
    refs = {x["ref"]: x for x in json.loads(proc.stdout)["refs"]}
    (d,) = refs["release:production"]["deployments"]
    assert (d["deployment"], d["tag"], d["commit"]) == ("production", "v1", r.sha("v1")[:12]) and d["age"].endswith("ago")
    assert refs["release:production"]["on_remote"] is True and "refs/heads/main" in refs
    table = r.cli("status").stdout
    assert "release:production" in table and "v1" in table


ORCHESTRATOR = '''\
import sys

from prefect import flow
from prefect.deployments import run_deployment


@flow
def orchestrate(name: str) -> str:
    # the production deployment by its stable name: never edited from release to release
    run = run_deployment(name, timeout=0)
    return str(run.id)


if __name__ == "__main__":
    print(orchestrate(sys.argv[1]))
'''


def test_a_worker_runs_production_by_name_new_code_after_a_release_old_after_rollback(hooked: Repo, tmp_path: Path):
    r = hooked
    pool = f"{r.uid}-pool"  # its own pool: the worker picks up this test's runs only
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", pool, "--type", "process"], check=True,
                   capture_output=True)
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{pool}"\n')
    name = r.flow("greet")
    body = "print('greeting from ' + CODE)\n    return CODE"
    greet = flow_source(name, body=body, extra="CODE = 'release one'").replace("@flow(", "@flow(log_prints=True, ")
    r.write("flows/greet.py", greet)
    r.commit()
    r.git("tag", "v1")
    assert r.push("main", "v1").returncode == 0
    r.write("flows/greet.py", greet.replace("release one", "release two"))
    r.commit("new code")
    r.git("tag", "v2")
    assert r.push("main", "v2").returncode == 0
    script = tmp_path / "orchestrate.py"
    script.write_text(ORCHESTRATOR)
    workdir = tmp_path / "worker"
    workdir.mkdir()

    def run_production() -> str:
        proc = subprocess.run([str(BIN / "python"), str(script), f"{name}/production"], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        worker = subprocess.run([str(BIN / "prefect"), "worker", "start", "--pool", pool, "--run-once"],
                                cwd=workdir, capture_output=True, text=True, timeout=300)
        return worker.stdout + worker.stderr

    out = run_production()
    assert "greeting from release two" in out and "release one" not in out, out[-3000:]
    proc = r.cli("release", "v1")
    assert proc.returncode == 0, proc.stderr
    out = run_production()
    assert "greeting from release one" in out and "release two" not in out, out[-3000:]


def test_several_release_tags_in_one_push_move_production_once_to_the_newest(hooked: Repo):
    """`git push --tags` (plain hook, CI) hands over every tag at once, git's order (v1.10 before v1.9): the
    release moves once, to the newest, never back to an older tag of the same push."""
    r = hooked
    a, b = two_flows(r)
    r.git("tag", "v1.8")
    assert r.push("v1.8").returncode == 0
    r.write("flows/a.py", flow_source(a, body="return 9"))
    r.commit("a returns 9")
    r.git("tag", "v1.9")
    r.write("flows/b.py", flow_source(b, body="return 10"))
    v110 = r.commit("b returns 10")
    r.git("tag", "-a", "v1.10", "-m", "release 1.10")
    assert r.push("main").returncode == 0
    proc = r.push("--tags")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    # both flows changed since v1.8 (a in v1.9, b in v1.10): both at the newest tag, whatever git's order
    assert at(got[f"{a}/production"]) == at(got[f"{b}/production"]) == ("v1.10", v110), proc.stderr
    assert "changed since release v1.8 (" in proc.stderr and ", since release" not in proc.stderr, proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.startswith("prefect-push: ")]
    assert said == ["prefect-push: v1.9 is pushed with v1.10, which descends from it: production moves to v1.10 "
                    "only"], proc.stderr

    # two lines in one push (a hotfix tag beside a new main-line tag): the highest moves, the other says why
    r.git("checkout", "-q", "-b", "hotfix", "v1.9")
    r.write("flows/b.py", flow_source(b, body="return 91"))
    r.commit("hotfix on the v1.9 line")
    r.git("tag", "v1.9.1")
    r.git("checkout", "-q", "main")
    r.write("flows/a.py", flow_source(a, body="return 11"))
    v111 = r.commit("a returns 11")
    r.git("tag", "v1.11")
    assert r.push("main").returncode == 0
    proc = r.push("v1.9.1", "v1.11")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert at(got[f"{a}/production"]) == ("v1.11", v111) and at(got[f"{b}/production"]) == ("v1.10", v110)
    said = [line for line in proc.stderr.splitlines() if line.startswith("prefect-push: ")]
    assert said == ["prefect-push: v1.9.1 is pushed with v1.11, which does not descend from it: production moves "
                    "to v1.11 only; `prefect-push release v1.9.1` moves it there on purpose"], proc.stderr


def test_a_release_pushed_with_main_leaves_one_live_schedule(hooked: Repo):
    """`git push origin v1 main`: the first release and main's new scheduled flow in one push, the tag first."""
    r = hooked
    n = r.flow("nightly")
    r.write("flows/n.py", flow_source(n) + '\nPREFECT_PUSH = {"cron": "0 2 * * *"}\n')
    r.commit()
    r.git("tag", "v1")
    proc = r.push("v1", "main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert live(got[f"{n}/production"]) and not live(got[f"{n}/main"]), proc.stderr
    assert "both fire" not in proc.stderr


def test_a_release_tag_pushed_without_the_hook_is_named_by_the_next_push(hooked: Repo):
    """pre-commit runs no hook for a pushed tag: the tag is on the remote, production is not at it. The next push
    that talks to the server says so, with the command; once released, nothing more is said."""
    r = hooked
    n = r.flow("n")
    r.write("flows/n.py", flow_source(n))
    r.commit()
    r.git("tag", "v1")
    assert r.push("main", "v1").returncode == 0
    r.write("flows/n.py", flow_source(n, body="return 2"))
    r.commit()
    r.git("tag", "v2")
    assert r.push("main", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0
    assert r.push("v2", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0  # as pre-commit does: no hook ran
    r.write("flows/n.py", flow_source(n, body="return 3"))
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert ("v2 is on origin but production is at v1: it was pushed without the hook (pre-commit runs none for a "
            "tag); `prefect-push release v2` moves it") in proc.stderr, proc.stderr
    assert r.cli("release", "v2").returncode == 0
    r.write("flows/n.py", flow_source(n, body="return 4"))
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0 and "without the hook" not in proc.stderr, proc.stderr
    # a deliberate rollback is not undone by a reminder
    assert r.cli("release", "v1").returncode == 0
    r.write("flows/n.py", flow_source(n, body="return 5"))
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0 and "without the hook" not in proc.stderr, proc.stderr
