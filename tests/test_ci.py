"""CI mode: `prefect-push register` with no --from/--to/--ref reads the push from GitHub Actions' or GitLab CI's
environment, in shallow checkouts as CI makes them (real git, bare file:// remotes, the session's server)."""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import Repo, deployments, flow_source, per_tag
from prefect_push import ci, git
from prefect_push.ci import CiPush

ZERO = "0" * 40
A, B, C = "a" * 40, "b" * 40, "c" * 40
GONE = "1234567890" * 4  # a commit no repository has: a force push's `before`


# --- ci.py alone: what each CI's environment says ---

def event_file(tmp_path: Path, payload: dict) -> str:
    path = tmp_path / f"event-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(payload))
    return str(path)


def github_env(tmp_path: Path, ref: str, before: str, after: str, *, deleted: bool = False,
               sha: str | None = None) -> dict[str, str]:
    """What GitHub Actions sets for an `on: push` run (GITHUB_SHA reverts to the default branch on a deletion)."""
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": ref, "GITHUB_SHA": sha or after,
            "GITHUB_EVENT_PATH": event_file(tmp_path, {"ref": ref, "before": before, "after": after,
                                                       "created": before == ZERO, "deleted": deleted})}


def gitlab_env(sha: str, before: str = ZERO, *, branch: str | None = None, tag: str | None = None) -> dict[str, str]:
    env = {"GITLAB_CI": "true", "CI_COMMIT_SHA": sha, "CI_COMMIT_BEFORE_SHA": before,
           "CI_COMMIT_REF_NAME": tag or branch or ""}
    if tag:
        env["CI_COMMIT_TAG"] = tag
    return env


def test_github_push_event(tmp_path):
    env = github_env(tmp_path, "refs/heads/main", A, B)
    assert ci.detect(env) == CiPush("refs/heads/main", A, B, False, ci.GITHUB)
    assert ci.detect(env).describe() == f"GitHub Actions push of refs/heads/main {A[:12]}..{B[:12]}"


def test_github_first_push_of_a_branch_and_of_a_tag_have_no_before(tmp_path):
    assert ci.detect(github_env(tmp_path, "refs/heads/f", ZERO, B)) == CiPush("refs/heads/f", None, B, False,
                                                                              ci.GITHUB)
    assert ci.detect(github_env(tmp_path, "refs/tags/v1", ZERO, B)).before is None


def test_github_deletion_by_push_event_and_by_delete_event(tmp_path):
    env = github_env(tmp_path, "refs/heads/f", A, ZERO, deleted=True, sha=C)  # GITHUB_SHA: the default branch's
    assert ci.detect(env) == CiPush("refs/heads/f", A, None, True, ci.GITHUB)
    assert ci.detect(env).describe() == f"GitHub Actions deletion of refs/heads/f (was at {A[:12]})"
    assert ci.detect(github_env(tmp_path, "refs/heads/f", A, ZERO)).deleted  # an all-zeros after says it too
    for ref, ref_type, full in (("f/x", "branch", "refs/heads/f/x"), ("v1", "tag", "refs/tags/v1")):
        env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "delete", "GITHUB_REF": "refs/heads/main",
               "GITHUB_SHA": C, "GITHUB_EVENT_PATH": event_file(tmp_path, {"ref": ref, "ref_type": ref_type})}
        assert ci.detect(env) == CiPush(full, None, None, True, ci.GITHUB)


