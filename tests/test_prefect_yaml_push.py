"""prefect.yaml wired into registration: a real `git push` through the installed hook registers each entry's
deployments with the settings `prefect deploy --name <entry>` stores, field by field (tests/test_prefect_yaml.py
proves the reader against the real `prefect deploy`; here the same comparison runs against what the push wrote)."""
from __future__ import annotations

import asyncio
import json
import os
import base64
import hashlib
import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import BIN, POOL, Repo, deployments
from test_prefect_yaml import ENV, PREFECT_YAML, flow_file, prefect_deploy, stored, trigger_fields, variable  # noqa: F401


def setup_repo(r: Repo) -> tuple[str, str]:
    etl, report = r.flow("etl"), r.flow("report")
    r.write("flows/etl.py", flow_file(etl, "etl", "Extract, transform, load."))
    r.write("flows/report.py", flow_file(report, "report", "Weekly report."))
    # a test file defining the same flow name: no collision, and not registered (the entries are the set)
    r.write("tests/test_etl.py", flow_file(etl, "etl", "A test double."))
    r.write("requirements.txt", "")
    return etl, report


SIMPLE = """\
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}, job_variables: {{env: {{TEAM: "{{{{ $TEAM }}}}"}}}}}}
    parameters: {{n: 7}}
    tags: [etl]
    schedules:
      - cron: "30 2 * * *"
        timezone: Europe/Paris
  - name: hourly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 1}}
    schedules:
      - interval: 3600
        active: false
"""


