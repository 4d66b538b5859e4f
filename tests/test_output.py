"""What a user sees: results on stdout (plan, status, prune, register, release) and the hook's notes on stderr,
tables that fit the terminal (COLUMNS, a real pty) and never wrap off one, and `did you mean` wherever a name
is wrong. Real git repos, the session's real Prefect server, the real console script in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys

from conftest import API_URL, BIN, POOL, Repo
from prefect_push.git import repo_key

SIMPLE = """\
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 7}}
    schedules:
      - cron: "30 2 * * *"
        timezone: Europe/Paris
  - name: hourly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    schedules:
      - interval: 3600
"""


def etl_flow(name: str) -> str:
    return (f"from prefect import flow\n\n\n@flow(name={name!r})\ndef etl(n: int = 1):\n    return n\n")


def yaml_repo(r: Repo) -> str:
    etl = r.flow("etl")
    r.write("flows/etl.py", etl_flow(etl))
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("prefect.yaml")
    return etl






def run(r: Repo, *args: str, columns: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        e["COLUMNS"] = columns
    return subprocess.run([str(BIN / "prefect-push"), *args], cwd=r.path, capture_output=True, text=True,
                          env={**e, **(env or {})})




def rows_of(out: str) -> list[str]:
    """The table's lines under its title."""
    return out.splitlines()[1:]


# `prefect-push plan` of a prefect.yaml push (eight columns when they all fit), as drawn at each width: {uid},
# {old}/{new} (12 or 7 characters) stand for the test's flow prefix and commits
PLAN_AT = {
    80: """\
┏━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ ref  ┃ deployment                 ┃ action       ┃ why                       ┃
┡━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ main │ {uid}-etl/main-nightly │ would update │ changed, since registered │
│      │                            │              │ {old7}                   │
│ main │ {uid}-etl/main-hourly  │ would update │ changed, since registered │
│      │                            │              │ {old7}                   │
└──────┴────────────────────────────┴──────────────┴───────────────────────────┘""",
    100: """\
┏━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ ref  ┃ deployment                 ┃ action       ┃ commit  ┃ why                               ┃
┡━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ main │ {uid}-etl/main-nightly │ would update │ {new7} │ changed, since registered {old7} │
│ main │ {uid}-etl/main-hourly  │ would update │ {new7} │ changed, since registered {old7} │
└──────┴────────────────────────────┴──────────────┴─────────┴───────────────────────────────────┘""",
    140: """\
┏━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ ref  ┃ deployment                 ┃ action       ┃ commit  ┃ schedule                              ┃ why                               ┃
┡━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ main │ {uid}-etl/main-nightly │ would update │ {new7} │ cron 30 2 * * * (Europe/Paris) (live) │ changed, since registered {old7} │
│ main │ {uid}-etl/main-hourly  │ would update │ {new7} │ every 3600s (live)                    │ changed, since registered {old7} │
└──────┴────────────────────────────┴──────────────┴─────────┴───────────────────────────────────────┴───────────────────────────────────┘""",
    200: """\
┏━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
┃ ref             ┃ flow          ┃ deployment                 ┃ action       ┃ commit       ┃ schedule                              ┃ entry                 ┃ why                                    ┃
┡━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┩
│ refs/heads/main │ {uid}-etl │ {uid}-etl/main-nightly │ would update │ {new12} │ cron 30 2 * * * (Europe/Paris) (live) │ prefect.yaml: nightly │ changed, since registered {old12} │
│ refs/heads/main │ {uid}-etl │ {uid}-etl/main-hourly  │ would update │ {new12} │ every 3600s (live)                    │ prefect.yaml: hourly  │ changed, since registered {old12} │
└─────────────────┴───────────────┴────────────────────────────┴──────────────┴──────────────┴───────────────────────────────────────┴───────────────────────┴────────────────────────────────────────┘""",
}


def in_a_terminal(argv: list[str], cwd: object, *, columns: int, env: dict | None = None) -> str:
    """The command's stdout as a real terminal `columns` wide shows it (a pty), colours taken out; COLUMNS unset
    unless `env` sets it."""
    import fcntl
    import pty
    import re
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    proc = subprocess.Popen(argv, cwd=cwd, stdout=slave, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env={**base, "TERM": "xterm-256color", **(env or {})})
    os.close(slave)
    chunks = []
    while select.select([master], [], [], 60)[0]:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(60) == 0, proc.stderr.read()
    return re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode().replace("\r\n", "\n"))


