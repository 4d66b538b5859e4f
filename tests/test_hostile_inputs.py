"""Hostile inputs (the inputs half of the fault-and-input matrix): odd pre-push input, odd repositories, odd
pushes, odd file names and odd files, each through the real plain git hook (or the real `prefect-push hook`
entry point) against real git and the session's real Prefect server. No mocks.

Cells covered elsewhere (kept there, not repeated here):
- short line / empty input through the hook: test_push_registers.py::test_malformed_pre_push_input_names_the_line,
  ::test_empty_pre_push_input_is_a_no_op; the parser alone: test_push_lines.py, test_properties.py
- sha256 push + delete: test_push_registers.py::test_sha256_repository
- force push over a commit this clone lacks / after a rebase: test_push_registers.py::
  test_force_push_over_a_commit_this_clone_never_fetched, ::test_rebase_and_force_push_still_registers_...
- a flow file with a syntax error blocks with file:line: test_push_registers.py::
  test_a_bad_flow_blocks_the_push_and_registers_nothing
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, POOL, Repo, deployments, flow_source, sha256_repo, per_tag

Z40 = "0" * 40


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def hook(r: Repo, stdin: bytes, *args: str) -> subprocess.CompletedProcess:
    """`prefect-push hook origin <url>` as git runs it, with raw bytes on stdin."""
    proc = subprocess.run([str(BIN / "prefect-push"), "hook", "origin", r.url, *args], cwd=r.path, input=stdin,
                          capture_output=True, timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def push(r: Repo, *args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """git push with a time limit: a hook that hangs fails the test instead of hanging the suite."""
    return subprocess.run(["git", "push", *args], cwd=cwd or r.path, capture_output=True, text=True,
                          timeout=timeout)


def fn(name: str) -> str:
    return name.replace("-", "_")


def versions(r: Repo) -> dict[str, str]:
    return {name: d.version for name, d in deployments(r.uid).items()}


# --- malformed pre-push stdin ---

@pytest.mark.parametrize("stdin, says", [
    (f"refs/heads/main {'g' * 40} refs/heads/main {Z40}\n", "'gggg"),  # not hex
    (f"refs/heads/main {'A' * 40} refs/heads/main {Z40}\n", "is not a git object id"),  # git writes lowercase
    (f"refs/heads/main {'a' * 39} refs/heads/main {Z40}\n", "is not a git object id"),  # one digit short
    (f"refs/heads/main {'a' * 40} refs/heads/main {'0' * 64}\n", "object ids of different formats"),
    (f"refs/heads/main {'a' * 40} main {Z40}\n", "is not a full ref"),
    (f"refs/heads/main {'a' * 40} refs/heads/main {Z40} extra\n", "'refs/heads/main' is not a git object id"),
    ("refs/heads/main\n", "expected 4 fields, got 1"),
    (f"refs/heads/main {'a' * 40} refs/heads/main {Z40}\n", "is not a commit in this clone"),  # no such object
])
def test_malformed_stdin_is_one_line_naming_the_line(hooked: Repo, stdin: str, says: str):
    proc = hook(hooked, stdin.encode())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    line, closing = proc.stderr.strip().splitlines()  # the reason, then what a refused push always ends with
    assert line.startswith("prefect-push: ") and says in line
    assert closing == "prefect-push: nothing was registered"
    assert deployments(hooked.uid) == {}


def test_malformed_second_line_blocks_the_whole_push_before_anything_is_registered(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    proc = hook(r, f"refs/heads/main {sha} refs/heads/main {Z40}\nrefs/heads/x {sha} refs/heads/x\n".encode())
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [f"prefect-push: pre-push input line 'refs/heads/x {sha} refs/heads/x': "
                                        "expected 4 fields, got 3", "prefect-push: nothing was registered"]
    assert deployments(r.uid) == {}


def test_extra_spaces_tabs_and_crlf_in_stdin_still_register(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    ok(hook(r, f"\n   refs/heads/main \t {sha}    refs/heads/main\t{Z40}   \r\n\n".encode()))
    assert versions(r) == {f"{r.flow('a')}/main": sha}


@pytest.mark.parametrize("stdin", [b"", b"\n", b"  \n\t\n", b"\r\n"])
def test_empty_or_blank_stdin_is_a_silent_no_op(hooked: Repo, stdin: bytes):
    proc = hook(hooked, stdin)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_a_ref_name_that_is_not_utf8_is_pushed_and_registers_nothing(hooked: Repo):
    """git allows any bytes but control characters and a few punctuation marks in ref names."""
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    ok(push(r, "origin", "main"))
    subprocess.run(["git", "checkout", "-qb", b"caf\xe9"], cwd=r.path, check=True)
    r.write("flows/a.py", flow_source(r.flow("a"), body="return 2"))
    r.commit()
    # strict stdin decoding, as Python has it under a UTF-8 locale such as en_US.UTF-8
    proc = subprocess.run([b"git", b"push", b"origin", b"caf\xe9"], cwd=r.path, capture_output=True, timeout=180,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "refs/heads/caf\\xe9" in err and "not valid UTF-8" in err
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}
    assert r.remote_has(os.fsdecode(b"refs/heads/caf\xe9"))


# --- sha256 repositories (the first push and a deletion: test_push_registers.py::test_sha256_repository) ---

def test_sha256_repository_update_push_and_annotated_tag(prefect_server, tmp_path):
    r = sha256_repo(tmp_path)
    assert r.cli("install").returncode == 0
    per_tag(r)
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    first = r.commit()
    ok(push(r, "origin", "main"))
    r.write("flows/b.py", flow_source(b, body="return 2"))
    second = r.commit()
    assert len(second) == 64
    proc = ok(push(r, "origin", "main"))  # a diff between two 64-hex commits
    assert f"{b}/main" in proc.stderr and f"{a}/main" not in proc.stderr
    r.git("tag", "-a", "v1", "-m", "release")
    ok(push(r, "origin", "v1"))
    assert versions(r) == {f"{a}/main": first, f"{b}/main": second, f"{a}/v1": second, f"{b}/v1": second}


# --- tag-only pushes ---

def test_tag_only_pushes_of_commits_the_remote_has_lightweight_annotated_and_tags(hooked: Repo):
    r = hooked
    per_tag(r)
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    c1 = r.commit()
    ok(push(r, "origin", "main"))
    r.git("tag", "v1")  # lightweight, on a commit the remote already has: git sends only the tag
    proc = ok(push(r, "origin", "v1"))
    assert "first tag: every flow" in proc.stderr
    r.write("flows/b.py", flow_source(b, body="return 2"))
    c2 = r.commit()
    ok(push(r, "origin", "main"))
    r.git("tag", "-a", "v2", "-m", "release 2")  # annotated: git sends the tag object's id
    r.git("tag", "v2-light")  # a second (lightweight) tag on the same commit
    tag_object = r.sha("v2")
    assert tag_object != c2
    proc = ok(push(r, "origin", "--tags"))  # v1 is up to date: only v2 and v2-light are in the hook's input
    got = deployments(r.uid)
    assert {n: d.version for n, d in got.items()} == {
        f"{a}/main": c1, f"{b}/main": c2, f"{a}/v1": c1, f"{b}/v1": c1, f"{b}/v2": c2, f"{b}/v2-light": c2}
    step = got[f"{b}/v2"].pull_steps[0]["prefect.deployments.steps.git_clone"]
    assert step == {"repository": r.url, "branch": "v2"}
    assert "changed since v1" in proc.stderr
    assert "git-ref:refs/tags/v2-light" in got[f"{b}/v2-light"].tags
    proc = ok(push(r, "origin", "--tags"))  # nothing new: nothing to do
    assert versions(r)[f"{b}/v2"] == c2


def test_a_tag_of_a_blob_or_tree_is_pushed_and_registers_nothing(hooked: Repo):
    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    ok(push(r, "origin", "main"))
    r.git("tag", "blob-tag", "HEAD:flows/a.py")  # as git.git's junio-gpg-pub: a tag of a blob
    r.git("tag", "-a", "tree-tag", "-m", "a tree", "HEAD^{tree}")
    proc = ok(push(r, "origin", "blob-tag", "tree-tag"))
    assert "refs/tags/blob-tag" in proc.stderr and "not a commit" in proc.stderr
    assert r.remote_has("refs/tags/blob-tag") and r.remote_has("refs/tags/tree-tag")
    assert set(deployments(r.uid)) == {f"{r.flow('a')}/main"}
    ok(push(r, "origin", "--delete", "blob-tag"))
    assert r.remote_has("refs/tags/blob-tag") is None


# --- several refs in one hook call: --all, --mirror ---

def test_push_all_and_push_mirror(hooked: Repo):
    r = hooked
    per_tag(r)
    a = r.flow("a")
    r.write("flows/a.py", flow_source(a))
    r.commit()
    ok(push(r, "origin", "main"))
    for name, body in (("x1", "return 11"), ("x2", "return 12")):
        r.git("checkout", "-qb", name, "main")
        r.write("flows/a.py", flow_source(a, body=body))
        r.commit()
    r.git("checkout", "-q", "main")
    ok(push(r, "origin", "--all"))  # x1 and x2 in one hook call, main up to date
    assert versions(r) == {f"{a}/main": r.sha("main"), f"{a}/x1": r.sha("x1"), f"{a}/x2": r.sha("x2")}

    r.git("branch", "-qD", "x1")  # --mirror deletes it on the remote
    r.git("checkout", "-qb", "x3", "main")
    r.write("flows/a.py", flow_source(a, body="return 13"))
    r.commit()
    r.git("checkout", "-q", "main")
    r.git("tag", "-a", "m1", "-m", "mirror tag", "x2")
    x1 = r.remote_has("refs/heads/x1")
    proc = ok(push(r, "--mirror", "origin"))  # also pushes refs/remotes/origin/*: not branches, ignored
    assert r.remote_has("refs/remotes/origin/main") and r.remote_has("refs/heads/x1") is None
    # git leaves --mirror's deletions out of the pre-push input (only explicit ones, --delete and --prune, are
    # in it): x1's deployment outlives the branch until `prefect-push prune`
    assert "refs/heads/x1" not in proc.stderr
    assert versions(r) == {f"{a}/main": r.sha("main"), f"{a}/x1": x1, f"{a}/x2": r.sha("x2"),
                           f"{a}/x3": r.sha("x3"), f"{a}/m1": r.sha("x2")}
    proc = ok(r.cli("prune"))
    assert f"{a}/x1" in proc.stdout
    assert set(versions(r)) == {f"{a}/main", f"{a}/x2", f"{a}/x3", f"{a}/m1"}


# --- force pushes that rewrite history ---

def test_force_push_rewinding_and_replacing_history(hooked: Repo):
    """The old commit is no ancestor of the new one: a rewind drops a flow, an unrelated root replaces all."""
    r = hooked
    a, b, c = r.flow("a"), r.flow("b"), r.flow("c")
    r.write("flows/a.py", flow_source(a))
    c1 = r.commit()
    ok(push(r, "origin", "main"))
    r.write("flows/a.py", flow_source(a, body="return 2"))
    r.write("flows/b.py", flow_source(b))
    r.commit()
    ok(push(r, "origin", "main"))
    r.git("reset", "-q", "--hard", c1)
    proc = ok(push(r, "--force", "origin", "main"))
    assert versions(r) == {f"{a}/main": c1}  # b's file is gone again, a is back at c1
    assert "file deleted" in proc.stderr

    r.git("checkout", "-q", "--orphan", "fresh")
    r.git("rm", "-rqf", ".")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\n')
    r.write("other/c.py", flow_source(c))
    root = r.commit("unrelated history")
    ok(push(r, "--force", "origin", "fresh:main"))
    assert versions(r) == {f"{c}/main": root}


# --- a detached HEAD ---

def test_push_from_a_detached_head(hooked: Repo):
    r = hooked
    per_tag(r)
    a = r.flow("a")
    r.write("flows/a.py", flow_source(a))
    r.commit()
    ok(push(r, "origin", "main"))
    r.git("checkout", "-q", "--detach")
    r.write("flows/a.py", flow_source(a, body="return 2"))
    detached = r.commit("on a detached HEAD")
    ok(push(r, "origin", "HEAD:refs/heads/x"))
    ok(push(r, "origin", "HEAD:main"))
    ok(push(r, "origin", "HEAD:refs/tags/d1"))
    got = deployments(r.uid)
    assert {n: d.version for n, d in got.items()} == {f"{a}/main": detached, f"{a}/x": detached,
                                                       f"{a}/d1": detached}
    assert got[f"{a}/x"].pull_steps[0]["prefect.deployments.steps.git_clone"]["branch"] == "x"


# --- shallow clones ---

def test_hook_in_a_depth_1_clone_registers_updates_and_new_branches(hooked: Repo, tmp_path):
    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", flow_source(a))
    r.write("flows/b.py", flow_source(b))
    r.commit()
    ok(push(r, "origin", "main"))
    shallow = Repo(tmp_path / "shallow", r.remote, r.uid)
    subprocess.run(["git", "clone", "-q", "--depth=1", r.url, str(shallow.path)], check=True)
    assert shallow.git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    assert shallow.cli("install").returncode == 0
    shallow.write("flows/a.py", flow_source(a, body="return 2"))
    c2 = shallow.commit()
    proc = ok(push(shallow, "origin", "main"))
    assert f"{a}/main" in proc.stderr and f"{b}/main" not in proc.stderr
    shallow.git("checkout", "-qb", "feature/s")
    shallow.write("flows/b.py", flow_source(b, body="return 3"))
    c3 = shallow.commit()
    ok(push(shallow, "origin", "feature/s"))  # a new branch: its fork point needs history, fetched
    got = versions(r)
    assert got[f"{a}/main"] == c2 and got[f"{b}/feature-s"] == c3 and f"{a}/feature-s" not in got


# --- odd file names ---

UNICODE_DIR, UNICODE_FILE = "flows/daten ü", "ä b.py"


@pytest.mark.parametrize("quotepath", ["true", "false"])
def test_paths_with_spaces_and_unicode_register_with_the_right_entrypoint(hooked: Repo, quotepath: str):
    r = hooked
    r.git("config", "core.quotepath", quotepath)
    a, b, c = r.flow("a"), r.flow("b"), r.flow("c")
    r.write("flows/with space/my flow.py", flow_source(a))
    r.write(f"{UNICODE_DIR}/{UNICODE_FILE}", flow_source(b))
    r.write("flows/日本/\u00e9t\u00e9 [x].py", flow_source(c))  # and brackets: not rich markup
    r.commit()
    plan = r.cli("plan", "--ref", "main", "--json")
    ok(plan)
    rows = {row["flow"]: row["entrypoint"] for row in json.loads(plan.stdout)["actions"]}
    want = {a: f"flows/with space/my flow.py:{fn(a)}", b: f"{UNICODE_DIR}/{UNICODE_FILE}:{fn(b)}",
            c: f"flows/日本/\u00e9t\u00e9 [x].py:{fn(c)}"}
    assert rows == want
    proc = ok(push(r, "origin", "main"))
    assert all(f"{name}/main" in proc.stderr for name in want)  # the table
    got = deployments(r.uid)
    assert {n.split("/")[0]: d.entrypoint for n, d in got.items()} == want
    r.git("mv", f"{UNICODE_DIR}/{UNICODE_FILE}", f"{UNICODE_DIR}/ö neu.py")
    r.commit()
    proc = ok(push(r, "origin", "main"))
    assert deployments(r.uid)[f"{b}/main"].entrypoint == f"{UNICODE_DIR}/ö neu.py:{fn(b)}"
    assert f"renamed from {UNICODE_DIR}/{UNICODE_FILE}" in proc.stderr


def test_file_names_that_are_not_utf8(hooked: Repo):
    """A data file so named is ignored; a flow so named cannot be an entrypoint: one line naming it."""
    r = hooked
    a = r.flow("a")
    r.write("flows/a.py", flow_source(a))
    (r.path / os.fsdecode(b"flows/data-\xff.py")).write_bytes(b"rows = [1, 2]\n")
    r.commit()
    ok(push(r, "origin", "main"))
    assert set(deployments(r.uid)) == {f"{a}/main"}
    (r.path / os.fsdecode(b"flows/caf\xe9.py")).write_bytes(flow_source(r.flow("b")).encode())
    r.commit()
    proc = push(r, "origin", "main")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "flows/caf\\xe9.py" in proc.stderr and "not valid UTF-8" in proc.stderr, proc.stderr
    assert set(deployments(r.uid)) == {f"{a}/main"}
    r.git("mv", os.fsdecode(b"flows/caf\xe9.py"), "flows/cafe.py")  # renamed: then it registers
    sha = r.commit()
    plan = ok(r.cli("plan", "--ref", "main", "--json"))  # the data file is still there: JSON and table cope
    (row,) = json.loads(plan.stdout)["actions"]
    assert (row["flow"], row["entrypoint"]) == (r.flow("b"), f"flows/cafe.py:{fn(r.flow('b'))}")
    ok(push(r, "origin", "main"))
    assert versions(r) == {f"{a}/main": r.sha("HEAD~2"), f"{r.flow('b')}/main": sha}


# --- files that are not Python but end in .py ---

def test_files_ending_in_py_that_are_not_python(hooked: Repo):
    r = hooked
    a = r.flow("a")
    r.write("flows/a.py", flow_source(a))
    garbage = bytes(range(256)) * 4 + b" flow \x00\xff\xfe flow"  # binary, and says "flow"
    (r.path / "flows" / "blob.py").write_bytes(garbage)
    r.write("flows/data.py", "flow,volume\n1,2\n3,(\n")  # CSV named .py
    r.write("flows/notes.py", "# flow notes\n@flow\nnot python at all: {\n")
    (r.path / "flows" / "nul.py").write_bytes(b"flow = 1\x00\x00\n")
    (r.path / "flows" / "prefect_blob.py").write_bytes(b"from prefect import flow\n\xff\xfe\x00 garbage\n")
    r.commit()
    proc = push(r, "origin", "main")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "flows/prefect_blob.py:2: not valid UTF-8" in proc.stderr
    assert deployments(r.uid) == {} and r.remote_has("refs/heads/main") is None
    (r.path / "flows" / "prefect_blob.py").write_bytes(b"from prefect import flow\n\n@flow\ndef x(:\n")
    r.commit()
    proc = push(r, "origin", "main")
    assert proc.returncode == 1 and "flows/prefect_blob.py:4: syntax error" in proc.stderr
    (r.path / "flows" / "prefect_blob.py").unlink()
    sha = r.commit()
    ok(push(r, "origin", "main"))
    assert versions(r) == {f"{a}/main": sha}


# --- a 5 MB flow file ---

def test_a_5_mb_flow_file_registers(hooked: Repo):
    r = hooked
    a = r.flow("big")
    table = "{" + ", ".join(f"'k{i}': [{i}, {i * 2}, 'v{i}']" for i in range(200_000)) + "}"
    source = flow_source(a, params="n: int = 1", extra=f"TABLE = {table}\nBLOB = {'x' * 2_000_000!r}\n")
    assert len(source) > 5_000_000
    r.write("flows/big.py", source)
    sha = r.commit()
    started = time.monotonic()
    ok(push(r, "origin", "main"))
    assert time.monotonic() - started < 60
    d = deployments(r.uid)[f"{a}/main"]
    assert d.version == sha and d.parameter_openapi_schema["properties"]["n"]["type"] == "integer"


# --- flow modules that must never be imported ---

def test_flow_modules_that_run_code_or_hang_when_imported_are_never_imported(hooked: Repo, tmp_path):
    r = hooked
    ran = tmp_path / "ran"
    side, hang, missing = r.flow("side"), r.flow("hang"), r.flow("missing")
    r.write("flows/side.py", flow_source(side, extra=f"open({str(ran / 'module')!r}, 'w').write('imported')"))
    r.write("flows/hang.py", flow_source(hang, extra="while True:\n    pass"))
    r.write("flows/missing.py", flow_source(missing, extra="import nonexistent_module_xyz\nimport boom"))
    r.write("flows/boom.py", f"open({str(ran / 'sibling')!r}, 'w').write('imported')\n")  # a sibling it imports
    # annotations and defaults are read for the parameter schema: they must not run either
    evil = (f"a: open({str(ran / 'annotation')!r}, 'w').write('x') = 1, "
            f"b: __import__('os').system('touch {ran / 'system'}') = 2, "
            "c: [0 for _ in iter(int, 1)] = 3, "
            f"d: int = open({str(ran / 'default')!r}, 'w').write('x')")
    r.write("flows/evil.py", flow_source(r.flow("evil"), params=evil))
    ran.mkdir()
    sha = r.commit()
    ok(push(r, "origin", "main", timeout=120))
    assert sorted(p.name for p in ran.iterdir()) == []
    got = deployments(r.uid)
    assert {n: d.version for n, d in got.items()} == {f"{n}/main": sha for n in (side, hang, missing,
                                                                                  r.flow("evil"))}
    schema = got[f"{r.flow('evil')}/main"].parameter_openapi_schema["properties"]
    assert set(schema) == {"a", "b", "c", "d"} and "type" not in schema["a"]  # untyped, as Prefect falls back


# --- @flow spelled every way, and look-alikes ---

def test_every_flow_spelling_registers_and_look_alikes_do_not(hooked: Repo):
    r = hooked
    u = r.uid
    spellings = {
        "bare.py": f"from prefect import flow\n\n@flow\ndef {u}_bare():\n    return 1\n",
        "called.py": f"from prefect import flow\n\n@flow()\ndef {u}_called():\n    return 1\n",
        "dotted.py": f"import prefect\n\n@prefect.flow(name='{u}-named')\ndef whatever():\n    return 1\n",
        "alias.py": f"from prefect import flow as f\n\n@f(log_prints=True)\ndef {u}_alias():\n    return 1\n",
        "module_alias.py": f"import prefect as pf\n\n@pf.flow\ndef {u}_pf():\n    return 1\n",
        "async.py": f"from prefect import flow\n\n@flow\nasync def {u}_async(n: int = 1):\n    return n\n",
        "flows_module.py": f"from prefect.flows import flow\n\n@flow\ndef {u}_flows_module():\n    return 1\n",
        "guarded.py": ("try:\n    from prefect import flow\nexcept ImportError:\n"
                       f"    def flow(fn):\n        return fn\n\n@flow\ndef {u}_guarded():\n    return 1\n"),
    }
    look_alikes = {
        "local.py": f"import prefect\n\n\ndef flow(fn):\n    return fn\n\n@flow\ndef {u}_local():\n    return 1\n",
        "shadowed.py": (f"from prefect import flow\n\n\ndef flow(fn):  # shadows prefect's\n    return fn\n\n"
                        f"@flow\ndef {u}_shadowed():\n    return 1\n"),
        "task.py": f"from prefect import flow, task\n\n@task\ndef {u}_task():\n    return 1\n",
        "in_class.py": (f"from prefect import flow\n\nclass K:\n    @flow\n    def {u}_method(self):\n"
                       "        return 1\n"),
        "nested.py": (f"from prefect import flow\n\ndef outer():\n    @flow\n    def {u}_nested():\n        return 1\n"
                      f"    return {u}_nested\n"),
        "other_module.py": f"from mylib import flow\nimport prefect\n\n@flow\ndef {u}_other():\n    return 1\n",
        "other_alias.py": f"import mylib as pf\nimport prefect\n\n@pf.flow\ndef {u}_other_alias():\n    return 1\n",
        "scoped_import.py": (f"def setup():\n    from prefect import flow\n\n@flow\ndef {u}_scoped():\n"
                             "    return 1\n"),
    }
    for name, src in {**spellings, **look_alikes}.items():
        r.write(f"flows/{name}", src)
    sha = r.commit()
    proc = ok(push(r, "origin", "main"))
    got = deployments(u)
    assert {n: d.entrypoint for n, d in got.items()} == {
        f"{u}-bare/main": f"flows/bare.py:{u}_bare",
        f"{u}-called/main": f"flows/called.py:{u}_called",
        f"{u}-named/main": "flows/dotted.py:whatever",
        f"{u}-alias/main": f"flows/alias.py:{u}_alias",
        f"{u}-pf/main": f"flows/module_alias.py:{u}_pf",
        f"{u}-async/main": f"flows/async.py:{u}_async",
        f"{u}-flows-module/main": f"flows/flows_module.py:{u}_flows_module",
        f"{u}-guarded/main": f"flows/guarded.py:{u}_guarded",
    }, proc.stderr
    assert all(d.version == sha for d in got.values())
    assert got[f"{u}-async/main"].parameter_openapi_schema["properties"]["n"]["type"] == "integer"
