"""Subprocess side of tests/test_real_code.py and tests/test_real_classes.py: real Python files nobody here wrote
(the test virtualenv's site-packages, the standard library) read by prefect-push as flow-repository files.

    python tests/realcode.py read <job.json>      prefect-push's readers over files, under a tripwire
    python tests/realcode.py ours <job.json>      prefect-push's schema of flow files written by the test
    python tests/realcode.py theirs <job.json>    Prefect's own: public classes of modules, imported for real,
                                                  each as a flow parameter, and parameter_schema(flow)

The job file names the root (a site-packages or stdlib folder) and what to do; the answer is one JSON line.
"""
from __future__ import annotations

import ast
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

FLOW_ALIAS = "_prefect_push_test_flow"


def run(mode: str, job: dict[str, Any], tmp: Path, name: str, timeout: float = 600) -> dict[str, Any]:
    """This file as a subprocess, with the prefect-push the test imports (a worktree's src/ under PYTHONPATH wins
    over the editable install: made absolute, since the subprocess runs in `tmp`)."""
    import subprocess

    import prefect_push

    job_file = tmp / f"{name}.json"
    job_file.write_text(json.dumps(job))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(prefect_push.__file__).resolve().parents[1]), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-W", "ignore", __file__, mode, str(job_file)], capture_output=True,
                          text=True, timeout=timeout, cwd=tmp, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


# --- every module-level function of a file, read as prefect-push reads a flow ---

