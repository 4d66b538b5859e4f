#!/usr/bin/env python3
"""Set up and run, on a fresh clone with only python3 and git:

    python3 dev.py demo    # a virtualenv in .venv, then the demo (local Prefect server, real pushes, a worker)
    python3 dev.py test    # the same virtualenv with the test extras, then the whole test suite
    python3 dev.py compat [VERSION...]  # push to a real server of each Prefect version in compat/matrix.txt
                                        # (each from its own venv), run its worker; prints a results table
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
BIN = os.path.join(VENV, "Scripts" if os.name == "nt" else "bin")
PY = os.path.join(BIN, "python")


def setup() -> None:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(VENV, ".prefect-push-installed")
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    if not os.path.exists(PY):
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing prefect-push and its test extras into .venv (first run: about a minute)", flush=True)
    subprocess.run([PY, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", f"{ROOT}[test]"],
                   check=True)
    with open(stamp, "w") as f:
        f.write(want)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup", "compat"):
        print(__doc__)
        return 2
    if argv[0] == "compat" and any(a.startswith("-") for a in argv[1:]):
        print(__doc__)  # compat takes versions only: `--help` is not one to install
        return 0 if {"-h", "--help"} & set(argv[1:]) else 2
    setup()
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=VENV)
    if argv[0] == "demo":
        return subprocess.call([os.path.join(BIN, "prefect-push"), "demo", *argv[1:]], env=env)
    if argv[0] == "test":
        return subprocess.call([PY, "-m", "pytest", *(argv[1:] or ["-q"])], env=env, cwd=ROOT)
    if argv[0] == "compat":
        return compat(argv[1:], env)
    return 0


def compat(versions: list[str], env: dict[str, str]) -> int:
    """tests/test_compat.py's real-server test against every version given (default: compat/matrix.txt), then a
    markdown table of what each did (docs/server-compatibility.md keeps the last one)."""
    import json
    import tempfile
    import xml.etree.ElementTree as ET

    if not versions:
        with open(os.path.join(ROOT, "compat", "matrix.txt")) as f:
            versions = [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]
    with tempfile.TemporaryDirectory() as tmp:
        results, junit = os.path.join(tmp, "results.jsonl"), os.path.join(tmp, "junit.xml")
        env = dict(env, PREFECT_PUSH_COMPAT_SERVERS=" ".join(versions), PREFECT_PUSH_COMPAT_RESULTS=results)
        rc = subprocess.call([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_compat.py", "-k",
                              "each_server", f"--junitxml={junit}"], env=env, cwd=ROOT)
        got: dict[str, dict[str, str]] = {}
        if os.path.exists(results):
            with open(results) as f:
                for line in f:
                    row = json.loads(line)
                    got.setdefault(row.pop("server"), {}).update(row)
        failures = {}
        if os.path.exists(junit):
            for case in ET.parse(junit).iter("testcase"):
                bad = case.find("failure")
                if bad is None:
                    bad = case.find("error")
                param = case.get("name", "").partition("[")[2].rstrip("]")
                if bad is not None:  # the last exception line (a server's own traceback ends in one), else the message
                    lines = [ln.lstrip("E ").strip() for ln in (bad.text or "").splitlines()]
                    said = [ln for ln in lines if "Error:" in ln and not ln.startswith("assert")]
                    failures[param] = (said[-1] if said else " ".join((bad.get("message") or "").split()))[:150]
    newest = next((v for v in got if v not in versions), None)
    print("\n| server | constraints (compat/) | push: plain hook + pre-commit | that server's worker | note |")
    print("|---|---|---|---|---|")
    for version in ([newest] if newest else []) + versions:
        row = got.get(version, {})
        pins = f"constraints-{version}.txt" if os.path.exists(
            os.path.join(ROOT, "compat", f"constraints-{version}.txt")) else "none"
        note = failures.get("newest" if version == newest else version, row.get("line", ""))
        print(f"| {version} | {pins} | {row.get('push', 'FAILED')} | {row.get('worker', '—')} | "
              f"{note.replace('|', '/')} |")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
