"""The import closure (imports.affected) on code nobody here wrote: real packages of the test virtualenv, committed
to a real git repository, each file's imports read without an exception escaping, and every file that imports a
changed module by a plain statement found, checked by a reader of another kind (a regular expression over the
text, not ast)."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from prefect_push import git
from prefect_push.read import imports

PACKAGES = ("prefect", "rich", "httpx", "pre_commit")
SAMPLE = 16  # changed modules tried, fixed seed (each closure walks up to the whole tree: ~1-3 s)


@pytest.fixture(scope="module")
def real_repo(tmp_path_factory) -> Path:
    """A git repository whose top-level packages are real installed ones (their .py files only)."""
    import importlib

    root = tmp_path_factory.mktemp("real-imports")
    for name in PACKAGES:
        src = Path(importlib.import_module(name).__file__).parent
        shutil.copytree(src, root / name, ignore=lambda d, names: [n for n in names if n == "__pycache__" or (
            not n.endswith(".py") and not (Path(d) / n).is_dir())])
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "real"]):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def test_every_real_file_s_imports_read_without_an_exception(real_repo: Path):
    files = sorted(p for p in real_repo.rglob("*.py"))
    start = time.perf_counter()
    for path in files:
        imports._deps(str(path.relative_to(real_repo)), path.read_bytes())  # raises on a bug: no guard here
    took = time.perf_counter() - start
    print(f"\nimports read: {len(files)} files of {', '.join(PACKAGES)} in {took:.1f} s")
    assert len(files) > 1000


def _importers_by_text(repo: Path, module: str) -> set[str]:
    """Files whose text imports `module` (a path like rich/console.py) by a plain statement: absolute
    `import a.b` / `from a.b import` / `from a import b`, or relative from the same package."""
    dotted = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    package, _, leaf = dotted.rpartition(".")
    here = str(Path(module).parent)
    absolute = re.compile(rf"^\s*(import\s+{re.escape(dotted)}\b|from\s+{re.escape(dotted)}\s+import\b"
                          rf"|from\s+{re.escape(package)}\s+import\s+(\(\s*)?([\w\s,]*\b)?{re.escape(leaf)}\b)",
                          re.M) if package else re.compile(rf"^\s*(import|from)\s+{re.escape(dotted)}\b", re.M)
    relative = re.compile(rf"^\s*(from\s+\.{re.escape(leaf)}\s+import\b|from\s+\.\s+import\s+(\(\s*)?"
                          rf"([\w\s,]*\b)?{re.escape(leaf)}\b)", re.M)
    out = set()
    for path in repo.rglob("*.py"):
        rel = str(path.relative_to(repo))
        text = path.read_text("utf-8", "replace")
        if absolute.search(text) or (str(path.parent.relative_to(repo)) == here and module.endswith(f"/{leaf}.py")
                                     and relative.search(text)):
            out.add(rel)
    return out - {module}


def test_a_changed_real_module_reaches_every_file_that_imports_it(real_repo: Path):
    commit = git.git("rev-parse", "HEAD", cwd=str(real_repo)).strip()
    modules = sorted(str(p.relative_to(real_repo)) for p in real_repo.rglob("*.py") if p.name != "__init__.py")
    tried, missed = random.Random(7).sample(modules, SAMPLE), {}
    start = time.perf_counter()
    for module in tried:
        unread: list[imports.Unread] = []
        found = imports.affected([git.Change("M", module)], commit, str(real_repo), lambda p: True, (), unread)
        assert unread == []
        lost = _importers_by_text(real_repo, module) - set(found)
        if lost:
            missed[module] = sorted(lost)
    print(f"\nimport closure: {SAMPLE} changed modules of {', '.join(PACKAGES)} (seed 7) in "
          f"{time.perf_counter() - start:.1f} s")
    assert missed == {}


def test_a_file_whose_imports_cannot_be_read_counts_as_importing_what_changed(real_repo: Path, monkeypatch):
    """The guard itself: a bug of ours reading one file (planted) neither escapes nor drops that file."""
    commit = git.git("rev-parse", "HEAD", cwd=str(real_repo)).strip()
    found_before = imports.affected([git.Change("M", "rich/style.py")], commit, str(real_repo), lambda p: True)
    victim = sorted(found_before)[0]
    real = imports._deps

    def broken(path: str, source):
        if path == victim:
            raise RuntimeError("a bug of ours")
        return real(path, source)

    monkeypatch.setattr(imports, "_deps", broken)
    unread: list[imports.Unread] = []
    found = imports.affected([git.Change("M", "rich/style.py")], commit, str(real_repo), lambda p: True, (), unread)
    assert victim in found and set(found_before) <= set(found)
    assert [u.path for u in unread] == [victim] and "RuntimeError: a bug of ours" in unread[0].detail