def as_flows(source: bytes) -> tuple[bytes, int]:
    """The file with `_pp_N = flow(function)` appended for each module-level function Prefect could make a flow
    of: read_flows then reads each as a flow (context, constants, parameters), by the path it reads any flow,
    with no hook in the product. Line numbers are kept (appended at the end). Functions with a parameter whose
    name starts with "_" are left out: Prefect refuses them (pydantic field names), read_flows says so."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source, 0
    names = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
             and not any(a.arg.startswith("_") for a in (*n.args.posonlyargs, *n.args.args, *n.args.kwonlyargs,
                                                         *(x for x in (n.args.vararg, n.args.kwarg) if x)))]
    tail = f"\n\nfrom prefect import flow as {FLOW_ALIAS}\n" + "".join(
        f"_pp_{i} = {FLOW_ALIAS}({name})\n" for i, name in enumerate(dict.fromkeys(names)))
    return source + tail.encode(), len(dict.fromkeys(names))


def modules_of(root: Path, top: str) -> Callable[[list[str]], dict[str, bytes]]:
    """The repository reader: files of the same top package only (the repository is that package)."""
    def read(paths: list[str]) -> dict[str, bytes]:
        out = {}
        for p in paths:
            f = root / p
            if p.split("/")[0] == top and f.is_file():
                out[p] = f.read_bytes()
        return out
    return read


def follow(top: str) -> None:
    """The repository's own top package is followed even where its name is one prefect-push otherwise takes for
    the installed module (prefect, the stdlib): here the repository *is* the installed package, so following its
    files is what importing it does. Packages the reader imports for real (pydantic, typing, enum, ...) stay as
    they are: prefect-push imports those itself."""
    from prefect_push.read import context
    from prefect_push.read.models import SAFE_MODULES

    base = getattr(follow, "base", None) or context._NOT_REPO
    follow.base = base  # type: ignore[attr-defined]
    real = {m.split(".")[0] for m in SAFE_MODULES}
    context._NOT_REPO = base - {top} if top not in real else base


def read_one(root: Path, rel: str, *, follow_top: bool = True) -> tuple[int, str | None]:
    """(functions read, the exception that escaped as one line, or None)."""
    from prefect_push.read.flows import read_flows
    from prefect_push.read.schema import parameter_schema

    top = rel.split("/")[0]
    top = top[:-3] if top.endswith(".py") and "/" not in rel else top
    if follow_top:
        follow(top)
    source, _ = as_flows((root / rel).read_bytes())
    try:
        specs = read_flows(rel, source, modules_of(root, top))
        if not isinstance(specs, list):
            return 0, None  # a BadFlow: a message for the user, not an escape
        for spec in specs:
            parameter_schema(spec)
        return len(specs), None
    except Exception as exc:  # noqa: BLE001 - what the test reports
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return 0, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''} " \
                  f"({Path(where.filename).name}:{where.lineno})"


# --- the tripwire: nothing of what is read runs ---

class Tripwire(BaseException):
    """Raised from the audit hook: a BaseException, so no `except Exception` in the reader swallows it."""


# the packages prefect-push itself imports while reading (its own dependencies), and what they import lazily
READER_PACKAGES = frozenset({"prefect_push", "pydantic", "pydantic_core", "typing_extensions", "annotated_types",
                             "encodings", "unicodedata"})  # the last two: the parser's codecs (a "\\N{...}" literal)
_SIDE_EFFECTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
                 "os.startfile", "pty.spawn", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
                 "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.symlink", "os.link", "os.truncate",
                 "os.chmod", "os.chown", "os.utime", "shutil.rmtree", "shutil.copyfile", "ctypes.dlopen",
                 "ctypes.call_function", "os.kill", "signal.pthread_kill", "webbrowser.open")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install_tripwire(violations: list[str]) -> None:
    """After this, fail (record, and raise Tripwire) on: an import of a module not loaded yet that is not the
    reader's own (the standard-library modules models.SAFE_MODULES names, pydantic...); exec/eval of any code but
    the reader's annotation eval (models.py, "<annotation>") and code the standard library or pydantic generate
    (dataclass __init__, namedtuple); a file opened for writing; a process, a socket, a file removed or renamed."""
    import sysconfig

    from prefect_push.read.models import SAFE_MODULES

    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
    generators = tuple(os.path.dirname(os.path.realpath(sys.modules[p].__file__)) + os.sep  # type: ignore[arg-type]
                       for p in ("pydantic", "typing_extensions") if p in sys.modules)

    def fail(what: str) -> None:
        violations.append(what)
        raise Tripwire(what)

    def caller() -> tuple[str, list[str]]:
        frames, f = [], sys._getframe(2)
        while f is not None:
            frames.append(f"{f.f_code.co_filename}:{f.f_code.co_name}")
            f = f.f_back
        return frames[0].rsplit(":", 1)[0], frames

    def allowed(module: str | None) -> bool:
        return module is not None and (module in SAFE_MODULES or module.split(".")[0] in READER_PACKAGES)

    def importing() -> str | None:
        """The module the import machinery is loading (import statement or importlib.import_module alike)."""
        f = sys._getframe(2)
        while f is not None:
            if f.f_code.co_name == "_find_and_load" and f.f_code.co_filename == "<frozen importlib._bootstrap>":
                return f.f_locals.get("name")
            f = f.f_back
        return None

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "import":  # an import statement (importlib.import_module raises no event: see exec)
            if args[0] not in sys.modules and not allowed(args[0]):
                fail(f"import {args[0]}")
        elif event == "exec":
            code = args[0]
            filename = getattr(code, "co_filename", "?")
            where, frames = caller()
            if filename == "<annotation>" and where.endswith(os.path.join("prefect_push", "read", "models.py")):
                return  # the annotation eval, its tree checked by models._harmless first
            if os.path.isabs(filename) and allowed(importing()):
                return  # a module of the reader's own dependencies, loaded by an import
            real = os.path.realpath(where)
            if filename.startswith("<") and (real.startswith(stdlib) or real.startswith(generators)):
                return  # generated by dataclasses, collections.namedtuple, typing, pydantic
            fail(f"exec of {filename} from {where}")
        elif event == "open":
            path, mode, flags = args
            writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool((flags or 0) & _WRITE_FLAGS)
            if writes:
                fail(f"open {path!r} for writing")
        elif event in _SIDE_EFFECTS or event.startswith(("os.exec", "os.spawn", "os.posix_spawn")):
            fail(f"{event} {str(args)[:120]}")

    sys.addaudithook(hook)


def warm_up() -> None:
    """Import what the readers import on their first use, before the tripwire: the tripwire then sees the reading,
    not the loading of prefect-push's own dependencies."""
    import datetime  # noqa: F401
    import decimal  # noqa: F401
    import prefect.utilities.callables  # noqa: F401 - paramschema's path for a pydantic.v1 type is Prefect's own

    from prefect_push.read.flows import read_flows
    from prefect_push.read.schema import parameter_schema

    source = b'''
import datetime, enum, typing, dataclasses, uuid, pathlib, decimal, ipaddress
from typing import Annotated, Literal, NamedTuple, Optional, TypedDict
import pydantic
from pydantic import BaseModel, Field, conint
from prefect import flow
class E(str, enum.Enum):
    A = "a"
class M(BaseModel):
    x: int = Field(default=1, ge=0)
@dataclasses.dataclass
class D:
    y: list[int] = dataclasses.field(default_factory=list)
class T(typing.NamedTuple):
    z: int
@flow
def f(a: M, b: D, c: E = E.A, d: Optional[datetime.date] = None, e: Literal["x"] = "x", g: T = None,
      h: Annotated[int, Field(ge=1)] = 1, i: conint(gt=0) = 1, j: decimal.Decimal = decimal.Decimal("1"),
      k: uuid.UUID = None, l: pathlib.Path = pathlib.Path("x"), m: ipaddress.IPv4Address = None,
      n: datetime.timedelta = datetime.timedelta(1), *args: int, **kwargs: str):
    """Warm.

    Args:
        a: the docstring reader (griffe) loads here, not under the tripwire
    """
'''
    for spec in read_flows("warm.py", source):  # type: ignore[union-attr]
        parameter_schema(spec)


def read_job(job: dict[str, Any]) -> dict[str, Any]:
    root = Path(job["root"])
    warm_up()
    violations: list[str] = []
    if job.get("control"):
        return control(job, violations)
    install_tripwire(violations)
    times, functions, errors = [], 0, []
    for rel in job["files"]:
        start = time.perf_counter()
        try:
            n, error = read_one(root, rel)
        except Tripwire as trip:
            n, error = 0, f"tripwire: {trip}"
        times.append((time.perf_counter() - start) * 1000)
        functions += n
        if error:
            errors.append(f"{rel}: {error}")
    return {"files": len(job["files"]), "functions": functions, "ms": times, "errors": errors,
            "violations": violations}


