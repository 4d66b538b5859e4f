"""Pure: [tool.prefect-push] parsing and the naming rule."""
import pytest

from prefect_push.read.config import Config, ConfigError, glob_match, load, safe_name


def cfg(body: str) -> Config:
    return load(f"[tool.prefect-push]\n{body}\n".encode(), "pyproject.toml at abc")


def test_defaults_without_a_section():
    c = load(b"[project]\nname='x'\n")
    assert c.flows == ("**/*.py",) and c.on_error == "block" and c.work_pool is None
    assert c.selects("a.py") and c.selects("deep/er/b.py") and not c.selects("a.txt")


def test_settings_are_read():
    c = cfg('work-pool = "p"\njob-variables = {image = "x"}\ncredentials = "tok"\n'
            'flows = ["flows/**/*.py"]\non-error = "warn"\ndeployment-name = "{ref}-{file}"\ntags = ["team"]')
    assert (c.work_pool, c.job_variables, c.credentials, c.on_error, c.tags) == ("p", {"image": "x"}, "tok", "warn",
                                                                                ("team",))
    assert c.selects("flows/a/b.py") and c.selects("flows/b.py") and not c.selects("lib/b.py")
    assert c.deployment_name_for("feature/x", "etl", "flows/etl.py") == "feature-x-etl"


@pytest.mark.parametrize("body, says", [
    ('work_pool = "p"', "unknown setting 'work_pool'"),
    ('on-error = "ignore"', "on-error"),
    ('flows = "x" \nflows2 = 1', "unknown setting 'flows2'"),
    ('flows = [1]', "flows must be a list of strings"),
    ('deployment-name = "{flow}"', "must contain {ref}"),
    ('deployment-name = "{ref}-{nope}"', "unknown field"),
    ('job-variables = "x"', "job-variables must be a table"),
    ('write-concurrency = 0', 'write-concurrency must be "auto" or a whole number from 1 to 16'),
    ('write-concurrency = "fast"', 'write-concurrency must be "auto" or a whole number from 1 to 16'),
    ('write-concurrency = true', 'write-concurrency must be "auto"'),
])
def test_bad_settings_name_the_file_and_key(body, says):
    with pytest.raises(ConfigError, match=says) as exc:
        cfg(body)
    assert "pyproject.toml at abc" in str(exc.value)


def test_write_concurrency_is_auto_unless_set():
    assert cfg("").write_concurrency is None and cfg('write-concurrency = "auto"').write_concurrency is None
    assert cfg("write-concurrency = 8").write_concurrency == 8


def test_invalid_toml_names_the_file():
    with pytest.raises(ConfigError, match="pyproject.toml: not valid TOML"):
        load(b"[tool.prefect-push\n")


def test_names_replace_what_prefect_forbids():
    assert safe_name("feature/a%b&c>d<e") == "feature-a-b-c-d-e"


@pytest.mark.parametrize("pattern, path, ok", [
    ("**/*.py", "a.py", True), ("**/*.py", "x/y/a.py", True), ("*.py", "x/a.py", False),
    ("flows/*.py", "flows/a.py", True), ("flows/*.py", "flows/x/a.py", False), ("flows/**", "flows/x/a.py", True),
])
def test_globs(pattern, path, ok):
    assert glob_match(pattern, path) is ok


@pytest.mark.parametrize("url, key", [
    ("git@github.com:acme/flows.git", "github.com/acme/flows"),
    ("ssh://git@github.com/acme/flows", "github.com/acme/flows"),
    ("https://bot:tok@GitHub.com/acme/flows.git/", "github.com/acme/flows"),
    ("file:///srv/flows.git", "file:///srv/flows"),
    ("/srv/flows.git", "file:///srv/flows"),
])
def test_repository_identity_ignores_spelling(url, key):
    from prefect_push.git import repo_key

    assert repo_key(url, "/") == key