def test_plan_tables_fit_80_100_140_200_columns_a_terminal_and_never_wrap_off_one(hooked: Repo) -> None:
    r = hooked
    etl = yaml_repo(r)
    old = r.sha()
    assert r.push("main").returncode == 0
    r.write("flows/etl.py", etl_flow(etl) + "\n# changed\n")
    new = r.commit("change etl")

    def expected(width: int) -> list[str]:
        return PLAN_AT[width].format(uid=r.uid, old12=old[:12], old7=old[:7], new12=new[:12],
                                     new7=new[:7]).splitlines()

    title = f"prefect-push plan (nothing written) → {API_URL}"
    for width in (80, 100, 140, 200):  # a real terminal of that width
        out = in_a_terminal([str(BIN / "prefect-push"), "plan"], r.path, columns=width)
        assert out.splitlines()[0] == title
        assert rows_of(out) == expected(width), f"at {width} columns:\n{out}"
        assert max(len(line) for line in out.splitlines()) <= width
    # COLUMNS overrides the terminal's own width
    assert rows_of(in_a_terminal([str(BIN / "prefect-push"), "plan"], r.path, columns=200,
                                 env={"COLUMNS": "100"})) == expected(100)
    # off a terminal (a pipe, a CI log, `| less`): every column whole, one line a row; COLUMNS, which git sets to
    # 80 for its hooks even then, does not make it wrap
    for columns in (None, "80"):
        proc = run(r, "plan", columns=columns)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
        assert proc.stdout.splitlines()[0] == title and rows_of(proc.stdout) == expected(200)


def test_results_go_to_stdout_the_hooks_table_and_every_error_to_stderr(hooked: Repo) -> None:
    r = hooked
    a = r.flow("a")
    r.write("flows/a.py", etl_flow(a))
    r.commit()
    # the hook: its table is a note beside git push's own output, on stderr
    proc = r.push("main")
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert f"│ refs/heads/main │ {a} │ {a}/main │ register │" in proc.stderr
    # plan, status, prune and register by hand: the table is the result, on stdout; nothing on stderr
    r.write("flows/a.py", etl_flow(a) + "# changed\n")
    r.commit()
    plan = run(r, "plan")
    assert plan.returncode == 0 and plan.stderr == ""
    assert plan.stdout.splitlines()[0] == f"prefect-push plan (nothing written) → {API_URL}"
    assert f"│ refs/heads/main │ {a} │ {a}/main │ would update │" in plan.stdout
    status = run(r, "status")
    assert status.returncode == 0 and status.stderr == ""
    # `prefect-push status | grep main`
    (line,) = [x for x in status.stdout.splitlines() if "main" in x]
    assert line.startswith(f"│ refs/heads/main │ yes       │ {a}/main │ {r.sha('HEAD~1')[:12]} │ change  │")
    prune = run(r, "prune", "--dry-run")
    assert prune.returncode == 0 and prune.stderr == ""
    assert prune.stdout == (f"prefect-push: nothing to prune: every ref of {repo_key(r.url)} with deployments on "
                            f"{API_URL} is still on origin\n")
    register = run(r, "register", "--ref", "main")
    assert register.returncode == 0 and register.stderr == ""
    assert f"│ refs/heads/main │ {a} │ {a}/main │ update │" in register.stdout
    # errors stay on stderr, whatever the command
    for args in (("plan", "--ref", "nope-nothing-near"), ("status", "--remote", "nowhere-at-all")):
        proc = run(r, *args)
        assert proc.returncode == 1 and proc.stdout == "" and proc.stderr.startswith("prefect-push: "), proc


