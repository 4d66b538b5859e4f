"""prefect.yaml read by prefect-push == what the real `prefect deploy --all` stores, field by field.

Each test writes a prefect.yaml in shapes real repositories use, commits it, runs the real `prefect deploy --all
--no-prompt` against the test server, reads back what it stored, and compares with what prefectyaml (from the
commit's git objects) says `prefect deploy` stores for each entry.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BIN, POOL, Repo
from prefect_push.read import prefectyaml
from prefect_push.read.prefectyaml import PrefectYamlError

ENV = {"PREFECT_CLI_PROMPT": "false", "TEAM": "data-eng", "REGION": "eu-west-1", "BATCH_SIZE": "500"}


def flow_file(name: str, function: str, doc: str) -> str:
    return textwrap.dedent(f'''\
        from prefect import flow


        @flow(name={name!r})
        def {function}(day: str = "mon", n: int = 1, region: str = "none", size: str = "0"):
            """{doc}"""
            return n
        ''')


def git_show(r: Repo, path: str) -> bytes:
    return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=r.path, capture_output=True, check=True).stdout


def git_files(r: Repo) -> set[str]:
    return set(r.git("ls-tree", "-r", "--name-only", "HEAD").stdout.split())


def prefect_deploy(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **env})
    return proc


async def stored(flow: str, name: str):
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        d = await client.read_deployment_by_name(f"{flow}/{name}")
        automations = await client.read_resource_related_automations(f"prefect.deployment.{d.id}")
        return d, automations


async def read_all(r: Repo, file: str):
    """What prefect-push's reader says, resolved with the server (blocks, variables) as prefect deploy does."""
    from prefect.client.orchestration import get_client

    from prefect_push.read import prefectyaml_resolve as res

    files = git_files(r)
    parsed = prefectyaml.parse(git_show(r, file), file, exists=files.__contains__)
    async with get_client() as client:
        return [await res.resolve(e, res.client_resolver(client)) for e in parsed.entries]


def schedule_fields(s) -> dict:
    """A schedule as the server stores it, without ids and times."""
    return {"schedule": s.schedule.model_dump(mode="json"), "active": s.active, "parameters": s.parameters or {},
            "slug": s.slug}


def expected_schedule_fields(d: dict) -> dict:
    schedule = d["schedule"].model_dump(mode="json")
    if "rrule" in schedule and "DTSTART" not in schedule["rrule"]:
        # the server gives an rrule without a start one (whoever sends it), when it stores it
        schedule["rrule"] = "DTSTART:20200101T000000\n" + schedule["rrule"]
    return {"schedule": schedule, "active": d.get("active", True),
            "parameters": d.get("parameters") or {}, "slug": d.get("slug")}


def trigger_fields(a) -> dict:
    return {"name": a.name, "enabled": a.enabled, "trigger": a.trigger.model_dump(mode="json", exclude={"id"}),
            "actions": [x.model_dump(mode="json") for x in a.actions]}


def compare(got, want, docstring: str, flow: str) -> None:
    """Every field prefect-push will register from the entry, as the real deploy stored it."""
    assert got.work_pool_name == want.work_pool_name
    assert got.work_queue_name == (want.work_queue_name or "default")
    assert got.job_variables == want.job_variables
    assert got.parameters == want.parameters
    assert got.description == (want.description or docstring)
    assert sorted(got.tags) == sorted(want.tags)
    assert got.paused == bool(want.paused)
    assert got.enforce_parameter_schema == want.enforce_parameter_schema
    limit = got.global_concurrency_limit  # the server keeps a deployment's limit as a concurrency limit object
    assert (limit.limit if limit else None) == want.concurrency_limit
    options = got.concurrency_options.model_dump(mode="json", exclude_none=True) if got.concurrency_options else None
    assert options == want.concurrency_options
    assert got.entrypoint == want.entrypoint
    assert got.pull_steps == want.pull_steps
    assert sorted((schedule_fields(s) for s in got.schedules), key=str) == sorted(
        (expected_schedule_fields(s) for s in want.schedules or []), key=str)
    if want.version is not None:
        assert got.version == want.version