def test_repository_url_must_not_carry_a_password():
    with pytest.raises(ConfigError, match="repository-url must not contain user or password"):
        cfg('repository-url = "https://u:p@host/r.git"')
    assert cfg('repository-url = "https://host/r.git"').repository_url == "https://host/r.git"


@pytest.mark.parametrize("template", ["{ref!x}", "{ref:d}", "{ref:>{flow}}x"])
def test_templates_that_cannot_be_filled_in_are_config_errors(template):
    with pytest.raises(ConfigError, match="cannot be filled in|unknown field"):
        cfg(f'deployment-name = "{template}"')


def test_a_tool_key_that_is_not_a_table_is_no_crash():
    assert load(b'tool = "x"\n') == Config()


def test_runtimes_inherit_the_top_level_pool_and_first_matching_path_wins():
    c = cfg('work-pool = "proc"\njob-variables = {env = {A = "1"}}\ndefault-runtime = "small"\n'
            '[tool.prefect-push.runtimes.spark]\nwork-pool = "k8s"\npaths = ["flows/spark/**"]\n'
            'job-variables = {image = "spark"}\n'
            '[tool.prefect-push.runtimes.small]\njob-variables = {env = {B = "2"}}\npaths = ["flows/**"]\n')
    spark, small = c.runtime_for("flows/spark/x.py"), c.runtime_for("flows/x.py")
    assert (spark.name, spark.work_pool, spark.job_variables) == ("spark", "k8s", {"image": "spark"})
    assert (small.name, small.work_pool, small.job_variables) == ("small", "proc", {"env": {"B": "2"}})
    assert c.runtime_for("other/x.py").name == "small"  # default-runtime
    assert c.runtime_for("flows/spark/x.py", "small").name == "small"  # the flow's own choice wins
    assert c.runtime_for("x.py", "nope") is None


def test_bad_runtimes_name_the_table_and_key():
    with pytest.raises(ConfigError, match=r"\[tool.prefect-push.runtimes.gpu\]: unknown setting 'pool'"):
        cfg('[tool.prefect-push.runtimes.gpu]\npool = "x"')
    with pytest.raises(ConfigError, match="default-runtime: no runtime 'gpu'"):
        cfg('default-runtime = "gpu"')
    with pytest.raises(ConfigError, match="concurrency must be a whole number"):
        cfg('[tool.prefect-push.runtimes.gpu]\nconcurrency = 0')


def test_schedules_live_on_main_by_default_and_where_schedules_on_says():
    # unset: main (until the flow's first release: plan.schedule_live, tests/test_plan.py), never tags' own
    c = cfg("")
    assert c.schedules_on is None and c.schedules_live("refs/heads/main")
    assert not c.schedules_live("refs/tags/v1") and not c.schedules_live("refs/heads/feature/main")
    c = cfg('schedules-on = ["main", "refs/tags/**"]')
    assert c.schedules_live("refs/tags/release/2") and not c.schedules_live("refs/heads/feature/main")
    c = cfg('schedules-on = ["release/*"]')
    assert c.schedules_live("refs/heads/release/1") and not c.schedules_live("refs/heads/main")
    assert not c.schedules_live("refs/tags/v1")


def test_default_branch_is_a_branch_name():
    assert cfg("").default_branch == "main"
    assert cfg('default-branch = "refs/heads/master"').default_branch == "master"
    assert cfg('default-branch = "trunk"').schedules_live("refs/heads/trunk")
    for bad in ('"release/*"', '"refs/tags/v1"', '""', "1"):
        with pytest.raises(ConfigError, match=r"pyproject.toml at abc: \[tool.prefect-push\] default-branch must be"):
            cfg(f"default-branch = {bad}")


