"""Pure: [tool.prefect-push] parsing and the naming rule."""
import pytest

from prefect_push.config import Config, ConfigError, glob_match, load, safe_name


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
])
def test_bad_settings_name_the_file_and_key(body, says):
    with pytest.raises(ConfigError, match=says) as exc:
        cfg(body)
    assert "pyproject.toml at abc" in str(exc.value)


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
