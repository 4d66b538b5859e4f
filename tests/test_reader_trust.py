"""Code nobody here wrote, pushed for real: the shapes met in real repositories register, and the schema is either
Prefect's own (computed by Prefect, importing the file, in a subprocess) or a fallback said in one line."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import Repo, deployments

# Prefect's side: the flow imported as `prefect deploy` imports it, and its parameter schema as deploy sends it
PREFECT_SIDE = r"""
import json, sys
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema

out = {}
for entrypoint in sys.argv[1:]:
    flow = load_flow_from_entrypoint(entrypoint, use_placeholder_flow=False)
    out[entrypoint] = {"flow": flow.name, "schema": parameter_schema(flow).model_dump(mode="json", exclude_unset=True)}
print(json.dumps(out))
"""


def prefects(r: Repo, *entrypoints: str) -> dict[str, dict]:
    proc = subprocess.run([sys.executable, "-c", PREFECT_SIDE, *entrypoints], cwd=r.path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def registered_schema(r: Repo, flow: str) -> dict:
    (d,) = [d for name, d in deployments(r.uid).items() if name.startswith(flow + "/")]
    return d.parameter_openapi_schema


SETTINGS_MODULE = '''import os
import json
import os.path as osp
from dataclasses import dataclass, field

from pydantic import BaseModel, Field


class Settings(BaseModel):
    """Where the job runs."""
    env: str = "dev"
    retries: int = Field(3, ge=0)
    buckets: list[str] = []


@dataclass
class Window:
    days: int = 1
    labels: list[str] = field(default_factory=list)
'''


def test_a_model_from_a_module_that_imports_the_stdlib_registers_with_prefects_schema(hooked: Repo):
    r = hooked
    name = r.flow("settings")
    r.write("orchestration/__init__.py", "")
    r.write("orchestration/config.py", SETTINGS_MODULE)
    r.write("flows/x.py", f'''from prefect import flow
from orchestration.config import Settings, Window


@flow(name={name!r})
def x(settings: Settings, window: Window = Window(), n: int = 1):
    return n
''')
    r.commit("a flow taking a settings model")
    proc = r.push("main")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    theirs = prefects(r, "flows/x.py:x")["flows/x.py:x"]["schema"]
    ours = registered_schema(r, name)
    assert ours == theirs
    assert ours["definitions"]["Settings"]["properties"]["retries"]["minimum"] == 0  # the model was built


def fallback_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if "schema fallback" in line]


NOTIFY_MODULE = '''def notify(fn):
    """Runs the flow, then says so; the inner function takes its own parameters."""
    def inner(x: int = 0, dry_run: bool = False):
        return fn(x, dry_run=dry_run)
    return inner
'''


def test_a_decorator_below_flow_falls_back_and_says_so(hooked: Repo):
    r = hooked
    name = r.flow("notified")
    r.write("orchestration/__init__.py", "")
    r.write("orchestration/alerts.py", NOTIFY_MODULE)
    r.write("flows/run.py", f'''from prefect import flow
from orchestration.alerts import notify


@flow(name={name!r})
@notify
def run(x: int, dry_run=None):
    return x
''')
    r.commit("a flow under a repository decorator")
    proc = r.push("main")
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    theirs = prefects(r, "flows/run.py:run")["flows/run.py:run"]["schema"]
    ours = registered_schema(r, name)
    # Prefect builds the flow from what @notify returns: dry_run=False, x=0; prefect-push cannot know it
    assert theirs["properties"]["dry_run"]["default"] is False
    assert ours != theirs
    (line,) = fallback_lines(proc)
    assert f"flows/run.py:6: flow {name!r}: schema fallback" in line and "@notify below @flow" in line
    # ...and registers what it says: the def's parameters, untyped
    assert ours["properties"] == {"x": {"position": 0, "title": "x"},
                                  "dry_run": {"default": None, "position": 1, "title": "dry_run"}}


def test_a_default_or_annotation_prefect_push_cannot_rebuild_is_said_and_the_rest_is_prefects(hooked: Repo):
    r = hooked
    name = r.flow("calls")
    r.write("flows/calls.py", f'''import os
from prefect import flow


@flow(name={name!r})
def calls(n: int = 1, region: str = os.environ.get("REGION", "eu")):
    return n
''')
    r.commit("a default computed by a call")
    proc = r.push("main")
    assert proc.returncode == 0, proc.stderr
    theirs = prefects(r, "flows/calls.py:calls")["flows/calls.py:calls"]["schema"]
    ours = registered_schema(r, name)
    differing = {k for k in theirs["properties"] if theirs["properties"][k] != ours["properties"].get(k)}
    assert differing == {"region"}
    (line,) = fallback_lines(proc)
    assert f"flows/calls.py:6: flow {name!r}: schema fallback" in line
    assert "region=os.environ.get('REGION', 'eu') is not evaluated (None)" in line


# a bug of ours, injected into the hook's own process: every flow's signature reader raises
INJECTED = '''
import prefect_push.read.context

def _broken(self, nodes):
    raise RuntimeError("injected reader failure")

prefect_push.read.context.Context.of = _broken
'''


def test_an_internal_error_reading_a_flow_never_blocks_the_push(hooked: Repo, tmp_path):
    import os

    r = hooked
    a, b = r.flow("a"), r.flow("b")
    r.write("flows/a.py", f'''from datetime import date
from prefect import flow


@flow(name={a!r})
def a(day: date, n: int = 1, tags: list[str] = ["x"]):
    return n
''')
    r.write("flows/b.py", f"from prefect import flow\n\n\n@flow(name={b!r})\ndef b():\n    return 1\n")
    r.commit("two valid flows")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(INJECTED)
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    proc = r.push("main", env={"PYTHONPATH": path})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "injected" not in proc.stderr
    assert set(deployments(r.uid)) == {f"{a}/main", f"{b}/main"}
    log = ".git/prefect-push/reader-errors.log"
    lines = fallback_lines(proc)
    assert sorted(lines) == sorted([
        f"prefect-push: flows/a.py:6: flow {a!r}: schema fallback, as `prefect deploy` reads a file it cannot import: "
        f"its signature (an internal error) (traceback in {log})",
        f"prefect-push: flows/b.py:5: flow {b!r}: schema fallback, as `prefect deploy` reads a file it cannot import: "
        f"its signature (an internal error) (traceback in {log})"])
    text = (r.path / log).read_text()
    assert "RuntimeError: injected reader failure" in text and "flows/a.py:a" in text
    # as Prefect registers a flow it cannot import: the def's parameters, untyped, literal defaults
    assert registered_schema(r, a)["properties"] == {
        "day": {"position": 0, "title": "day"}, "n": {"default": 1, "position": 1, "title": "n"},
        "tags": {"default": ["x"], "position": 2, "title": "tags"}}


# --- unit tests of the guards, each with a real counterpart above (the injected push) ---

FILE = b'''from prefect import flow

PREFECT_PUSH = {"cron": "0 * * * *"}


@flow(name="etl")
def etl(n: int = 1, when=None):
    return n
'''


def _boom(*args, **kwargs):
    raise RuntimeError("a bug of ours")


def test_a_failing_flow_discovery_reads_the_file_as_prefects_fallback(monkeypatch):
    from prefect_push.read import flows

    monkeypatch.setattr(flows, "_flow_functions", _boom)
    (spec,) = flows.read_flows("flows/etl.py", FILE)
    assert (spec.flow_name, spec.function, spec.line) == ("etl", "etl", 7)
    assert [(p.name, p.annotation, p.default) for p in spec.params] == [("n", None, "1"), ("when", None, "None")]
    (lost,) = spec.fallbacks
    assert lost.what == "which functions are flows (an internal error)" and "RuntimeError: a bug of ours" in lost.detail


def test_a_failing_settings_reader_registers_without_settings_and_says_so(monkeypatch):
    from prefect_push.read import flows, settings

    monkeypatch.setattr(settings, "_settings", _boom)
    (spec,) = flows.read_flows("flows/etl.py", FILE)
    assert spec.settings.cron is None and spec.params[0].annotation == "int"  # the signature is still read
    assert spec.fallbacks[0].what.startswith("PREFECT_PUSH (an internal error)") and spec.fallbacks[0].line == 3


def test_a_failing_schema_builder_falls_back_to_the_untyped_schema(monkeypatch):
    from prefect_push.read import models, schema
    from prefect_push.read.flows import read_flows

    (spec,) = read_flows("flows/etl.py", FILE.replace(b"n: int = 1", b"n: int = 2"))  # not in the cache
    monkeypatch.setattr(models.Namespace, "__init__", _boom)
    got = schema.checked(spec)
    assert got.notes == ("its parameter schema (an internal error)",) and "a bug of ours" in got.detail
    assert got.schema["properties"]["n"] == {"default": 2, "position": 0, "title": "n"}


def test_what_really_is_broken_still_blocks():
    from prefect_push.read.flows import BadFlow, read_flows

    assert isinstance(read_flows("f.py", b"from prefect import flow\n@flow\ndef f(:\n"), BadFlow)
    assert isinstance(read_flows("f.py", FILE.replace(b'"cron"', b'"kron"')), BadFlow)


def test_the_decorator_rule_spares_decorators_above_flow_and_flows_without_any():
    from prefect_push.read.flows import read_flows

    (plain,) = read_flows("f.py", b"from prefect import flow\n@flow\ndef f(n: int = 1): ...\n")
    assert plain.fallbacks == () and plain.params[0].annotation == "int"
    (wrapped,) = read_flows("f.py", b"from prefect import flow\nimport w\n@flow(retries=1)\n@w.retry(3)\n"
                                    b"def f(n: int = 1): ...\n")
    assert wrapped.fallbacks[0].what == "the decorator @w.retry below @flow may change the signature Prefect sees"
    assert wrapped.fallbacks[0].line == 4 and wrapped.params[0].annotation is None