PREFECT_YAML = """\
# a monorepo-style prefect.yaml: definitions with anchors, merge keys, env templates
name: {uid}-project
prefect-version: 3.9.1

build: null
push: null

pull:
  - prefect.deployments.steps.git_clone: &clone
      id: clone-step
      repository: https://git.example.invalid/team/repo.git
      branch: main
      access_token: "{{{{ prefect.blocks.secret.{uid}-token }}}}"
  - prefect.deployments.steps.pip_install_requirements:
      directory: "{{{{ clone-step.directory }}}}"
      requirements_file: requirements.txt
      stream_output: false

definitions:
  work_pools:
    default: &pool
      name: {pool}
      work_queue_name: etl-queue
      job_variables: &jobvars
        env:
          TEAM: "{{{{ $TEAM }}}}"
          REGION: "{{{{ $REGION }}}}"
          MISSING: "{{{{ $PREFECT_PUSH_TEST_UNSET_VAR }}}}"
        image: "{{{{ build-image.image }}}}"
  schedules:
    nightly: &nightly
      cron: "30 2 * * *"
      timezone: Europe/Paris
      slug: nightly-run
      parameters:
        day: sun
    hourly: &hourly
      interval: 3600
      anchor_date: "2024-01-01T00:00:00Z"
      timezone: America/Chicago
      active: false
  common: &common
    tags: ["{{{{ $TEAM }}}}", etl, "region-{{{{ $REGION }}}}"]
    version: "1.0"
    work_pool: *pool

deployments:
  - <<: *common
    name: nightly
    entrypoint: flows/etl.py:etl
    description: "Nightly ETL for {{{{ $TEAM }}}}"
    parameters:
      n: 7
      region: "{{{{ $REGION }}}}"
      size: "{{{{ prefect.variables.{uid}_batch }}}}"
    schedules:
      - *nightly
    concurrency_limit:
      limit: 2
      collision_strategy: CANCEL_NEW
    enforce_parameter_schema: false
    pull:
      - prefect.deployments.steps.git_clone: *clone
      - prefect.deployments.steps.set_working_directory:
          directory: "{{{{ clone-step.directory }}}}/flows"
      - prefect.deployments.steps.pip_install_requirements:
          requirements_file: requirements.txt
      - prefect.deployments.steps.run_shell_script:
          id: show
          script: echo {{{{ $TEAM }}}} {{{{ prefect.variables.{uid}_batch }}}}
    triggers:
      - enabled: true
        match:
          prefect.resource.id: prefect.flow-run.*
        expect:
          - prefect.flow-run.Completed
        parameters:
          day: "{{{{ event.resource.name }}}}"

  - <<: *common
    name: hourly
    entrypoint: flows/etl.py:etl
    tags: [hourly]
    parameters:
      n: 1
    schedules:
      - *hourly
    concurrency_limit: 3
    paused: true

  - name: weekly
    entrypoint: flows/report.py:report
    work_pool:
      name: {pool}
      job_variables:
        <<: *jobvars
        env:
          BATCH: "{{{{ $BATCH_SIZE }}}}"
    schedule:
      rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9"
      timezone: UTC
    description: "{{{{ $PREFECT_PUSH_TEST_UNSET_VAR }}}}"
"""


@pytest.fixture
def variable(prefect_server, repo: Repo):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import VariableCreate

    async def create():
        async with get_client() as client:
            await client.create_variable(VariableCreate(name=f"{repo.uid}_batch", value="250"))

    asyncio.run(create())
    # prefect deploy resolves blocks in an entry's own pull: section too (and stores them unresolved): it must exist
    from prefect.blocks.system import Secret

    Secret(value="token").save(f"{repo.uid}-token")


