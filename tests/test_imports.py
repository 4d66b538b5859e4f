"""imports.affected against real git repositories: which unchanged flow files a push changes through imports."""
from __future__ import annotations

import subprocess
import time

import pytest

from prefect_push import git
from prefect_push.read import imports
from prefect_push.read.imports import affected

FLOW = "from prefect import flow\n{imports}\n\n@flow\ndef main():\n    return 1\n"


@pytest.fixture(autouse=True, params=[2, 0, 99], ids=["grep-then-memory", "memory", "grep"])
def rounds(request, monkeypatch):
    """Every case both ways: found by git grep, and searched in memory (what long import chains switch to)."""
    if request.param != 2 and request.node.name.startswith("test_timing"):
        pytest.skip("timed once")
    monkeypatch.setattr(imports._Corpus, "GREP_ROUNDS", request.param)


def is_flow(path: str) -> bool:
    """What the engine passes (config.selects and friends): here flows/*.py but for the helpers beside them."""
    name = path.rpartition("/")[2]
    return path.startswith("flows/") and name.endswith(".py") and not name.startswith(("helpers", "__init__"))


def setup(repo, files: dict[str, str]) -> str:
    for path, text in files.items():
        repo.write(path, text)
    return repo.commit("base")


def run(repo, base: str, data_deps=()) -> dict[str, str]:
    head = repo.sha()
    return affected(git.changed_paths(base, head, str(repo.path)), head, str(repo.path), is_flow, data_deps)


def flow(imports: str) -> str:
    return FLOW.format(imports=imports)


def test_relative_helper_change_affects_the_flow(repo):
    base = setup(repo, {"flows/a.py": flow("from .helpers import x"), "flows/b.py": flow(""),
                        "flows/c.py": flow("from . import helpers"), "flows/helpers.py": "x = 1\n"})
    repo.write("flows/helpers.py", "x = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/a.py": "changed: flows/helpers.py", "flows/c.py": "changed: flows/helpers.py"}


