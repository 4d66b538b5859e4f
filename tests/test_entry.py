"""The command's own surface: --version, what --help lists, and the guard that turns a bug of ours into one line
and a log file (docs/troubleshooting.md). Real git repos; the crash is made by one internal function replaced
with one that raises (the guard is what is tested), never by a hook in the product code."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import BIN, ROOT, Repo, flow_source

SECRET = "hunter2-not-for-terminals"
BOOM = f"boom while reading https://deployer:{SECRET}@git.example.invalid/r.git"


def test_version_is_the_packages_and_imports_nothing_heavy(tmp_path: Path):
    want = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    proc = subprocess.run([str(BIN / "prefect-push"), "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, f"prefect-push {want}\n", "")
    probe = ("import sys; from prefect_push.fast import main; rc = main(['--version']); "
             "print(rc, sorted(m for m in sys.modules if m.startswith(('prefect', 'rich', 'httpx'))))")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.splitlines() == [f"prefect-push {want}", "0 ['prefect_push', 'prefect_push.fast']"], proc.stderr
    # the full parser knows it too (`python -m prefect_push --version`, and the docs' command check)
    proc = subprocess.run([sys.executable, "-c", "from prefect_push.cli import main; main(['--version'])"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout == f"prefect-push {want}\n", proc.stderr


def test_help_does_not_list_the_internal_worker_which_still_parses(tmp_path: Path):
    proc = subprocess.run([str(BIN / "prefect-push"), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0 and "prune" in proc.stdout and "--version" in proc.stdout, proc.stderr
    assert "after-push-worker" not in proc.stdout and "SUPPRESS" not in proc.stdout
    proc = subprocess.run([str(BIN / "prefect-push")], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "after-push-worker" not in proc.stderr  # the usage line of a bare call
    from prefect_push import cli

    args = cli.parser().parse_args(["after-push-worker", "{}"])
    assert (args.func, args.payload) == (cli.cmd_after_push_worker, "{}")


# --- an unexpected exception: one line, exit 1, the traceback in .git/prefect-push/errors.log ---

def _boom(*args, **kwargs):
    raise RuntimeError(BOOM)


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr and SECRET not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _log(r: Repo) -> str:
    text = (r.path / ".git" / "prefect-push" / "errors.log").read_text()
    assert "Traceback" in text and "_boom" in text and "git.example.invalid" in text and SECRET not in text
    return text


def test_a_bug_in_a_command_is_one_line_and_a_log_in_the_clone(repo: Repo, monkeypatch, capsys):
    from prefect_push import cli, run

    r = repo
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    monkeypatch.chdir(r.path)
    monkeypatch.setattr(run, "prepare", _boom)  # one push's path (run.execute), below the guard in cli.main
    assert cli.main(["plan", "--ref", "main"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == ("prefect-push: internal error: RuntimeError: boom while reading "
                    "https://git.example.invalid/r.git (details in .git/prefect-push/errors.log)")
    assert _log(r).count("Traceback") == 1
    # the hook's line says how to push anyway
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"refs/heads/main {r.sha()} refs/heads/main {'0' * 40}\n"))
    assert cli.main(["hook", "origin", r.url]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("prefect-push: internal error: RuntimeError: boom") and line.endswith(
        "(details in .git/prefect-push/errors.log); nothing was registered and the push stops: push again with "
        "PREFECT_PUSH_SKIP=1 to push without registering, `prefect-push register` catches up once fixed")
    assert _log(r).count("Traceback") == 2  # appended


def test_a_bug_during_a_real_push_stops_it_with_one_line_and_skip_gets_through(repo: Repo, tmp_path: Path):
    """git push -> the installed hook -> the console script, in its own processes. The bug is planted by a
    sitecustomize the test puts on PYTHONPATH (Python imports it at start): the product has no hook for it."""
    r = repo
    assert r.cli("install").returncode == 0
    plant = tmp_path / "plant"
    plant.mkdir()
    (plant / "sitecustomize.py").write_text(
        "import prefect_push.run as run\n"
        "def _boom(*args, **kwargs):\n"
        f"    raise RuntimeError({BOOM!r})\n"
        "run.prepare = _boom\n")
    env = {"PYTHONPATH": os.pathsep.join([str(plant), str(ROOT / "src")])}
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    proc = r.push("main", env=env)
    assert proc.returncode != 0 and r.remote_has("refs/heads/main") is None, proc.stderr
    said = [x for x in proc.stderr.splitlines() if x.startswith("prefect-push:")]
    assert len(said) == 1 and said[0].startswith(
        "prefect-push: internal error: RuntimeError: boom while reading https://git.example.invalid/r.git "
        "(details in .git/prefect-push/errors.log); nothing was registered"), proc.stderr
    assert "Traceback" not in proc.stderr and SECRET not in proc.stderr
    _log(r)
    # not blocked for good: the way the line names gets the valid code through, and is remembered
    proc = r.push("main", env={**env, "PREFECT_PUSH_SKIP": "1"})
    assert proc.returncode == 0 and r.remote_has("refs/heads/main") == sha, proc.stderr
    assert "skipped (PREFECT_PUSH_SKIP=1)" in proc.stderr


def test_outside_a_repository_the_traceback_goes_to_a_temp_file_the_line_names(tmp_path: Path):
    probe = ("import sys, prefect_push.cli as cli\n"
             "def _boom(args):\n"
             f"    raise ValueError({BOOM!r})\n"
             "cli.cmd_demo = _boom\n"
             "sys.argv = ['prefect-push', 'demo']\n"
             "from prefect_push.fast import run\n"
             "run()\n")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent), "TMPDIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    line = _one_line(proc.stderr)
    head = "prefect-push: internal error: ValueError: boom while reading https://git.example.invalid/r.git (details in "
    assert line.startswith(head) and line.endswith(")"), line
    log = Path(line[len(head):-1])
    assert log.parent == tmp_path and log.name.startswith("prefect-push-error-")
    text = log.read_text()
    assert "Traceback" in text and "_boom" in text and SECRET not in text


@pytest.mark.parametrize("secret_var", ["PREFECT_API_KEY", "PREFECT_API_AUTH_STRING"])
def test_credential_settings_never_reach_the_line_or_the_log(secret_var: str, repo: Repo, monkeypatch, capsys):
    from prefect_push import cli, run

    r = repo
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    monkeypatch.chdir(r.path)
    monkeypatch.setenv(secret_var, "pnu_verysecretkey")

    def leak(*args, **kwargs):
        raise RuntimeError("header Authorization: Bearer pnu_verysecretkey refused")

    monkeypatch.setattr(run, "prepare", leak)
    assert cli.main(["plan", "--ref", "main"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "pnu_verysecretkey" not in line and f"Bearer <{secret_var}>" in line
    assert "pnu_verysecretkey" not in (r.path / ".git" / "prefect-push" / "errors.log").read_text()


def test_a_bug_met_while_registering_is_said_as_one_and_recorded_like_an_outage(hooked: Repo, monkeypatch, capsys):
    """Inside the registration a bug is not "Prefect API … failed": it says internal error and names the log; the
    refs are recorded as missed as for an outage (the next push catches up), and on-error decides as for one."""
    from prefect_push import cli, registrar

    r = hooked
    r.write("flows/a.py", flow_source(r.flow("a")))
    r.commit()
    monkeypatch.chdir(r.path)
    monkeypatch.setattr(registrar, "writers_for", _boom)
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"refs/heads/main {r.sha()} refs/heads/main {'0' * 40}\n"))
    assert cli.main(["hook", "origin", r.url]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("prefect-push: internal error: RuntimeError: boom while reading "
                           "https://git.example.invalid/r.git (details in .git/prefect-push/errors.log); "
                           "nothing registered, markers did not move"), line
    _log(r)
    assert "refs/heads/main" in (r.path / ".git" / "prefect-push" / "pending.json").read_text()
    monkeypatch.undo()
    proc = r.push("main")  # the bug gone (fixed), the next push registers what was missed
    assert proc.returncode == 0, proc.stderr
    from conftest import deployments

    assert f"{r.flow('a')}/main" in deployments(r.uid)


def test_a_bug_in_the_background_worker_is_a_failed_result_the_next_push_shows(repo: Repo, monkeypatch, capsys):
    import json

    from prefect_push import afterpush, cli

    r = repo
    r.write("flows/a.py", flow_source(r.flow("a")))
    sha = r.commit()
    monkeypatch.chdir(r.path)
    monkeypatch.setattr(afterpush, "wait_for_remote", _boom)
    payload = {"updates": [{"local_ref": "refs/heads/main", "local_sha": sha, "remote_ref": "refs/heads/main",
                            "remote_sha": "0" * 40}], "remote": "origin", "url": r.url, "wait": 1}
    assert cli.main(["after-push-worker", json.dumps(payload)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and SECRET not in err and "internal error: RuntimeError: boom" in err
    _log(r)
    shown = afterpush.announce_last(str(r.path))  # not "still running" for ever
    assert shown is not None and shown.startswith("last background registration of refs/heads/main: failed: "
                                                  "internal error: RuntimeError: boom"), shown