def test_prefect_deploy_stores_what_the_reader_says(repo: Repo, prefect_server, variable) -> None:
    etl, report = repo.flow("etl"), repo.flow("report")
    repo.write("flows/etl.py", flow_file(etl, "etl", "Extract, transform, load."))
    repo.write("flows/report.py", flow_file(report, "report", "Weekly report."))
    repo.write("requirements.txt", "")
    repo.write("prefect.yaml", PREFECT_YAML.format(uid=repo.uid, pool=POOL))
    repo.commit("prefect.yaml")

    proc = prefect_deploy(repo.path, ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    os.environ.update(ENV)  # the reader resolves {{ $ENV }} from this process's environment, as Prefect does
    try:
        resolved = {r.name: r for r in asyncio.run(read_all(repo, "prefect.yaml"))}
    finally:
        for k in ENV:
            os.environ.pop(k, None)
    assert sorted(resolved) == ["hourly", "nightly", "weekly"]
    docs = {"nightly": "Extract, transform, load.", "hourly": "Extract, transform, load.", "weekly": "Weekly report."}
    flows = {"nightly": etl, "hourly": etl, "weekly": report}
    for name, want in resolved.items():
        got, automations = asyncio.run(stored(flows[name], name))
        compare(got, want, docs[name], flows[name])
        for t in want.triggers:
            t.set_deployment_id(got.id)  # as prefect deploy ties them: run this deployment
        assert sorted(map(trigger_fields, automations), key=str) == sorted(
            (trigger_fields(t.as_automation()) for t in want.triggers), key=str)

    # the shapes the comparison covered, so that equality above is not an accident of empty fields
    nightly, hourly, weekly = resolved["nightly"], resolved["hourly"], resolved["weekly"]
    assert nightly.parameters == {"n": 7, "region": "eu-west-1", "size": "250"}
    assert nightly.job_variables == {"env": {"TEAM": "data-eng", "REGION": "eu-west-1", "MISSING": ""}}
    assert sorted(nightly.tags) == ["data-eng", "etl", "region-eu-west-1"]
    assert nightly.description == "Nightly ETL for data-eng"
    assert nightly.concurrency_options == {"collision_strategy": "CANCEL_NEW"} and nightly.concurrency_limit == 2
    assert nightly.enforce_parameter_schema is False and len(nightly.triggers) == 1
    assert [next(iter(s)) for s in nightly.pull_steps] == [
        "prefect.deployments.steps.git_clone", "prefect.deployments.steps.set_working_directory",
        "prefect.deployments.steps.pip_install_requirements", "prefect.deployments.steps.run_shell_script"]
    # run-time templates stay: blocks, variables and step outputs in pull steps; env vars are resolved
    assert nightly.pull_steps[0]["prefect.deployments.steps.git_clone"]["access_token"] == (
        "{{ prefect.blocks.secret.%s-token }}" % repo.uid)
    assert nightly.pull_steps[3]["prefect.deployments.steps.run_shell_script"]["script"] == (
        "echo data-eng {{ prefect.variables.%s_batch }}" % repo.uid)
    assert hourly.paused is True and hourly.concurrency_limit == 3 and hourly.tags == ["hourly"]
    assert hourly.schedules[0]["active"] is False and hourly.schedules[0]["schedule"].timezone == "America/Chicago"
    assert hourly.pull_steps[1]["prefect.deployments.steps.pip_install_requirements"]["directory"] == (
        "{{ clone-step.directory }}")
    assert weekly.description is None and weekly.schedules[0]["schedule"].rrule.startswith("FREQ=WEEKLY")
    assert weekly.job_variables == {"env": {"BATCH": "500"}}


def test_a_project_folder_prefect_yaml(repo: Repo, prefect_server) -> None:
    """Monorepos keep one prefect.yaml per project folder, entrypoints relative to it."""
    shop = repo.flow("shop")
    repo.write("projects/shop/flows/shop.py", flow_file(shop, "shop", "Shop."))
    repo.write("projects/shop/prefect.yaml", textwrap.dedent(f"""\
        pull:
          - prefect.deployments.steps.set_working_directory:
              directory: /opt/prefect/shop
        deployments:
          - name: daily
            entrypoint: flows/shop.py:shop
            work_pool: {{name: {POOL}}}
            parameters: {{n: 3}}
            schedules:
              - cron: "0 6 * * 1-5"
                timezone: America/New_York
                day_or: false
        """))
    repo.commit("shop")
    proc = prefect_deploy(repo.path / "projects" / "shop", {"PREFECT_CLI_PROMPT": "false"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [want] = asyncio.run(read_all(repo, "projects/shop/prefect.yaml"))
    assert (want.entry.flow_path, want.entry.function) == ("projects/shop/flows/shop.py", "shop")
    got, _ = asyncio.run(stored(shop, "daily"))
    compare(got, want, "Shop.", shop)


def test_a_bad_schedule_is_refused_by_both_with_its_line(repo: Repo, prefect_server) -> None:
    bad = repo.flow("bad")
    repo.write("flows/bad.py", flow_file(bad, "bad", "Bad."))
    repo.write("prefect.yaml", textwrap.dedent(f"""\
        definitions:
          schedules:
            broken: &broken
              cron: "not a cron"
        deployments:
          - name: broken
            entrypoint: flows/bad.py:bad
            work_pool: {{name: {POOL}}}
            schedules: [*broken]
        """))
    repo.commit("bad")
    proc = prefect_deploy(repo.path, {"PREFECT_CLI_PROMPT": "false"})
    assert proc.returncode != 0
    with pytest.raises(PrefectYamlError, match=r"^prefect.yaml:4: deployment 'broken': schedule cron: .*not a cron"):
        asyncio.run(read_all(repo, "prefect.yaml"))


# --- pure: bad input, changes, naming ---------------------------------------------------------------------------

def parse(text: str, **kw):
    return prefectyaml.parse(textwrap.dedent(text).encode(), **kw)


@pytest.mark.parametrize("text, message", [
    ("deployments:\n  - name: a\n    entrypoint: [a.py:f\n", r"^prefect.yaml:4: invalid YAML"),
    ("deployments:\n  - name: a\n    entrypoint: a.py:f\n    schedulez: []\n",
     r"^prefect.yaml:4: deployment 'a': unknown key 'schedulez' \(did you mean 'schedule'\?\)"),
    ("deployments:\n  - name: a\n    entrypoint: a.py:f\n    work_pool:\n      name: p\n      variables: {}\n",
     r"^prefect.yaml:6: deployment 'a': unknown work_pool key 'variables'"),
    ("deployments:\n  - name: a\n    entrypoint: flows.a.f\n",
     r"^prefect.yaml:3: deployment 'a': entrypoint 'flows.a.f' is not path/to/file.py:function"),
    ("deployments:\n  - entrypoint: a.py:f\n", r"^prefect.yaml:2: deployment #1 has no name"),
    ("deployments:\n  - {name: a, entrypoint: a.py:f}\n  - {name: a, entrypoint: ./a.py:f}\n",
     r"^prefect.yaml:3: deployment 'a' of ./a.py:f is also at prefect.yaml:2"),
    ("- just a list\n", r"^prefect.yaml:1: not a mapping"),
    ("pull:\n  - prefect.deployments.steps.git_clone: {repository: r}\n"
     "  - prefect.deployments.steps.pip_install_requirement: {}\ndeployments:\n  - {name: a, entrypoint: a.py:f}\n",
     r"^prefect.yaml:3: deployment 'a': pull step 2: 'prefect.deployments.steps.pip_install_requirement': Prefect "
     r"has no such step \(did you mean 'prefect.deployments.steps.pip_install_requirements'\?\)"),
    ("deployments:\n  - name: a\n    entrypoint: a.py:f\n    pull:\n"
     "      - prefect.deployments.steps.git_clone: {repository: r}\n"
     "      - prefect.deployments.steps.set_working_directory: {directory: '{{ clone.directory }}'}\n",
     r"^prefect.yaml:6: deployment 'a': pull step 2: .*\{\{ clone.directory \}\} names no earlier step"),
    ("pull:\n  - prefect.deployments.steps.git_clone: {repository: r, access_token: ghp_0123456789abcdef}\n"
     "deployments:\n  - {name: a, entrypoint: a.py:f}\n",
     r"^prefect.yaml:\d+: deployment 'a': pull step 1: 'prefect.deployments.steps.git_clone': access_token must "
     r"name a block"),
])
def test_bad_input_is_one_line_naming_the_line_and_entry(text: str, message: str) -> None:
    with pytest.raises(PrefectYamlError, match=message) as info:
        parse(text)
    assert "\n" not in str(info.value)


def test_an_entrypoint_naming_no_file_in_the_commit() -> None:
    with pytest.raises(PrefectYamlError, match=r"^deployments/shop/prefect.yaml:3: .*no file deployments/shop/x"):
        parse("deployments:\n  - name: a\n    entrypoint: x.py:f\n", file="deployments/shop/prefect.yaml",
              exists=lambda p: False)
    # deployed from the root with --prefect-file: the entrypoint is relative to the root
    [e] = parse("deployments:\n  - name: a\n    entrypoint: flows/x.py:f\n", file="deployments/shop/prefect.yaml",
                exists={"flows/x.py"}.__contains__).entries
    assert e.flow_path == "flows/x.py"


BASE = """\
    definitions:
      schedules:
        daily: &daily {cron: "0 1 * * *"}
        hourly: &hourly {interval: 3600}
    deployments:
      - {name: nightly, entrypoint: a.py:f, schedules: [*daily]}
      - {name: often, entrypoint: a.py:f, schedules: [*hourly]}
      - {name: other, entrypoint: b.py:g}
    """


def test_changes_follow_the_definition_an_entry_uses() -> None:
    old = parse(BASE)
    assert prefectyaml.changes(old, parse(BASE)) == []
    new = parse(BASE.replace('"0 1 * * *"', '"0 2 * * *"'))
    [c] = prefectyaml.changes(old, new)
    assert (c.name, c.kind, c.why()) == ("nightly", "changed", "prefect.yaml: nightly changed")
    new = parse(BASE.replace("{name: other, entrypoint: b.py:g}", "{name: new, entrypoint: b.py:g}"))
    assert [(c.name, c.kind) for c in prefectyaml.changes(old, new)] == [("new", "new"), ("other", "removed")]
    # a file-level pull the entries inherit changes every entry that inherits it
    new = parse(textwrap.dedent(BASE) + "pull: [{prefect.deployments.steps.set_working_directory: {directory: /x}}]\n")
    assert {c.name for c in prefectyaml.changes(old, new)} == {"nightly", "often", "other"}


def test_several_entries_of_one_flow_are_named_apart() -> None:
    from dataclasses import replace

    from prefect_push.plan import Target, deployment_name
    from prefect_push.prefectyaml_apply import Declared, suffix_of
    from prefect_push.read.config import Config
    from prefect_push.read.flows import FlowSpec

    specs = Declared(files=(parse(BASE),)).expand([FlowSpec("a.py", "f", "f", 1), FlowSpec("b.py", "g", "g", 1)])
    main = Target("file:///r", "refs/heads/main", "c" * 40)
    assert [deployment_name(main, Config(), s.flow_name, s.path, suffix_of(s)) for s in specs] == [
        "main-nightly", "main-often", "main"]
    release = replace(main, ref="refs/tags/v1", release="production")
    assert deployment_name(release, Config(), "g", "b.py", suffix_of(specs[2])) == "production"


def test_the_clone_is_replaced_and_its_id_kept() -> None:
    steps = [{"prefect.deployments.steps.git_clone": {"id": "clone-step", "repository": "r", "branch": "main"}},
             {"prefect.deployments.steps.pip_install_requirements": {"directory": "{{ clone-step.directory }}"}}]
    ours = {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "feature"}}
    assert prefectyaml.with_clone(steps, ours) == [
        {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "feature", "id": "clone-step"}},
        steps[1]]
    assert prefectyaml.with_clone(steps[1:], ours) == [ours, steps[1]]
    # the team's credentials, a block reference, stay on prefect-push's clone (instead of its own setting's)
    token = "{{ prefect.blocks.secret.gh }}"
    theirs = [{"prefect.deployments.steps.git_clone": {"repository": "r", "access_token": token}}]
    with_setting = {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "f",
                                                            "access_token": "{{ prefect.blocks.secret.other }}"}}
    assert prefectyaml.with_clone(theirs, with_setting) == [
        {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "f", "access_token": token}}]


