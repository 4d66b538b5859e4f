#!/usr/bin/env python3
"""Set up and run, on a fresh clone with only python3 and git:

    python3 dev.py demo    # a virtualenv in .venv, then the demo (local Prefect server, real pushes, a worker)
    python3 dev.py test    # the same virtualenv with the test extras, then the whole test suite
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
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__)
        return 2
    setup()
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), VIRTUAL_ENV=VENV)
    if argv[0] == "demo":
        return subprocess.call([os.path.join(BIN, "prefect-push"), "demo", *argv[1:]], env=env)
    if argv[0] == "test":
        return subprocess.call([PY, "-m", "pytest", *(argv[1:] or ["-q"])], env=env, cwd=ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
