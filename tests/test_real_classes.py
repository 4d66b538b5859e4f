"""Never a wrong schema, on classes nobody here wrote: every public pydantic model, dataclass, Enum, TypedDict and
NamedTuple of the packages below (as installed in the test virtualenv), each taken as a flow's parameter:

    from prefect.client.schemas.objects import StateType

    @flow
    def f(p: StateType): ...

Prefect's side imports the flow file for real and dumps parameter_schema(flow) as RunnerDeployment sends it;
prefect-push's side reads the same file with site-packages as the repository, so `from prefect.x import C` is
followed into the real files (tests/realcode.py `follow`). Each class is exact, fell back (prefect-push wrote the
untyped form, as for an annotation it cannot evaluate), different, or excluded (Prefect itself cannot import the
module or build the schema). The bar is 0 different. Prints the counts; docs/flows-and-schemas.md quotes them.
"""
from __future__ import annotations

import json
import sysconfig
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from realcode import run

SITE = Path(sysconfig.get_paths()["purelib"])
# the packages the issue names (prefect and what a flow repository meets most), all their public modules
PACKAGES = ("prefect", "pydantic", "httpx", "rich", "pre_commit", "_pytest", "hypothesis")
WORKERS = 2
EXACT_AIM = 0.90  # the aim; not met yet (docs/flows-and-schemas.md "Measured on real code" says why)
EXACT_FLOOR = 0.67  # measured today: 67.3% (66.7% before issue L part 4's forward references, create_model and
# attribute docstrings; 52.8% before issue L's member audit and widening); a loss fails here


def public_modules(top: str) -> list[str]:
    out = []
    for path in sorted((SITE / top).rglob("*.py")):
        parts = list(path.relative_to(SITE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] == "__main__" or any(p.startswith("_") for p in parts[1:]) or "__pycache__" in parts:
            continue
        out.append(".".join(parts))
    return out




def untyped() -> dict:
    """prefect-push's schema of the same flow with the parameter unannotated: the fallback form."""
    from prefect_push.read.flows import read_flows
    from prefect_push.read.schema import parameter_schema

    (spec,) = read_flows("f.py", b"from prefect import flow\n\n\n@flow\ndef f(p):\n    ...\n")  # type: ignore[misc]
    return parameter_schema(spec)


def classify(theirs: dict, ours: dict, fallback: dict) -> str:
    if "error" in theirs:
        return "excluded"
    if "error" in ours:
        return "escaped"
    if ours["schema"] == theirs["schema"]:
        return "exact"
    return "fell back" if ours["schema"] == fallback else "different"


def test_every_public_class_as_a_parameter_is_prefects_schema_or_falls_back(tmp_path):
    start = time.perf_counter()
    modules = [m for top in PACKAGES for m in public_modules(top)]
    work = [tmp_path / f"theirs{i}" for i in range(WORKERS)]
    for w in work:
        w.mkdir()
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(pool.map(lambda i: run("theirs", {"modules": modules[i::WORKERS], "workdir": str(work[i])},
                                            tmp_path, f"theirs{i}"), range(WORKERS)))
    theirs = {k: v for p in parts for k, v in p["classes"].items()}
    failed_modules = {k: v for p in parts for k, v in p["failed_modules"].items()}
    prefect_seconds = time.perf_counter() - start

    flows = {key: {"top": key.split(".")[0], "path": f"flow_{i}.py", "source": theirs[key]["source"]}
             for i, key in enumerate(sorted(theirs))}
    keys = sorted(flows)
    with ThreadPoolExecutor(WORKERS) as pool:
        ours_parts = list(pool.map(lambda i: run("ours", {"root": str(SITE), "flows": {
            k: flows[k] for k in keys[i::WORKERS]}}, tmp_path, f"ours{i}"), range(WORKERS)))
    ours = {k: v for p in ours_parts for k, v in p["flows"].items()}
    ours_seconds = sum(p["seconds"] for p in ours_parts)

    fallback = untyped()
    outcome = {key: classify(theirs[key], ours[key], fallback) for key in theirs}
    counts = Counter(outcome.values())
    kinds = Counter(f"{theirs[k]['kind']}:{o}" for k, o in outcome.items())
    importable = len(theirs) - counts["excluded"]
    line = (f"{len(modules)} modules of {', '.join(PACKAGES)} ({len(failed_modules)} Prefect could not import); "
            f"{len(theirs)} classes tried: {counts['exact']} exact, {counts['fell back']} fell back, "
            f"{counts['different']} different, {counts['escaped']} escaped, {counts['excluded']} excluded "
            f"(Prefect cannot build the schema); exact {counts['exact'] / max(importable, 1):.1%} of {importable}; "
            f"Prefect's side {prefect_seconds:.0f} s, prefect-push's {ours_seconds:.1f} s reading")
    print("\n" + line + "\n" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    (tmp_path / "summary.txt").write_text(line)
    report = {k: {"theirs": theirs[k].get("schema"), "ours": ours[k].get("schema") or ours[k].get("error")}
              for k, o in outcome.items() if o in ("different", "escaped")}
    (tmp_path / "different.json").write_text(json.dumps(report, indent=1))
    print("\n".join(f"{o}: {k}" for k, o in sorted(outcome.items()) if o in ("different", "escaped")))
    assert len(theirs) > 300, "too few classes to mean anything"
    assert counts["escaped"] == 0 and counts["different"] == 0, f"see {tmp_path / 'different.json'}"
    assert counts["exact"] >= EXACT_FLOOR * importable, line
    if counts["exact"] < EXACT_AIM * importable:
        print(f"exact {counts['exact'] / importable:.1%}: under the {EXACT_AIM:.0%} aim (never bought with a "
              "difference: the rest fall back)")
