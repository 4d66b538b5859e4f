"""Runtimes per flow, job variables checked against the pool's base job template, per-flow settings in code and
schedules that fire only where they should: real pushes, the session's real server, a real kubernetes-type pool."""
from __future__ import annotations

import json

from conftest import POOL, Repo, deployments, flow_source, per_tag
from test_push_registers import assert_blocked


def runtimes_config(k8s_pool: str, extra: str = "") -> str:
    return (f'[tool.prefect-push]\nwork-pool = "{POOL}"\njob-variables = {{ env = {{ TEAM = "data" }} }}\n{extra}\n'
            f'[tool.prefect-push.runtimes.spark]\nwork-pool = "{k8s_pool}"\npaths = ["flows/spark/**"]\n'
            'job-variables = { image = "ghcr.io/acme/spark:3.5", cpu_request = "2", namespace = "etl" }\n'
            'tags = ["spark"]\nconcurrency = 2\n'
            f'[tool.prefect-push.runtimes.big]\nwork-pool = "{k8s_pool}"\n'
            'job-variables = { image = "ghcr.io/acme/big:1", memory_limit = "64Gi" }\n')


def test_flows_run_on_the_runtime_their_path_or_code_picks(hooked: Repo, k8s_pool: str):
    r = hooked
    light, spark, big = r.flow("light"), r.flow("spark"), r.flow("big")
    r.write("pyproject.toml", runtimes_config(k8s_pool))
    r.write("flows/light.py", flow_source(light))
    r.write("flows/spark/job.py", flow_source(spark))
    r.write("flows/big.py", flow_source(big) + 'PREFECT_PUSH = {"runtime": "big"}\n')
    r.commit()
    plan = json.loads(r.cli("plan", "--ref", "main", "--json").stdout)["actions"]
    assert {(row["flow"], row["runtime"], row["work_pool"]) for row in plan} == {
        (light, "default", POOL), (spark, "spark", k8s_pool), (big, "big", k8s_pool)}
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert "runtime" in proc.stderr  # the table grows a runtime column when flows run on named runtimes
    got = deployments(r.uid)
    d = got[f"{light}/main"]
    assert (d.work_pool_name, d.job_variables) == (POOL, {"env": {"TEAM": "data"}})
    d = got[f"{spark}/main"]
    assert d.work_pool_name == k8s_pool and "spark" in d.tags
    assert d.job_variables == {"image": "ghcr.io/acme/spark:3.5", "cpu_request": "2", "namespace": "etl"}
    assert d.global_concurrency_limit is not None and d.global_concurrency_limit.limit == 2
    d = got[f"{big}/main"]
    assert (d.work_pool_name, d.job_variables["memory_limit"]) == (k8s_pool, "64Gi")



def test_a_concurrency_limit_taken_out_of_the_config_goes_from_the_deployment(hooked: Repo, k8s_pool: str):
    """A limit is sent only when there is one to set or to take away: taking it out of the config must still
    take it away on the next push of the flow, and a flow that never had one gets none."""
    r = hooked
    spark, light = r.flow("spark"), r.flow("light")
    r.write("pyproject.toml", runtimes_config(k8s_pool))
    r.write("flows/spark/job.py", flow_source(spark))
    r.write("flows/light.py", flow_source(light))
    r.commit()
    assert r.push("main").returncode == 0
    got = deployments(r.uid)
    assert got[f"{spark}/main"].global_concurrency_limit.limit == 2
    assert got[f"{light}/main"].global_concurrency_limit is None
    r.write("pyproject.toml", runtimes_config(k8s_pool).replace("concurrency = 2\n", ""))
    r.write("flows/spark/job.py", flow_source(spark) + "# changed\n")
    r.write("flows/light.py", flow_source(light) + "# changed\n")
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{spark}/main"].global_concurrency_limit is None
    assert got[f"{light}/main"].global_concurrency_limit is None
    assert got[f"{spark}/main"].version == got[f"{light}/main"].version == r.sha()