def test_import_pkg_mod(repo):
    base = setup(repo, {"flows/a.py": flow("import pkg.mod"), "pkg/__init__.py": "", "pkg/mod.py": "y = 1\n",
                        "flows/b.py": flow("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                           "    try:\n        import pkg.mod as m\n    except ImportError:\n        pass"),
                        "flows/c.py": flow("import pkg")})  # pkg/__init__.py does not import mod
    repo.write("pkg/mod.py", "y = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/a.py": "changed: pkg/mod.py", "flows/b.py": "changed: pkg/mod.py"}


def test_from_pkg_import_mod(repo):
    base = setup(repo, {"flows/a.py": flow("def f():\n    from pkg import mod"), "pkg/__init__.py": "",
                        "pkg/mod.py": "y = 1\n", "pkg/other.py": "z = 1\n"})
    repo.write("pkg/mod.py", "y = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/a.py": "changed: pkg/mod.py"}
    base = repo.sha()
    repo.write("pkg/other.py", "z = 2\n")  # a sibling the flow does not import
    repo.commit()
    assert run(repo, base) == {}


def test_package_init_change(repo):
    base = setup(repo, {"flows/a.py": flow("from pkg.mod import y"), "flows/b.py": flow("import pkgx"),
                        "pkg/__init__.py": "", "pkg/mod.py": "y = 1\n", "pkgx.py": "",
                        "flows/__init__.py": "", "flows/c.py": flow("from . import thing")})
    repo.write("pkg/__init__.py", "VERSION = 2\n")
    repo.write("flows/__init__.py", "thing = 2\n")  # `from . import thing` names no package: found by its `from .`
    repo.commit()
    assert run(repo, base) == {"flows/a.py": "changed: pkg/__init__.py", "flows/c.py": "changed: flows/__init__.py"}


def test_transitive_chain(repo):
    base = setup(repo, {"flows/a.py": flow("from .helpers import h"), "flows/helpers.py": "from lib.util import u\nh = u\n",
                        "lib/__init__.py": "", "lib/util.py": "from .deep import d\nu = d\n", "lib/deep.py": "d = 1\n",
                        "flows/z.py": flow("import flows_unrelated")})
    repo.write("lib/deep.py", "d = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/a.py": "changed: lib/deep.py"}


def test_deleted_and_renamed_helpers_count(repo):
    base = setup(repo, {"flows/a.py": flow("from .helpers import x"), "flows/b.py": flow("import tools"),
                        "flows/helpers.py": "x = 1\n", "tools.py": "t = 1\n# a body long enough to be a rename\n" * 5})
    repo.git("rm", "-q", "flows/helpers.py")
    repo.git("mv", "tools.py", "tools2.py")
    repo.commit()
    changes = git.changed_paths(base, repo.sha(), str(repo.path))
    assert {c.status for c in changes} == {"D", "R"}
    assert run(repo, base) == {"flows/a.py": "changed: flows/helpers.py", "flows/b.py": "changed: tools.py"}


def test_unrelated_and_same_named_module_elsewhere_affect_nothing(repo):
    base = setup(repo, {"flows/a.py": flow("from .helpers import x"), "flows/helpers.py": "x = 1\n",
                        "other/helpers.py": "x = 1\n", "other/unrelated.py": "u = 1\n"})
    repo.write("other/helpers.py", "x = 2\n")
    repo.write("other/unrelated.py", "u = 2\n")
    repo.commit()
    assert run(repo, base) == {}


def test_a_changed_flow_file_is_not_returned_but_its_importers_are(repo):
    base = setup(repo, {"flows/a.py": flow("from .helpers import x"), "flows/helpers.py": "x = 1\n",
                        "flows/b.py": flow("from a import main as other")})
    repo.write("flows/helpers.py", "x = 2\n")
    repo.write("flows/a.py", flow("from .helpers import x\n# edited"))
    repo.commit()
    assert run(repo, base) == {"flows/b.py": "changed: flows/a.py"}


def test_data_dep(repo):
    base = setup(repo, {"flows/etl.py": flow(""), "flows/other.py": flow(""), "sql/q.sql": "select 1\n"})
    repo.write("sql/q.sql", "select 2\n")
    repo.commit()
    deps = [("sql/*.sql", ["flows/etl.py"]), ("docs/**", ["flows/*.py"])]
    assert run(repo, base, deps) == {"flows/etl.py": "changed: sql/q.sql"}
    assert run(repo, base) == {}


def test_syntax_error_importer_is_skipped(repo):
    base = setup(repo, {"flows/a.py": "from .helpers import x\ndef broken(:\n", "flows/b.py": flow("import helpers"),
                        "flows/helpers.py": "x = 1\n"})
    repo.write("flows/helpers.py", "x = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/b.py": "changed: flows/helpers.py"}


def test_no_py_change_runs_no_git(repo, monkeypatch):
    base = setup(repo, {"flows/a.py": flow(""), "README.md": "x\n"})
    repo.write("README.md", "y\n")
    repo.commit()
    head = repo.sha()
    changes = git.changed_paths(base, head, str(repo.path))

    def no_git(*args, **kw):
        raise AssertionError("git was run")

    monkeypatch.setattr(subprocess, "run", no_git)
    assert affected(changes, head, str(repo.path), is_flow, [("sql/*.sql", ["flows/*.py"])]) == {}


def test_odd_file_names(repo):
    base = setup(repo, {"flows/we ird*.py": flow("import helpers"), "flows/helpers.py": "x = 1\n"})
    repo.write("flows/helpers.py", "x = 2\n")
    repo.commit()
    assert run(repo, base) == {"flows/we ird*.py": "changed: flows/helpers.py"}


def test_timing_on_a_2000_file_repo(repo):
    """Printed, not asserted: the cost `affected` adds to a one-file push in a 2,000-file repository."""
    files = {}
    for d in range(40):
        for i in range(45):
            files[f"lib{d}/mod{i}.py"] = f"import os\nfrom lib{d} import mod{(i + 1) % 45}\n" + "x = 1\n" * 40
        files[f"lib{d}/__init__.py"] = ""
    for i in range(200):
        files[f"flows/f{i}.py"] = flow(f"from lib{i % 40} import mod{i % 45}\nimport helpers{i % 20}")
    for i in range(20):
        files[f"flows/helpers{i}.py"] = "import json\n"
    base = setup(repo, files)
    repo.write("flows/f7.py", flow("# one flow edited"))
    repo.commit()
    head, cwd = repo.sha(), str(repo.path)
    changes = git.changed_paths(base, head, cwd)
    best = min(_timed(lambda: affected(changes, head, cwd, is_flow)) for _ in range(5))
    print(f"\naffected() on {len(files) + 1} files, one flow changed: {best * 1000:.1f} ms")
    repo.write("flows/helpers3.py", "import json, sys\n")
    repo.commit()
    changes = git.changed_paths(head, repo.sha(), cwd)
    result = affected(changes, repo.sha(), cwd, is_flow)
    best = min(_timed(lambda: affected(changes, repo.sha(), cwd, is_flow)) for _ in range(5))
    print(f"affected() one helper changed: {best * 1000:.1f} ms, {len(result)} flows affected")
    assert len(result) == 10


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
