"""prefect-push's parameter schema procedure (src/prefect_push/read/paramschema.py, written over pydantic so a push
does not import prefect) against Prefect's own, differentially, on signatures nobody here wrote:

- real functions: every public function and method of the public modules of prefect, pydantic, httpx, rich,
  pre_commit, _pytest, hypothesis and a fixed list of standard-library modules, imported for real, each
  `inspect.signature(f, eval_str=True)` (the annotations evaluated in the module's namespace; as written where that
  fails), a fixed-seed sample of them, with the function's own docstring's Args section as `docs`;
- real classes: every public pydantic model, dataclass, Enum, TypedDict and NamedTuple of those packages (the
  classes tests/test_real_classes.py takes), each as a one-parameter signature in several shapes (bare, with a
  default, Optional, a list of it, `*args`, `**kwargs`, keyword-only);
- shapes written here for the procedure's own branches: names that are BaseModel attributes (`json`, `copy`,
  `schema`, ...), `self`/`cls`, pydantic `Field(...)` defaults with description and json_schema_extra, Annotated
  constraints, defaults pydantic serializes specially (inf, nan, bytes, dates, sets), names pydantic refuses.

For each: paramschema.generate(sig, docs) == Prefect's generate_parameter_schema(sig, docs).model_dump(mode="json",
exclude_unset=True), or both raise (the same exception type family); paramschema.docstrings(doc) ==
Prefect's parameter_docstrings(doc) for every docstring of every function walked. The bar is 0 different; a
negative control (a generator that drops `position`) proves the comparison sees a difference.

Everything runs in a subprocess (this file as a script): the pytest process imports none of those packages.
Prints the counts; docs/flows-and-schemas.md "Measured on real code" quotes them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

SEED = 20261207
FUNCTION_SAMPLE = 2000  # of ~8,800 real signatures: a fixed-seed sample, for time
WORKERS = 2
PACKAGES = ("prefect", "pydantic", "httpx", "rich", "pre_commit", "_pytest", "hypothesis")
STDLIB = ("argparse", "ast", "asyncio", "base64", "calendar", "collections", "concurrent.futures", "configparser",
          "contextlib", "csv", "dataclasses", "datetime", "decimal", "difflib", "email.message", "email.utils",
          "enum", "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "gzip", "hashlib", "heapq",
          "hmac", "html", "http.client", "http.cookies", "imaplib", "inspect", "ipaddress", "itertools", "json",
          "logging", "logging.handlers", "mailbox", "mimetypes", "netrc", "numbers", "operator", "optparse",
          "os", "pathlib", "pickle", "pkgutil", "platform", "plistlib", "pprint", "queue", "random", "re",
          "sched", "secrets", "selectors", "shelve", "shlex", "shutil", "smtplib", "socket", "socketserver",
          "sqlite3", "ssl", "statistics", "string", "struct", "subprocess", "tarfile", "tempfile", "textwrap",
          "threading", "timeit", "tokenize", "tomllib", "traceback", "types", "typing", "unittest",
          "unittest.mock", "urllib.parse", "urllib.request", "uuid", "warnings", "wave", "weakref",
          "xml.etree.ElementTree", "zipfile", "zoneinfo")


# differences found: case key -> why (the written shapes, and the real functions of the sample that show them);
# each has an xfail test below naming it, and the comparison fails if a listed one stops differing
STRING_NAMESPACE = ("string annotations (kept as written when inspect.signature(eval_str=True) fails) are resolved by "
                    "pydantic's create_model in the namespace of the module that calls it: Prefect's "
                    "prefect/_internal/pydantic/v2_schema.py (pydantic, t, V2BaseModel, FieldInfo...) plus "
                    "create_v2_schema's locals, paramschema.py's (Any, sys, annotations...) plus _schema's locals; "
                    "a name one of them has resolves, the other's falls back to Any (or raises)")
KNOWN = {
    "string annotations, names of either module": STRING_NAMESPACE,
    "prefect.flows:InfrastructureBoundFlow.__init__": STRING_NAMESPACE,
}


def outcome_line(parts: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    from collections import Counter

    results = [r for p in parts for r in p["results"]]
    known = [r for r in results if r["key"] in KNOWN]
    counts = Counter(r["outcome"] for r in results if r not in known)
    by_kind = Counter(f"{r['kind']}" for r in results)
    docs = {k: sum(p["docstrings"][k] for p in parts) for k in ("compared", "equal", "with parameters", "google",
                                                                 "numpy", "rest")}
    doc_different = [d for p in parts for d in p["docstrings"]["different"]]
    p0 = parts[0]
    line = (f"{p0['modules']} modules imported, {p0['functions']} public functions and methods, {p0['signatures']} "
            f"signatures ({p0['evaluated']} with annotations evaluated); {len(results)} signatures compared "
            f"({by_kind['function']} real functions, a fixed-seed sample; {by_kind['class']} real classes as a "
            f"parameter; {by_kind['written']} written shapes): {counts['equal']} equal, {counts['both raised']} both "
            f"raised, {counts['different']} different, {len(known)} known (xfail); {docs['compared']} docstrings "
            f"(Google-style parameter sections {docs['google']}, NumPy {docs['numpy']}, reST {docs['rest']}; "
            f"{docs['with parameters']} read with parameters): {docs['equal']} equal, {len(doc_different)} "
            f"different; {max(p['import_seconds'] for p in parts):.0f} s importing, "
            f"{sum(p['compare_seconds'] for p in parts):.0f} s comparing in {len(parts)} processes")
    different = [r for r in results if r["outcome"] == "different" and r not in known]
    return line, different, doc_different + [r for r in known if r["outcome"] != "different"]


def run_workers(spec: dict[str, Any], tmp: Path, name: str) -> list[dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda i: run_job({**spec, "worker": i, "workers": WORKERS}, tmp, f"{name}{i}"),
                             range(WORKERS)))


def test_ours_is_prefects_on_real_signatures_and_docstrings(tmp_path):
    start = time.perf_counter()
    parts = run_workers({"functions": FUNCTION_SAMPLE}, tmp_path, "compare")
    line, different, other = outcome_line(parts)
    line += f"; {time.perf_counter() - start:.0f} s wall"
    print("\n" + line)
    (tmp_path / "different.json").write_text(json.dumps({"signatures": different, "other": other}, indent=1,
                                                        default=repr))
    for r in different[:20]:
        print(json.dumps(r, default=repr)[:2000])
    results = [r for p in parts for r in p["results"]]
    assert len(results) > 4000, "too few signatures to mean anything"
    assert sum(p["docstrings"]["compared"] for p in parts) > 3000, "too few docstrings to mean anything"
    assert different == [], f"{len(different)} different: see {tmp_path / 'different.json'}"
    assert other == [], f"a docstring differs, or a KNOWN difference is gone: see {tmp_path / 'different.json'}"


def test_the_comparison_sees_a_difference(tmp_path):
    """The negative control: a generator that drops `position` and a docstring reader that drops the last name,
    through the same comparison (the standard library's functions and classes, the written shapes): every class
    shape (it always has its parameter) and every docstring read with parameters is caught."""
    parts = run_workers({"functions": 150, "control": True}, tmp_path, "control")
    results = [r for p in parts for r in p["results"]]
    caught = [r for r in results if r["outcome"] == "different"]
    classes = [r for r in results if r["kind"] == "class"]
    print(f"\ncontrol: {len(caught)} of {len(results)} signatures caught ({len(classes)} class shapes), "
          f"{sum(len(p['docstrings']['different']) for p in parts)} docstrings caught")
    assert len(caught) > 200 and len(classes) > 100
    assert all(r["outcome"] != "equal" for r in classes), [r for r in classes if r["outcome"] == "equal"][:3]
    assert sum(p["docstrings"]["with parameters"] for p in parts) == 0  # no docstring with parameters got through
    assert sum(len(p["docstrings"]["different"]) for p in parts) > 10


def test_inf_and_nan_defaults_are_written_as_prefect_writes_them():
    """`def f(a: float = float("inf"), b: float = float("-inf"), c: float = float("nan"), d=float("inf"))`:
    Prefect's stored schema has "default": null for each; paramschema.generate has the floats themselves."""
    import inspect
    from inspect import Parameter as P

    from prefect.utilities.callables import generate_parameter_schema

    from prefect_push.read import paramschema

    sig = inspect.Signature([P("a", P.POSITIONAL_OR_KEYWORD, annotation=float, default=float("inf")),
                             P("b", P.POSITIONAL_OR_KEYWORD, annotation=float, default=float("-inf")),
                             P("c", P.POSITIONAL_OR_KEYWORD, annotation=float, default=float("nan")),
                             P("d", P.POSITIONAL_OR_KEYWORD, default=float("inf"))])
    theirs = generate_parameter_schema(sig, {}).model_dump(mode="json", exclude_unset=True)
    assert [p["default"] for p in theirs["properties"].values()] == [None] * 4  # what Prefect stores
    ours = paramschema.generate(sig, {})
    assert same(ours, theirs), ours


@pytest.mark.xfail(strict=True, reason="KNOWN['string annotations, names of either module']: " + STRING_NAMESPACE)
@pytest.mark.parametrize("annotation, kind", [("dict[str, Any]", "POSITIONAL_OR_KEYWORD"), ("Any", "VAR_POSITIONAL"),
                                              ("pydantic.PositiveInt", "POSITIONAL_OR_KEYWORD"),
                                              ("t.Optional[int]", "POSITIONAL_OR_KEYWORD"),
                                              ("V2BaseModel", "POSITIONAL_OR_KEYWORD")])
def test_string_annotations_resolve_as_in_prefect(annotation, kind):
    """`def f(x: "dict[str, Any]")` with the annotation left a string (as inspect.signature leaves it when
    eval_str fails, e.g. one name under TYPE_CHECKING): Prefect's schema of x is {} (Any is not a name of
    v2_schema.py); paramschema's is {"type": "object", "additionalProperties": true} (Any is one of paramschema.py).
    `*args: "Any"`: Prefect {"default": []}, ours adds "type": "array", "items": {}. "pydantic.PositiveInt",
    "t.Optional[int]", "V2BaseModel" the other way round: typed in Prefect's, {} in ours."""
    import inspect

    from prefect.utilities.callables import generate_parameter_schema

    from prefect_push.read import paramschema

    sig = inspect.Signature([inspect.Parameter("x", getattr(inspect.Parameter, kind), annotation=annotation)])
    theirs = generate_parameter_schema(sig, {}).model_dump(mode="json", exclude_unset=True)
    assert same(paramschema.generate(sig, {}), theirs)


# --- the subprocess side ---

def public_modules(top: str) -> list[str]:
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    out = []
    for path in sorted((site / top).rglob("*.py")):
        parts = list(path.relative_to(site).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] == "__main__" or any(p.startswith("_") for p in parts[1:]) or "__pycache__" in parts:
            continue
        out.append(".".join(parts))
    return out


def import_all(names: list[str]) -> dict[str, Any]:
    import importlib

    mods = {}
    for name in names:
        try:
            mods[name] = importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that cannot be imported here: left out
            pass
    return mods


def functions_of(mods: dict[str, Any]) -> list[tuple[str, Any]]:
    """(module:qualname, function) for every public function and method defined in these modules, sorted."""
    import inspect

    found: dict[str, Any] = {}

    def add(key: str, f: Any) -> None:
        f = getattr(f, "__func__", f)  # staticmethod, classmethod
        if inspect.isfunction(f) or inspect.isbuiltin(f) or inspect.ismethoddescriptor(f):
            found.setdefault(key, f)

    for name, mod in mods.items():
        for attr, obj in sorted(vars(mod).items()):
            if attr.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if inspect.isclass(obj):
                for member, f in sorted(vars(obj).items()):
                    if not member.startswith("_") or member in ("__init__", "__call__"):
                        add(f"{name}:{attr}.{member}", f)
            else:
                add(f"{name}:{attr}", obj)
    return sorted(found.items())


def signature_of(f: Any) -> tuple[Any, bool] | None:
    """inspect.signature with the annotations evaluated (True), or as written where they cannot be (False)."""
    import inspect

    try:
        return inspect.signature(f, eval_str=True), True
    except Exception:  # noqa: BLE001
        pass
    try:
        return inspect.signature(f), False
    except Exception:  # noqa: BLE001 - a builtin without a text signature
        return None


def class_cases(mods: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every public class of the five kinds (tests/realcode.py kind_of) as a one-parameter signature, in shapes."""
    import enum
    import inspect
    from inspect import Parameter as P
    from typing import Optional

    from realcode import kind_of

    cases = []
    for name, mod in mods.items():
        for attr, cls in sorted(vars(mod).items()):
            if attr.startswith("_") or not attr.isidentifier() or not inspect.isclass(cls) or getattr(
                    cls, "__module__", None) != name or kind_of(cls) is None:
                continue
            key = f"{name}:{attr}"
            default = next(iter(cls)) if issubclass(cls, enum.Enum) and len(cls) else None
            shapes = {
                "bare": [P("p", P.POSITIONAL_OR_KEYWORD, annotation=cls)],
                "default": [P("p", P.POSITIONAL_OR_KEYWORD, annotation=cls, default=default)],
                "optional": [P("p", P.POSITIONAL_OR_KEYWORD, annotation=Optional[cls], default=None)],
                "list": [P("x", P.POSITIONAL_OR_KEYWORD, annotation=int, default=1),
                         P("p", P.POSITIONAL_OR_KEYWORD, annotation=list[cls], default=[])],
                "args": [P("args", P.VAR_POSITIONAL, annotation=cls)],
                "kwargs": [P("p", P.KEYWORD_ONLY, annotation=cls, default=default),
                           P("kwargs", P.VAR_KEYWORD, annotation=cls)],
            }
            cases.append((key, {shape: inspect.Signature(ps) for shape, ps in shapes.items()}))
    return cases


def written_cases() -> list[tuple[str, Any, dict[str, str]]]:
    """The procedure's own branches, in shapes written here."""
    import dataclasses
    import datetime
    import decimal
    import enum
    import inspect
    import pathlib
    import uuid
    from inspect import Parameter as P
    from typing import Annotated, Any as TAny, Literal, Optional, Union

    import pydantic
    from pydantic import BaseModel, Field

    class Color(enum.Enum):
        RED = "red"
        BLUE = 2

    class Inner(BaseModel):
        a: int = 1
        b: list[str] = []

    @dataclasses.dataclass
    class DC:
        x: int
        y: Optional[Inner] = None

    class Opaque:  # a user class pydantic only checks with isinstance
        pass

    def sig(*params: P) -> Any:
        return inspect.Signature(list(params))

    def pk(name: str, annotation: Any = P.empty, default: Any = P.empty) -> P:
        return P(name, P.POSITIONAL_OR_KEYWORD, annotation=annotation, default=default)

    cases: list[tuple[str, Any, dict[str, str]]] = []
    clashing = sorted(n for n in dir(BaseModel) if not n.startswith("_"))
    for n in clashing:  # `json`, `copy`, `schema`, `dict`, `model_fields`, ...
        cases.append((f"clash {n}", sig(pk(n, int, 1)), {n: f"the {n}"}))
        cases.append((f"clash {n} required", sig(pk("a", str), pk(n), pk("b", int, 2)), {}))
    cases.append(("clash all", sig(*(pk(n, str, n) for n in clashing)), {}))
    cases.append(("clash json+json__", sig(pk("json", int, 1), pk("json__", int, 2)), {}))
    cases += [
        ("self", sig(pk("self"), pk("a", int)), {}),
        ("cls", sig(pk("cls"), pk("a", int, 1)), {"cls": "the class"}),
        ("self typed", sig(pk("self", int), pk("cls", str, "c")), {}),
        ("empty", sig(), {}),
        ("only self", sig(pk("self")), {}),
        ("args kwargs untyped", sig(P("args", P.VAR_POSITIONAL), P("kwargs", P.VAR_KEYWORD)), {"args": "more"}),
        ("args kwargs typed", sig(pk("a", int), P("args", P.VAR_POSITIONAL, annotation=Inner),
                                  P("k", P.KEYWORD_ONLY, annotation=str, default="x"),
                                  P("kwargs", P.VAR_KEYWORD, annotation=Optional[DC])), {}),
        ("posonly", sig(P("a", P.POSITIONAL_ONLY, annotation=int), pk("b", float, 1.5)), {}),
        ("field desc", sig(pk("a", int, Field(3, description="from Field"))), {"a": "from docs"}),
        ("field no desc", sig(pk("a", int, Field(3))), {"a": "from docs"}),
        ("field empty desc", sig(pk("a", int, Field(3, description=""))), {"a": "from docs"}),
        ("field extra", sig(pk("a", str, Field("x", json_schema_extra={"ui": "wide", "n": [1, 2]}))), {}),
        ("field extra position", sig(pk("z", int, 0), pk("a", str, Field("x", json_schema_extra={"position": 9}))),
         {}),
        ("field extra callable", sig(pk("a", str, Field("x", json_schema_extra=lambda s: s.update(k=1)))), {}),
        ("field required", sig(pk("a", int, Field(..., title="T", ge=0))), {}),
        ("field constraints", sig(pk("a", int, Field(5, ge=0, le=10, multiple_of=5)),
                                  pk("s", str, Field("ab", min_length=1, pattern="^a"))), {}),
        ("field factory", sig(pk("a", list[int], Field(default_factory=list))), {}),
        ("field alias", sig(pk("a", int, Field(1, alias="b"))), {}),
        ("field examples", sig(pk("a", int, Field(1, examples=[1, 2], deprecated=True))), {}),
        ("field untyped", sig(pk("a", default=Field("v", description="d"))), {}),
        ("field on kwargs", sig(P("kwargs", P.VAR_KEYWORD, annotation=int)), {"kwargs": "extra"}),
        ("annotated", sig(pk("a", Annotated[int, Field(gt=0, lt=100)], 5),
                          pk("b", Annotated[str, Field(min_length=2, description="in Annotated")], "ab"),
                          pk("c", Annotated[list[int], Field(max_length=3)], [1])), {"b": "doc"}),
        ("annotated types", sig(pk("a", pydantic.conint(gt=1), 2), pk("b", pydantic.constr(max_length=3), "x"),
                                pk("c", pydantic.PositiveInt, 1), pk("d", pydantic.SecretStr, None),
                                pk("e", pydantic.HttpUrl, "https://x.org"), pk("f", pydantic.Json, None)), {}),
        ("literal union", sig(pk("a", Literal["x", "y", 3], "x"), pk("b", Union[int, str, None], None),
                              pk("c", int | list[str] | None, None)), {}),
        ("enum", sig(pk("c", Color, Color.RED), pk("d", list[Color], [Color.BLUE]), pk("e", Literal[Color.RED], Color.RED)),
         {}),
        ("models", sig(pk("d", DC), pk("m", Inner, Inner()), pk("o", Optional[dict[str, Inner]], None)), {}),
        ("model default instance", sig(pk("m", Inner, Inner(a=3, b=["q"])), pk("d", DC, DC(1))), {}),
        ("opaque", sig(pk("o", Opaque), pk("p", Optional[Opaque], None), pk("q", list[Opaque], [])), {}),
        ("opaque default", sig(pk("o", Opaque, Opaque())), {}),
        ("object default untyped", sig(pk("o", default=object())), {}),
        ("callable", sig(pk("f", TAny, print), pk("g", type, int)), {}),
        ("floats", sig(pk("a", float, float("inf")), pk("b", float, float("-inf")), pk("c", float, float("nan"))),
         {}),
        ("float untyped inf", sig(pk("a", default=float("inf"))), {}),
        ("bytes", sig(pk("a", bytes, b"ab"), pk("b", default=b"\xff\x00")), {}),
        ("temporal", sig(pk("a", datetime.datetime, datetime.datetime(2024, 1, 2, 3, 4, 5)),
                         pk("b", datetime.date, datetime.date(2024, 1, 2)),
                         pk("c", datetime.timedelta, datetime.timedelta(hours=1, microseconds=5)),
                         pk("d", datetime.time, datetime.time(1, 2)),
                         pk("e", datetime.datetime, datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))),
         {}),
        ("misc defaults", sig(pk("a", decimal.Decimal, decimal.Decimal("1.50")),
                              pk("b", uuid.UUID, uuid.UUID(int=5)), pk("c", pathlib.Path, pathlib.Path("/x")),
                              pk("d", set[int], {3, 1, 2}), pk("e", frozenset, frozenset({"a"})),
                              pk("f", tuple[int, str], (1, "a")), pk("g", tuple, ()),
                              pk("h", dict, {"k": (1, 2), 3: None})), {}),
        ("untyped defaults", sig(pk("a", default=decimal.Decimal("2")), pk("b", default={1, 2}),
                                 pk("c", default=datetime.date(2020, 1, 1)), pk("d", default=Color.BLUE),
                                 pk("e", default=(1, [2])), pk("f", default=Inner())), {}),
        ("bad default for type", sig(pk("a", int, "not an int"), pk("b", list[int], None)), {}),
        ("underscore", sig(pk("_a", int, 1)), {}),
        ("dunder", sig(pk("__x", int, 1)), {}),
        ("model_ prefix", sig(pk("model_name", str, "m"), pk("model_config_x", int, 1)), {}),
        ("string annotation", sig(pk("a", "int", 1)), {}),
        ("string annotations, names of either module", sig(
            pk("a", "dict[str, Any]"), pk("b", "pydantic.PositiveInt"), pk("c", "t.Optional[int]"),
            pk("d", "V2BaseModel", None), P("args", P.VAR_POSITIONAL, annotation="Any")), {}),
        ("unresolvable string", sig(pk("a", "NoSuchThing", None)), {}),
        ("forward ref list", sig(pk("a", list["NoSuchThing"], [])), {}),
        ("non-type annotation", sig(pk("a", 3, 1), pk("b", "x y", None)), {}),
        ("docs only", sig(pk("a"), pk("b", int)), {"a": "first", "b": "second", "c": "no such"}),
        ("unicode", sig(pk("é", str, "ü"), pk("名前", int, 1)), {"é": "accent"}),
    ]
    return cases


def compare_one(sig: Any, docs: dict[str, str], generate: Any, ours_first: bool = False) -> dict[str, Any]:
    from prefect.utilities.callables import generate_parameter_schema

    def run(f: Any) -> tuple[str, Any]:
        try:
            return "ok", f()
        except Exception as exc:  # noqa: BLE001 - compared
            return "raised", exc

    if ours_first:  # half the cases each way round: no answer may depend on what the other side built first
        ours = run(lambda: generate(sig, docs))
    theirs = run(lambda: generate_parameter_schema(sig, docs).model_dump(mode="json", exclude_unset=True))
    if not ours_first:
        ours = run(lambda: generate(sig, docs))
    if theirs[0] == ours[0] == "ok":
        if same(theirs[1], ours[1]):
            return {"outcome": "equal"}
    elif theirs[0] == ours[0] == "raised":
        a, b = type(theirs[1]), type(ours[1])
        if issubclass(a, b) or issubclass(b, a) or base(a) is base(b):
            return {"outcome": "both raised", "error": f"{a.__name__}"}
    return {"outcome": "different", "theirs": show(theirs), "ours": show(ours)}


def base(t: type) -> type:
    """The exception family: the class right under Exception (ValueError, TypeError, NameError, ...)."""
    for c in t.__mro__:
        if Exception in c.__bases__:
            return c
    return t


def same(a: Any, b: Any) -> bool:
    """Equal as JSON data (nan equal to nan: both are what the JSON says), key order included."""
    return json.dumps(a, default=repr) == json.dumps(b, default=repr)


def show(result: tuple[str, Any]) -> Any:
    kind, value = result
    return value if kind == "ok" else f"raised {type(value).__name__}: {str(value)[:300]}"


def describe(sig: Any) -> str:
    return str(sig)[:500]


def job(spec: dict[str, Any]) -> dict[str, Any]:
    """Worker spec["worker"] of spec["workers"]: its share of the cases (every workers-th, the same sorted list in
    each), compared. spec["control"]: the negative controls, on the standard library and the written shapes."""
    import inspect
    import random
    import re
    import warnings

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    from prefect.utilities.callables import parameter_docstrings

    from prefect_push.read import paramschema

    generate, docstrings = paramschema.generate, paramschema.docstrings
    if spec.get("control"):  # a generator that forgets `position`, a docstring reader that drops the last name
        def generate(sig: Any, docs: dict[str, str]) -> dict[str, Any]:  # noqa: F811
            out = paramschema.generate(sig, docs)
            for prop in out.get("properties", {}).values():
                prop.pop("position", None)
            return out

        def docstrings(doc: str | None) -> dict[str, str]:  # noqa: F811
            return dict(list(paramschema.docstrings(doc).items())[:-1])

    names = list(STDLIB) if spec.get("control") else [m for top in PACKAGES for m in public_modules(top)] + list(
        STDLIB)
    mods = import_all(names)
    imported = time.perf_counter() - start
    share = slice(spec["worker"], None, spec["workers"])
    funcs = functions_of(mods)

    doc_outcomes: dict[str, Any] = {"compared": 0, "equal": 0, "with parameters": 0, "google": 0, "numpy": 0,
                                    "rest": 0, "different": []}
    for key, f in funcs[share]:
        doc = inspect.getdoc(f)
        if not doc:
            continue
        theirs_docs, ours_docs = parameter_docstrings(doc), docstrings(doc)
        doc_outcomes["compared"] += 1
        doc_outcomes["google"] += bool(re.search(r"^\s*(Args|Arguments|Parameters|Params):\s*$", doc, re.M))
        doc_outcomes["numpy"] += bool(re.search(r"^\s*(Parameters|Other Parameters)\s*\n\s*-{3,}", doc, re.M))
        doc_outcomes["rest"] += bool(re.search(r"^\s*:param\b", doc, re.M))
        if ours_docs == theirs_docs and list(ours_docs) == list(theirs_docs):
            doc_outcomes["equal"] += 1
            doc_outcomes["with parameters"] += bool(ours_docs)
        else:
            doc_outcomes["different"].append({"function": key, "docstring": doc[:2000], "theirs": theirs_docs,
                                              "ours": ours_docs})

    signed, evaluated = [], 0
    for key, f in funcs:
        got = signature_of(f)
        if got is not None:
            signed.append((key, f, got[0]))
            evaluated += got[1]
    rng = random.Random(SEED)
    cases: list[tuple[str, str, Any, dict[str, str]]] = []
    for i in sorted(rng.sample(range(len(signed)), min(spec["functions"], len(signed)))):
        key, f, sig = signed[i]
        cases.append(("function", key, sig, parameter_docstrings(inspect.getdoc(f))))
    for key, shapes in class_cases(mods):  # bare, with a default, and one more shape of the four, by the seed
        for shape in ("bare", "default", rng.choice(("optional", "list", "args", "kwargs"))):
            cases.append(("class", f"{key} [{shape}]", shapes[shape], {"p": "the parameter", "args": "more"}))
    cases += [("written", key, sig, docs) for key, sig, docs in written_cases()]

    results, compare_start = [], time.perf_counter()
    for i, (kind, key, sig, docs) in list(enumerate(cases))[share]:
        t = time.perf_counter()
        r = compare_one(sig, docs, generate, ours_first=bool(i % 2))
        r.update(kind=kind, key=key, seconds=time.perf_counter() - t)
        if r["outcome"] == "different":
            r["signature"] = describe(sig)
            r["docs"] = docs
        results.append(r)
    return {"modules": len(mods), "functions": len(funcs), "signatures": len(signed), "evaluated": evaluated,
            "results": results, "docstrings": doc_outcomes, "import_seconds": imported,
            "compare_seconds": time.perf_counter() - compare_start}


def run_job(spec: dict[str, Any], tmp: Path, name: str) -> dict[str, Any]:
    """This file as a subprocess, with the prefect-push the test imports (a worktree's src/ wins)."""
    import prefect_push

    job_file = tmp / f"{name}.json"
    job_file.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(prefect_push.__file__).resolve().parents[1]), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-W", "ignore", __file__, str(job_file)], capture_output=True,
                          text=True, timeout=600, cwd=tmp, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    answer = job(json.loads(Path(sys.argv[1]).read_text()))
    sys.stdout.write(json.dumps(answer, default=repr) + "\n")
