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
