"""Real code nobody here wrote: every .py file of the test virtualenv's site-packages (and a fixed sample of the
standard library) read as a flow-repository file, its top package as the repository, every module-level function
read as if it were a flow (tests/realcode.py appends `_pp_N = flow(function)`, so read_flows runs its own path:
context, constants, parameters; then schema.py builds each schema). No exception may escape, and a tripwire
(an audit hook in the reading subprocess) proves nothing read is imported or run. Prints the counts and the time
per file; docs/flows-and-schemas.md "Measured on real code" quotes them.
"""
from __future__ import annotations

import os
import random
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from realcode import run

SITE = Path(sysconfig.get_paths()["purelib"])
STDLIB = Path(sysconfig.get_paths()["stdlib"])
SEED = 21
STDLIB_SAMPLE = 1500  # of ~13,000 stdlib files (its test suite is most of them): a fixed-seed sample, for time
WORKERS = 2


def python_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                  if "__pycache__" not in p.parts and "site-packages" not in p.relative_to(root).parts)




def read_all(root: Path, files: list[str], tmp: Path) -> dict:
    chunks = [files[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(pool.map(lambda ic: run("read", {"root": str(root), "files": ic[1]}, tmp, f"read{ic[0]}"),
                              enumerate(chunks)))
    return {"files": sum(p["files"] for p in parts), "functions": sum(p["functions"] for p in parts),
            "ms": sorted(ms for p in parts for ms in p["ms"]), "errors": [e for p in parts for e in p["errors"]],
            "violations": [v for p in parts for v in p["violations"]]}


def summary(label: str, got: dict, seconds: float) -> str:
    ms = got["ms"]
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))] if ms else 0.0
    return (f"{label}: {got['files']} files read, {got['functions']} functions read as flows, "
            f"{seconds:.0f} s wall ({sum(ms) / 1000:.0f} s reading), {sum(ms) / max(len(ms), 1):.1f} ms per file "
            f"mean, p99 {p99:.0f} ms, max {ms[-1] if ms else 0:.0f} ms; {len(got['errors'])} escaped, "
            f"{len(got['violations'])} tripwire")


@pytest.mark.parametrize("where", ["site-packages", "stdlib"])
def test_every_file_is_read_without_an_escape_and_without_running_it(where, tmp_path):
    root = SITE if where == "site-packages" else STDLIB
    files = python_files(root)
    if where == "stdlib":
        files = sorted(random.Random(SEED).sample(files, min(STDLIB_SAMPLE, len(files))))
    assert len(files) > (1000 if where == "stdlib" else 3000), f"{root}: too few files to mean anything"
    start = time.perf_counter()
    got = read_all(root, files, tmp_path)
    line = summary(where, got, time.perf_counter() - start)
    print("\n" + line)
    (tmp_path / "summary.txt").write_text(line)
    assert got["files"] == len(files)
    assert got["violations"] == [], got["violations"][:20]
    assert got["errors"] == [], "\n".join(got["errors"][:40])


VICTIM = '''
import os
open(os.path.join(os.path.dirname(__file__), "ran"), "w").write("ran")
'''
ANNOTATION = '''
from prefect import flow

@flow
def f(x: open("ran", "w") = None): ...
'''


@pytest.mark.parametrize("kind, caught", [
    ("import", "exec of {root}/victim/__init__.py"),  # importlib.import_module: the module's code runs
    ("exec_module", "exec of {root}/victim/mod.py"),  # as Prefect's load_script_as_module loads a flow file
    ("exec_text", "exec of victim/mod.py"), ("exec_string", "exec of <string>"),
    ("subprocess", "subprocess.Popen"), ("socket", "socket.connect"),
    ("annotation", "open 'ran' for writing"),  # the annotation eval is allowed; what it would do is not
])
def test_the_tripwire_fires_on_a_reader_that_runs_what_it_reads(kind, caught, tmp_path):
    """Negative controls: the same subprocess and tripwire, with a reader that does run the file (or an
    annotation check switched off, so the eval reaches `open(..., "w")`): each one is caught."""
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "__init__.py").write_text("")
    (tmp_path / "victim" / "mod.py").write_text(ANNOTATION if kind == "annotation" else VICTIM)
    got = run("read", {"root": str(tmp_path), "files": ["victim/mod.py"], "control": kind}, tmp_path, kind)
    assert got["violations"] and got["violations"][0].startswith(caught.format(root=tmp_path)), got["violations"]
    assert not (tmp_path / "victim" / "ran").exists() and not (tmp_path / "ran").exists()


def test_the_tripwire_is_quiet_on_the_real_reader_of_the_same_files(tmp_path):
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "__init__.py").write_text("")
    (tmp_path / "victim" / "mod.py").write_text(ANNOTATION)
    got = run("read", {"root": str(tmp_path), "files": ["victim/mod.py"], "control": "clean"}, tmp_path, "clean")
    assert got["violations"] == []
    assert sorted(os.listdir(tmp_path / "victim")) == ["__init__.py", "mod.py"]