def test_entries_register_on_push(hooked: Repo) -> None:
    r = hooked
    etl, report = setup_repo(r)
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("prefect.yaml")
    proc = r.push("main", env={"TEAM": "data-eng"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert sorted(got) == [f"{etl}/main-hourly", f"{etl}/main-nightly"], proc.stderr
    nightly = got[f"{etl}/main-nightly"]
    assert nightly.parameters == {"n": 7} and nightly.job_variables == {"env": {"TEAM": "data-eng"}}
    assert "etl" in nightly.tags and "prefect-push" in nightly.tags
    assert [s.active for s in nightly.schedules] == [True]  # main: the one live schedule
    assert [s.active for s in got[f"{etl}/main-hourly"].schedules] == [False]  # its own active: false kept
    assert "prefect.yaml: nightly" in proc.stderr


def planned(r: Repo) -> dict[str, tuple]:
    """`prefect-push plan --json` of the current branch: deployment -> (action, why, entry)."""
    proc = r.cli("plan", "--json", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    return {a["deployment"]: (a["action"], a["reason"].split(", since")[0], a["entry"])
            for a in json.loads(proc.stdout)["actions"]}


OURS = ("prefect-push", "git-ref:", "git-repo:")


def by_design_equal(ours, theirs, clone_id: str | None) -> None:
    """ours (registered by the push) == theirs (stored by the real prefect deploy), except the name, version and
    the git_clone step (prefect-push's clone of the pushed ref, the step's id kept)."""
    assert ours.entrypoint == theirs.entrypoint
    assert ours.work_pool_name == theirs.work_pool_name
    assert ours.work_queue_name == theirs.work_queue_name
    assert ours.job_variables == theirs.job_variables
    assert ours.parameters == theirs.parameters
    assert ours.description == theirs.description
    assert sorted(t for t in ours.tags if not t.startswith(OURS)) == sorted(theirs.tags)
    assert ours.paused == theirs.paused
    assert ours.enforce_parameter_schema == theirs.enforce_parameter_schema
    assert ours.parameter_openapi_schema == theirs.parameter_openapi_schema
    lim = lambda d: d.global_concurrency_limit.limit if d.global_concurrency_limit else None  # noqa: E731
    assert lim(ours) == lim(theirs)
    assert ours.concurrency_options == theirs.concurrency_options
    sched = lambda d: sorted((s.schedule.model_dump(mode="json"), s.active, s.parameters, s.slug)  # noqa: E731
                             for s in d.schedules)
    assert sched(ours) == sched(theirs)
    clone = "prefect.deployments.steps.git_clone"
    others = lambda d: [s for s in d.pull_steps if clone not in s]  # noqa: E731
    assert others(ours) == others(theirs) and others(ours)
    assert [clone in s for s in ours.pull_steps] == [clone in s for s in theirs.pull_steps]
    (step,) = [s[clone] for s in ours.pull_steps if clone in s]
    assert step["branch"] == "main" and step.get("id") == clone_id
    (their_step,) = [s[clone] for s in theirs.pull_steps if clone in s]
    # the team's clone credentials (a Secret block reference) kept: a private repository's runs still clone
    assert {k: step.get(k) for k in ("access_token", "credentials")} == \
        {k: their_step.get(k) for k in ("access_token", "credentials")}


def automations(d, got) -> list[dict]:
    return sorted((str(trigger_fields(a)).replace(str(d.id), "<deployment>") for a in got), key=str)


def test_pushed_deployments_equal_prefect_deploy_field_by_field(hooked: Repo, variable) -> None:
    """The PREFECT_YAML of test_prefect_yaml (anchors, definitions, env templates, two entries of one flow, an
    entry's own pull steps, triggers, a legacy schedule): `prefect deploy --all`, then a push of the same commit,
    which takes its deployments over in place (same names, same ids): each equals what prefect deploy stored."""
    r = hooked
    etl, report = setup_repo(r)
    r.write("prefect.yaml", PREFECT_YAML.format(uid=r.uid, pool=POOL))
    r.commit("prefect.yaml")
    proc = prefect_deploy(r.path, ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    flows = {"nightly": etl, "hourly": etl, "weekly": report}
    theirs = {entry: asyncio.run(stored(flow, entry)) for entry, flow in flows.items()}
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    got = deployments(r.uid)
    ours = {entry: f"{flow}/{entry}" for entry, flow in flows.items()}
    assert sorted(got) == sorted(ours.values()), sorted(got)  # tests/ not registered, nothing beside them
    for entry, name in ours.items():
        (their, their_automations), (mine, my_automations) = theirs[entry], asyncio.run(stored(*name.split("/")))
        by_design_equal(mine, their, "clone-step")
        assert mine.version == r.sha() and mine.id == their.id and "prefect-push" in mine.tags
        assert automations(mine, my_automations) == automations(their, their_automations)
    nightly, nightly_automations = asyncio.run(stored(etl, "nightly"))
    assert nightly.schedules and nightly.schedules[0].active  # main: the one live schedule
    assert len(nightly_automations) == 1  # its trigger's automation, tied to it: prefect deploy's replaced


THREE = SIMPLE + """\
  - name: daily
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 24}}
"""


def test_an_entry_changed_added_removed(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", THREE.format(pool=POOL))
    first = r.commit("prefect.yaml")
    assert r.push("main", env={"TEAM": "a"}).returncode == 0
    names = [f"{etl}/main-{n}" for n in ("daily", "hourly", "nightly")]
    assert sorted(deployments(r.uid)) == names

    # nightly's parameters change: nightly alone is registered again, and says why
    r.write("prefect.yaml", THREE.format(pool=POOL).replace("parameters: {n: 7}", "parameters: {n: 8}"))
    second = r.commit("nightly: n=8")
    assert planned(r) == {f"main-nightly": ("would update", "prefect.yaml: nightly changed", "prefect.yaml: nightly")}
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert {k: d.version for k, d in got.items()} == {
        f"{etl}/main-daily": first, f"{etl}/main-hourly": first, f"{etl}/main-nightly": second}
    assert got[f"{etl}/main-nightly"].parameters == {"n": 8}

    # hourly removed, weekly added: hourly's deployment goes, weekly's comes, the others stay as they are
    text = THREE.format(pool=POOL).replace("parameters: {n: 7}", "parameters: {n: 8}")
    text = text.replace("  - name: hourly\n", "  - name: weekly\n")
    r.write("prefect.yaml", text)
    third = r.commit("hourly -> weekly")
    assert planned(r) == {"main-hourly": ("would delete", "prefect.yaml: hourly removed", None),
                          "main-weekly": ("would register", "prefect.yaml: weekly new", "prefect.yaml: weekly")}
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert {k: d.version for k, d in got.items()} == {
        f"{etl}/main-daily": first, f"{etl}/main-nightly": second, f"{etl}/main-weekly": third}


def local_wheel(path: Path, name: str) -> None:
    """A pure-Python wheel written by hand: pip installs it with no index, no build backend, no network."""
    files = {f"{name}/__init__.py": 'VALUE = "installed by the pull step"\n',
             f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}

    def digest(text: str) -> str:
        return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
    record = "".join(f"{p},{digest(t)},{len(t.encode())}\n" for p, t in files.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for p, t in files.items():
            z.writestr(p, t)
        z.writestr(f"{name}-1.0.dist-info/RECORD", record + f"{name}-1.0.dist-info/RECORD,,\n")


def flow_with_local_dependency(r: Repo) -> tuple[str, str]:
    """flows/dep.py, a flow that imports a package only its pull steps install: a wheel kept in the repository and
    a requirements.txt naming it (--no-index). Returns the flow's name and the package's."""
    name, dep = r.flow("dep"), f"dep_{r.uid}"
    r.write("flows/dep.py", textwrap.dedent(f"""\
        from prefect import flow


        @flow(name={name!r}, log_prints=True)
        def dep() -> str:
            import {dep}
            print("dependency says: " + {dep}.VALUE)
            return {dep}.VALUE
        """))
    local_wheel(r.path / "vendor" / f"{dep}-1.0-py3-none-any.whl", dep)
    r.write("requirements.txt", f"--no-index\n./vendor/{dep}-1.0-py3-none-any.whl\n")
    return name, dep


def a_worker_runs_it(name: str, dep: str, tmp_path: Path, target: Path) -> None:
    """`<name>/main` run by a real process worker: its pull steps installed the package into `target`, and the
    flow imported it."""
    run = subprocess.run([str(BIN / "prefect"), "deployment", "run", f"{name}/main"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    workdir = tmp_path / "worker"
    workdir.mkdir()
    worker = subprocess.run([str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--run-once"], cwd=workdir,
                            capture_output=True, text=True, timeout=300)
    output = worker.stdout + worker.stderr
    assert "dependency says: installed by the pull step" in output, output[-4000:]
    assert (target / dep / "__init__.py").exists()


def test_a_worker_runs_the_entrys_pull_steps(hooked: Repo, tmp_path: Path) -> None:
    """The entry's pull steps run on a real process worker after prefect-push's clone: pip_install_requirements
    installs a package kept in the repository (a path requirement, --no-index), which the flow then imports."""
    r = hooked
    name, dep = flow_with_local_dependency(r)
    target = tmp_path / "site"  # pip installs here (PIP_TARGET), not into the suite's virtualenv
    target.mkdir()
    r.write("prefect.yaml", textwrap.dedent(f"""\
        pull:
          - prefect.deployments.steps.git_clone:
              id: clone-step
              repository: https://git.example.invalid/team/repo.git
              branch: main
          - prefect.deployments.steps.pip_install_requirements:
              directory: "{{{{ clone-step.directory }}}}"
              requirements_file: requirements.txt
        deployments:
          - name: run
            entrypoint: flows/dep.py:dep
            work_pool:
              name: {POOL}
              job_variables:
                env:
                  PIP_TARGET: "{target}"
                  PYTHONPATH: "{target}{os.pathsep}{os.environ.get("PYTHONPATH", "")}"
        """))
    r.commit("a flow with a local dependency")
    assert r.push("main").returncode == 0
    a_worker_runs_it(name, dep, tmp_path, target)


# --- bad input: one line naming prefect.yaml:line and the entry, nothing registered --------------------------------

@pytest.mark.parametrize("text, said", [
    ("deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    schedules: [{cron: '1 2 3'\n",
     "prefect.yaml:5: invalid YAML"),
    ("deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    paramters: {n: 1}\n",
     "prefect.yaml:4: deployment 'nightly': unknown key 'paramters' (did you mean 'parameters'?)"),
    ("deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:nope\n",
     "prefect.yaml:3: deployment 'nightly': entrypoint 'flows/etl.py:nope' names no flow"),
    ("deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    schedules:\n      - cron: 'not a cron'\n",
     "prefect.yaml:5: deployment 'nightly': schedule cron:"),
    ("deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool:\n      name: " + POOL +
     "\n      job_variables: {imagee: x}\n",
     "prefect.yaml:6: deployment 'nightly': job variable 'imagee' is not a variable of this pool"),
])
def test_bad_prefect_yaml_blocks_the_push_before_any_write(hooked: Repo, text: str, said: str) -> None:
    r = hooked
    setup_repo(r)
    r.write("prefect.yaml", text)
    r.commit("bad prefect.yaml")
    proc = r.push("main")
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "prefect.yaml:" in line]
    assert len(lines) == 1 and said in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert deployments(r.uid) == {} and r.remote_has("refs/heads/main") is None


def test_a_refused_entry_that_names_its_pool_is_said_once(hooked: Repo) -> None:
    """With no pyproject.toml at all (the pool is the entry's), an entry refused for its schedule is the one line:
    not also "no work-pool set" for a pool the entry does name."""
    r = hooked
    setup_repo(r)
    (r.path / "pyproject.toml").unlink()
    r.write("prefect.yaml", "deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n"
                            f"    work_pool: {{name: {POOL}}}\n    schedules:\n      - cron: '30 25 * * *'\n")
    r.commit("a bad cron")
    proc = r.push("main")
    assert proc.returncode != 0
    said = [line for line in proc.stderr.splitlines() if line.startswith("prefect-push: ") and ":" in line[14:]
            and ("prefect.yaml" in line or "pyproject" in line)]
    assert len(said) == 1 and "prefect.yaml:6: deployment 'nightly': schedule cron:" in said[0], proc.stderr


def test_a_broken_project_prefect_yaml_does_not_block_other_folders(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    shop = r.flow("shop")
    r.write("projects/shop/flows/shop.py", flow_file(shop, "shop", "Shop."))
    r.write("projects/shop/prefect.yaml", "deployments:\n  - name: daily\n    entrypoint: flows/shop.py:shop\n")
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("two projects")
    assert r.push("main", env={"TEAM": "a"}).returncode == 0
    assert sorted(deployments(r.uid)) == [f"{etl}/main-hourly", f"{etl}/main-nightly", f"{shop}/main"]
    r.write("projects/shop/prefect.yaml", "deployments:\n  - name: daily\n    entrypoint: flows/shop.py:shop\n"
                                          "    schedule: {cron: [}\n")
    r.commit("shop's prefect.yaml broken")  # its push is blocked ...
    assert r.push("main").returncode != 0
    r.git("reset", "-q", "--hard", "HEAD~1")
    r.write("prefect.yaml", SIMPLE.format(pool=POOL).replace("{n: 7}", "{n: 9}"))
    r.write("projects/shop/prefect.yaml", "deployments: [{name: x, entrypoint: gone.py:f}]\n")
    r.commit("etl's n, and shop broken")  # ... and a push touching it is blocked too
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode != 0 and "projects/shop/prefect.yaml:1" in proc.stderr, proc.stderr


def test_prefect_push_and_prefect_yaml_giving_one_flow_two_schedules_stop_the_push(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    text = (r.path / "flows/etl.py").read_text() + '\nPREFECT_PUSH = {"cron": "0 5 * * *"}\n'
    r.write("flows/etl.py", text)
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("two schedules")
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode != 0
    (line,) = [x for x in proc.stderr.splitlines() if "PREFECT_PUSH sets" in x and "'nightly'" in x]
    assert "flows/etl.py:5" in line and "prefect.yaml:7 (deployment 'nightly')" in line, line
    assert deployments(r.uid) == {}


def test_build_and_push_sections_are_said_once_not_run(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", "build:\n  - prefect_docker.deployments.steps.build_docker_image:\n      image_name: x\n"
            + SIMPLE.format(pool=POOL))
    r.commit("with a build")
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("build and push steps are not run") == 1
    assert sorted(deployments(r.uid)) == [f"{etl}/main-hourly", f"{etl}/main-nightly"]


def test_keep_tags_counts_tags_not_entries() -> None:
    from datetime import datetime, timezone

    from prefect_push.status import Registered, beyond_keep, by_ref

    now = datetime.now(timezone.utc)
    regs = [Registered(f"{t}-{e}", "etl", f"{t}-{e}", f"refs/tags/{t}", "a" * 40, now, "pool")
            for t in ("v1", "v2", "v3") for e in ("nightly", "hourly")]
    old = beyond_keep(by_ref(regs, {f"refs/tags/{t}": "a" * 40 for t in ("v1", "v2", "v3")}), 2,
                      {"refs/tags/v1": 1.0, "refs/tags/v2": 2.0, "refs/tags/v3": 3.0})
    assert sorted(d.deployment for _, d in old) == ["v1-hourly", "v1-nightly"]


def test_a_release_carries_each_entry_and_takes_the_live_schedule(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("prefect.yaml")
    assert r.push("main", env={"TEAM": "a"}).returncode == 0
    r.git("tag", "v1")
    proc = r.push("v1", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert sorted(got) == [f"{etl}/main-hourly", f"{etl}/main-nightly", f"{etl}/production-hourly",
                           f"{etl}/production-nightly"]
    release = got[f"{etl}/production-nightly"]
    assert release.parameters == {"n": 7} and release.job_variables == {"env": {"TEAM": "a"}}
    assert [s.active for s in release.schedules] == [True]
    assert [s.active for s in got[f"{etl}/main-nightly"].schedules] == [False]  # one live schedule per entry
    assert [s.active for s in got[f"{etl}/production-hourly"].schedules] == [False]  # its own active: false


def plain_repo(r: Repo) -> tuple[str, str]:
    """setup_repo's flows without its test double (registered plain, before prefect.yaml, the two would collide)."""
    etl, report = r.flow("etl"), r.flow("report")
    r.write("flows/etl.py", flow_file(etl, "etl", "Extract, transform, load."))
    r.write("flows/report.py", flow_file(report, "report", "Weekly report."))
    return etl, report


def test_adopting_prefect_yaml_removes_what_it_no_longer_yields(hooked: Repo) -> None:
    """A repository registered before its prefect.yaml: once the file governs, the plain `<flow>/main` of a flow
    now deployed as `main-nightly` and `main-hourly`, and of a flow no entry lists, go on the push that adds it,
    saying why; a flow with one entry keeps its plain deployment, now carrying the entry."""
    r = hooked
    etl, report = plain_repo(r)
    one = r.flow("one")
    r.write("flows/one.py", flow_file(one, "one", "One entry."))
    r.commit("flows, no prefect.yaml yet")
    assert r.push("main").returncode == 0
    assert sorted(deployments(r.uid)) == sorted([f"{etl}/main", f"{report}/main", f"{one}/main"])
    r.write("prefect.yaml", SIMPLE.format(pool=POOL) + "  - name: only\n    entrypoint: flows/one.py:one\n"
                                                      "    parameters: {x: 1}\n")
    r.commit("adopt prefect.yaml")
    proc = r.cli("plan", "--json", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert {(a["flow"], a["deployment"]): (a["action"], a["reason"].split(", since")[0])
            for a in json.loads(proc.stdout)["actions"]} == {
        (etl, "main"): ("would delete", "prefect.yaml: deployed as main-nightly, main-hourly"),
        (report, "main"): ("would delete", "prefect.yaml: not listed"),
        (etl, "main-nightly"): ("would register", "prefect.yaml: nightly new"),
        (etl, "main-hourly"): ("would register", "prefect.yaml: hourly new"),
        (one, "main"): ("would update", "prefect.yaml: only new")}
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert sorted(got) == sorted([f"{etl}/main-hourly", f"{etl}/main-nightly", f"{one}/main"]), proc.stderr
    assert got[f"{one}/main"].parameters == {"x": 1}


def test_a_plain_deployment_left_behind_goes_when_its_flow_changes(hooked: Repo) -> None:
    """A flow no entry lists whose plain deployment outlived adoption (registered from a clone without
    prefect.yaml) goes on the next push that changes the flow; with unlisted-flows = "register" it stays."""
    r = hooked
    etl, report = plain_repo(r)
    r.commit("flows")
    assert r.push("main").returncode == 0
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("adopt prefect.yaml")
    r.write("pyproject.toml", (r.path / "pyproject.toml").read_text() + 'unlisted-flows = "register"\n')
    r.commit("register unlisted flows too")
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert f"{report}/main" in deployments(r.uid)  # still yielded: the flow's own registration
    r.write("pyproject.toml", (r.path / "pyproject.toml").read_text().replace('unlisted-flows = "register"\n', ""))
    r.write("flows/report.py", (r.path / "flows/report.py").read_text() + "# changed\n")
    r.commit("skip unlisted flows again; report changes")
    plan = json.loads(r.cli("plan", "--json", env={"TEAM": "a"}).stdout)["actions"]
    assert [(a["flow"], a["action"], a["reason"].split(", since")[0]) for a in plan if a["action"] == "would delete"] \
        == [(report, "would delete", "prefect.yaml: not listed")], plan
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert sorted(deployments(r.uid)) == [f"{etl}/main-hourly", f"{etl}/main-nightly"], proc.stderr


def test_a_bad_entry_in_the_root_prefect_yaml_blocks_only_pushes_touching_it(hooked: Repo) -> None:
    """The root prefect.yaml is fine for etl but its entry for another folder's flow is refused (an unknown key):
    the push that writes it is blocked, in one line naming prefect.yaml:line and the entry; pushes of etl, and of
    another entry of the file, go on; a later push of shop's flow registers the entry without the key."""
    r = hooked
    etl, _ = setup_repo(r)
    shop = r.flow("shop")
    r.write("projects/shop/flows/shop.py", flow_file(shop, "shop", "Shop."))
    good = SIMPLE.format(pool=POOL)
    bad = "  - name: daily\n    entrypoint: projects/shop/flows/shop.py:shop\n    paramters: {n: 1}\n"
    r.write("prefect.yaml", good)
    r.commit("etl's entries")
    assert r.push("main", env={"TEAM": "a"}).returncode == 0
    r.write("prefect.yaml", good + bad)
    r.commit("shop's entry, misspelt")
    proc = r.push("main", env={"TEAM": "a"})  # it changes the entry: blocked
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if "prefect.yaml:" in line]
    assert len(lines) == 1 and "prefect.yaml:19: deployment 'daily': unknown key 'paramters'" in lines[0], proc.stderr
    assert r.remote_has("refs/heads/main") != r.git("rev-parse", "HEAD").stdout.strip()
    # the team pushes it with the hook skipped; a branch from there that changes etl, and another entry of the
    # file, is not blocked by shop's entry
    skipped = r.push("main", env={"PREFECT_PUSH_SKIP": "1"})
    assert skipped.returncode == 0, skipped.stderr
    r.git("checkout", "-q", "-b", "feature")
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "# changed\n")
    r.write("prefect.yaml", good.replace("{n: 7}", "{n: 9}") + bad)
    r.commit("etl changes, nightly's n too")
    proc = r.push("feature", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid)[f"{etl}/feature-nightly"].parameters == {"n": 9}
    # shop's flow changes: its entry is what the remote already holds, so it registers as prefect deploy stores
    # it (the key Prefect ignores, ignored), and says so in one line (issue L: refusals block only their push)
    r.write("projects/shop/flows/shop.py", flow_file(shop, "shop", "Shop, changed."))
    r.commit("shop changes")
    proc = r.push("feature", env={"TEAM": "a"})
    assert proc.returncode == 0, proc.stderr
    assert ("prefect.yaml:19: deployment 'daily': unknown key 'paramters' (did you mean 'parameters'?) ignored, as "
            "prefect deploy ignores it") in proc.stderr, proc.stderr
    assert deployments(r.uid)[f"{shop}/feature"].parameters == {}


# --- found by a review of the whole change -----------------------------------------------------------------------

ONE = "deployments:\n  - name: nightly\n    entrypoint: flows/etl.py:etl\n    work_pool: {{name: {pool}}}\n" \
      "    parameters: {{n: {n}}}\n"


def test_one_push_of_two_refs_carries_each_ref_s_own_version_of_an_entry(hooked: Repo) -> None:
    """`git push origin main feature` through the plain hook: each ref's deployment has its commit's entry (the
    resolved entries were once cached by name alone, so one ref got the other's parameters)."""
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n=1))
    r.commit("n=1")
    r.git("checkout", "-qb", "feature")
    r.write("prefect.yaml", ONE.format(pool=POOL, n=2))
    r.commit("n=2 on the branch")
    proc = r.push("main", "feature")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{etl}/main"].parameters == {"n": 1} and got[f"{etl}/feature"].parameters == {"n": 2}


def test_an_entry_s_parameters_that_do_not_fit_the_flow_stop_the_push(hooked: Repo) -> None:
    """enforce_parameter_schema (the default) makes the server refuse every run of it: one line, before any write."""
    r = hooked
    setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n="'seven'"))
    r.commit("a string for an int")
    proc = r.push("main")
    assert proc.returncode != 0
    said = [line for line in proc.stderr.splitlines() if "prefect.yaml:" in line]
    assert len(said) == 1 and "prefect.yaml:5: deployment 'nightly': parameters:" in said[0], proc.stderr
    assert deployments(r.uid) == {}


def test_deleting_a_flow_file_its_entry_still_names_stops_the_push(hooked: Repo) -> None:
    """Its deployments would stay behind, cloning a file the branch no longer has: the entry is the one line."""
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("prefect.yaml")
    assert r.push("main", env={"TEAM": "a"}).returncode == 0
    r.git("rm", "-q", "flows/etl.py")
    r.commit("etl goes, its entries stay")
    proc = r.push("main", env={"TEAM": "a"})
    assert proc.returncode != 0
    assert any(line.startswith("prefect-push: prefect.yaml:") and "flows/etl.py" in line
               for line in proc.stderr.splitlines()), proc.stderr
    assert sorted(deployments(r.uid)) == [f"{etl}/main-hourly", f"{etl}/main-nightly"]


# the team's clone and requirements, as real prefect.yaml files write them (kept equal by design)
CLONE_PULL = """\
pull:
  - prefect.deployments.steps.git_clone:
      repository: https://git.example.invalid/team/repo.git
      branch: main
  - prefect.deployments.steps.pip_install_requirements:
      requirements_file: requirements.txt
"""
TWO_FILES = CLONE_PULL + """\
deployments:
  - name: from-api
    entrypoint: workflows/api_return.py:get_domains
    work_pool: {{name: {pool}}}
    parameters: {{n: 2}}
  - name: from-query
    entrypoint: workflows/query.py:get_domains_query
    work_pool: {{name: {pool}}}
    parameters: {{n: 3}}
"""


def test_one_flow_name_in_two_files_each_with_its_entry(hooked: Repo) -> None:
    """A real pipeline repository's shape: two files define one flow name (and a same-named subflow no entry
    lists), the root prefect.yaml has one entry for each file. `prefect deploy --all` stores both (Prefect keys a
    deployment by flow and deployment name); the push registers both, each named after its entry, each equal to
    what prefect deploy stored, and the unlisted same-named flows collide with nothing."""
    r = hooked
    shared = r.flow("Get Associated Domains")
    r.write("workflows/api_return.py", flow_file(shared, "get_domains", "From the API.")
            + f"\n\n@flow(name={r.flow('helper')!r})\ndef helper():\n    return 1\n")
    r.write("workflows/query.py", flow_file(shared, "get_domains_query", "From the query.")
            + f"\n\n@flow(name={r.flow('helper')!r})\ndef helper():\n    return 2\n")
    r.write("requirements.txt", "")
    r.write("prefect.yaml", TWO_FILES.format(pool=POOL))
    r.commit("two files, one flow name")
    proc = prefect_deploy(r.path, ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    theirs = {entry: asyncio.run(stored(shared, entry))[0] for entry in ("from-api", "from-query")}
    # main takes both over in place (same ids), each equal to what prefect deploy stored
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    for entry, their in theirs.items():
        ours, _ = asyncio.run(stored(shared, entry))
        by_design_equal(ours, their, None)
        assert ours.id == their.id and ours.version == r.sha()
    # a branch gets one deployment per entry, named after it, whichever file defines the flow name
    r.git("checkout", "-q", "-b", "feature")
    r.write("workflows/api_return.py", (r.path / "workflows/api_return.py").read_text() + "# changed\n")
    r.write("workflows/query.py", (r.path / "workflows/query.py").read_text() + "# changed\n")
    r.commit("both change")
    push = r.push("feature", env=ENV)
    assert push.returncode == 0, push.stderr
    got = deployments(r.uid)
    mine = sorted(k for k in got if "/feature" in k)
    assert mine == [f"{shared}/feature-from-api", f"{shared}/feature-from-query"], (mine, push.stderr)
    assert got[f"{shared}/feature-from-api"].entrypoint == "workflows/api_return.py:get_domains"
    # a later push that changes one of the files registers only its entry, under the same name
    r.write("workflows/query.py", flow_file(shared, "get_domains_query", "From the query, v2."))
    r.commit("query v2")
    push = r.push("feature", env=ENV)
    assert push.returncode == 0, push.stderr
    after = deployments(r.uid)
    assert sorted(k for k in after if "/feature" in k) == mine
    assert after[f"{shared}/feature-from-query"].version == r.sha()
    assert after[f"{shared}/feature-from-api"].version == got[f"{shared}/feature-from-api"].version


def test_two_entries_writing_one_deployment_name_are_the_collision(hooked: Repo) -> None:
    """Project folders each with a prefect.yaml, one flow name, one entry name: both would write one deployment."""
    r = hooked
    shared = r.flow("call-api")
    for folder in ("project_a", "project_b"):
        r.write(f"{folder}/flow.py", flow_file(shared, "call_api", folder))
        r.write(f"{folder}/prefect.yaml", f"deployments:\n  - name: default\n    entrypoint: ./flow.py:call_api\n"
                                          f"    work_pool: {{name: {POOL}}}\n")
    r.commit("two folders")
    push = r.push("main", env=ENV)
    assert push.returncode == 1
    assert ("project_b/prefect.yaml:2: deployment 'default' of ./flow.py:call_api and project_a/prefect.yaml:2: "
            f"deployment 'default' of ./flow.py:call_api both register deployment {shared}/main-default (one flow "
            "name, one entry name): rename one of the entries") in push.stderr, push.stderr
    assert deployments(r.uid) == {}


def test_a_prefect_yaml_named_under_examples_is_read(hooked: Repo) -> None:
    """PrefectHQ's actions-prefect-deploy layout: project folders under examples/, entrypoints relative to each
    folder (`./flow.py:call_api`), one flow name in several folders; prefect-yaml names the files one by one."""
    r = hooked
    shared = r.flow("call-api")
    paths = []
    for folder, entry in (("examples/simple", "simple"), ("examples/multi", "multi")):
        r.write(f"{folder}/flow.py", flow_file(shared, "call_api", folder))
        r.write(f"{folder}/prefect.yaml", f"deployments:\n  - name: {entry}\n    entrypoint: ./flow.py:call_api\n"
                                          f"    work_pool: {{name: {POOL}}}\n")
        paths.append(f"{folder}/prefect.yaml")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\nprefect-yaml = {json.dumps(paths)}\n')
    r.commit("examples")
    push = r.push("main", env=ENV)
    assert push.returncode == 0, push.stderr
    assert sorted(deployments(r.uid)) == [f"{shared}/main-multi", f"{shared}/main-simple"], push.stderr
    got = deployments(r.uid)
    assert got[f"{shared}/main-simple"].entrypoint == "examples/simple/flow.py:call_api"


REFUSED = CLONE_PULL + """\
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 7}}
  - name: legacy
    entrypoint: flows/report.py:report
    work_pool: {{name: {pool}}}
    schedules:
      - cron: "0 3 * * *"
        max_active_runs: 1
  - name: named-runs
    entrypoint: flows/report.py:report
    work_pool: {{name: {pool}}}
    schedules:
      - interval: 600
        flow_run_name: "report-{{{{ day }}}}"
  - name: not-a-flow
    entrypoint: flows/etl.py:helper
    work_pool: {{name: {pool}}}
"""


def test_entries_prefect_refuses_are_skipped_where_the_remote_holds_them(hooked: Repo) -> None:
    """A real repository keeps entries Prefect 3.9's loader refuses (a Prefect 2 schedule key, a schedule's
    flow_run_name, an entrypoint naming no flow): `prefect deploy --all` skips them and stores the rest. Adopting
    that repository (its prefect.yaml already on the remote), and pushing a change to their flows, skips them the
    same way, one line each in the file's words; a push that changes a refused entry is stopped by it."""
    r = hooked
    etl, report = setup_repo(r)
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "\n\ndef helper():\n    return 1\n")
    r.write("prefect.yaml", REFUSED.format(pool=POOL))
    r.commit("the team's prefect.yaml")
    # Prefect 3.9.1 refuses them too, and more: its models refusing a schedule key drop the whole file
    theirs = prefect_deploy(r.path, ENV)
    assert deployments(r.uid) == {} and "Invalid fields in deployments" in theirs.stdout, theirs.stdout
    # ... and an entrypoint naming no flow ends `prefect deploy --all` there: what it stores of the valid entry
    r.write("prefect.yaml", REFUSED.format(pool=POOL).split("  - name: legacy")[0])
    theirs = prefect_deploy(r.path, ENV)
    assert sorted(deployments(r.uid)) == [f"{etl}/nightly"], theirs.stdout + theirs.stderr
    their, _ = asyncio.run(stored(etl, "nightly"))
    r.write("prefect.yaml", REFUSED.format(pool=POOL))
    assert r.push("main", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0  # on the remote before prefect-push
    proc = r.cli("register", "--ref", "main", "--all")
    assert proc.returncode == 0, proc.stderr
    skipped = sorted(line.removeprefix("prefect-push: ") for line in proc.stderr.splitlines()
                     if "skipped (prefect deploy refuses it too)" in line)
    assert skipped == [
        "prefect.yaml:17: deployment 'legacy' skipped (prefect deploy refuses it too): schedules[0]: max_active_runs is "
        "not a schedule setting of Prefect 3",
        "prefect.yaml:23: deployment 'named-runs' skipped (prefect deploy refuses it too): schedules[0]: flow_run_name "
        "is not a schedule setting of Prefect 3",
        "prefect.yaml:25: deployment 'not-a-flow' skipped (prefect deploy refuses it too): entrypoint "
        "'flows/etl.py:helper' names no flow in flows/etl.py (flows there: etl)",
    ], proc.stderr
    assert sorted(deployments(r.uid)) == [f"{etl}/nightly"], proc.stderr  # taken over in place
    ours, _ = asyncio.run(stored(etl, "nightly"))
    by_design_equal(ours, their, None)
    assert ours.id == their.id and ours.version == r.sha()

    # a push that changes the refused entries' flows: skipped again, said again, the push goes on
    r.write("flows/report.py", (r.path / "flows/report.py").read_text() + "# changed\n")
    r.commit("report changes")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert sum("skipped (prefect deploy refuses it too)" in line for line in proc.stderr.splitlines()) == 2, proc.stderr

    # a push that changes a refused entry: the one pushing just wrote it, so it stops the push, in the file's words
    r.write("prefect.yaml", REFUSED.format(pool=POOL).replace("max_active_runs: 1", "max_active_runs: 2"))
    r.commit("legacy: 2 runs")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 1
    assert ("prefect.yaml:17: deployment 'legacy': schedules[0]: max_active_runs is not a schedule setting of "
            "Prefect 3") in proc.stderr, proc.stderr
    assert "function-after" not in proc.stderr and "Traceback" not in proc.stderr


def test_build_and_push_sections_are_said_whatever_becomes_of_the_entries(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", "build:\n  - prefect_docker.deployments.steps.build_docker_image:\n      image_name: x\n"
                            + REFUSED.format(pool=POOL).split("  - name: legacy")[0].replace("flows/etl.py:etl",
                                                                                             "flows/etl.py:nope"))
    r.commit("every entry refused, a build section")
    r.push("main", env={"PREFECT_PUSH_SKIP": "1"})
    proc = r.cli("register", "--ref", "main", "--all")
    assert proc.returncode == 0, proc.stderr
    assert "prefect.yaml: build and push steps are not run by prefect-push" in proc.stderr, proc.stderr
    assert "deployment 'nightly' skipped (prefect deploy refuses it too)" in proc.stderr


def test_a_syntax_error_in_a_file_no_entry_names_does_not_stop_the_push(hooked: Repo) -> None:
    """Where prefect.yaml's entries are the set, a broken flow file nothing deploys is a line, not a block; it
    still blocks where an entry names the file."""
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n=1))
    r.commit("nightly")
    assert r.push("main", env=ENV).returncode == 0
    r.write("flows/cleanup.py", "from prefect import flow\n\n@flow\ndef cleanup(:\n    pass\n")
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "# changed\n")
    r.commit("a broken cleanup flow nothing deploys; etl changes")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert "flows/cleanup.py:4: syntax error" in proc.stderr and "does not stop the push" in proc.stderr
    assert deployments(r.uid)[f"{etl}/main"].version == r.sha()
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "def broken(:\n")
    r.commit("etl broken")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 1 and "flows/etl.py:" in proc.stderr and "syntax error" in proc.stderr, proc.stderr


def test_a_changed_flow_no_entry_lists_says_so(hooked: Repo) -> None:
    """A push that changes only a flow no prefect.yaml entry lists: the row says it changed and is not listed,
    not that no flow changed."""
    r = hooked
    etl, report = setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n=1))
    r.commit("nightly")
    assert r.push("main", env=ENV).returncode == 0
    r.write("flows/report.py", (r.path / "flows/report.py").read_text() + "# changed\n")
    r.commit("report changes")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert f"{report} changed, not listed in prefect.yaml" in proc.stderr, proc.stderr
    assert "no flow changed" not in proc.stderr


def test_register_all_on_a_registered_ref_says_why_it_updates(hooked: Repo) -> None:
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n=1))
    r.commit("nightly")
    assert r.push("main", env=ENV).returncode == 0
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "# changed\n")
    r.commit("etl changes")
    assert r.push("main", env=ENV).returncode == 0
    proc = r.cli("register", "--ref", "main", "--all", "--json")
    assert proc.returncode == 0, proc.stderr
    (action,) = json.loads(proc.stdout)["actions"]
    assert (action["action"], action["reason"]) in {("skip", "already registered at this commit"),
                                                      ("update", "--all: every flow")}, action
    r.write("flows/etl.py", (r.path / "flows/etl.py").read_text() + "# again\n")
    r.commit("etl again, pushed with the hook skipped")
    assert r.push("main", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0
    proc = r.cli("register", "--ref", "main", "--all", "--json")
    (action,) = json.loads(proc.stdout)["actions"]
    assert (action["action"], action["reason"]) == ("update", "--all: every flow"), action


# --- found by a review of the takeover and refusal changes ---------------------------------------------------------

def test_renaming_the_function_an_unchanged_entry_names_stops_the_push(hooked: Repo) -> None:
    """The entry is unchanged, but this push made its entrypoint name no flow: it blocks (else the ref's and then
    the release's deployment would go, as if the entry had been removed)."""
    r = hooked
    etl, _ = setup_repo(r)
    r.write("prefect.yaml", ONE.format(pool=POOL, n=1))
    r.commit("nightly")
    assert r.push("main", env=ENV).returncode == 0
    r.write("flows/etl.py", flow_file(etl, "run_etl", "Renamed."))
    r.commit("etl renamed")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 1, proc.stderr
    assert "prefect.yaml:3: deployment 'nightly': entrypoint 'flows/etl.py:etl' names no flow in flows/etl.py " \
           "(flows there: run_etl)" in proc.stderr, proc.stderr
    assert f"{etl}/main" in deployments(r.uid)


def test_the_first_release_tag_skips_a_refused_entry_main_already_holds(hooked: Repo) -> None:
    r = hooked
    etl, report = setup_repo(r)
    r.write("prefect.yaml", REFUSED.format(pool=POOL).split("  - name: named-runs")[0])
    r.commit("nightly and a legacy entry")
    assert r.push("main", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0
    assert r.cli("register", "--ref", "main", "--all").returncode == 0
    r.git("tag", "v1")
    proc = r.push("v1", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert "deployment 'legacy' skipped (prefect deploy refuses it too)" in proc.stderr, proc.stderr
    assert f"{etl}/production" in deployments(r.uid)


TWO_NAMES = """\
deployments:
  - name: nightly
    entrypoint: flows/a.py:a
    work_pool: {{name: {pool}}}
  - name: daily
    entrypoint: flows/b.py:b
    work_pool: {{name: {pool}}}
"""


def test_a_flow_name_changed_under_its_entry_renames_every_deployment_of_the_group(hooked: Repo) -> None:
    """a.py and b.py both define flow 'shared', an entry each: main-nightly and main-daily. b's flow name changes:
    b's becomes other/main, a's alone in its group becomes shared/main; the suffixed ones go."""
    r = hooked
    shared, other = r.flow("shared"), r.flow("other")
    r.write("flows/a.py", flow_file(shared, "a", "A."))
    r.write("flows/b.py", flow_file(shared, "b", "B."))
    r.write("prefect.yaml", TWO_NAMES.format(pool=POOL))
    r.commit("one flow name, two files")
    assert r.push("main", env=ENV).returncode == 0
    assert sorted(deployments(r.uid)) == [f"{shared}/main-daily", f"{shared}/main-nightly"]
    r.write("flows/b.py", flow_file(other, "b", "B, renamed."))
    r.commit("b's flow has its own name")
    proc = r.push("main", env=ENV)
    assert proc.returncode == 0, proc.stderr
    assert sorted(deployments(r.uid)) == [f"{other}/main", f"{shared}/main"], proc.stderr
