"""prefect-push installed like any tool, and CI in one step.

- `python -m build` of a copy of this checkout makes an sdist and a wheel (the wheel built from the sdist, so the
  sdist is complete) whose metadata renders (`twine check --strict`); the wheel installs into a fresh virtualenv,
  whose `prefect-push --version` is the metadata's version and whose `prefect-push install` hook registers a real
  push against the session's server.
- pre-commit runs the hook pinned to a release tag (`rev: v<version>`, which `pre-commit autoupdate` picks).
- action.yml (the GitHub Action) and ci/gitlab-prefect-push.yml (the GitLab CI template) are read as those
  runners read them, and their steps' commands run as they would: the `${{ ... }}` expressions substituted, the
  `if:` / `rules:` evaluated, with the environment and event payload each runner provides, in a depth-1 clone,
  against the session's server. Only actions/setup-python is not run: a fresh virtualenv's Python, first on
  PATH, stands in for the Python it leaves there (and for GitLab's python image).

Real git, real pip, a real server; nothing mocked.
"""
from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import API_URL, BIN, ROOT, SKIP_DIRS, Repo, deployments, flow_source

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
ZERO = "0" * 40
SECRET = "pp-test-key-never-in-a-log"  # an api-key input: the local server ignores it; no output may show it


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the test virtualenv: its bin dir off PATH, no PYTHONPATH, so that what
    runs is what was installed where the test says."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != BIN)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of this checkout (uncommitted edits included, as conftest's hook_repo): what a user downloads."""
    dest = tmp_path_factory.mktemp("source") / "prefect-push"
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if n in SKIP_DIRS
                                                          or n.endswith(".egg-info") or n == "dist"])
    return dest


@pytest.fixture(scope="module")
def dists(source: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)], capture_output=True,
                          text=True, env=clean_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory) -> Path:
    """A new virtualenv from the base interpreter: the bin dir a user's fresh Python, or actions/setup-python, or
    GitLab's python image, gives. Its own site-packages holds nothing but pip; prefect-push goes there.

    Its dependencies are the test virtualenv's, seen through a .pth line (after its own site-packages), and pip
    installs with --no-index: pip still resolves the wheel's Requires-Dist, against what it finds installed, and
    fails if one is missing or of a wrong version, but downloads nothing (fast, ~5 s, and it needs no network
    for prefect's ~100 dependencies; a full `pip install` from the index takes 25-40 s here). Not
    --system-site-packages: the test virtualenv is itself a venv, so its packages are not the base interpreter's.
    The test virtualenv's editable prefect-push is not importable through that line (its own .pth is not read
    from a directory a .pth adds); the tests check prefect_push is imported from here."""
    path = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=True).create(path)
    site = subprocess.run([str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
                           ], capture_output=True, text=True, check=True).stdout.strip()
    deps = subprocess.run([sys.executable, "-c", "import prefect, os; print(os.path.dirname(os.path.dirname("
                           "prefect.__file__)))"], capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "zz-test-venv-dependencies.pth").write_text(deps + "\n")
    return path / "bin"


def metadata(text: str) -> email.message.Message:
    return email.parser.Parser().parsestr(text)


# --- install like any tool ---