def test_remotes_allow_list_and_fork_names():
    c = cfg('remotes = ["github.com/acme/flows", "github.com/*/flows"]')
    assert c.allows("github.com/acme/flows") and c.allows("github.com/alice/flows")
    assert not c.allows("gitlab.com/x/y") and not c.allows("github.com/acme/other")
    with pytest.raises(ConfigError, match="'origin' is not a repository"):
        cfg('remotes = ["origin"]')  # a remote name means another repository in each clone
    assert c.deployment_name_for("feature/x", "etl", "a.py", "github.com/acme/flows") == "feature-x"
    assert c.deployment_name_for("feature/x", "etl", "a.py", "github.com/alice/flows") == "feature-x@alice"
    assert cfg("").deployment_name_for("main", "etl", "a.py", "github.com/alice/flows") == "main"
    named = cfg('deployment-name = "{owner}-{ref}"\nremotes = ["github.com/acme/flows"]')
    assert named.deployment_name_for("main", "etl", "a.py", "github.com/alice/flows") == "alice-main"


PIP = '"prefect.deployments.steps.pip_install_requirements"'


def test_pull_steps_after_the_clone_are_read_and_runtimes_inherit_them():
    c = cfg(f'work-pool = "p"\n[[tool.prefect-push.pull]]\n{PIP} = {{ directory = "{{{{ clone-step.directory }}}}" }}\n'
            '[tool.prefect-push.runtimes.spark]\nwork-pool = "k8s"\n'
            '[tool.prefect-push.runtimes.bare]\npull = []\n')
    step = {"prefect.deployments.steps.pip_install_requirements": {"directory": "{{ clone-step.directory }}"}}
    assert c.pull == (step,) and c.runtime_for("x.py").pull == (step,)  # the default runtime's
    assert c.runtime_named("spark").pull == (step,)  # pull steps are the code's needs: any pool inherits them
    assert c.runtime_named("bare").pull == ()  # a runtime's own list wins, [] included


@pytest.mark.parametrize("body, says", [
    ('pull = [{pip_install_requirements = {}}]', "[tool.prefect-push] pull step 1: 'pip_install_requirements' is "
     "not a dotted path to a step function (did you mean 'prefect.deployments.steps.pip_install_requirements'?)"),
    ('pull = [{"prefect.deployments.steps.pip_install" = {}}]', "pull step 1: 'prefect.deployments.steps."
     "pip_install': Prefect has no such step (did you mean 'prefect.deployments.steps.pip_install_requirements'?)"),
    (f'pull = [{{{PIP} = {{}}}}, {{"prefect.deployments.steps.run_shell_script" = '
     '{script = "ls {{ setup.directory }}"}}]', "pull step 2: 'prefect.deployments.steps.run_shell_script': "
     "{{ setup.directory }} names no earlier step (step ids here: clone-step)"),
    ('pull = [{"prefect.deployments.steps.git_clone" = {repository = "x"}}]', "pull step 1: 'prefect.deployments."
     "steps.git_clone': prefect-push clones the pushed branch or tag itself"),
    ('pull = "pip install"', "[tool.prefect-push] pull: not a list of steps"),
    (f'[tool.prefect-push.runtimes.gpu]\npull = [{{{PIP} = {{}}, "b.c" = {{}}}}]',
     "[tool.prefect-push.runtimes.gpu] pull step 1: not a step"),
    (f'pull = [{{{PIP} = "requirements.txt"}}]', "its arguments are not a mapping"),
])
def test_bad_pull_steps_name_the_file_the_setting_and_the_step(body, says):
    with pytest.raises(ConfigError) as exc:
        cfg(body)
    assert str(exc.value).startswith("pyproject.toml at abc: [tool.prefect-push") and says in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_later_step_may_use_an_earlier_ones_id_and_a_collections_step_is_taken_as_written():
    c = cfg('pull = [{"prefect.deployments.steps.run_shell_script" = {id = "setup", script = "true"}},\n'
            '        {"prefect_aws.deployments.steps.pull_from_s3" = {bucket = "{{ setup.stdout }}"}}]')
    assert len(c.pull) == 2
