"""Parity with `prefect deploy`: what prefect-push registers for each flow of tests/parity_corpus is what Prefect
itself computes from the same file, checked against the real server, not asserted by hand.

The corpus is pushed through the installed hook to the session's real server; Prefect's own
load_flow_from_entrypoint + parameter_schema run over the same checkout in a subprocess (the user code runs
there, as `prefect deploy` runs it, never in the product). The documented limits (docs/flows-and-schemas.md)
are listed in LIMITS: each must still differ, in exactly the parameters named, so the list cannot rot.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import POOL, Repo

CORPUS = Path(__file__).parent / "parity_corpus"
FILES = sorted(p.relative_to(CORPUS).as_posix() for p in (CORPUS / "flows").glob("*.py"))

# entrypoint -> the parameters whose schema differs, and why (each row is a limit the docs list)
LIMITS = {
    "flows/limits_decorator.py:timed_job": ({"n", "label", "args", "kwargs"},
                                            "a decorator without functools.wraps: Prefect sees the wrapper's *args, "
                                            "**kwargs; prefect-push reads the function as written"),
    "flows/limits_calls.py:export": ({"bucket", "region", "state"},
                                     "defaults computed by calls (a helper, os.environ.get) and a model from an "
                                     "installed package (prefect's StateType): not run, not imported"),
}

# entrypoint -> (flow name prefect-push registers, the one Prefect gives): the wrapper's __name__ names it there
NAME_LIMITS = {"flows/limits_decorator.py:timed_job": ("timed-job", "wrapper")}

# Prefect's side, in a subprocess: every module-level flow of each corpus file, as `prefect deploy` would load it
PREFECT_SIDE = r"""
import json, sys
from prefect.flows import Flow, load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema
from prefect.utilities.importtools import load_script_as_module

out = {}
for path in sys.argv[1:]:
    try:
        module = load_script_as_module(path)
    except Exception as exc:
        out[path] = {"error": repr(exc)}
        continue
    for name, obj in vars(module).items():
        if isinstance(obj, Flow) and getattr(obj.fn, "__module__", None) == module.__name__:
            flow = load_flow_from_entrypoint(f"{path}:{name}", use_placeholder_flow=False)
            out[f"{path}:{name}"] = {"flow": flow.name,
                                     "schema": parameter_schema(flow).model_dump(mode="json", exclude_unset=True)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def corpus(prefect_server, tmp_path_factory) -> Repo:
    """The corpus in a repository with a bare remote, pushed once through the installed hook."""
    base = tmp_path_factory.mktemp("parity")
    remote, work = base / "remote.git", base / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    shutil.copytree(CORPUS, work, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    r = Repo(work, remote, "p" + uuid.uuid4().hex[:8])
    r.git("remote", "add", "origin", r.url)
    # {file}: flows/hello_eu.py and flows/hello_us.py both define flow `hello`, as distinct deployments
    r.write("pyproject.toml", f'[tool.prefect-push]\nwork-pool = "{POOL}"\ndeployment-name = "{{ref}}-{{file}}"\n')
    assert r.cli("install").returncode == 0
    r.commit("corpus")
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    return r


@pytest.fixture(scope="module")
def prefects(corpus: Repo) -> dict[str, dict]:
    """entrypoint -> {"flow": its flow name, "schema": its parameter schema}, as Prefect itself computes them."""
    proc = subprocess.run([sys.executable, "-c", PREFECT_SIDE, *FILES], cwd=corpus.path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.splitlines()[-1])
    assert not [v for v in got.values() if "error" in v], got  # every corpus file is one Prefect can import
    return got


@pytest.fixture(scope="module")
def registered(corpus: Repo, prefects: dict[str, dict]) -> dict[str, tuple[str, dict]]:
    """entrypoint -> (flow/deployment, the parameter schema the server holds), for this repository's deployments."""
    from prefect.client.orchestration import get_client

    out = {}
    with get_client(sync_client=True) as client:
        # the session's server holds every test's deployments: page through them all, ours are the ones that clone
        # this corpus
        deployments, offset = [], 0
        while page := client.read_deployments(limit=200, offset=offset):
            deployments += page
            offset += len(page)
        for d in deployments:
            clone = (d.pull_steps or [{}])[0].get("prefect.deployments.steps.git_clone", {})
            if clone.get("repository") == corpus.url:
                out[d.entrypoint] = (f"{client.read_flow(d.flow_id).name}/{d.name}", d.parameter_openapi_schema)
    return out


def test_the_flows_registered_are_the_flows_prefect_can_name(prefects, registered):
    assert sorted(registered) == sorted(prefects)
    names = {e: (registered[e][0].split("/")[0], prefects[e]["flow"]) for e in prefects}
    assert {e: pair for e, pair in names.items() if pair[0] != pair[1]} == NAME_LIMITS
    # one flow name in two files, two deployment names: both registered, no collision
    assert {registered[f"flows/hello_{x}.py:hello"][0] for x in ("eu", "us")} == {"hello/main-hello_eu",
                                                                                 "hello/main-hello_us"}


@pytest.mark.parametrize("path", FILES)
def test_schema_is_prefects_own(path, prefects, registered):
    entrypoints = sorted(e for e in prefects if e.startswith(path + ":"))
    assert entrypoints, f"no flow in {path}"
    for entrypoint in entrypoints:
        theirs, (_, ours) = prefects[entrypoint]["schema"], registered[entrypoint]
        if entrypoint in LIMITS:
            differing = {name for name in {*theirs["properties"], *ours["properties"]}
                         if theirs["properties"].get(name) != ours["properties"].get(name)}
            assert differing == LIMITS[entrypoint][0], f"{entrypoint}: the documented limit changed"
        else:
            assert ours == theirs, entrypoint


def test_parity_over_the_corpus(prefects, registered):
    equal = [e for e in prefects if registered[e][1] == prefects[e]["schema"]]
    assert len(equal) == len(prefects) - len(LIMITS) and len(equal) >= 0.85 * len(prefects)


def test_every_difference_is_said_in_one_line(corpus, prefects, registered):
    """Never a silent difference: a flow whose schema is not Prefect's has its `schema fallback` line, naming its
    file, and the flows whose schema is Prefect's have none."""
    said = [line for proc in corpus.pushes for line in proc.stderr.splitlines() if "schema fallback" in line]
    for entrypoint in prefects:
        path, function = entrypoint.split(":")
        flow = registered[entrypoint][0].split("/")[0]
        lines = [line for line in said if line.startswith(f"prefect-push: {path}:") and f"flow {flow!r}" in line]
        if registered[entrypoint][1] != prefects[entrypoint]["schema"]:
            assert len(lines) == 1, entrypoint
        else:
            assert lines == [], entrypoint