def test_a_wrong_name_gets_did_you_mean_and_a_refused_push_says_nothing_was_registered(hooked: Repo) -> None:
    r = hooked
    pool = f"{r.uid}-pool"
    subprocess.run([str(BIN / "prefect"), "work-pool", "create", pool, "--type", "process"], check=True,
                   capture_output=True)
    a = r.flow("a")
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{r.uid}-pol"\n')
    r.write("flows/a.py", etl_flow(a))
    sha = r.commit()
    # a missing work pool names the server's pool of a near name, and the command that creates it
    missing = (f"prefect-push: pyproject.toml at {sha[:12]}: work-pool '{r.uid}-pol' does not exist on {API_URL} "
               f"(did you mean '{pool}'?); create it with `prefect work-pool create {r.uid}-pol --type process` "
               f"(needed by flows/a.py (flow '{a}', runtime 'default'))")
    proc = r.push("main")
    assert proc.returncode != 0 and r.remote_has("refs/heads/main") is None
    assert [x for x in proc.stderr.splitlines() if x.startswith("prefect-push:")] == [
        missing, "prefect-push: nothing was registered"], proc.stderr
    proc = run(r, "register", "--ref", "main")
    assert (proc.returncode, proc.stdout, proc.stderr.splitlines()) == (
        1, "", [missing, "prefect-push: nothing was registered"])
    proc = run(r, "plan", "--ref", "main")  # a dry run registers nothing by definition: no closing line
    assert (proc.returncode, proc.stderr.splitlines()) == (1, [missing])

    # a misspelt [tool.prefect-push] setting: the one it resembles, not all 26
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pol = "{pool}"\n')
    sha = r.commit()
    proc = r.push("main")
    assert [x for x in proc.stderr.splitlines() if x.startswith("prefect-push:")] == [
        f"prefect-push: pyproject.toml at {sha[:12]}: unknown setting 'work-pol' in [tool.prefect-push] "
        "(did you mean 'work-pool'?)", "prefect-push: nothing was registered"], proc.stderr

    # a prefect.yaml entry's work pool
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{pool}"\n')
    r.write("prefect.yaml", f"deployments:\n  - name: nightly\n    entrypoint: flows/a.py:etl\n"
                            f"    work_pool:\n      name: {r.uid}-pol\n")
    r.commit()
    proc = run(r, "register", "--ref", "main")
    assert (proc.returncode, proc.stderr.splitlines()) == (1, [
        f"prefect-push: prefect.yaml:5: deployment 'nightly': work-pool '{r.uid}-pol' does not exist on {API_URL} "
        f"(did you mean '{pool}'?); create it with `prefect work-pool create {r.uid}-pol --type process`",
        "prefect-push: nothing was registered"]), proc.stderr

    # a tag, a ref and a remote named by hand
    r.git("tag", "v1.2.0")
    proc = run(r, "release", "v1.2.O")
    assert (proc.returncode, proc.stderr.splitlines()) == (1, [
        "prefect-push: 'v1.2.O' is not a tag in this clone (did you mean 'v1.2.0'?) (`git fetch --tags`, or "
        "`git tag` lists them)", "prefect-push: nothing was registered"])
    proc = run(r, "register", "--ref", "mian")
    assert (proc.returncode, proc.stderr.splitlines()) == (1, [
        "prefect-push: --ref 'mian' is not a branch or tag in this clone (nor on origin) (did you mean 'main'?); "
        "pass --to SHA to say which commit it points at", "prefect-push: nothing was registered"])
    for command in ("status", "prune"):
        proc = run(r, command, "--remote", "orign")
        assert (proc.returncode, proc.stderr.splitlines()) == (1, [
            "prefect-push: remote 'orign' is not configured in this repository (did you mean 'origin'?) "
            "(git remote -v lists them)"])