def test_github_other_events_and_unreadable_payloads_fall_back_to_github_ref(tmp_path):
    base = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": B}
    expected = CiPush("refs/heads/main", None, B, False, ci.GITHUB)
    assert ci.detect({**base, "GITHUB_EVENT_NAME": "workflow_dispatch",
                      "GITHUB_EVENT_PATH": event_file(tmp_path, {"inputs": {}})}) == expected
    assert ci.detect({**base, "GITHUB_EVENT_NAME": "push",
                      "GITHUB_EVENT_PATH": str(tmp_path / "gone.json")}) == expected
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert ci.detect({**base, "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(broken)}) == expected
    odd = event_file(tmp_path, {"ref": "refs/heads/main", "before": "not a sha", "after": B})
    assert ci.detect({**base, "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": odd}) == expected
    assert expected.describe() == f"GitHub Actions push of refs/heads/main at {B[:12]}"
    assert ci.detect({"GITHUB_ACTIONS": "true"}) is None
    assert ci.detect({"GITHUB_ACTIONS": "false", "GITHUB_REF": "refs/heads/main"}) is None


def test_gitlab_branch_tag_and_merge_request_pipelines():
    assert ci.detect(gitlab_env(B, A, branch="main")) == CiPush("refs/heads/main", A, B, False, ci.GITLAB)
    assert ci.detect(gitlab_env(B, branch="feature/x")) == CiPush("refs/heads/feature/x", None, B, False,
                                                                  ci.GITLAB)
    assert ci.detect(gitlab_env(B, tag="v1.2")) == CiPush("refs/tags/v1.2", None, B, False, ci.GITLAB)
    merged_results = {**gitlab_env(C, branch="feature/x"), "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": B}
    assert ci.detect(merged_results).after == B  # C is a merge commit on no branch
    assert ci.detect({"GITLAB_CI": "true"}) is None


def test_no_ci_and_what_to_set_for_full_history():
    assert ci.detect({}) is None
    assert ci.detect({"BUILD_TAG": "v1", "GIT_BRANCH": "origin/main"}) is None  # Jenkins: engine.ref_from_env
    assert "fetch-depth: 0" in ci.depth_hint({"GITHUB_ACTIONS": "true"})
    assert "GIT_DEPTH: 0" in ci.depth_hint({"GITLAB_CI": "true"})
    assert "--unshallow" in ci.depth_hint({})


# --- git.py's shallow-clone helpers against a real file:// remote ---

def shallow_clone(repo: Repo, path: Path, branch: str | None = None, depth: int = 1) -> Repo:
    """As CI checks out: `git clone --depth N` (single branch) of the remote."""
    args = ["git", "clone", "-q", f"--depth={depth}", *(["--branch", branch] if branch else []), repo.url, str(path)]
    subprocess.run(args, check=True, capture_output=True)
    return Repo(path, repo.remote, repo.uid)


def test_fetch_one_commit_then_the_whole_history_into_a_depth_1_clone(repo: Repo, tmp_path):
    repo.write("a.txt", "1\n")
    c1 = repo.commit()
    repo.write("a.txt", "2\n")
    repo.commit()
    repo.git("push", "-q", "origin", "main", f"{c1}:refs/heads/other")
    cwd = str(shallow_clone(repo, tmp_path / "c").path)
    assert git.is_shallow(cwd) and git.commit_of(c1, cwd) is None
    assert git.fetch_commit("origin", c1, cwd) and git.commit_of(c1, cwd) == c1  # by id, over protocol v2
    assert git.is_shallow(cwd)  # that commit only
    assert not git.fetch_commit("origin", GONE, cwd)
    assert git.unshallow("origin", cwd) and not git.is_shallow(cwd)
    assert git.commit_of("origin/other", cwd) == c1  # every branch, for the fork point
    assert not git.is_shallow(str(repo.path))


# --- `prefect-push register` in shallow CI checkouts ---

def registered(proc: subprocess.CompletedProcess) -> list[str]:
    """The flows a register run wrote (a new deployment, or an update of the ref's existing one)."""
    assert proc.returncode == 0, proc.stderr
    return sorted(row["flow"] for row in json.loads(proc.stdout)["actions"] if row["action"] in ("register", "update"))


def versions(r: Repo) -> dict[str, str]:
    return {name: d.version for name, d in deployments(r.uid).items()}


def is_shallow(r: Repo) -> bool:
    return r.git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"


def test_github_pushes_to_main_in_depth_1_clones(repo: Repo, prefect_server, tmp_path, monkeypatch):
    def at(hour: int) -> None:  # pushes hours apart, as in a real repository: a shallow clone fetches what lies between
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2026-12-01T{hour:02d}:00:00Z")

    for i in range(20):  # a history older than the first registered commit, as real repositories have
        at(0)
        repo.write("notes.txt", f"{i}\n")
        repo.commit("notes")
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    at(3)
    c1 = repo.commit("two flows")
    repo.git("push", "-q", "origin", "main")  # no hook here: CI registers

    # the first push of main: every flow
    ci1 = shallow_clone(repo, tmp_path / "ci1")
    proc = ci1.cli("register", "--json", env=github_env(tmp_path, "refs/heads/main", ZERO, c1))
    assert registered(proc) == [a, b]
    assert f"prefect-push: GitHub Actions push of refs/heads/main at {c1[:12]}" in proc.stderr.splitlines()

    # a push changing b: only b, diffed from the marker (c1), fetched by id into a clone that stays shallow
    repo.write("flows/b.py", flow_source(b, body="return 2"))
    at(6)
    c2 = repo.commit("change b")
    repo.git("push", "-q", "origin", "main")
    ci2 = shallow_clone(repo, tmp_path / "ci2")
    proc = ci2.cli("register", "--json", env=github_env(tmp_path, "refs/heads/main", c1, c2))
    assert registered(proc) == [b]
    assert f"prefect-push: GitHub Actions push of refs/heads/main {c1[:12]}..{c2[:12]}" in proc.stderr
    assert versions(repo) == {f"{a}/main": c1, f"{b}/main": c2}
    assert is_shallow(ci2)

    # c3 pushed with no CI run (skipped, failed): the next run diffs from the marker (c2), not its before (c3)
    repo.write("flows/a.py", flow_source(a, body="return 3"))
    at(9)
    c3 = repo.commit("change a, never registered")
    c = repo.flow("c")
    repo.write("flows/c.py", flow_source(c))
    at(12)
    c4 = repo.commit("add c")
    repo.git("push", "-q", "origin", f"{c3}:refs/heads/main")
    repo.git("push", "-q", "origin", "main")
    ci3 = shallow_clone(repo, tmp_path / "ci3")
    env = github_env(tmp_path, "refs/heads/main", c3, c4)
    assert registered(ci3.cli("register", "--json", env=env)) == [a, c]
    assert versions(repo) == {f"{a}/main": c4, f"{b}/main": c2, f"{c}/main": c4}
    assert is_shallow(ci3)

    # the same run again (a re-run): skipped, nothing written
    proc = ci3.cli("register", "--json", env=env)
    (row,) = json.loads(proc.stdout)["actions"]
    assert row["action"] == "skip" and row["reason"] == f"already registered at {c4[:12]}"


def test_github_first_push_of_a_branch_in_a_depth_1_clone(repo: Repo, prefect_server, tmp_path):
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    main = repo.commit()
    repo.git("push", "-q", "origin", "main")
    assert repo.cli("register", "--ref", "main").returncode == 0
    repo.git("checkout", "-qb", "feature/ci")
    repo.write("flows/b.py", flow_source(b, body="return 2"))
    repo.commit("b on the branch")
    repo.write("notes.txt", "x\n")
    sha = repo.commit("no flow")
    repo.git("push", "-q", "origin", "feature/ci")

    clone = shallow_clone(repo, tmp_path / "ci", branch="feature/ci")
    proc = clone.cli("register", "--json", env=github_env(tmp_path, "refs/heads/feature/ci", ZERO, sha))
    # the fork point needs history and main: both fetched; then only b, though the last commit changed no flow
    assert registered(proc) == [b]
    assert versions(repo) == {f"{a}/main": main, f"{b}/main": main, f"{b}/feature-ci": sha}
    assert not is_shallow(clone)


def test_gitlab_main_and_tag_pipelines(repo: Repo, prefect_server, tmp_path):
    per_tag(repo)
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    c1 = repo.commit()
    repo.git("tag", "v1")
    repo.git("push", "-q", "origin", "main", "v1")
    assert repo.cli("register", "--ref", "main").returncode == 0
    repo.write("flows/a.py", flow_source(a, body="return 2"))
    c2 = repo.commit("change a")
    repo.git("tag", "-a", "v2", "-m", "release 2")  # annotated, as releases often are
    repo.git("push", "-q", "origin", "main", "v2")

    main = shallow_clone(repo, tmp_path / "main", branch="main")
    proc = main.cli("register", "--json", env=gitlab_env(c2, c1, branch="main"))
    assert registered(proc) == [a]
    assert f"prefect-push: GitLab CI push of refs/heads/main {c1[:12]}..{c2[:12]}" in proc.stderr

    # a tag pipeline: before is all zeros, the base is the previous tag, which needs history and tags
    tag = shallow_clone(repo, tmp_path / "tag", branch="v2")
    proc = tag.cli("register", "--json", env=gitlab_env(c2, tag="v2"))
    assert registered(proc) == [a]
    assert f"prefect-push: GitLab CI push of refs/tags/v2 at {c2[:12]}" in proc.stderr
    got = deployments(repo.uid)
    assert got[f"{a}/v2"].version == c2 and f"{b}/v2" not in got
    assert got[f"{a}/v2"].pull_steps[0]["prefect.deployments.steps.git_clone"]["branch"] == "v2"


def test_a_before_that_exists_nowhere_falls_back_to_the_fork_point(repo: Repo, prefect_server, tmp_path):
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.commit()
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-qb", "feature/forced")
    repo.write("flows/b.py", flow_source(b))
    sha = repo.commit()
    repo.git("push", "-q", "origin", "feature/forced")
    clone = shallow_clone(repo, tmp_path / "ci", branch="feature/forced")
    proc = clone.cli("register", "--json", env=github_env(tmp_path, "refs/heads/feature/forced", GONE, sha))
    assert registered(proc) == [b]
    assert "Traceback" not in proc.stderr
    (warning,) = [line for line in proc.stderr.splitlines() if "is not in this" in line]
    assert f"the GitHub Actions push's before {GONE[:12]}" in warning and "does not have it either" in warning


@pytest.mark.parametrize("env, says", [
    ({"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/feature/cut"}, "set `fetch-depth: 0`"),
    ({"GITLAB_CI": "true", "CI_COMMIT_REF_NAME": "feature/cut"}, "set `GIT_DEPTH: 0`"),
])
def test_history_that_cannot_be_fetched_stops_with_one_line_naming_the_setting(repo: Repo, tmp_path, env, says):
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    repo.commit()
    repo.git("push", "-q", "origin", "main")
    repo.git("checkout", "-qb", "feature/cut")
    repo.write("flows/b.py", flow_source(repo.flow("b")))
    sha = repo.commit()
    repo.git("push", "-q", "origin", "feature/cut")
    clone = shallow_clone(repo, tmp_path / "ci", branch="feature/cut")
    clone.git("remote", "set-url", "origin", f"file://{tmp_path}/moved.git")  # the remote is out of reach now
    sha_var = "GITHUB_SHA" if "GITHUB_ACTIONS" in env else "CI_COMMIT_SHA"
    proc = clone.cli("register", env={**env, sha_var: sha})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    detected, line, closing = proc.stderr.splitlines()
    assert closing == "prefect-push: nothing was registered"
    assert detected.endswith(f"push of refs/heads/feature/cut at {sha[:12]}")
    assert line.startswith("prefect-push: refs/heads/feature/cut: finding where the branch forked needs history")
    assert says in line


def test_explicit_arguments_beat_the_environment(repo: Repo, prefect_server, tmp_path):
    per_tag(repo)
    a = repo.flow("a")
    repo.write("flows/a.py", flow_source(a))
    c1 = repo.commit()
    repo.git("tag", "v1")
    repo.git("push", "-q", "origin", "main", "v1")
    env = github_env(tmp_path, "refs/heads/main", GONE, c1)
    proc = repo.cli("register", "--ref", "v1", "--json", env=env)
    assert registered(proc) == [a]
    assert "GitHub Actions" not in proc.stderr  # another ref: nothing of the environment is about it
    assert set(deployments(repo.uid)) == {f"{a}/v1"}
    # the environment's own ref: --from "" (a new branch) wins over its before, its after still counts
    proc = repo.cli("plan", "--ref", "main", "--from", "", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "GitHub Actions push of refs/heads/main" in proc.stderr and "is not in this" not in proc.stderr
    assert {row["commit"] for row in json.loads(proc.stdout)["actions"]} == {c1}


def test_github_deletion_deletes_the_refs_deployments(repo: Repo, prefect_server, tmp_path):
    a = repo.flow("a")
    repo.write("flows/a.py", flow_source(a))
    repo.commit()
    repo.git("push", "-q", "origin", "main")
    assert repo.cli("register", "--ref", "main").returncode == 0
    repo.git("checkout", "-qb", "feature/gone")
    repo.write("flows/a.py", flow_source(a, body="return 2"))
    sha = repo.commit()
    repo.git("push", "-q", "origin", "feature/gone")
    assert repo.cli("register", "--ref", "feature/gone").returncode == 0
    assert set(deployments(repo.uid)) == {f"{a}/main", f"{a}/feature-gone"}
    repo.git("push", "-q", "origin", "--delete", "feature/gone")

    clone = shallow_clone(repo, tmp_path / "ci")  # a deletion's run checks out the default branch
    env = github_env(tmp_path, "refs/heads/feature/gone", sha, ZERO, deleted=True, sha=clone.sha())
    proc = clone.cli("register", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"GitHub Actions deletion of refs/heads/feature/gone (was at {sha[:12]})" in proc.stderr
    assert set(deployments(repo.uid)) == {f"{a}/main"}


# --- the example CI files of docs/ci.md: what the tests above run is what they set up ---

def readme_yaml(after: str) -> dict:
    import re

    import yaml

    text = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text[text.index(after):], re.S)
    assert block, f"no yaml block after {after!r} in docs/ci.md"
    return yaml.safe_load(block.group(1))


def test_the_readme_github_workflow_runs_register_on_main_tags_and_deletions():
    wf = readme_yaml("`.github/workflows/prefect-push.yml`:")
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["push"] == {"branches": ["main"], "tags": ["**"]} and "delete" in on
    steps = wf["jobs"]["register"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert "with" not in checkout  # depth 1: the depth-1 clones above
    register, prune = steps[-2:]
    assert (register["run"], register["if"]) == ("prefect-push register", "github.event_name != 'schedule'")
    assert (prune["run"], prune["if"]) == ("prefect-push prune", "github.event_name == 'schedule'")
    assert "schedule" in on  # the backstop for deletions a cancelled run missed
    group = wf["concurrency"]["group"]
    assert "github.event.ref" in group and "github.event_name" in group  # deletions not in main's group
    assert wf["concurrency"]["cancel-in-progress"] is False
    for step in (register, prune):
        assert set(step["env"]) == {"PREFECT_API_URL", "PREFECT_API_KEY"}


def test_the_readme_gitlab_pipeline_runs_register_on_main_and_tags_and_prunes_on_a_schedule():
    ci_file = readme_yaml("`.gitlab-ci.yml`")
    job = ci_file["prefect-push"]
    assert [r["if"] for r in job["rules"]] == ["$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "$CI_COMMIT_TAG"]
    assert job["script"][-1] == "prefect-push register" and "slim" not in job["image"]  # git is needed
    prune = ci_file["prefect-push-prune"]
    assert prune["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert prune["script"][-1] == "prefect-push prune"


# --- the one-step CI files (action.yml, ci/gitlab-prefect-push.yml) and docs/ci.md's use of them; they are run
# as their runners run them in tests/test_packaging.py ---

def test_the_docs_workflow_uses_the_action_with_inputs_it_declares():
    root = Path(__file__).resolve().parents[1]
    action = yaml_file(root / "action.yml")
    wf = readme_yaml("`.github/workflows/prefect-push.yml`, with the action:")
    on = wf.get("on", wf.get(True))
    assert {"push", "delete", "schedule"} <= set(on)
    checkout, step = wf["jobs"]["prefect-push"]["steps"]
    assert checkout["uses"].startswith("actions/checkout@") and "with" not in checkout  # depth 1 is enough
    assert step["uses"].endswith(f"/prefect-push@v{version()}")  # the current release tag (docs/install.md)
    assert set(step["with"]) <= set(action["inputs"])
    assert {n for n, spec in action["inputs"].items() if spec.get("required")} <= set(step["with"])
    assert wf["concurrency"]["cancel-in-progress"] is False and "github.event.ref" in wf["concurrency"]["group"]


def test_the_action_registers_unless_scheduled_and_keeps_its_inputs_out_of_commands():
    action = yaml_file(Path(__file__).resolve().parents[1] / "action.yml")
    assert action["runs"]["using"] == "composite"
    assert {"api-url", "api-key", "python-version"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    assert steps[0]["with"]["python-version"] == "${{ inputs.python-version }}"
    install, register, prune = steps[1:]
    assert "$GITHUB_ACTION_PATH" in install["run"]  # the action's own checkout: the tag in `uses:`
    assert (register["run"], register["if"]) == ("prefect-push register", "github.event_name != 'schedule'")
    assert (prune["run"], prune["if"]) == ("prefect-push prune", "github.event_name == 'schedule'")
    for step in (register, prune):
        assert step["env"] == {"PREFECT_API_URL": "${{ inputs.api-url }}", "PREFECT_API_KEY": "${{ inputs.api-key }}",
                               "PREFECT_API_AUTH_STRING": "${{ inputs.api-auth-string }}"}
    for step in steps[1:]:  # an input substituted into a script could be printed or run; the environment is not
        assert "${{" not in step["run"] and step["shell"] == "bash"


def test_the_docs_gitlab_include_names_the_template_and_what_to_install():
    root = Path(__file__).resolve().parents[1]
    block = readme_yaml("to your project's .gitlab-ci.yml:")
    (include,) = block["include"]
    path = include["remote"].split(f"/-/raw/v{version()}/", 1)[1]
    assert (root / path).is_file() and path == "ci/gitlab-prefect-push.yml"
    assert block["variables"]["PREFECT_PUSH_INSTALL"].endswith(f"/prefect-push@v{version()}")  # the same release
    template = yaml_file(root / path)
    register, prune = template["prefect-push"], template["prefect-push-prune"]
    assert register["extends"] == prune["extends"] == ".prefect-push"
    assert register["rules"][0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}
    assert prune["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert (register["script"], prune["script"]) == (["prefect-push register"], ["prefect-push prune"])
    assert "slim" not in template[".prefect-push"]["image"]  # git is needed


def version() -> str:
    import tomllib

    return tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["version"]


def yaml_file(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())
