"""api/settings.py's resolve() against Prefect 3.9.1 itself, over a generated matrix of sources.

Each case is a working directory (.env, prefect.toml, pyproject.toml), a PREFECT_HOME, a profiles file
somewhere and an environment, with overlapping values so that precedence shows. Prefect's answer comes from
one subprocess that imports prefect once and, for each case, sets the environment and working directory and
rebuilds the root settings context as prefect/context.py does at import (no global context, then
root_settings_context(); then get_current_settings()); a few cases are also run in a fresh process each,
which must agree, so the loop is a faithful stand-in. Prefect reads two things at import (env SSL_CERT_FILE,
`ssl_cert_file`'s default, and HOME, for ~/.prefect), so the cases are split by them, one loop process per
pair: no SSL_CERT_FILE with a ~/.prefect/profiles.toml, and an SSL_CERT_FILE with an empty home.

resolve() must equal Prefect field by field wherever it answers, answer None where Prefect fails, and answer
in every case built only of the forms it models ("plain"); the "odd" cases (a value form, file or variable it
leaves to the full path) may be None. Negative controls show the comparison can fail.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import random
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from prefect_push.api import settings as api_settings
from prefect_push.api.settings import ApiSettings, resolve

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261207
N_CASES = 200
SSL_VALUES = (None, "/etc/ssl/from-env.pem")
AT_IMPORT = ("HOME", "SSL_CERT_FILE")  # read when prefect is imported: one loop process per value
# HOME goes with SSL_CERT_FILE, so two loop processes cover both: a ~/.prefect/profiles.toml, and none
USER_HOMES = {None: "user-home-with-profiles", "/etc/ssl/from-env.pem": "user-home-empty"}
USER_PROFILES = ('active = "a"\n[profiles.a]\nPREFECT_API_URL = "http://home-profile/api"\n'
                 'PREFECT_API_ENABLE_HTTP2 = "yes"\n')

# What Prefect gives, as JSON: the fields ApiSettings mirrors.
ORACLE_FIELDS = r'''
def fields(s):
    secret = lambda v: None if v is None else v.get_secret_value()
    return {
        "url": s.api.url, "key": secret(s.api.key), "auth_string": secret(s.api.auth_string),
        "tls_insecure_skip_verify": s.api.tls_insecure_skip_verify, "ssl_cert_file": s.api.ssl_cert_file,
        "custom_headers": s.client.custom_headers, "csrf_support": s.client.csrf_support_enabled,
        "request_timeout": s.api.request_timeout, "enable_http2": s.api.enable_http2,
        "cloud_api_url": s.cloud.api_url, "connected_to_cloud": s.connected_to_cloud,
    }
'''

# One process, prefect imported once; each case rebuilds the root settings context the way import does.
LOOP = ORACLE_FIELDS + r'''
import json, os, sys, warnings
warnings.simplefilter("ignore")
import prefect.context, prefect.settings
from prefect.settings import sources
cases = json.load(open(sys.argv[1]))
out = {}
for case in cases:
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    with sources._file_cache_lock:
        sources._file_cache.clear()  # keyed by path and mtime: a stale hit is impossible, cleared anyway
    try:
        # prefect/context.py's last lines at import: no global context yet (load_profiles then reads the
        # profiles path from a fresh Settings(), not from the previous case's context), then the root one
        if hasattr(prefect.context, "GLOBAL_SETTINGS_CONTEXT"):
            del prefect.context.GLOBAL_SETTINGS_CONTEXT
        prefect.context.GLOBAL_SETTINGS_CONTEXT = prefect.context.root_settings_context()
        out[case["id"]] = {"settings": fields(prefect.settings.get_current_settings())}
    except Exception as exc:
        out[case["id"]] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
json.dump(out, open(sys.argv[2], "w"))
'''

# A truly fresh process: the environment and working directory in place before prefect is imported.
FRESH = ORACLE_FIELDS + r'''
import json, sys, warnings
warnings.simplefilter("ignore")
try:
    import prefect.settings
    out = {"settings": fields(prefect.settings.get_current_settings())}
except Exception as exc:
    out = {"error": f"{type(exc).__name__}: {exc}"[:300]}
json.dump(out, open(sys.argv[1], "w"))
'''

FIELD_ENV = {f.attr: f.env_name for f in api_settings.FIELDS}
PROFILE_NAMES = ("p1", "p2", "p3")


# ---- the matrix ---------------------------------------------------------------------------------------------


class Gen:
    """One case's sources, built from the seeded generator; values name their source so precedence shows."""

    def __init__(self, rng: random.Random, index: int, root: Path) -> None:
        self.rng = rng
        self.dir = root / f"c{index:03d}"
        self.cwd = self.dir / "work"
        self.odd: list[str] = []  # what in this case resolve() may leave to the full path
        self.env: dict[str, str] = {"HOME": "", "PREFECT_HOME": str(self.dir / "home")}  # HOME: by SSL
        self.files: dict[str, str] = {}

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def odd_value(self, p: float) -> bool:
        """Whether to inject an unusual form here (rarely, and at most a couple per case)."""
        return len(self.odd) < 2 and self.chance(p)

    # values, as text (env, .env) or as TOML's own types
    def value(self, attr: str, source: str, toml: bool) -> Any:
        rng = self.rng
        tag = source.replace(" ", "-")
        if attr in ("url", "cloud_api_url"):
            base = "https://api.prefect.cloud/api" if attr == "url" and self.chance(0.2) else f"http://{tag}.example"
            return f"{base}/{attr}/{tag}" if not (attr == "url" and self.chance(0.05)) else ""
        if attr in ("key", "auth_string"):
            return f"{attr}-{tag}"
        if attr == "ssl_cert_file":
            return f"/certs/{tag}.pem"
        if attr in ("tls_insecure_skip_verify", "csrf_support", "enable_http2"):
            if toml and self.chance(0.5):
                return rng.choice([True, False, 1, 0])
            return rng.choice(["true", "false", "1", "0", "yes", "no", "True", "OFF", "t", "N", "on"])
        if attr == "request_timeout":
            number = 10 + sum(map(ord, tag)) % 80
            if toml and self.chance(0.6):
                return rng.choice([number, number + 0.5])
            return rng.choice([str(number), f"{number}.25", f"{number}e0", f"+{number}"])
        if attr == "custom_headers":
            headers = {f"X-{tag}": tag, "X-Common": tag} if self.chance(0.6) else {f"X-{tag}": tag}
            if toml and self.chance(0.5):
                return headers  # a TOML table
            return json.dumps(headers)
        raise AssertionError(attr)

    def odd_for(self, attr: str, toml: bool) -> Any:
        """A value form resolve() does not model (or that Prefect refuses)."""
        kind = next(f.kind for f in api_settings.FIELDS if f.attr == attr)
        self.odd.append(f"odd value for {attr}")
        if kind == "bool":
            return self.rng.choice(["maybe", " true", "2"]) if not toml else self.rng.choice([2, "maybe"])
        if kind == "float":
            return self.rng.choice([" 5", "1_000", "inf", "nan"]) if not toml else self.rng.choice([True, " 7"])
        if kind == "headers":
            return self.rng.choice(['{"X-N": 1}', "not json", '"{}"', "[]"])
        return 5 if toml else "${HOME}/x"  # a number in TOML; an interpolation in .env

    def settings_for(self, source: str, toml: bool, p: float) -> dict[str, Any]:
        chosen: dict[str, Any] = {}
        for attr in FIELD_ENV:
            if self.chance(p):
                chosen[attr] = self.odd_for(attr, toml) if self.odd_value(0.006) else self.value(attr, source, toml)
        return chosen