def test_a_wrong_job_variable_blocks_the_push_naming_flow_runtime_and_key(hooked: Repo, k8s_pool: str):
    r = hooked
    spark = r.flow("spark")
    r.write("pyproject.toml", runtimes_config(k8s_pool).replace("cpu_request", "cpu_reqest"))
    r.write("flows/spark/job.py", flow_source(spark))
    r.write("flows/light.py", flow_source(r.flow("light")))  # fine on its own: still not registered
    r.commit()
    proc = assert_blocked(r, r.push("main"), "job variable 'cpu_reqest' is not a variable of this pool")
    assert f"flows/spark/job.py (flow '{spark}', runtime 'spark')" in proc.stderr
    assert "kubernetes" in proc.stderr


def test_a_job_variable_of_the_wrong_type_blocks_the_push(hooked: Repo, k8s_pool: str):
    r = hooked
    r.write("pyproject.toml", runtimes_config(k8s_pool).replace('namespace = "etl"', "namespace = 5"))
    r.write("flows/spark/job.py", flow_source(r.flow("spark")))
    r.commit()
    proc = assert_blocked(r, r.push("main"), "field 'namespace'")
    assert "runtime 'spark'" in proc.stderr and "is not of type 'string'" in proc.stderr


def test_process_pool_job_variables_are_checked_too(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\njob-variables = {{ image = "x" }}\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = assert_blocked(r, r.push("main"), "job variable 'image' is not a variable of this pool")
    assert "runtime 'default'" in proc.stderr and "type process" in proc.stderr


def test_a_flow_naming_an_unknown_runtime_blocks_the_push(hooked: Repo, k8s_pool: str):
    r = hooked
    r.write("pyproject.toml", runtimes_config(k8s_pool))
    r.write("flows/a.py", flow_source(r.flow("a")) + 'PREFECT_PUSH = {"runtime": "gpu"}\n')
    r.commit()
    assert_blocked(r, r.push("main"), "asks for runtime 'gpu', which [tool.prefect-push.runtimes] does not define "
                                      "(defined: spark, big)")


def schedules(d) -> list[tuple[str, bool]]:
    return [(s.schedule.cron, s.active) for s in d.schedules]


def test_schedules_fire_on_main_and_tags_and_are_off_on_feature_branches(hooked: Repo):
    # schedules-on set to today's old default, with per-tag deployments: tests/test_releases.py has the default
    r = hooked
    per_tag(r, 'schedules-on = ["main", "refs/tags/**"]\n')
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a, params="day: str = 'today'")
            + 'PREFECT_PUSH = {"cron": "0 6 * * *", "timezone": "Europe/Berlin", "parameters": {"day": "yesterday"},'
              ' "tags": ["finance"]}\n')
    r.write("flows/b.py", flow_source(b))
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    d = got[f"{a}/main"]
    assert schedules(d) == [("0 6 * * *", True)] and d.schedules[0].schedule.timezone == "Europe/Berlin"
    assert d.parameters == {"day": "yesterday"} and "finance" in d.tags
    assert schedules(got[f"{b}/main"]) == []
    assert "schedule" in proc.stderr and "(live)" in proc.stderr  # the table says which deployments carry one

    r.git("checkout", "-qb", "feature/x")
    r.write("flows/a.py", r.path.joinpath("flows/a.py").read_text().replace("return 1", "return 2"))
    r.commit()
    proc = r.cli("plan", "--ref", "feature/x", "--json")
    (row,) = json.loads(proc.stdout)["actions"]
    assert row["schedule"] == "cron 0 6 * * * (Europe/Berlin) (off)"
    assert r.push("feature/x").returncode == 0
    assert schedules(deployments(r.uid)[f"{a}/feature-x"]) == [("0 6 * * *", False)]  # registered, never fires

    r.git("checkout", "-q", "main")
    r.git("tag", "v1")
    proc = r.push("v1")
    assert proc.returncode == 0
    assert schedules(deployments(r.uid)[f"{a}/v1"]) == [("0 6 * * *", True)]
    # both fire, and the push says so (one line naming the other ref)
    assert f"{a}: its schedule is live on main too" in proc.stderr.replace("\n", " ")

    # a newer tag of that flow takes the tags' schedule over: the older tag stops firing, no pile-up
    r.write("flows/a.py", r.path.joinpath("flows/a.py").read_text().replace("return 1", "return 3"))
    r.commit("a v2")
    r.git("tag", "v2")
    proc = r.push("main", "v2")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert schedules(got[f"{a}/v2"]) == [("0 6 * * *", True)]
    assert schedules(got[f"{a}/v1"]) == [("0 6 * * *", False)]
    assert "schedule off" in proc.stderr and "superseded by v2" in proc.stderr
    assert schedules(got[f"{a}/main"]) == [("0 6 * * *", True)]


