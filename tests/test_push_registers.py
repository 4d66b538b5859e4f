"""The plain git hook (`prefect-push install`) against real git pushes and the session's real Prefect server."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import BIN, POOL, Repo, deployments, flow_source, sha256_repo, per_tag

BIN_PP = BIN / "prefect-push"


def assert_blocked(r: Repo, proc: subprocess.CompletedProcess, says: str) -> subprocess.CompletedProcess:
    """A blocked push: it failed, said why in one line, registered nothing, and the remote did not get it."""
    assert proc.returncode != 0
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert deployments(r.uid) == {}
    assert r.remote_has("refs/heads/main") is None
    return proc


def test_new_branch_registers_only_the_changed_flows(hooked: Repo):
    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a, params="n: int = 1"))
    r.write("flows/b.py", flow_source(b))
    r.write("lib/util.py", "def helper(): return 1\n")
    r.commit("two flows")
    assert r.push("main").returncode == 0
    assert set(deployments(r.uid)) == {f"{a}/main", f"{b}/main"}

    r.git("checkout", "-qb", "feature/one")
    r.write("flows/a.py", flow_source(a, body="return 2", params="n: int = 1"))
    sha = r.commit("change a only")
    proc = r.push("feature/one")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert set(got) == {f"{a}/main", f"{b}/main", f"{a}/feature-one"}
    d = got[f"{a}/feature-one"]
    assert d.version == sha
    assert d.entrypoint == "flows/a.py:" + a.replace("-", "_")
    assert d.pull_steps == [{"prefect.deployments.steps.git_clone": {"repository": r.url, "branch": "feature/one"}}]
    assert d.work_pool_name == POOL
    assert "git-ref:refs/heads/feature/one" in d.tags
    assert d.parameter_openapi_schema["properties"]["n"]["type"] == "integer"
    assert f"{a}/feature-one" in proc.stderr and "register" in proc.stderr


def test_push_without_flow_changes_imports_nothing_and_calls_no_api(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    assert r.push("main").returncode == 0
    r.write("README.md", "docs\n")
    new = r.commit("docs only")
    # run the hook's code in-process, with the API pointed at a dead port: any API call would block the push
    line = f"refs/heads/main {new} refs/heads/main {r.sha('HEAD~1')}\n"
    probe = ("import sys; from prefect_push.cli import main; rc = main(['hook', 'origin', sys.argv[1]]); "
             "print(rc, 'prefect' in sys.modules, 'rich' in sys.modules, 'git' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", probe, r.url], cwd=r.path, input=line, capture_output=True,
                          text=True, env={**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert proc.stdout.split() == ["0", "False", "False", "False"], proc.stderr
    assert proc.stderr == ""  # quiet when there is nothing to do


def test_the_hooks_first_step_decides_a_no_flow_push_with_one_git_call(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    assert r.push("main").returncode == 0
    r.write("docs/index.md", "docs\n")
    r.write("lib/data.csv", "1,2\n")
    new = r.commit("no flow")
    line = f"refs/heads/main {new} refs/heads/main {r.sha('HEAD~1')}\n"
    probe = ("import sys; from prefect_push.fast import main; rc = main(['hook', 'origin', sys.argv[1]]); "
             "print(rc, sorted(m for m in sys.modules if m.startswith(('prefect', 'git', 'rich', 'subprocess'))))")
    env = {**os.environ, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    proc = subprocess.run([sys.executable, "-c", probe, r.url], cwd=r.path, input=line, capture_output=True,
                          text=True, env=env)
    assert proc.stdout.split(maxsplit=1) == ["0", "['prefect_push', 'prefect_push.fast']\n"], proc.stderr
    assert proc.stderr == ""
    # a .py anywhere (even one that holds no flow) goes to the full path, which decides exactly
    r.write("lib/util.py", "X = 1\n")
    new = r.commit("a module")
    line = f"refs/heads/main {new} refs/heads/main {r.sha('HEAD~1')}\n"
    proc = subprocess.run([sys.executable, "-c", probe, r.url], cwd=r.path, input=line, capture_output=True,
                          text=True, env=env)
    assert proc.stdout.startswith("0 ") and "'prefect_push.cli'" in proc.stdout, proc.stderr
    assert "'prefect'" not in proc.stdout  # and there, too, no flow changed: no prefect


def test_already_registered_commit_is_skipped(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    assert r.push("main").returncode == 0
    before = deployments(r.uid)[f"{r.flow('a')}/main"].updated
    proc = r.cli("register", "--ref", "main", "--from", "", "--to", sha, "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["actions"]
    assert row["action"] == "skip" and row["reason"] == f"already registered at {sha[:12]}"
    assert deployments(r.uid)[f"{r.flow('a')}/main"].updated == before  # not rewritten


def test_tags_pin_and_register_what_changed_since_the_previous_tag(hooked: Repo):
    r = hooked
    per_tag(r)
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.commit()
    r.git("tag", "-a", "v1", "-m", "release 1")  # annotated: peeled to its commit
    assert r.push("main", "v1").returncode == 0
    got = deployments(r.uid)
    assert {f"{a}/v1", f"{b}/v1"} <= set(got)
    step = got[f"{a}/v1"].pull_steps[0]["prefect.deployments.steps.git_clone"]
    assert step["branch"] == "v1" and got[f"{a}/v1"].version == r.sha("v1^{commit}")

    r.write("flows/b.py", flow_source(b, body="return 3"))
    r.commit()
    r.git("tag", "v2")  # lightweight
    proc = r.push("v2")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert f"{b}/v2" in got and f"{a}/v2" not in got
    assert "changed since v1" in proc.stderr


def test_deleting_a_branch_deletes_its_deployments(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    r.push("main")
    r.git("checkout", "-qb", "tmp/x")
    r.write("flows/a.py", flow_source(r.flow("a"), body="return 5"))
    r.commit()
    r.push("tmp/x")
    assert f"{r.flow('a')}/tmp-x" in deployments(r.uid)
    proc = r.push("--delete", "tmp/x")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}
    assert "branch deleted" in proc.stderr


def test_deleted_file_deletes_and_rename_moves_the_entrypoint(hooked: Repo):
    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.commit()
    r.push("main")
    r.git("rm", "-q", "flows/a.py")
    r.git("mv", "flows/b.py", "flows/renamed.py")
    r.commit("delete a, rename b")
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert set(got) == {f"{b}/main"}
    assert got[f"{b}/main"].entrypoint.startswith("flows/renamed.py:")
    assert "file deleted" in proc.stderr and "renamed from flows/b.py" in proc.stderr


def test_several_refs_in_one_push_and_a_branch_that_is_not_checked_out(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    r.push("main")
    for name, body in (("x1", "return 11"), ("x2", "return 12")):
        r.git("checkout", "-qb", name, "main")
        r.write("flows/a.py", flow_source(r.flow("a"), body=body))
        r.commit()
    r.git("checkout", "-q", "main")  # neither pushed branch is checked out: contents come from the commits
    proc = r.push("x1", "x2")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{r.flow('a')}/x1"].version == r.sha("x1")
    assert got[f"{r.flow('a')}/x2"].version == r.sha("x2")


def test_a_bad_flow_blocks_the_push_and_registers_nothing(hooked: Repo):
    r = hooked
    r.write("flows/good.py", flow_source(r.flow("good")))
    r.write("flows/bad.py", "from prefect import flow\n\n@flow\ndef bad(:\n    pass\n")
    r.commit()
    assert_blocked(r, r.push("main"), "prefect-push: flows/bad.py:4: syntax error")


def test_invalid_config_blocks_naming_the_key(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", '[tool.prefect-push]\nwork-pool = "p"\nworkpool = "typo"\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = assert_blocked(r, r.push("main"), "unknown setting 'workpool'")
    assert "pyproject.toml" in proc.stderr


def test_missing_work_pool_blocks_before_anything_is_written(hooked: Repo):
    r = hooked
    r.write("pyproject.toml", '[tool.prefect-push]\nwork-pool = "no-such-pool"\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    assert_blocked(r, r.push("main"), "work-pool 'no-such-pool' does not exist")


def test_opt_out_then_the_next_push_catches_up(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    r.push("main")
    r.write("flows/b.py", flow_source(r.flow("b")))
    r.commit("b, pushed with the hook skipped")
    proc = r.push("main", env={"PREFECT_PUSH_SKIP": "1"})
    assert proc.returncode == 0 and "skipped (PREFECT_PUSH_SKIP=1)" in proc.stderr
    assert f"{r.flow('b')}/main" not in deployments(r.uid)
    r.write("flows/c.py", flow_source(r.flow("c")))
    r.commit("c")
    assert r.push("main").returncode == 0
    assert {f"{r.flow('b')}/main", f"{r.flow('c')}/main"} <= set(deployments(r.uid))  # b caught up


def test_server_down_blocks_by_default_and_warn_lets_it_pass_then_catches_up(hooked: Repo):
    r = hooked
    dead = {"PREFECT_API_URL": "http://127.0.0.1:9/api"}
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.push("main", env=dead)
    assert proc.returncode != 0
    assert "http://127.0.0.1:9/api" in proc.stderr and "unreachable" in proc.stderr
    assert "nothing registered" in proc.stderr and "Traceback" not in proc.stderr
    proc = r.push("main", env={"PREFECT_API_URL": "http://team:s3cr3t-pw@127.0.0.1:9/api"})
    assert proc.returncode != 0 and "http://127.0.0.1:9/api" in proc.stderr, proc.stderr
    assert "s3cr3t-pw" not in proc.stdout + proc.stderr  # a password in the URL is never printed

    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\non-error = "warn"\n')
    r.commit("warn")
    proc = r.push("main", env=dead)
    assert proc.returncode == 0 and 'on-error = "warn"' in proc.stderr
    assert deployments(r.uid) == {}

    r.write("README.md", "no flow here\n")
    r.commit("docs")
    proc = r.push("main")  # server back: the missed registration is caught up, though no flow changed now
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid)[f"{r.flow('a')}/main"].version == r.sha()


def test_token_in_remote_url_and_secret_block_never_stored_nor_printed(repo: Repo, prefect_server):
    from prefect.blocks.system import Secret

    token = "s3cr3t-" + repo.uid
    Secret(value=token).save(f"{repo.uid}-git-token")
    repo.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ncredentials = "{repo.uid}-git-token"\n')
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    repo.commit()
    url = f"https://ci-bot:{token}@git.example.com/team/flows.git"
    proc = repo.cli("register", "--ref", "main", "--remote", url)
    assert proc.returncode == 0, proc.stderr
    assert token not in proc.stdout + proc.stderr
    d = deployments(repo.uid)[f"{repo.flow('a')}/main"]
    assert token not in d.model_dump_json()
    step = d.pull_steps[0]["prefect.deployments.steps.git_clone"]
    assert step["repository"] == "https://git.example.com/team/flows.git"
    assert step["access_token"] == "{{ prefect.blocks.secret.%s-git-token }}" % repo.uid


def test_build_tag_overrides_the_detected_ref(repo: Repo, prefect_server):
    per_tag(repo)
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    repo.commit()
    repo.git("tag", "release-7")
    repo.git("checkout", "-q", "--detach")  # as CI checks out: no branch to name the ref
    proc = repo.cli("register", env={"BUILD_TAG": "release-7"})
    assert proc.returncode == 0, proc.stderr
    d = deployments(repo.uid)[f"{repo.flow('a')}/release-7"]
    assert d.pull_steps[0]["prefect.deployments.steps.git_clone"]["branch"] == "release-7"


def test_plan_writes_nothing(repo: Repo, prefect_server):
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    repo.commit()
    proc = repo.cli("plan", "--ref", "main", "--json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["actions"]
    assert row["action"] == "would register" and row["flow"] == repo.flow("a")
    assert deployments(repo.uid) == {}


def test_install_refuses_a_foreign_hook(repo: Repo):
    hook = repo.path / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho mine\n")
    proc = repo.cli("install")
    assert proc.returncode == 1
    assert "is not prefect-push's" in proc.stderr and str(hook) in proc.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"


def test_ci_register_of_a_new_branch_diffs_against_the_other_remote_branches(repo: Repo, prefect_server, tmp_path):
    """As in CI: a clone that has the pushed branch as origin/<branch> already, and before = all zeros."""
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    repo.commit()
    repo.push("main", env={"PREFECT_PUSH_SKIP": "1"})
    repo.git("checkout", "-qb", "feature/ci")
    repo.write("flows/b.py", flow_source(b, body="return 2"))
    sha = repo.commit()
    repo.push("feature/ci")  # no hook installed here: CI registers
    ci = Repo(tmp_path / "ci", repo.remote, repo.uid)
    subprocess.run(["git", "clone", "-q", "--branch", "feature/ci", repo.url, str(ci.path)], check=True)
    proc = ci.cli("register", "--from", "0" * 40, "--to", sha, "--ref", "refs/heads/feature/ci", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [row["flow"] for row in json.loads(proc.stdout)["actions"]] == [b]
    assert set(deployments(repo.uid)) == {f"{b}/feature-ci"}


def test_force_push_over_a_commit_this_clone_never_fetched(hooked: Repo, tmp_path):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    r.push("main")
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", r.url, str(other)], check=True)
    (other / "notes.txt").write_text("someone else's commit\n")
    for args in (["add", "-A"], ["commit", "-qm", "theirs"], ["push", "-q", "--no-verify", "origin", "main"]):
        subprocess.run(["git", *args], cwd=other, check=True)
    r.write("flows/a.py", flow_source(r.flow("a"), body="return 'mine'"))
    mine = r.commit("mine")
    proc = r.push("--force", "main")  # the remote's old id is unknown here: diffed like a new branch
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid)[f"{r.flow('a')}/main"].version == mine


def test_empty_pre_push_input_is_a_no_op(hooked: Repo):
    proc = hooked.cli("hook", "origin", hooked.url, stdin="")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_malformed_pre_push_input_names_the_line(hooked: Repo):
    proc = hooked.cli("hook", "origin", hooked.url, stdin="refs/heads/main abc\n")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == ["prefect-push: pre-push input line 'refs/heads/main abc': expected 4 fields, got 2",
                                        "prefect-push: nothing was registered"]


def test_sha256_repository(prefect_server, tmp_path):
    r = sha256_repo(tmp_path)
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    assert len(sha) == 64
    assert r.cli("install").returncode == 0
    proc = r.push("main", "main:refs/heads/copy")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{r.flow('a')}/main"].version == sha and got[f"{r.flow('a')}/copy"].version == sha
    proc = r.push("--delete", "copy")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}


def test_the_shipped_hooks_pre_push_script_works_when_copied(repo: Repo, prefect_server):
    from conftest import ROOT
    import shutil

    target = repo.path / ".git" / "hooks" / "pre-push"
    shutil.copy(ROOT / "hooks" / "pre-push", target)
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    sha = repo.commit()
    proc = repo.push("main")
    assert proc.returncode == 0, proc.stderr
    assert deployments(repo.uid)[f"{repo.flow('a')}/main"].version == sha


def test_register_all_adopts_an_existing_repo(repo: Repo, prefect_server):
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b))
    repo.commit()
    repo.push("main")  # no hook yet
    repo.git("push", "-q", "origin", "main:refs/heads/other")  # history on another branch too
    repo.git("fetch", "-q")
    assert repo.cli("register", "--ref", "main").returncode == 0
    assert deployments(repo.uid) == {}  # nothing new relative to the remote's other branches
    proc = repo.cli("register", "--ref", "main", "--all")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(repo.uid)) == {f"{a}/main", f"{b}/main"}


def test_register_a_ref_that_is_not_checked_out_uses_that_refs_commit(repo: Repo, prefect_server):
    per_tag(repo)
    a = repo.flow("a")
    repo.write("flows/a.py", flow_source(a))
    repo.commit()
    repo.git("tag", "v1")
    repo.write("flows/a.py", flow_source(a, body="return 2"))
    repo.commit("after v1")  # main is ahead of v1 and checked out
    proc = repo.cli("register", "--ref", "v1")
    assert proc.returncode == 0, proc.stderr
    d = deployments(repo.uid)[f"{a}/v1"]
    assert d.version == repo.sha("v1")
    proc = repo.cli("register", "--ref", "no-such-branch")
    assert proc.returncode == 1
    assert "'no-such-branch' is not a branch or tag in this clone" in proc.stderr


def test_one_repository_spelled_two_ways_is_one_repository(hooked: Repo):
    r = hooked
    r.git("remote", "add", "bypath", str(r.remote))  # the same bare repo, as a path instead of file://
    a = r.flow("a")
    r.write("flows/a.py", flow_source(a))
    r.commit()
    assert r.push("main").returncode == 0
    r.write("flows/a.py", flow_source(a, body="return 2"))
    sha = r.commit()
    proc = subprocess.run(["git", "push", "bypath", "main"], cwd=r.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert set(got) == {f"{a}/main"} and got[f"{a}/main"].version == sha


def test_no_docstring_means_no_description_and_description_kwarg_wins(repo: Repo, prefect_server):
    a, b = repo.flow("a"), repo.flow("b")
    repo.write("flows/a.py", flow_source(a))
    repo.write("flows/b.py", flow_source(b).replace("@flow(", "@flow(description='nightly load', "))
    repo.commit()
    assert repo.cli("register", "--ref", "main").returncode == 0
    got = deployments(repo.uid)
    assert got[f"{a}/main"].description in (None, "")
    assert got[f"{b}/main"].description == "nightly load"


def test_no_api_configured_and_no_config_say_what_to_set(repo: Repo, prefect_server):
    repo.write("pyproject.toml", "[project]\nname = 'x'\n")
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    repo.commit()
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.run([str(BIN_PP), "register", "--ref", "main"], cwd=repo.path, capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 1 and "no Prefect API configured: set PREFECT_API_URL" in proc.stderr
    proc = repo.cli("register", "--ref", "main")
    assert proc.returncode == 1
    assert "no work-pool set; add `[tool.prefect-push]`" in proc.stderr
    assert 'on-error' not in proc.stderr  # a config problem, not server trouble
    assert deployments(repo.uid) == {}


def test_opt_out_on_a_new_branch_is_caught_up_by_a_push_that_changes_no_flow(hooked: Repo):
    r = hooked
    r.write("README.md", "x\n")
    r.commit()
    r.push("main")
    r.git("checkout", "-qb", "feature/skip")
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.push("feature/skip", env={"PREFECT_PUSH_SKIP": "1"})
    assert proc.returncode == 0 and "skipped" in proc.stderr
    assert deployments(r.uid) == {}
    r.write("README.md", "docs only\n")
    sha = r.commit("docs")
    proc = r.push("feature/skip")
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid)[f"{r.flow('a')}/feature-skip"].version == sha


def test_a_server_that_never_answers_cannot_hang_the_push(hooked: Repo):
    import socket
    import threading
    import time

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    stop = threading.Event()
    held = []

    def hold():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    threading.Thread(target=hold, daemon=True).start()
    try:
        r = hooked
        r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ntimeout = 3\n')
        r.write("flows/a.py", flow_source(r.flow("a")))
        r.commit()
        started = time.monotonic()
        proc = r.push("main", env={"PREFECT_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/api"})
        took = time.monotonic() - started
        assert proc.returncode != 0
        assert "did not answer for 3s" in proc.stderr and "Traceback" not in proc.stderr
        assert took < 20
    finally:
        stop.set()
        for conn in held:
            conn.close()
        silent.close()


def test_git_push_dry_run_registers_nothing(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    for flags in (["--dry-run"], ["-nv"]):
        proc = r.push(*flags, "main")
        assert proc.returncode == 0, proc.stderr
        assert "git push --dry-run: registering nothing" in proc.stderr
    assert deployments(r.uid) == {}
    assert r.push("main").returncode == 0
    assert f"{r.flow('a')}/main" in deployments(r.uid)


def test_rebase_and_force_push_still_registers_what_an_earlier_push_missed(hooked: Repo):
    r = hooked
    r.write("flows/etl.py", flow_source(r.flow("etl")))
    r.commit()
    r.push("main")
    r.git("checkout", "-qb", "feature/rb")
    r.write("flows/etl.py", flow_source(r.flow("etl"), body="return 2"))
    r.commit("F1")
    r.push("feature/rb")
    r.write("flows/new.py", flow_source(r.flow("new")))
    r.commit("F2: not registered")
    r.push("feature/rb", env={"PREFECT_PUSH_SKIP": "1"})
    (r.path / ".git" / "prefect-push" / "pending.json").unlink()  # as if pushed from another clone
    r.git("checkout", "-q", "main")
    r.write("README.md", "main moved on\n")
    r.commit()
    r.push("main")
    r.git("checkout", "-q", "feature/rb")
    r.git("rebase", "-q", "main")
    r.write("flows/etl.py", flow_source(r.flow("etl"), body="return 3"))
    sha = r.commit("F3")
    proc = r.push("--force", "feature/rb")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{r.flow('new')}/feature-rb"].version == sha  # diffed from the registered F1, not the remote's F2
    assert got[f"{r.flow('etl')}/feature-rb"].version == sha


def test_config_change_and_file_deletion_in_one_commit(hooked: Repo):
    r = hooked
    r.write("flows/old.py", flow_source(r.flow("old")))
    r.write("flows/keep.py", flow_source(r.flow("keep")))
    r.commit()
    r.push("main")
    r.git("rm", "-q", "flows/old.py")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ntags = ["team-x"]\n')
    sha = r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert set(got) == {f"{r.flow('keep')}/main"}
    assert got[f"{r.flow('keep')}/main"].version == sha and "team-x" in got[f"{r.flow('keep')}/main"].tags
    assert "[tool.prefect-push] changed" in proc.stderr


def test_a_path_with_a_newline_does_not_shift_other_files(hooked: Repo):
    r = hooked
    r.write("flows/etl.py", flow_source(r.flow("etl")))
    r.commit()
    r.push("main")
    r.write("notes/a\nb.py", "x = 1\n")
    r.write("flows/etl.py", flow_source(r.flow("etl"), body="return 2"))
    sha = r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid)[f"{r.flow('etl')}/main"].version == sha


def test_refs_that_are_neither_branches_nor_tags_register_nothing(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    proc = r.push("HEAD:refs/for/main")  # Gerrit-style review ref
    assert proc.returncode == 0, proc.stderr
    assert deployments(r.uid) == {}


def test_ci_register_after_a_force_push_falls_back_with_a_warning(repo: Repo, prefect_server):
    repo.write("flows/a.py", flow_source(repo.flow("a")))
    sha = repo.commit()
    gone = "1234567890" * 4  # github.event.before of a force push: not in the clone
    proc = repo.cli("register", "--from", gone, "--to", sha, "--ref", "main")
    assert proc.returncode == 0, proc.stderr
    assert "is not in this clone" in proc.stderr and "fetch-depth: 0" in proc.stderr
    assert deployments(repo.uid)[f"{repo.flow('a')}/main"].version == sha


def test_a_token_in_remote_never_reaches_an_error_message(repo: Repo):
    proc = repo.cli("plan", "--remote", "https://bot:SECRET123@example.com/r.git", "--ref", "nope")
    assert proc.returncode == 1 and "SECRET123" not in proc.stdout + proc.stderr


def test_a_branch_skipped_by_one_clone_is_registered_by_the_next_push_from_another(hooked: Repo, tmp_path):
    r = hooked
    r.write("README.md", "x\n")
    r.commit()
    r.push("main")
    r.git("checkout", "-qb", "feature/handoff")
    r.write("flows/etl.py", flow_source(r.flow("etl")))
    r.commit("alice's flow")
    assert r.push("feature/handoff", env={"PREFECT_PUSH_SKIP": "1"}).returncode == 0
    bob = Repo(tmp_path / "bob", r.remote, r.uid)
    subprocess.run(["git", "clone", "-q", "--branch", "feature/handoff", r.url, str(bob.path)], check=True)
    assert bob.cli("install").returncode == 0
    bob.write("flows/clean.py", flow_source(r.flow("clean")))
    sha = bob.commit("bob's flow")
    proc = bob.push("feature/handoff")
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert got[f"{r.flow('etl')}/feature-handoff"].version == sha  # alice's, though bob's push did not change it
    assert got[f"{r.flow('clean')}/feature-handoff"].version == sha


def test_a_broken_pyproject_in_the_working_tree_is_one_line_not_a_traceback(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    with open(r.path / "pyproject.toml", "a") as f:
        f.write("oops = [\n")  # uncommitted; prefect itself reads ./pyproject.toml when imported
    assert_blocked(r, r.push("main"), "prefect-push: prefect cannot start here:")


def delete_branch_while_the_server_is_down(r: Repo, branch: str) -> None:
    """main and `branch` registered, then `branch` deleted with the API unreachable and on-error = "warn"."""
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\non-error = "warn"\n')
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    r.push("main")
    r.git("checkout", "-qb", branch)
    r.write("flows/a.py", flow_source(r.flow("a"), body="return 2"))
    r.commit()
    r.push(branch)
    assert f"{r.flow('a')}/{branch}" in deployments(r.uid)
    r.git("checkout", "-q", "main")
    proc = r.push("--delete", branch, env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert proc.returncode == 0 and "the push goes on" in proc.stderr
    assert f"{r.flow('a')}/{branch}" in deployments(r.uid)  # the server never heard of the deletion


def push_unrelated_commit_to_main(r: Repo) -> subprocess.CompletedProcess:
    r.write("README.md", "unrelated\n")
    r.commit()
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    return proc


def test_a_deletion_the_server_missed_is_replayed_by_the_next_push(hooked: Repo):
    r = hooked
    delete_branch_while_the_server_is_down(r, "gone")
    proc = push_unrelated_commit_to_main(r)  # any later push tells it
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}
    assert "branch deleted" in proc.stderr


def test_a_replayed_deletion_keeps_a_branch_registered_again_since(hooked: Repo, tmp_path):
    r = hooked
    delete_branch_while_the_server_is_down(r, "again")
    bob = Repo(tmp_path / "bob", r.remote, r.uid)
    subprocess.run(["git", "clone", "-q", r.url, str(bob.path)], check=True)
    assert bob.cli("install").returncode == 0
    bob.git("checkout", "-qb", "again")
    bob.write("flows/a.py", flow_source(r.flow("a"), body="return 3"))
    bobs = bob.commit("the branch again")
    assert bob.push("again").returncode == 0
    proc = push_unrelated_commit_to_main(r)
    assert deployments(r.uid)[f"{r.flow('a')}/again"].version == bobs
    assert "kept" in proc.stderr


def test_the_never_registered_hint_only_where_flows_are_left_out(repo: Repo, prefect_server):
    """Main pushed before adoption, then the hook: a push registers what it changed and counts the flows left out
    (a long-lived branch registered partly). A feature branch's first push says nothing: from its fork point it
    has every change of its own."""
    a, b, c = repo.flow("a"), repo.flow("b"), repo.flow("c")
    for name in (a, b, c):
        repo.write(f"flows/{name}.py", flow_source(name))
    repo.commit()
    assert repo.push("main").returncode == 0  # no hook yet
    repo.git("push", "-q", "origin", "main:refs/heads/docs")  # the remote has other branches, as remotes do
    assert repo.cli("install").returncode == 0
    repo.write(f"flows/{a}.py", flow_source(a, body="return 2"))
    repo.commit()
    proc = repo.push("main")
    assert proc.returncode == 0, proc.stderr
    assert set(deployments(repo.uid)) == {f"{a}/main"}
    assert ("refs/heads/main is registered partly: 2 flows this push did not change are not registered on it; "
            "`prefect-push register --ref main --all` registers them") in proc.stderr, proc.stderr
    repo.git("checkout", "-qb", "feature/x")
    repo.write(f"flows/{b}.py", flow_source(b, body="return 2"))
    repo.commit()
    proc = repo.push("feature/x")
    assert proc.returncode == 0, proc.stderr
    assert "registered partly" not in proc.stderr and "never registered" not in proc.stderr, proc.stderr