# `prefect-push status` of docs/status-and-prune.md's example (tests/test_docs_pages.py's data) in a terminal of
# each width; at 140 and more it is the page's table
STATUS_AT = {
    80: """\
┏━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━┓
┃ ref                ┃ on remote ┃ deployment          ┃ tag  ┃ age    ┃
┡━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━┩
│ feature/new-etl    │ gone      │ etl/feature-new-etl │      │ 2d ago │
├────────────────────┼───────────┼─────────────────────┼──────┼────────┤
│ main               │ yes       │ etl/main            │      │ 3h ago │
│                    │           │ report/main         │      │ 3h ago │
├────────────────────┼───────────┼─────────────────────┼──────┼────────┤
│ release:production │ yes       │ etl/production      │ v1.1 │ 1h ago │
│                    │           │ report/production   │ v1.0 │ 9d ago │
└────────────────────┴───────────┴─────────────────────┴──────┴────────┘""",
    100: """\
┏━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━┓
┃ ref                ┃ on remote ┃ deployment          ┃ tag  ┃ commit  ┃ age    ┃ work pool ┃
┡━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━┩
│ feature/new-etl    │ gone      │ etl/feature-new-etl │      │ c85d2eb │ 2d ago │ k8s-pool  │
├────────────────────┼───────────┼─────────────────────┼──────┼─────────┼────────┼───────────┤
│ main               │ yes       │ etl/main            │      │ 68e1a4c │ 3h ago │ k8s-pool  │
│                    │           │ report/main         │      │ 68e1a4c │ 3h ago │ k8s-pool  │
├────────────────────┼───────────┼─────────────────────┼──────┼─────────┼────────┼───────────┤
│ release:production │ yes       │ etl/production      │ v1.1 │ 9b07d3e │ 1h ago │ k8s-pool  │
│                    │           │ report/production   │ v1.0 │ 68e1a4c │ 9d ago │ k8s-pool  │
└────────────────────┴───────────┴─────────────────────┴──────┴─────────┴────────┴───────────┘""",
    140: """\
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━┳━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━━━┓
┃ ref                        ┃ on remote ┃ deployment          ┃ tag  ┃ commit       ┃ subject                  ┃ age    ┃ work pool ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━╇━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━━━┩
│ refs/heads/feature/new-etl │ gone      │ etl/feature-new-etl │      │ c85d2eb5f5f5 │ etl: try a new loader    │ 2d ago │ k8s-pool  │
├────────────────────────────┼───────────┼─────────────────────┼──────┼──────────────┼──────────────────────────┼────────┼───────────┤
│ refs/heads/main            │ yes       │ etl/main            │      │ 68e1a4c2f85e │ Add etl and report flows │ 3h ago │ k8s-pool  │
│                            │           │ report/main         │      │ 68e1a4c2f85e │ Add etl and report flows │ 3h ago │ k8s-pool  │
├────────────────────────────┼───────────┼─────────────────────┼──────┼──────────────┼──────────────────────────┼────────┼───────────┤
│ release:production         │ yes       │ etl/production      │ v1.1 │ 9b07d3e1a4c2 │ etl: load incrementally  │ 1h ago │ k8s-pool  │
│                            │           │ report/production   │ v1.0 │ 68e1a4c2f85e │ Add etl and report flows │ 9d ago │ k8s-pool  │
└────────────────────────────┴───────────┴─────────────────────┴──────┴──────────────┴──────────────────────────┴────────┴───────────┘""",
}

DRAW_STATUS = """
import sys
sys.path.insert(0, "tests")
from test_docs_pages import _example_data
from prefect_push import status
from prefect_push.report import render_status
now, registered, remote_refs, subjects = _example_data()
render_status({"api_url": "http://prefect:4200/api", "repository": "github.com/acme/flows", "remote": "origin",
               "refs": status.status_rows(status.by_ref(registered, remote_refs), subjects, now), "after_push": None})
"""


def test_the_status_table_at_80_100_140_and_200_columns_of_a_terminal() -> None:
    """The real renderer in a real terminal (a pty), on fixed data: what matters least goes first (work pool,
    subject, commit), refs lose refs/heads/, commits shorten to 7; from 140 columns on, the whole table."""
    from conftest import ROOT

    page = (ROOT / "docs" / "status-and-prune.md").read_text()
    for width in (80, 100, 140, 200):
        out = in_a_terminal([sys.executable, "-c", DRAW_STATUS], ROOT, columns=width)
        assert out.splitlines()[0] == "prefect-push status: github.com/acme/flows → http://prefect:4200/api"
        assert rows_of(out) == STATUS_AT[min(width, 140)].splitlines(), f"at {width} columns:\n{out}"
        assert max(len(line) for line in out.splitlines()) <= width
    assert STATUS_AT[140] in page