def toml_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_str(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # a TOML basic string, for the plain ASCII used here


def by_section(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sections: dict[str, dict[str, Any]] = {}
    for field in api_settings.FIELDS:
        if field.attr in values:
            sections.setdefault(field.section, {})[field.name] = values[field.attr]
    return sections


def settings_toml(values: dict[str, Any], prefix: str, root_keys: dict[str, Any], rng: random.Random) -> str:
    """A prefect.toml (prefix "") or pyproject.toml (prefix "tool.prefect") body, in one of TOML's three
    spellings of a nested table: [api] headers, dotted keys, inline tables."""
    sections = by_section(values)
    style = rng.choice(["headers", "dotted", "inline"])
    lines: list[str] = []
    if prefix:
        lines += ["[project]", 'name = "demo"', "", f"[{prefix}]"]
    lines += [f"{k} = {toml_str(v)}" for k, v in root_keys.items()]
    if style == "headers":
        for section, items in sections.items():
            lines.append(f"[{prefix + '.' if prefix else ''}{section}]")
            lines += [f"{k} = {toml_str(v)}" for k, v in items.items()]
    elif style == "dotted":
        lines += [f"{section}.{k} = {toml_str(v)}" for section, items in sections.items() for k, v in items.items()]
    else:
        lines += [f"{section} = {toml_str(items)}" for section, items in sections.items()]
    return "\n".join(lines) + "\n"


def dotenv_text(values: dict[str, str], extra: dict[str, str], rng: random.Random) -> str:
    lines = ["# project env", "OTHER_TOOL=1"]
    for name, value in [*((FIELD_ENV[a], v) for a, v in values.items()), *extra.items()]:
        if not isinstance(value, str):
            value = str(value)
        form = rng.choice(["plain", "export", "single", "double"])
        if '"' in value or "'" in value or " " in value:
            form = "single" if "'" not in value else "double"
        if "$" in value:
            form = "plain"
        quoted = {"plain": value, "export": value, "single": f"'{value}'", "double": f'"{value}"'}[form]
        equals = rng.choice(["=", "=", " = "])
        if rng.random() < 0.1:  # the same name twice: the last one counts
            lines.append(f"{name}{equals}'an earlier value'")
        lines.append(f"{'export ' if form == 'export' else ''}{name}{equals}{quoted}")
    return "\n".join(lines) + "\n"


def profiles_text(g: Gen, active: str | None, label: str = "profile") -> str:
    lines = [f"active = {json.dumps(active)}"] if active is not None else []
    for name in PROFILE_NAMES:
        lines.append(f"[profiles.{name}]")
        for attr, value in g.settings_for(f"{label} {name}", toml=True, p=0.4).items():
            if attr == "custom_headers" and isinstance(value, dict):
                value = json.dumps(value)  # a profile holds the headers as JSON text
            lines.append(f"{FIELD_ENV[attr]} = {toml_str(value)}")
        if g.chance(0.1):  # a trap: profile keys are read in upper case only
            lines.append(f'prefect_api_url = "http://lower-{name}.example/api"')
        if g.chance(0.2):  # settings of other tables are no business of these
            lines.append('PREFECT_LOGGING_LEVEL = "INFO"\nPREFECT_SERVER_API_PORT = 4300')
        lines.append("")
    return "\n".join(lines)


def make_case(rng: random.Random, index: int, root: Path) -> dict[str, Any]:
    g = Gen(rng, index, root)
    single = g.chance(0.25)  # a common case: one source only, plain forms
    sources = ["env", "dotenv", "prefect.toml", "pyproject", "profile"]
    present = {rng.choice(sources)} if single else {s for s in sources if g.chance(0.55)}
    odd_p = 0.0 if single else 0.06  # odd whole-case twists (below), besides odd values
    if single:
        g.odd_value = lambda p: False  # type: ignore[method-assign]

    env_values = g.settings_for("env", toml=False, p=0.45) if "env" in present else {}
    for attr, value in env_values.items():
        name = FIELD_ENV[attr]
        g.env[name.lower() if g.chance(0.1) else name] = str(value)  # pydantic-settings ignores case
    if g.chance(0.2):
        g.env.update({"PREFECT_LOGGING_LEVEL": "DEBUG", "PREFECT_API_DATABASE_TIMEOUT": "5", "SSL_CERT_DIR": "/x"})
    if g.chance(odd_p / 3):
        g.odd.append("the same variable spelled twice")
        g.env["PREFECT_API_URL"], g.env["prefect_api_url"] = "http://upper.example/api", "http://lower.example/api"
    if g.chance(odd_p / 4):
        g.odd.append("a whole table in one variable")
        g.env["PREFECT_API"] = json.dumps({"url": "http://whole.example/api"})
    if g.chance(odd_p / 6):
        g.odd.append("the plugin system")
        g.env[rng.choice(api_settings.PLUGINS[1::3])] = "false"  # even off: where it is set is not modelled
    if g.chance(odd_p / 4):
        g.odd.append("test mode")
        g.env["PREFECT_TEST_MODE"] = "1"

    if g.chance(0.12):  # no PREFECT_HOME: ~/.prefect (none there, HOME is fixed) -> Prefect's built-in profiles
        del g.env["PREFECT_HOME"]
    elif g.chance(0.1):
        g.env["PREFECT_HOME"] = "../home"  # relative: to the cwd
    elif g.chance(odd_p / 4):
        g.odd.append("empty PREFECT_HOME")  # unset for the profile, "." for load_profiles
        g.env["PREFECT_HOME"] = ""

    # where the profiles file is, and which profile is active
    where = "home"
    if "profile" in present and not single:
        where = rng.choice(["home", "home", "env-abs", "env-rel", "dotenv", "prefect.toml", "pyproject", "missing"])
    profiles_rel = {"home": "home/profiles.toml", "env-abs": "alt/profiles.toml", "env-rel": "work/rel/p.toml",
                    "dotenv": "alt/from-dotenv.toml", "prefect.toml": "alt/from-prefect-toml.toml",
                    "pyproject": "alt/from-pyproject.toml", "missing": "home/profiles.toml"}[where]
    profiles_path = str(g.dir / profiles_rel) if where != "env-rel" else "rel/p.toml"
    if where in ("dotenv", "prefect.toml", "pyproject") and g.chance(0.3):
        profiles_path = f"../{profiles_rel}"  # relative to the cwd, as Prefect opens it
    if where in ("env-abs", "env-rel"):
        g.env["PREFECT_PROFILES_PATH"] = profiles_path
    if "profile" in present and where != "missing":
        active = rng.choice([*PROFILE_NAMES, "nope", None])
        g.files[profiles_rel] = profiles_text(g, active)
        if where != "home" and g.chance(0.5):  # a decoy where the default would be
            g.files["home/profiles.toml"] = profiles_text(g, rng.choice(PROFILE_NAMES), "decoy")
        if g.chance(0.5):
            g.env["PREFECT_PROFILE"] = rng.choice([*PROFILE_NAMES, "nope", "", "local"])
        if g.chance(odd_p / 3):
            g.odd.append("an invalid profiles file")
            g.files[profiles_rel] += "\n[profiles.broken\n"
    if g.chance(odd_p / 6):
        g.odd.append("a profiles path under ~")
        g.env["PREFECT_PROFILES_PATH"] = "~/nowhere/profiles.toml"

    if "PREFECT_HOME" not in g.env and g.chance(0.5):
        g.env["PREFECT_PROFILE"] = rng.choice(["local", "ephemeral", "nope"])  # Prefect's built-in file's
    if g.chance(odd_p / 4):
        g.odd.append("empty PREFECT_PROFILES_PATH")  # the next source for the profile, "." for load_profiles
        g.env["PREFECT_PROFILES_PATH"] = ""

    dotenv_extra = {"PREFECT_PROFILES_PATH": profiles_path} if where == "dotenv" else {}
    if g.chance(0.15):
        dotenv_extra["PREFECT_PROFILE"] = rng.choice(PROFILE_NAMES)  # a trap: the profile is read from env only
    if "dotenv" in present or dotenv_extra:
        values = g.settings_for("dotenv", toml=False, p=0.45) if "dotenv" in present else {}
        g.files["work/.env"] = dotenv_text(values, dotenv_extra, rng)
        if g.chance(odd_p / 4):
            g.odd.append(".env with an inline comment")
            g.files["work/.env"] += "PREFECT_API_ENABLE_HTTP2=true # on\n"

    toml_root: dict[str, Any] = {"profiles_path": profiles_path} if where == "prefect.toml" else {}
    if g.chance(0.15):  # traps: names these files do not read
        toml_root.update({"PREFECT_API_URL": "http://root-key.example/api", "api_url": "http://flat.example/api"})
    if "prefect.toml" in present or toml_root:
        values = g.settings_for("prefect-toml", toml=True, p=0.45) if "prefect.toml" in present else {}
        g.files["work/prefect.toml"] = settings_toml(values, "", toml_root, rng)
        if g.chance(odd_p / 4):
            g.odd.append("an invalid prefect.toml")
            g.files["work/prefect.toml"] += "[api\n"

    pyproject_root: dict[str, Any] = {"profiles_path": profiles_path} if where == "pyproject" else {}
    if g.chance(0.15):
        pyproject_root["api_url"] = "http://flat.example/api"
    if "pyproject" in present or pyproject_root or g.chance(0.2):
        values = g.settings_for("pyproject", toml=True, p=0.45) if "pyproject" in present else {}
        g.files["work/pyproject.toml"] = settings_toml(values, "tool.prefect", pyproject_root, rng)

    ssl = rng.choice(SSL_VALUES)
    g.env["HOME"] = str(root / USER_HOMES[ssl])
    return {"id": f"c{index:03d}", "cwd": str(g.cwd), "env": g.env, "files": g.files, "odd": g.odd,
            "plain": not g.odd, "single": single, "ssl": ssl}


def materialize(case: dict[str, Any]) -> None:
    base = Path(case["cwd"]).parent
    for sub in ("work", "home", "alt"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    for rel, text in case["files"].items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text)
    if case["ssl"] is not None:
        case["env"]["SSL_CERT_FILE"] = case["ssl"]


def subprocess_env(extra: dict[str, str]) -> dict[str, str]:
    """A clean environment: nothing of this session's (or the user's) Prefect settings."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT / "src"), **extra}


def oracle_loop(cases: list[dict[str, Any]], work: Path) -> dict[str, dict[str, Any]]:
    """Prefect's answers: one loop process per value of what Prefect reads at import (HOME for ~/.prefect,
    SSL_CERT_FILE for ssl_cert_file's default), run side by side."""
    groups: dict[tuple[str | None, ...], list[dict[str, Any]]] = {}
    for case in cases:
        groups.setdefault(tuple(case["env"].get(k) for k in AT_IMPORT), []).append(case)
    procs = []
    for n, (key, group) in enumerate(groups.items()):
        cases_file, out_file = work / f"loop{n}.json", work / f"loop{n}.out.json"
        cases_file.write_text(json.dumps([{k: c[k] for k in ("id", "env", "cwd")} for c in group]))
        at_import = {k: v for k, v in zip(AT_IMPORT, key) if v is not None}
        env = subprocess_env({**at_import, "PREFECT_HOME": str(work / f"import-home{n}")})
        procs.append((subprocess.Popen([sys.executable, "-c", LOOP, str(cases_file), str(out_file)], env=env,
                                       cwd=str(work), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out_file))
    answers: dict[str, dict[str, Any]] = {}
    for proc, out_file in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        answers.update(json.loads(out_file.read_text()))
    return answers


def oracle_fresh(runs: list[tuple[str, dict[str, str], str]], work: Path) -> dict[str, dict[str, Any]]:
    """Prefect's answers from a fresh process each: (id, environment, cwd), run side by side."""
    procs = []
    for ident, env, cwd in runs:
        out_file = work / f"fresh-{ident}.json"
        procs.append((ident, subprocess.Popen([sys.executable, "-c", FRESH, str(out_file)], cwd=cwd,
                                              env=subprocess_env(env), stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE), out_file))
    answers = {}
    for ident, proc, out_file in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
        answers[ident] = json.loads(out_file.read_text())
    return answers


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("apisettings")
    (root / USER_HOMES[None] / ".prefect").mkdir(parents=True)
    (root / USER_HOMES[None] / ".prefect" / "profiles.toml").write_text(USER_PROFILES)
    (root / USER_HOMES[SSL_VALUES[1]]).mkdir()
    rng = random.Random(SEED)
    cases = [make_case(rng, i, root) for i in range(N_CASES)]
    for case in cases:
        materialize(case)
    extra = home_cases(root)
    return {"root": root, "cases": cases, "extra": extra, "prefect": oracle_loop([*cases, *extra], root)}


def home_cases(root: Path) -> list[dict[str, Any]]:
    """No PREFECT_HOME: ~/.prefect/profiles.toml if it exists, else Prefect's built-in profiles."""
    (root / "plain-cwd").mkdir()
    with_file = {"HOME": str(root / USER_HOMES[None])}
    without = {"HOME": str(root / USER_HOMES[SSL_VALUES[1]]), "SSL_CERT_FILE": str(SSL_VALUES[1])}
    runs = {"with": with_file, "without": without,
            "profile-env": {**with_file, "PREFECT_PROFILE": "local"},
            "builtin-local": {**without, "PREFECT_PROFILE": "local"},
            "builtin-nope": {**without, "PREFECT_PROFILE": "nope"}}
    return [{"id": f"home-{ident}", "env": env, "cwd": str(root / "plain-cwd")} for ident, env in runs.items()]


def mine(case: dict[str, Any], fn: Callable[..., ApiSettings | None] = resolve) -> dict[str, Any] | None:
    got = fn(case["env"], case["cwd"])
    return None if got is None else {**got._asdict(), "connected_to_cloud": got.connected_to_cloud}


def mismatches(matrix: dict[str, Any], fn: Callable[..., ApiSettings | None] = resolve) -> list[str]:
    """Every case where fn answers and the answer is not Prefect's (or Prefect failed), one line each."""
    bad = []
    for case in matrix["cases"]:
        got, theirs = mine(case, fn), matrix["prefect"][case["id"]]
        if got is None:
            continue
        if "error" in theirs:
            bad.append(f"{case['id']}: resolved, but Prefect fails: {theirs['error']}")
        elif got != theirs["settings"]:
            diff = {k: (got[k], theirs["settings"][k]) for k in got if got[k] != theirs["settings"][k]}
            bad.append(f"{case['id']}: (mine, prefect's) {diff}")
    return bad


# ---- the proof ----------------------------------------------------------------------------------------------


def test_resolve_equals_prefect(matrix: dict[str, Any]) -> None:
    assert mismatches(matrix) == []


def test_resolve_answers_every_plain_case(matrix: dict[str, Any]) -> None:
    """None only where the case holds something left to the full path; the counts are stated here."""
    cases = matrix["cases"]
    unresolved = [c for c in cases if mine(c) is None]
    assert [c["id"] for c in unresolved if c["plain"]] == []
    plain = [c for c in cases if c["plain"]]
    assert len(cases) == N_CASES and len(plain) >= 0.8 * N_CASES  # the matrix is mostly common cases
    assert sum(c["single"] for c in cases) >= 40  # env only, .env only, prefect.toml only, ... each seen
    assert len(unresolved) <= 0.15 * N_CASES  # measured: 22 of 200, every one odd
    errors = [c for c in cases if "error" in matrix["prefect"][c["id"]]]
    assert errors and all(mine(c) is None for c in errors)  # Prefect's own refusals are never answered


def test_matrix_exercises_precedence(matrix: dict[str, Any]) -> None:
    """The matrix is not trivially satisfied: sources disagree and the loser differs from the winner."""
    answers = [matrix["prefect"][c["id"]].get("settings") for c in matrix["cases"]]
    urls = {a["url"].split("/")[-1] for a in answers if a and a["url"]}
    assert {"env", "dotenv", "prefect-toml", "pyproject"} <= urls
    assert any(u.startswith("profile-") for u in urls)
    merged = [a for a in answers if a and len(a["custom_headers"]) >= 3]  # headers from two sources merged
    assert merged
    assert {a["connected_to_cloud"] for a in answers if a} == {True, False}


def test_loop_equals_fresh_processes(matrix: dict[str, Any]) -> None:
    """The loop is trustworthy: the same cases in a fresh process each give the same answers."""
    cases = matrix["cases"]
    busiest = sorted((c for c in cases if c["plain"]), key=lambda c: -len(c["files"]) - len(c["env"]))
    chosen = busiest[:2]  # the most sources in play: precedence at its fullest
    chosen += [c for c in busiest if c["ssl"] and c not in chosen][:1]  # the other loop process
    chosen += [c for c in busiest if "PREFECT_HOME" not in c["env"]][:1]  # ~/.prefect, read at import
    chosen += [c for c in cases if "error" in matrix["prefect"][c["id"]]][:1]  # Prefect refuses it too
    assert len(chosen) == 5 and {c["ssl"] for c in chosen} == set(SSL_VALUES)
    fresh = oracle_fresh([(c["id"], c["env"], c["cwd"]) for c in chosen], matrix["root"])
    for case in chosen:
        theirs, loop = fresh[case["id"]], matrix["prefect"][case["id"]]
        if "error" in loop:
            assert theirs["error"].split(":")[0] == loop["error"].split(":")[0], case["id"]
        else:
            assert theirs == loop, case["id"]


def test_default_home_branch(matrix: dict[str, Any]) -> None:
    """No PREFECT_HOME: ~/.prefect/profiles.toml if it exists, else Prefect's built-in file, where
    PREFECT_PROFILE=local sets the URL (HOME is read at import: these ride on the matrix's two loops)."""
    theirs = {c["id"].removeprefix("home-"): matrix["prefect"][c["id"]]["settings"] for c in matrix["extra"]}
    assert theirs["with"]["url"] == "http://home-profile/api" and theirs["with"]["enable_http2"] is True
    assert theirs["builtin-local"]["url"] == "http://127.0.0.1:4200/api"  # the built-in `local`
    assert theirs["profile-env"]["url"] is None  # not in the user's file: the built-in default
    assert theirs["without"]["url"] is None and theirs["builtin-nope"]["url"] is None
    for case in matrix["extra"]:
        assert mine(case) == matrix["prefect"][case["id"]]["settings"], case["id"]


def test_builtin_profiles_are_prefects() -> None:
    """BUILTIN_PROFILES holds what Prefect's own profiles.toml sets of these settings."""
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.submodule_search_locations
    path = Path(list(spec.submodule_search_locations)[0]) / "settings" / "profiles.toml"
    data = tomllib.loads(path.read_text())
    assert data["active"] == api_settings.BUILTIN_ACTIVE
    names = set(FIELD_ENV.values()) | set(api_settings.WHOLE_TABLES)
    ours = {name: {k: v for k, v in p.items() if k in names} for name, p in data["profiles"].items()}
    assert ours == api_settings.BUILTIN_PROFILES


# ---- negative controls: the comparison can fail -------------------------------------------------------------


def test_control_swapped_precedence_is_caught(matrix: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """prefect.toml and pyproject's [tool.prefect] swapped (pyproject first): mismatches are found."""
    real = api_settings._read_toml

    def swapped(path: str, **kwargs: Any) -> dict[str, Any]:
        directory, name = os.path.split(path)
        if name == "prefect.toml":
            return api_settings._table(real(os.path.join(directory, "pyproject.toml")), ("tool", "prefect"))
        if name == "pyproject.toml":
            return {"tool": {"prefect": real(os.path.join(directory, "prefect.toml"))}}
        return real(path, **kwargs)

    monkeypatch.setattr(api_settings, "_read_toml", swapped)
    assert len(mismatches(matrix)) >= 3


def test_control_headers_not_merged_is_caught(matrix: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The headers taken from the first source only, as for other settings: mismatches are found."""
    real = api_settings._combine

    def first_wins(field: Any, found: list[Any], environ: Any) -> Any:
        if field.kind == "headers":
            return dict(found[0]) if found else {}
        return real(field, found, environ)

    monkeypatch.setattr(api_settings, "_combine", first_wins)
    assert mismatches(matrix)


def test_control_profile_ignored_is_caught(matrix: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api_settings, "_profile", lambda *args: {})
    assert mismatches(matrix)


def test_control_a_wrong_answer_is_caught(matrix: dict[str, Any]) -> None:
    def off_by_one(environ: Any, cwd: str) -> ApiSettings | None:
        got = resolve(environ, cwd)
        return None if got is None else got._replace(request_timeout=got.request_timeout + 1)

    assert len(mismatches(matrix, off_by_one)) == sum(mine(c) is not None for c in matrix["cases"])


# ---- the module's own promises ------------------------------------------------------------------------------


def test_imports_nothing_of_prefect() -> None:
    code = ("import sys; import prefect_push.api.settings as s; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('prefect', 'pydantic', 'pydantic_settings', 'dotenv', 'httpx')))")
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env({}), capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
    tree = ast.parse(Path(api_settings.__file__).read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert all(n.level == 0 for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))  # nothing of the package
    assert imported <= {"__future__", "json", "math", "os", "re", "tomllib", "collections", "typing", "sys",
                        "tomli"}  # tomli: tomllib on Python 3.10


@pytest.mark.parametrize(("env", "files"), [
    ({"PREFECT_API": '{"url": "http://x/api"}'}, {}),  # a whole table through one variable
    ({"PREFECT_PLUGINS_ENABLED": "true"}, {}),  # startup hooks may set anything
    ({}, {".env": "PREFECT_EXPERIMENTS_PLUGINS_ENABLED=1\n"}),
    ({}, {"prefect.toml": "[plugins]\nenabled = true\n"}),
    ({}, {"pyproject.toml": "[tool.prefect.experiments.plugins]\nenabled = true\n"}),
    ({}, {".env": "PREFECT_HOME=/elsewhere\n"}),  # home read two ways
    ({}, {"prefect.toml": 'home = "/elsewhere"\n'}),
    ({}, {"home/profiles.toml": 'active = "a"\n[profiles.a]\nPREFECT_PROFILES_PATH = "/x.toml"\n'}),
    ({"PREFECT_TESTING_UNIT_TEST_MODE": "1"}, {}),
    ({"prefect_profile": "a"}, {}),  # read by exact name only
    ({"PREFECT_API_URL": "http://a/api", "Prefect_Api_Url": "http://b/api"}, {}),
    ({}, {".env": "PREFECT_API_URL=http://a/api # a comment\n"}),
    ({}, {".env": 'PREFECT_API_URL="multi\nline"\n'}),
    ({}, {"prefect.toml": "[api\n"}),
    ({}, {"home/profiles.toml": "[profiles.a\n"}),
    ({"PREFECT_API_REQUEST_TIMEOUT": " 5"}, {}),
    ({"PREFECT_CLIENT_CUSTOM_HEADERS": '{"X-N": 1}'}, {}),
])
def test_unmodelled_sources_answer_none(tmp_path: Path, env: dict[str, str], files: dict[str, str]) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "home").mkdir()
    base = {"HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path / "home")}
    assert resolve(base, str(tmp_path / "work")) is not None  # without them: an answer
    for rel, text in files.items():
        (tmp_path / (rel if rel.startswith("home/") else f"work/{rel}")).write_text(text)
    assert resolve({**base, **env}, str(tmp_path / "work")) is None


def test_repr_hides_secrets(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path), "PREFECT_API_KEY": "pnu_sekrit",
           "PREFECT_API_AUTH_STRING": "admin:pass", "PREFECT_CLIENT_CUSTOM_HEADERS": '{"X-Token": "tok"}'}
    got = resolve(env, str(tmp_path))
    assert got is not None and got.key == "pnu_sekrit" and got.custom_headers == {"X-Token": "tok"}
    for text in (repr(got), str(got), f"{got}"):
        assert "pnu_sekrit" not in text and "admin:pass" not in text and "tok'" not in text
