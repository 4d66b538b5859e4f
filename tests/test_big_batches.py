"""Big batches against the real server: `timeout` bounds a server that stops answering, not the size of the work,
and a batch of more than 50 writes shows its progress. Slowness and hangs come from a real proxy in front of the
session's real Prefect server (faultproxy.py)."""
from __future__ import annotations

import os
import time

import pytest

from conftest import API_URL, POOL, Repo, deployments, flow_source
from faultproxy import FaultProxy, Rule, any_request, deployment_writes

TIMEOUT = 2


@pytest.fixture
def proxy(prefect_server):
    p = FaultProxy(API_URL)
    yield p
    p.stop()


def configure(r: Repo, **extra: object) -> None:
    lines = [f'work-pool = "{POOL}"', f"timeout = {TIMEOUT}", *(f"{k} = {v}" for k, v in extra.items())]
    r.write("pyproject.toml", "[tool.prefect-push]\n" + "\n".join(lines) + "\n")


def flows(r: Repo, n: int) -> list[str]:
    names = [r.flow(f"f{i}") for i in range(n)]
    for i, name in enumerate(names):
        r.write(f"flows/f{i}.py", flow_source(name))
    return names


def progress_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.endswith(" deployments written")]


def test_a_batch_longer_than_timeout_succeeds_and_shows_progress(hooked: Repo, proxy: FaultProxy):
    """60 writes one at a time, each 0.1 s late: at least 6 s of writing under `timeout = 2`. The server answers
    all along, so the push succeeds; stderr is no terminal, so progress comes as plain lines."""
    r = hooked
    configure(r, **{"write-concurrency": 1})
    names = flows(r, 60)
    sha = r.commit()
    proxy.rules.append(Rule(deployment_writes, delay=0.1))
    started = time.monotonic()
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert took > 3 * TIMEOUT  # really longer than `timeout`
    got = deployments(r.uid)
    assert {f"{n}/main" for n in names} <= set(got)
    assert {got[f"{n}/main"].version for n in names} == {sha}
    assert r.remote_has("refs/heads/main") == sha
    lines = progress_lines(proc.stderr)
    # one every ~5 s (writing takes over 6 s: at least one before the end), and the last at the end
    assert len(lines) >= 2, proc.stderr
    assert lines[-1] == "prefect-push: 60/60 deployments written"
    assert all(line.startswith("prefect-push: ") and line.split()[1].endswith("/60") for line in lines)
    assert "\x1b[" not in proc.stderr.split("deployments written")[0]  # no terminal bar in a log


def test_a_small_batch_prints_no_progress(hooked: Repo, proxy: FaultProxy):
    r = hooked
    configure(r)
    flows(r, 4)
    r.commit()
    proxy.rules.append(Rule(deployment_writes, delay=0.1))
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    assert proc.returncode == 0, proc.stderr
    assert progress_lines(proc.stderr) == []


def test_a_server_that_stops_answering_fails_the_push_within_timeout(hooked: Repo, proxy: FaultProxy):
    r = hooked
    configure(r)
    flows(r, 2)
    r.commit()
    proxy.rules.append(Rule(any_request, delay=30))
    started = time.monotonic()
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    took = time.monotonic() - started
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    message = f"Prefect API at {proxy.url} did not answer for {TIMEOUT}s (timeout in [tool.prefect-push])"
    (line,) = [line for line in proc.stderr.splitlines() if "did not answer" in line]  # one line
    assert line.startswith(f"prefect-push: {message}; nothing registered"), proc.stderr
    assert took < TIMEOUT + 10  # bounded by `timeout` (loose: the hook starts Python and imports Prefect first)
    assert r.remote_has("refs/heads/main") is None
    assert deployments(r.uid) == {}


def test_a_server_that_hangs_mid_batch_is_cancelled_and_the_next_push_catches_up(hooked: Repo, proxy: FaultProxy):
    """Answers until the fourth write, then silence: cancelled `timeout` s after the last answer, with what was
    written left in place and the marker unmoved, so the next push writes the rest."""
    r = hooked
    configure(r, **{"write-concurrency": 1})
    names = flows(r, 6)
    sha = r.commit()
    proxy.rules.append(Rule(deployment_writes, delay=30, skip=3))
    started = time.monotonic()
    proc = r.push("main", env={"PREFECT_API_URL": proxy.url})
    took = time.monotonic() - started
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if f"did not answer for {TIMEOUT}s" in line]
    assert "registration incomplete" in line  # writes had started: not "nothing registered"
    assert took < TIMEOUT + 10
    assert r.remote_has("refs/heads/main") is None
    assert len(deployments(r.uid)) == 3
    proc = r.push("main")  # straight to the server, which answers
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert {got[f"{n}/main"].version for n in names} == {sha}


def test_on_a_terminal_progress_is_a_bar_that_is_gone_afterwards(monkeypatch):
    """The bar itself, on a real pseudo-terminal as stderr (a push's stderr is the user's terminal)."""
    import pty
    import select

    from prefect_push import report

    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as tty:
        monkeypatch.setattr("sys.stderr", tty)
        progress = report.WriteProgress()
        progress(0, 80)
        for i in range(1, 81):
            progress(i, 80)
        progress.close()
        tty.flush()
        out = b""
        while select.select([master], [], [], 0.2)[0]:  # everything written, in as many reads as it takes
            out += os.read(master, 1 << 16)
    os.close(master)
    out = out.decode(errors="replace")
    assert "writing deployments" in out and "80/80" in out
    assert "deployments written" not in out  # the bar, not the plain lines
    assert "\x1b[?25h" in out and out.endswith("\x1b[2K")  # stopped: the cursor back, the bar's line erased