def test_schedules_on_setting_and_removing_a_schedule(hooked: Repo):
    r = hooked
    a = r.flow("a")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\nschedules-on = ["release/*"]\n')
    r.write("flows/a.py", flow_source(a) + 'PREFECT_PUSH = {"interval": 3600}\n')
    r.commit()
    r.git("checkout", "-qb", "release/1")
    assert r.push("main", "release/1").returncode == 0
    got = deployments(r.uid)
    assert [s.active for s in got[f"{a}/release-1"].schedules] == [True]
    assert [s.active for s in got[f"{a}/main"].schedules] == [False]  # main is not in schedules-on any more
    r.write("flows/a.py", flow_source(a))  # the schedule is taken out of the code: it goes from the server
    r.commit()
    assert r.push("release/1").returncode == 0
    assert deployments(r.uid)[f"{a}/release-1"].schedules == []


def test_bad_settings_in_code_block_the_push_with_file_and_line(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a"), params="n: int = 1") + 'PREFECT_PUSH = {"cron": "0 6 * *"}\n')
    r.commit()
    assert_blocked(r, r.push("main"), "flows/a.py:7: PREFECT_PUSH for flow")
    r.write("flows/a.py", flow_source(r.flow("a"), params="n: int = 1") + 'PREFECT_PUSH = {"parameters": {"n": "x"}}\n')
    r.commit()
    proc = assert_blocked(r, r.push("main"), "PREFECT_PUSH parameters of flow")
    assert "'x' is not of type 'integer'" in proc.stderr


def test_a_worker_runs_the_runtimes_pull_steps_after_the_clone(hooked: Repo, tmp_path) -> None:
    """Without prefect.yaml: the default runtime's `pull` steps run on a real process worker after prefect-push's
    clone: pip_install_requirements installs a wheel kept in the repository (--no-index, no network), which the
    flow then imports; `{{ clone-step.directory }}` is prefect-push's clone."""
    import os
    import textwrap

    from test_prefect_yaml_push import a_worker_runs_it, flow_with_local_dependency

    r = hooked
    name, dep = flow_with_local_dependency(r)
    target = tmp_path / "site"  # pip installs here (PIP_TARGET), not into the suite's virtualenv
    target.mkdir()
    r.write("pyproject.toml", textwrap.dedent(f"""\
        [tool.prefect-push]
        work-pool = "{POOL}"
        job-variables = {{ env = {{ PIP_TARGET = "{target}", PYTHONPATH = "{target}{os.pathsep}{os.environ.get("PYTHONPATH", "")}" }} }}

        [[tool.prefect-push.pull]]
        "prefect.deployments.steps.pip_install_requirements" = {{ directory = "{{{{ clone-step.directory }}}}", requirements_file = "requirements.txt" }}
        """))
    r.commit("a flow with a local dependency")
    assert r.push("main").returncode == 0
    steps = deployments(r.uid)[f"{name}/main"].pull_steps
    assert [next(iter(s)) for s in steps] == ["prefect.deployments.steps.git_clone",
                                              "prefect.deployments.steps.pip_install_requirements"]
    assert steps[0]["prefect.deployments.steps.git_clone"]["id"] == "clone-step"
    a_worker_runs_it(name, dep, tmp_path, target)


def test_a_bad_pull_step_blocks_the_push_in_one_line(hooked: Repo) -> None:
    r = hooked
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n'
                              'pull = [{ pip_install_requirements = { requirements_file = "requirements.txt" } }]\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.push("main")
    assert proc.returncode != 0 and deployments(r.uid) == {}
    lines = [line for line in proc.stderr.splitlines() if "pull step 1" in line]
    assert len(lines) == 1 and "pyproject.toml" in lines[0] and "[tool.prefect-push] pull" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