def test_without_a_server_blocks_and_variables_are_left_marked() -> None:
    from prefect_push.read import prefectyaml_resolve as res

    [e] = parse("""\
        deployments:
          - name: a
            entrypoint: a.py:f
            work_pool: {name: p, job_variables: {image: "{{ prefect.variables.image }}"}}
            parameters: {token: "{{ prefect.blocks.secret.tok }}", out: "{{ build-image.image }}"}
        """).entries
    r = asyncio.run(res.resolve(e))
    assert r.server_templates == ("{{ prefect.blocks.secret.tok }}", "{{ prefect.variables.image }}")
    assert r.parameters == {"token": "{{ prefect.blocks.secret.tok }}"}  # a step output with no value: key dropped


def test_reading_and_diffing_import_no_prefect() -> None:
    """The plan reads prefect.yaml on every push that changes it; prefect (0.6 s to import) only comes to resolve."""
    code = ("import sys; from prefect_push.read import prefectyaml as p; "
            "y = p.parse(b'deployments: [{name: a, entrypoint: a.py:f}]'); p.changes(None, y); "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'prefect'], 'prefect imported'")
    proc = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_an_entry_refused_on_its_own_leaves_the_others_readable() -> None:
    text = ("deployments:\n  - {name: a, entrypoint: a.py:f}\n  - name: b\n    entrypoint: shop/b.py:g\n"
            "    paramters: {}\n")
    with pytest.raises(PrefectYamlError, match="prefect.yaml:5: deployment 'b': unknown key 'paramters'"):
        parse(text)
    # a key Prefect ignores keeps its entry, noted: refused where a push writes it, ignored (said) where not
    got = parse(text, strict=False)
    assert [e.name for e in got.entries] == ["a", "b"] and not got.bad
    assert [str(u) for u in got.entries[1].unknown] == [
        "prefect.yaml:5: deployment 'b': unknown key 'paramters' (did you mean 'parameters'?); Prefect would ignore "
        "it silently"]
    # an entry Prefect's loader refuses is kept apart, with the line said where it is skipped
    got = parse(text.replace("shop/b.py:g", "shop/b.py"), strict=False)
    assert [e.name for e in got.entries] == ["a"]
    (bad,) = got.bad
    assert bad.error == "prefect.yaml:4: deployment 'b': entrypoint 'shop/b.py' is not path/to/file.py:function"
    assert bad.skipped == ("prefect.yaml:4: deployment 'b' skipped (prefect deploy refuses it too): entrypoint "
                           "'shop/b.py' is not path/to/file.py:function")