def test_build_makes_an_sdist_and_a_wheel_that_install_and_run_the_hook(dists: Path, fresh_python: Path,
                                                                        repo: Repo, prefect_server):
    sdist, wheel = dists / f"prefect_push-{VERSION}.tar.gz", dists / f"prefect_push-{VERSION}-py3-none-any.whl"
    assert sorted(p.name for p in dists.iterdir()) == sorted([sdist.name, wheel.name])

    # the metadata renders: what PyPI would show
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(sdist), str(wheel)],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("PASSED") == 2, proc.stdout + proc.stderr
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = metadata(zf.read(f"prefect_push-{VERSION}.dist-info/METADATA").decode())
        entry_points = zf.read(f"prefect_push-{VERSION}.dist-info/entry_points.txt").decode()
    assert meta["Name"] == "prefect-push" and meta["Version"] == VERSION
    assert meta["Description-Content-Type"] == "text/markdown"
    assert meta.get_payload().startswith("# prefect-push\n")  # README.md is the long description
    assert meta["Requires-Python"] == ">=3.10" and meta["License-Expression"] == "Apache-2.0"
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert {"Homepage", "Source", "Issues", "Documentation"} <= set(urls)
    assert all(u.startswith("https://") and "<" not in u for u in urls.values())
    classifiers = meta.get_all("Classifier")
    assert "Programming Language :: Python :: 3 :: Only" in classifiers and len(classifiers) >= 5
    assert any(r.startswith("prefect<4,>=3.4") for r in meta.get_all("Requires-Dist"))
    assert "prefect-push = prefect_push.fast:run" in entry_points
    assert "prefect_push/fast.py" in names and "prefect_push/read/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "docs/"))]
    with tarfile.open(sdist) as tf:  # the sdist: what the wheel was built from
        members = tf.getnames()
        pkg_info = metadata(tf.extractfile(f"prefect_push-{VERSION}/PKG-INFO").read().decode())
    assert pkg_info["Version"] == VERSION
    assert {f"prefect_push-{VERSION}/{f}" for f in ("README.md", "pyproject.toml", "src/prefect_push/cli.py")} \
        <= set(members)

    # a fresh virtualenv: the wheel, its dependencies resolved by pip (see fresh_python), nothing downloaded
    env = clean_env()
    proc = subprocess.run([str(fresh_python / "python"), "-m", "pip", "install", "--no-index", str(wheel)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"Successfully installed prefect-push-{VERSION}\n" in proc.stdout
    tool = fresh_python / "prefect-push"
    proc = subprocess.run([str(tool), "--version"], capture_output=True, text=True, env=env, cwd=repo.path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"prefect-push {VERSION}\n", "")
    probe = "import prefect_push; print(prefect_push.__file__); print(prefect_push.__version__)"
    proc = subprocess.run([str(fresh_python / "python"), "-c", probe], capture_output=True, text=True, env=env,
                          cwd=repo.path)
    where, version = proc.stdout.split()
    assert Path(where).is_relative_to(fresh_python.parent) and version == VERSION, proc.stderr

    # its hook registers a real push (a bare file:// remote, the session's server)
    proc = subprocess.run([str(tool), "install"], capture_output=True, text=True, env=env, cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert str(fresh_python / "python") in (repo.path / ".git/hooks/pre-push").read_text()  # pinned to that Python
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    sha = repo.commit("two flows")
    proc = repo.push("main", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = deployments(repo.uid)
    assert set(got) == {f"{a}/main", f"{b}/main"} and {d.version for d in got.values()} == {sha}


def test_pre_commit_runs_the_hook_pinned_to_a_release_tag(repo: Repo, hook_repo, prefect_server, tmp_path):
    """This checkout as a hosted repository with a release tag `v<version>`; the user's config pins a commit, and
    `pre-commit autoupdate` moves it to the tag, as it does for any hook repository; the tagged hook registers."""
    checkout, rev = hook_repo
    hosted = tmp_path / "prefect-push.git"
    subprocess.run(["git", "clone", "-q", "--bare", checkout, str(hosted)], check=True, capture_output=True)
    tag = f"v{VERSION}"
    subprocess.run(["git", "--git-dir", str(hosted), "tag", "-a", tag, "-m", f"prefect-push {VERSION}", rev],
                   check=True, capture_output=True)
    config = repo.path / ".pre-commit-config.yaml"
    config.write_text("default_install_hook_types: [pre-commit, pre-push]\n"
                      f"repos:\n  - repo: file://{hosted}\n    rev: {rev}\n    hooks:\n      - id: prefect-push\n")
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "autoupdate"], cwd=repo.path, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"rev: {tag}\n" in config.read_text()
    repo.commit("pre-commit config, pinned to a release")
    for args in (["install"], ["install-hooks"]):  # default_install_hook_types: a plain install sets up pre-push
        proc = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo.path, capture_output=True,
                              text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (repo.path / ".git/hooks/pre-push").exists()

    a = repo.flow("a")
    repo.write("flows/a.py", flow_source(a))
    sha = repo.commit("a flow")
    proc = repo.push("main")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "prefect-push (register changed Prefect flows)" in proc.stdout + proc.stderr  # the tagged manifest's
    assert deployments(repo.uid)[f"{a}/main"].version == sha


# --- CI in one step: the GitHub Action and the GitLab template, run as their runners run them ---

def shallow_clone(repo: Repo, path: Path, ref: str = "main") -> Path:
    """actions/checkout's and GitLab's default: a shallow clone of the pushed ref."""
    subprocess.run(["git", "clone", "-q", "--depth=1", "--branch", ref, repo.url, str(path)], check=True,
                   capture_output=True)
    return path


def runner_env(fresh_python: Path, tmp_path: Path, **variables: str) -> dict[str, str]:
    """A CI job's environment: the fresh Python first on PATH, an empty Prefect home and no PREFECT_API_URL or key
    of this process (only what the action or the job passes may point prefect-push at the server)."""
    env = {k: v for k, v in clean_env().items() if not k.startswith("PREFECT_API")}
    home = tmp_path / f"runner-home-{len(list(tmp_path.glob('runner-home-*')))}"
    home.mkdir()
    env.update(PATH=f"{fresh_python}{os.pathsep}{env['PATH']}", PREFECT_HOME=str(home), CI="true", **variables)
    return env


def run_script(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """As GitHub's `shell: bash` runs a step: `bash --noprofile --norc -eo pipefail {file}`."""
    path = cwd.parent / f"step-{abs(hash(script)) % 10**8}.sh"
    path.write_text(script)
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)], cwd=cwd, env=env,
                          capture_output=True, text=True)


EXPR = re.compile(r"\$\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


def github_expr(text: str, contexts: dict[str, dict[str, str]]) -> str:
    """`${{ inputs.x }}` / `${{ github.x }}` as GitHub substitutes them; any other expression fails the test."""
    def value(m: re.Match) -> str:
        ctx, _, key = m.group(1).partition(".")
        assert ctx in contexts and key in contexts[ctx], f"an expression this test does not provide: {m.group(0)}"
        return contexts[ctx][key]

    return EXPR.sub(value, text)


def github_if(condition: str, contexts: dict[str, dict[str, str]]) -> bool:
    m = re.fullmatch(r"\s*github\.(\w+)\s*(==|!=)\s*'([^']*)'\s*", condition)
    assert m, f"an if: this test cannot evaluate: {condition}"
    equal = contexts["github"][m.group(1)] == m.group(3)
    return equal if m.group(2) == "==" else not equal


def run_action(action: dict, *, workspace: Path, source: Path, fresh_python: Path, tmp_path: Path,
               event_name: str, payload: dict, ref: str, sha: str, inputs: dict[str, str]
               ) -> dict[str, subprocess.CompletedProcess]:
    """Every step of the composite action as the runner would run it for this event: each step run, by name."""
    given = {name: inputs.get(name, spec.get("default", "")) for name, spec in action["inputs"].items()}
    assert not set(inputs) - set(given), "an input the action does not declare"
    assert all(given[n] for n, spec in action["inputs"].items() if spec.get("required")), "a required input unset"
    event = tmp_path / f"event-{event_name}-{sha[:8]}.json"
    event.write_text(json.dumps(payload))
    contexts = {"inputs": given,
                "github": {"event_name": event_name, "ref": ref, "sha": sha, "action_path": str(source),
                           "workspace": str(workspace)}}
    env = runner_env(fresh_python, tmp_path, GITHUB_ACTIONS="true", GITHUB_EVENT_NAME=event_name,
                     GITHUB_EVENT_PATH=str(event), GITHUB_REF=ref, GITHUB_SHA=sha, GITHUB_WORKSPACE=str(workspace),
                     GITHUB_ACTION_PATH=str(source), RUNNER_TEMP=str(tmp_path))
    ran = {}
    for step in action["runs"]["steps"]:
        if "uses" in step:  # not run: fresh_python, first on PATH, is the Python setup-python would leave there
            assert step["uses"].startswith("actions/setup-python@")
            assert step["with"] == {"python-version": "${{ inputs.python-version }}"}
            continue
        if "if" in step and not github_if(step["if"], contexts):
            continue
        assert step["shell"] == "bash"
        step_env = {k: github_expr(str(v), contexts) for k, v in step.get("env", {}).items()}
        proc = run_script(github_expr(step["run"], contexts), {**env, **step_env}, workspace)
        assert proc.returncode == 0, f"{step['name']}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert SECRET not in proc.stdout + proc.stderr
        ran[step["name"]] = proc
    return ran


def test_the_github_action_registers_pushes_and_deletions_and_prunes_on_a_schedule(
        repo: Repo, prefect_server, tmp_path, source: Path, fresh_python: Path):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {"api-url": API_URL, "api-key": SECRET}
    for name in ("api-url", "api-key", "python-version"):
        assert name in action["inputs"], name

    def run(event_name: str, payload: dict, ref: str, sha: str, checkout: str = "main") -> dict:
        workspace = shallow_clone(repo, tmp_path / f"ws-{len(list(tmp_path.glob('ws-*')))}", checkout)
        return run_action(action, workspace=workspace, source=source, fresh_python=fresh_python, tmp_path=tmp_path,
                          event_name=event_name, payload=payload, ref=ref, sha=sha, inputs=inputs)

    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    c1 = repo.commit("two flows")
    branches = {}
    for name in ("feature/gone", "feature/missed"):
        repo.git("checkout", "-qb", name, "main")
        repo.write("flows/b.py", flow_source(b, body=f"return {name!r}"))
        branches[name] = repo.commit(f"b on {name}")

    # on: push, the first of main and then new branches (before is all zeros): a run for each push
    for name, sha in {"main": c1, **branches}.items():
        repo.git("push", "-q", "origin", name)  # no hook: CI registers
        ref = f"refs/heads/{name}"
        ran = run("push", {"ref": ref, "before": ZERO, "after": sha, "created": True, "deleted": False}, ref, sha,
                  checkout=name)
        assert list(ran) == ["Install prefect-push", "prefect-push register"]
        assert f"prefect-push: GitHub Actions push of {ref} at {sha[:12]}" in \
            ran["prefect-push register"].stderr.splitlines()
    assert {k: d.version for k, d in deployments(repo.uid).items()} == {
        f"{a}/main": c1, f"{b}/main": c1, f"{b}/feature-gone": branches["feature/gone"],
        f"{b}/feature-missed": branches["feature/missed"]}

    # on: delete (a branch deleted on the site after a merge): GITHUB_REF is the default branch, the payload
    # names the deleted one; register deletes its deployments
    repo.git("push", "-q", "origin", "--delete", "feature/gone")
    ran = run("delete", {"ref": "feature/gone", "ref_type": "branch"}, "refs/heads/main", c1)
    assert list(ran) == ["Install prefect-push", "prefect-push register"]
    assert "GitHub Actions deletion of refs/heads/feature/gone" in ran["prefect-push register"].stderr
    assert f"{b}/feature-gone" not in deployments(repo.uid)

    # a deletion whose run never happened (cancelled, failed), then the nightly schedule: prune, and no register
    repo.git("push", "-q", "origin", "--delete", "feature/missed")
    ran = run("schedule", {"schedule": "17 3 * * *"}, "refs/heads/main", c1)
    assert list(ran) == ["Install prefect-push", "prefect-push prune"]
    assert set(deployments(repo.uid)) == {f"{a}/main", f"{b}/main"}


def gitlab_jobs(template: dict) -> dict[str, dict]:
    """The template's jobs with `extends:` merged as GitLab merges it (hidden `.jobs` are no jobs)."""
    jobs = {}
    for name, job in template.items():
        if name.startswith(".") or not isinstance(job, dict):
            continue
        merged = dict(job)
        if "extends" in job:
            merged = {**template[job["extends"]], **{k: v for k, v in job.items() if k != "extends"}}
        jobs[name] = merged
    return jobs


def gitlab_if(condition: str, variables: dict[str, str]) -> bool:
    """The forms of a rules: if: the template uses; anything else fails the test."""
    def operand(text: str) -> str | None:
        return variables.get(text[1:]) if text.startswith("$") else text.strip('"')

    m = re.fullmatch(r'\s*(\$\w+)\s*(==|!=)\s*(\$\w+|"[^"]*")\s*', condition)
    if m:
        equal = operand(m.group(1)) == operand(m.group(3))
        return equal if m.group(2) == "==" else not equal
    m = re.fullmatch(r"\s*\$(\w+)\s*", condition)
    assert m, f"a rule this test cannot evaluate: {condition}"
    return bool(variables.get(m.group(1)))


def gitlab_runs(job: dict, variables: dict[str, str]) -> bool:
    for rule in job.get("rules", []):
        if gitlab_if(rule["if"], variables):
            return rule.get("when", "on_success") != "never"
    return False


def gitlab_pipeline(source: str, *, sha: str, before: str = ZERO, branch: str | None = None,
                    tag: str | None = None) -> dict[str, str]:
    """GitLab's predefined variables for a pipeline of a branch or a tag."""
    variables = {"GITLAB_CI": "true", "CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": "main",
                 "CI_COMMIT_SHA": sha, "CI_COMMIT_BEFORE_SHA": before, "CI_COMMIT_REF_NAME": tag or branch or ""}
    variables.update({"CI_COMMIT_TAG": tag} if tag else {"CI_COMMIT_BRANCH": branch or ""})
    return variables


def test_the_gitlab_template_registers_main_and_tags_and_prunes_on_a_schedule(repo: Repo, prefect_server, tmp_path,
                                                                              source: Path, fresh_python: Path):
    jobs = gitlab_jobs(yaml.safe_load((ROOT / "ci" / "gitlab-prefect-push.yml").read_text()))
    assert set(jobs) == {"prefect-push", "prefect-push-prune"}
    assert all("slim" not in job["image"] for job in jobs.values())  # git is needed

    def run(variables: dict[str, str], workspace: Path, **extra: str) -> tuple[list[str], subprocess.CompletedProcess]:
        chosen = [name for name, job in jobs.items() if gitlab_runs(job, variables)]
        if len(chosen) != 1:
            return chosen, None
        job = jobs[chosen[0]]
        # the runner's generated script: each line in order, stopping at the first that fails
        script = "set -eo pipefail\n" + "\n".join(job.get("before_script", []) + job["script"]) + "\n"
        env = runner_env(fresh_python, tmp_path, CI_PROJECT_DIR=str(workspace), **variables, **extra)
        return chosen, run_script(script, env, workspace)

    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    c1 = repo.commit("two flows")
    repo.git("push", "-q", "origin", "main")
    # CI/CD variables: where pip installs prefect-push from (the copy of this checkout stands for the
    # git+https URL at a tag: pip builds either the same way), and the server
    project = {"PREFECT_PUSH_INSTALL": str(source), "PREFECT_API_URL": API_URL}

    # a push to main: the register job, which reads the push from GitLab's variables
    chosen, proc = run(gitlab_pipeline("push", sha=c1, branch="main"), shallow_clone(repo, tmp_path / "ws1"),
                       **project)
    assert chosen == ["prefect-push"] and proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"prefect-push: GitLab CI push of refs/heads/main at {c1[:12]}" in proc.stderr.splitlines()
    assert {k: d.version for k, d in deployments(repo.uid).items()} == {f"{a}/main": c1, f"{b}/main": c1}

    # a feature branch's pipeline runs no job; without PREFECT_PUSH_INSTALL the job stops and says what to set
    assert run(gitlab_pipeline("push", sha=c1, branch="feature/x"), tmp_path)[0] == []
    chosen, proc = run(gitlab_pipeline("push", sha=c1, branch="main"), shallow_clone(repo, tmp_path / "ws2"),
                       PREFECT_API_URL=API_URL)
    assert proc.returncode == 1 and "set PREFECT_PUSH_INSTALL" in proc.stderr

    # a tag pipeline: registered too (a release: <flow>/production at the tag)
    repo.write("flows/a.py", flow_source(a, body="return 2"))
    c2 = repo.commit("change a")
    repo.git("tag", "v1")
    repo.git("push", "-q", "origin", "main", "v1")
    chosen, proc = run(gitlab_pipeline("push", sha=c2, tag="v1"), shallow_clone(repo, tmp_path / "ws3", "v1"),
                       **project)
    assert chosen == ["prefect-push"] and proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"prefect-push: GitLab CI push of refs/tags/v1 at {c2[:12]}" in proc.stderr.splitlines()
    assert deployments(repo.uid)[f"{a}/production"].version == c2

    # a branch registered by a hook, deleted on the site (GitLab runs no pipeline), then the scheduled pipeline
    # on main: only the prune job, which deletes that branch's deployments
    repo.git("checkout", "-qb", "feature/gone")
    repo.write("flows/b.py", flow_source(b, body="return 3"))
    repo.commit("b on a branch")
    repo.git("push", "-q", "origin", "feature/gone")
    assert repo.cli("register", "--ref", "feature/gone").returncode == 0
    assert f"{b}/feature-gone" in deployments(repo.uid)
    repo.git("push", "-q", "origin", "--delete", "feature/gone")
    chosen, proc = run(gitlab_pipeline("schedule", sha=c2, branch="main"), shallow_clone(repo, tmp_path / "ws4"),
                       **project)
    assert chosen == ["prefect-push-prune"] and proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"{b}/feature-gone" not in deployments(repo.uid) and f"{b}/main" in deployments(repo.uid)