# --- negative controls: readers that do run what they read, to prove the tripwire catches them ---

def control(job: dict[str, Any], violations: list[str]) -> dict[str, Any]:
    """Read job["files"] with a reader that runs the file as job["control"] says, under the same tripwire."""
    import importlib
    import importlib.util

    import socket
    import subprocess

    root, kind = Path(job["root"]), job["control"]
    sys.path.insert(0, str(root))
    if kind == "annotation":  # the annotation check switched off: eval of `open(...)` written as an annotation
        from prefect_push.read import models
        models._harmless = lambda tree, ns: True  # type: ignore[assignment]
    install_tripwire(violations)
    for rel in job["files"]:
        path = root / rel
        try:
            if kind == "import":  # the reader imports the module it reads
                importlib.import_module(rel.removesuffix(".py").replace("/", "."))
            elif kind == "exec_module":  # as Prefect's load_script_as_module does
                spec = importlib.util.spec_from_file_location("victim_module", path)
                spec.loader.exec_module(importlib.util.module_from_spec(spec))  # type: ignore[union-attr]
            elif kind == "exec_text":
                exec(compile(path.read_text(), rel, "exec"), {})  # noqa: S102 - the point of the control
            elif kind == "exec_string":
                exec(path.read_text(), {})  # noqa: S102
            elif kind == "subprocess":
                subprocess.run(["true"], check=False)
            elif kind == "socket":
                socket.socket().connect(("127.0.0.1", 9))
            elif kind in ("annotation", "clean"):
                read_one(root, rel, follow_top=False)
        except Tripwire:
            pass
        except Exception:  # noqa: BLE001 - a control may fail after the tripwire recorded it
            pass
    return {"violations": violations}


# --- test_real_classes: prefect-push's schema of flow files the test wrote ---

def ours_job(job: dict[str, Any]) -> dict[str, Any]:
    from prefect_push.read.flows import read_flows
    from prefect_push.read.schema import parameter_schema

    root = Path(job["root"])
    out: dict[str, Any] = {}
    start = time.perf_counter()
    for key, item in job["flows"].items():
        top = item["top"]
        follow(top)
        try:
            (spec,) = read_flows(item["path"], item["source"].encode(), modules_of(root, top))  # type: ignore[misc]
            out[key] = {"schema": parameter_schema(spec)}
        except Exception as exc:  # noqa: BLE001 - reported as an escape by the test
            out[key] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"flows": out, "seconds": time.perf_counter() - start}


# --- test_real_classes: Prefect's own, imported for real ---

def kind_of(cls: type) -> str | None:
    import dataclasses
    import enum
    import typing

    import pydantic
    import typing_extensions

    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        return "model"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return "enum"
    if typing.is_typeddict(cls) or typing_extensions.is_typeddict(cls):
        return "typeddict"
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return "namedtuple"
    return None


FLOW_SOURCE = "from prefect import flow\nfrom {module} import {name}\n\n\n@flow\ndef f(p: {name}):\n    ...\n"


def theirs_job(job: dict[str, Any]) -> dict[str, Any]:
    """For each module: import it, every public class of the five kinds defined there, as a flow file
    (FLOW_SOURCE) loaded as `prefect deploy` loads it, and parameter_schema(flow) as RunnerDeployment sends it."""
    import importlib
    import inspect
    import warnings

    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    warnings.simplefilter("ignore")
    workdir = Path(job["workdir"])
    out: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for module in job["modules"]:
        try:
            mod = importlib.import_module(module)
        except BaseException as exc:  # noqa: BLE001 - a module Prefect cannot import: excluded, counted
            failed[module] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        for name, cls in sorted(vars(mod).items()):
            if name.startswith("_") or not name.isidentifier() or not inspect.isclass(cls) or getattr(
                    cls, "__module__", None) != module:  # (not an identifier: a generic's alias, `State[Any]`)
                continue
            kind = kind_of(cls)
            if kind is None:
                continue
            key = f"{module}:{name}"
            source = FLOW_SOURCE.format(module=module, name=name)
            path = workdir / f"flow_{len(out)}.py"
            path.write_text(source)
            item: dict[str, Any] = {"kind": kind, "source": source}
            try:
                flow = load_flow_from_entrypoint(f"{path}:f", use_placeholder_flow=False)
                item["schema"] = parameter_schema(flow).model_dump(mode="json", exclude_unset=True)
            except BaseException as exc:  # noqa: BLE001 - Prefect cannot build it: excluded
                item["error"] = f"{type(exc).__name__}: {exc}"[:200]
            out[key] = item
    return {"classes": out, "failed_modules": failed}


if __name__ == "__main__":
    mode, job_file = sys.argv[1], sys.argv[2]
    job = json.loads(Path(job_file).read_text())
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    answer = {"read": read_job, "ours": ours_job, "theirs": theirs_job}[mode](job)
    sys.stdout.write(json.dumps(answer) + "\n")