def test_the_table_shows_each_entry_schedule_live_or_off_as_it_is_stored() -> None:
    """A schedule the entry declares `active: false` is stored off on every ref (deploy_fields.entry_schedules):
    the table says off for it, live for the entry's others where the one-live-schedule rule lets them fire."""
    from prefect_push.plan import Action, Op
    from prefect_push.prefectyaml_apply import as_entry
    from prefect_push.read.flows import FlowSpec

    y = prefectyaml.parse(textwrap.dedent("""\
        deployments:
          - name: both
            entrypoint: flows/etl.py:etl
            schedules:
              - cron: "0 * * * *"
              - interval: 600
                active: false
        """))
    flow = as_entry(FlowSpec("flows/etl.py", "etl", "etl", 3), y.entries[0], 1)
    live = Action(Op.REGISTER, "etl", "main", "new", flow, schedule_live=True)
    assert live.schedule == "cron 0 * * * * (live), every 600s (off)"
    assert Action(Op.REGISTER, "etl", "f", "new", flow, schedule_live=False).schedule == \
        "cron 0 * * * * (off), every 600s (off)"
    assert live.has_schedule  # the cron fires: a release of it switches main's off
    quiet = prefectyaml.parse(b"deployments:\n  - name: q\n    entrypoint: flows/etl.py:etl\n"
                              b"    schedules:\n      - {interval: 600, active: false}\n")
    off = as_entry(FlowSpec("flows/etl.py", "etl", "etl", 3), quiet.entries[0], 1)
    # nothing of it fires anywhere: a release of it must not switch off main's live schedule
    assert not Action(Op.REGISTER, "etl", "production", "new", off, schedule_live=True).has_schedule


def test_only_the_first_git_clone_is_prefect_push_s() -> None:
    """A second git_clone clones another repository (shared code): kept as written, credentials and all."""
    shared = {"prefect.deployments.steps.git_clone": {"repository": "https://git.example.invalid/shared.git",
                                                      "access_token": "{{ prefect.blocks.secret.shared }}"}}
    steps = [{"prefect.deployments.steps.git_clone": {"repository": "r", "id": "clone-step"}}, shared]
    ours = {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "f"}}
    assert prefectyaml.with_clone(steps, ours) == [
        {"prefect.deployments.steps.git_clone": {"repository": "file:///x", "branch": "f", "id": "clone-step"}}, shared]
