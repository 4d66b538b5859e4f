"""prefect.yaml wired into registration: a real `git push` through the installed hook registers each entry's
deployments with the settings `prefect deploy --name <entry>` stores, field by field (tests/test_prefect_yaml.py
proves the reader against the real `prefect deploy`; here the same comparison runs against what the push wrote)."""
from __future__ import annotations

import asyncio
import os
import textwrap

import pytest

from conftest import POOL, Repo, deployments
from test_prefect_yaml import ENV, PREFECT_YAML, compare, flow_file, prefect_deploy, read_all, stored, trigger_fields


def setup_repo(r: Repo) -> tuple[str, str]:
    etl, report = r.flow("etl"), r.flow("report")
    r.write("flows/etl.py", flow_file(etl, "etl", "Extract, transform, load."))
    r.write("flows/report.py", flow_file(report, "report", "Weekly report."))
    # a test file defining the same flow name: no collision, and not registered (the entries are the set)
    r.write("tests/test_etl.py", flow_file(etl, "etl", "A test double."))
    r.write("requirements.txt", "")
    return etl, report


SIMPLE = """\
deployments:
  - name: nightly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}, job_variables: {{env: {{TEAM: "{{{{ $TEAM }}}}"}}}}}}
    parameters: {{n: 7}}
    tags: [etl]
    schedules:
      - cron: "30 2 * * *"
        timezone: Europe/Paris
  - name: hourly
    entrypoint: flows/etl.py:etl
    work_pool: {{name: {pool}}}
    parameters: {{n: 1}}
    schedules:
      - interval: 3600
"""


def test_entries_register_on_push(hooked: Repo) -> None:
    r = hooked
    etl, report = setup_repo(r)
    r.write("prefect.yaml", SIMPLE.format(pool=POOL))
    r.commit("prefect.yaml")
    proc = r.push("main", env={"TEAM": "data-eng"})
    assert proc.returncode == 0, proc.stderr
    got = deployments(r.uid)
    assert sorted(got) == [f"{etl}/main-hourly", f"{etl}/main-nightly"], proc.stderr
    nightly = got[f"{etl}/main-nightly"]
    assert nightly.parameters == {"n": 7} and nightly.job_variables == {"env": {"TEAM": "data-eng"}}
    assert "etl" in nightly.tags and "prefect-push" in nightly.tags
    assert [s.active for s in nightly.schedules] == [True]
    assert "prefect.yaml: nightly" in proc.stderr
