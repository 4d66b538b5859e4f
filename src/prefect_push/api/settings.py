"""The Prefect API client's settings, resolved as Prefect 3.9.1 resolves them, without importing prefect.

`import prefect` costs ~0.9 s, most of a fast push, and the write path only needs the handful of settings its
HTTP client uses (the URL, the key or auth string, TLS, headers, timeout). Prefect builds them with
pydantic-settings from these sources, first found wins (prefect/settings/base.py, sources.py):

1. environment variables, names matched case-insensitively (`PREFECT_API_URL`, ...; none of these settings
   has an alias);
2. `.env` in the working directory (python-dotenv's syntax);
3. `prefect.toml` in the working directory, one table per settings class (`[api] url = ...`);
4. `[tool.prefect]` of the working directory's pyproject.toml (`[tool.prefect.api] url = ...`);
5. the active profile: the file `_get_profiles_path` picks (env `PREFECT_PROFILES_PATH`, `.env`,
   prefect.toml's `profiles_path`, pyproject's `tool.prefect.profiles_path`, env `PREFECT_HOME`,
   `~/.prefect/profiles.toml` if it exists, else Prefect's built-in profiles), the profile named by env
   `PREFECT_PROFILE` or else the file's `active`, Prefect's built-in default profile ("ephemeral") when that
   is not in the file (`prefect --profile NAME` is the CLI's own, not this process's);
6. the defaults (`ssl_cert_file`'s is env `SSL_CERT_FILE`).

Values are parsed as pydantic parses them (bools from true/1/yes/on/t/y..., floats, JSON for the headers,
which pydantic-settings merges across sources). Nothing of prefect, pydantic or dotenv is imported: stdlib
and tomllib only, and nothing of prefect_push (this is the lowest floor).

`resolve` returns None whenever a source holds something this module does not model with certainty (a file
that does not parse, a value of an unexpected type or form, a whole settings table set through one variable,
Prefect's test mode, its plugin system, names differing only in case): None means "the full path decides",
i.e. the caller imports prefect and asks it. What is not foreseen: Prefect refusing a setting outside these
(a bad PREFECT_LOGGING_LEVEL fails its import), where this still answers. tests/test_apisettings.py proves
the answers equal Prefect's over a generated matrix.
"""
from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: the same parser, as a package (a dependency there)
    import tomli as tomllib


class ApiSettings(NamedTuple):
    """The settings Prefect's API client would use; `key` and `auth_string` never appear in the repr."""

    url: str | None  # settings.api.url
    key: str | None  # settings.api.key (secret)
    auth_string: str | None  # settings.api.auth_string (secret)
    tls_insecure_skip_verify: bool
    ssl_cert_file: str | None
    custom_headers: dict[str, str]  # settings.client.custom_headers
    csrf_support: bool  # settings.client.csrf_support_enabled
    request_timeout: float
    enable_http2: bool
    cloud_api_url: str  # settings.cloud.api_url: tells Prefect Cloud apart

    @property
    def connected_to_cloud(self) -> bool:
        """Prefect Cloud, not a server: Settings.connected_to_cloud. (The client's ServerType test is
        url.startswith(cloud_api_url) alone: the same but for an empty cloud_api_url, Cloud to it.)"""
        return bool(self.url and self.cloud_api_url and self.url.startswith(self.cloud_api_url))

    def __repr__(self) -> str:
        def shown(name: str, value: object) -> str:
            if name in SECRETS and value is not None:
                return f"{name}='**********'"  # as pydantic's SecretStr shows itself
            if name == "custom_headers":  # header values are often tokens too
                return f"{name}={sorted(value)!r}"  # type: ignore[call-overload]
            return f"{name}={value!r}"

        return f"ApiSettings({', '.join(shown(n, v) for n, v in zip(self._fields, self))})"


SECRETS = frozenset({"key", "auth_string"})


class _Field(NamedTuple):
    attr: str  # ApiSettings' field
    section: str  # Prefect's settings class: api, client, cloud
    name: str  # its field name there, the key in prefect.toml / pyproject tables
    kind: str  # str, bool, float, headers
    default: Any

    @property
    def env_name(self) -> str:
        return f"PREFECT_{self.section.upper()}_{self.name.upper()}"


FIELDS: tuple[_Field, ...] = (
    _Field("url", "api", "url", "str", None),
    _Field("key", "api", "key", "str", None),
    _Field("auth_string", "api", "auth_string", "str", None),
    _Field("tls_insecure_skip_verify", "api", "tls_insecure_skip_verify", "bool", False),
    _Field("ssl_cert_file", "api", "ssl_cert_file", "str", None),  # default: env SSL_CERT_FILE
    _Field("custom_headers", "client", "custom_headers", "headers", None),  # default: {}
    _Field("csrf_support", "client", "csrf_support_enabled", "bool", True),
    _Field("request_timeout", "api", "request_timeout", "float", 60.0),
    _Field("enable_http2", "api", "enable_http2", "bool", False),
    _Field("cloud_api_url", "cloud", "api_url", "str", "https://api.prefect.cloud/api"),
)

# The root Settings reads its `api`, `client` and `cloud` fields too, as one JSON value each (PREFECT_API=...):
# that would replace the whole table, which is not modelled.
WHOLE_TABLES = ("PREFECT_API", "PREFECT_CLIENT", "PREFECT_CLOUD")
# Read by exact name (os.environ.get), so another spelling of one is a trap, not modelled.
CONTROL = ("PREFECT_PROFILE", "PREFECT_PROFILES_PATH", "PREFECT_HOME")
TEST_MODE = (  # prefect/settings/sources.py _is_test_mode: profiles ignored, built-in path used
    "PREFECT_TEST_MODE",
    "PREFECT_UNIT_TEST_MODE",
    "PREFECT_TESTING_UNIT_TEST_MODE",
    "PREFECT_TESTING_TEST_MODE",
)
# Prefect's plugin system (off by default) runs startup hooks at import that may set any variable, then rebuilds
# the settings (prefect/__init__.py _initialize_plugins): a source that may switch it on is not modelled.
PLUGINS = (
    "PREFECT_PLUGINS",
    "PREFECT_PLUGINS_ENABLED",
    "PREFECT_EXPERIMENTS",
    "PREFECT_EXPERIMENTS_PLUGINS",
    "PREFECT_EXPERIMENTS_PLUGINS_ENABLED",
)
NOT_MODELLED = (*WHOLE_TABLES, *PLUGINS)
PREFECT_KEYS = frozenset(f.env_name for f in FIELDS) | set(NOT_MODELLED) | set(CONTROL) | set(TEST_MODE)

# Prefect's built-in profiles (prefect/settings/profiles.toml, 3.9.1), what of them these settings read: used
# when no profiles file is found, and its active one ("ephemeral", none of these) when the profile named is
# not in the user's file.
BUILTIN_ACTIVE = "ephemeral"
BUILTIN_PROFILES: dict[str, dict[str, Any]] = {
    "ephemeral": {},
    "local": {"PREFECT_API_URL": "http://127.0.0.1:4200/api"},
    "test": {},
    "cloud": {},
}

# pydantic's str -> bool (case-insensitive, no surrounding space)
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})
# the float forms known to parse the same in pydantic and here (no space, "_", inf, nan)
FLOAT_RE = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class Unsettled(Exception):
    """A source this module cannot settle with certainty: resolve() answers None."""


def resolve(environ: Mapping[str, str], cwd: str) -> ApiSettings | None:
    """None: a source this cannot settle with certainty -> the caller uses Prefect itself (the full path)."""
    try:
        return _resolve(environ, cwd)
    except Unsettled:
        return None


def _resolve(environ: Mapping[str, str], cwd: str) -> ApiSettings:
    env = _prefect_environ(environ)
    if any(name in env for name in (*TEST_MODE, *NOT_MODELLED)):
        raise Unsettled("test mode, plugins or a whole settings table in the environment")
    dotenv = _read_dotenv(os.path.join(cwd, ".env"))
    if any(name in dotenv for name in (*NOT_MODELLED, "PREFECT_HOME")):
        raise Unsettled(".env sets plugins, a whole table or PREFECT_HOME (which Prefect reads two ways)")
    prefect_toml = _read_toml(os.path.join(cwd, "prefect.toml"))
    pyproject = _read_toml(os.path.join(cwd, "pyproject.toml"))
    tool_prefect = _table(pyproject, ("tool", "prefect"))
    for table in (prefect_toml, tool_prefect):
        if "home" in table:
            raise Unsettled("home set in a file: Prefect's profile list and its settings would read other files")
        if "plugins" in table or "plugins" in _table(table, ("experiments",)):
            raise Unsettled("plugins configured in a file")
    profile = _profile(environ, cwd, dotenv, prefect_toml, tool_prefect)
    if any(name in profile for name in (*NOT_MODELLED, "PREFECT_HOME", "PREFECT_PROFILES_PATH")):
        raise Unsettled("the profile sets plugins, a whole table, or moves home / the profiles file")

    values: dict[str, Any] = {}
    for field in FIELDS:
        layers = (  # highest priority first
            _from_text(field, env.get(field.env_name)),
            _from_text(field, dotenv.get(field.env_name)),
            _from_toml(field, _table(prefect_toml, (field.section,)).get(field.name)),
            _from_toml(field, _table(tool_prefect, (field.section,)).get(field.name)),
            _from_profile(field, profile.get(field.env_name)),
        )
        values[field.attr] = _combine(field, [v for v in layers if v is not None], environ)
    return ApiSettings(**values)


def _combine(field: _Field, found: list[Any], environ: Mapping[str, str]) -> Any:
    """The first value found wins, but dicts merge (pydantic-settings' deep_update of the sources)."""
    if field.kind == "headers":
        merged: dict[str, str] = {}
        for headers in reversed(found):
            merged.update(headers)
        return merged
    if found:
        return found[0]
    if field.attr == "ssl_cert_file":
        return environ.get("SSL_CERT_FILE")  # Prefect's default, read when prefect is imported
    return field.default


# ---- the environment ----------------------------------------------------------------------------------------


def _prefect_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables Prefect reads here, by upper-case name; two spellings of one name -> Unsettled.

    pydantic-settings lower-cases every name, so prefect_api_url counts as PREFECT_API_URL, and with both set
    the order of the environment decides; the control names are read by exact name only."""
    found: dict[str, str] = {}
    for name, value in environ.items():
        upper = name.upper()
        if upper not in PREFECT_KEYS:
            continue
        if upper in found or (name != upper and upper not in {f.env_name for f in FIELDS}):
            raise Unsettled(f"{name}: spelled more than one way, or a control variable not in upper case")
        found[upper] = value
    return found


# ---- files --------------------------------------------------------------------------------------------------


def _read_text(path: str) -> str | None:
    """A file's text as Prefect reads it (Path.read_text: UTF-8, universal newlines); None when missing;
    anything but a readable regular file -> Unsettled."""
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        raise Unsettled(f"{path}: not a regular file")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise Unsettled(f"{path}: {exc}") from exc


def _read_toml(path: str, ascii_only: bool = False) -> dict[str, Any]:
    """A TOML file as Prefect reads it ({} when missing); anything but a valid file -> Unsettled."""
    text = _read_text(path)
    if text is None:
        return {}
    if ascii_only and not text.isascii():
        raise Unsettled(f"{path}: not ASCII, and read in the locale's encoding too")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unsettled(f"{path}: {exc}") from exc


def _table(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """data[k1][k2]..., {} when missing, as Prefect descends a table header; a non-table on the way -> Unsettled."""
    for key in keys:
        data = data.get(key, {})
        if not isinstance(data, dict):
            raise Unsettled(f"{key} is not a table")
    return data


# Where python-dotenv's reading and this one's could part: a BOM, control characters (tab aside), Unicode's
# line separators and spaces (str.strip's whitespace that python-dotenv's [^\S\r\n] may treat otherwise).
_UNUSUAL_CHARS = re.compile("[\ufeff\x00-\x08\x0b-\x1f\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
_DOTENV_LINE = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")


def _read_dotenv(path: str) -> dict[str, str]:
    """`.env`'s variables by upper-case name, for the simple forms python-dotenv reads the same way.

    KEY=value, export KEY=value, KEY='value', KEY="value", comments and blank lines; anything else (escapes,
    ${VAR} interpolation, multi-line quotes, inline comments, a name without '=') -> Unsettled."""
    text = _read_text(path)
    if text is None:
        return {}
    if _UNUSUAL_CHARS.search(text):
        raise Unsettled(".env: a BOM, a control character or an unusual space")
    exact: dict[str, str] = {}
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _DOTENV_LINE.fullmatch(stripped)
        if match is None:
            raise Unsettled(f".env: a line not modelled: {stripped[:20]!r}...")
        exact[match.group(1)] = _dotenv_value(match.group(2))
    found: dict[str, str] = {}
    for name, value in exact.items():
        upper = name.upper()
        if upper in PREFECT_KEYS and (upper in found or (name != upper and upper in CONTROL)):
            raise Unsettled(f".env: {name} spelled more than one way")
        found[upper] = value
    return found


def _dotenv_value(raw: str) -> str:
    if "$" in raw or "\\" in raw:  # interpolation and escapes: python-dotenv's business
        raise Unsettled(".env: $ or \\ in a value")
    for quote in ("'", '"'):
        if raw.startswith(quote):
            if len(raw) < 2 or not raw.endswith(quote) or quote in raw[1:-1]:
                raise Unsettled(".env: a quoted value not modelled")
            return raw[1:-1]
    if any(c in raw for c in "#'\""):  # inline comments and stray quotes
        raise Unsettled(".env: # or a quote inside an unquoted value")
    return raw


# ---- profiles -----------------------------------------------------------------------------------------------


def _profiles_path(
    environ: Mapping[str, str], cwd: str, dotenv: dict[str, str], prefect_toml: dict[str, Any],
    tool_prefect: dict[str, Any],
) -> str | None:
    """prefect/settings/sources.py _get_profiles_path: the file the profile comes from; None: the built-in one."""
    candidates = (
        environ.get("PREFECT_PROFILES_PATH"),
        dotenv.get("PREFECT_PROFILES_PATH"),
        prefect_toml.get("profiles_path"),
        tool_prefect.get("profiles_path"),
    )
    for candidate in candidates:
        if candidate is not None:  # Prefect takes the first truthy one here, but the first set one for
            return os.path.join(cwd, _plain_path(candidate))  # load_profiles: "" is not modelled
    if (home := environ.get("PREFECT_HOME")) is not None:
        return os.path.join(cwd, _plain_path(home), "profiles.toml")
    user_home = environ.get("HOME")
    if not user_home:
        raise Unsettled("no HOME: Path.home() would ask the password database")
    default = os.path.join(user_home, ".prefect", "profiles.toml")
    return default if os.path.exists(default) else None


def _plain_path(value: object) -> str:
    """A path Prefect's two readers of it agree on (the profile's loader, sources.py, and load_profiles at
    import, which fails on a file it cannot read): a non-empty string, no ~ (expanded by one reader only), no
    $PREFECT_HOME (templated by one reader only)."""
    if not isinstance(value, str) or not value or value.startswith("~") or "$" in value:
        raise Unsettled(f"a profiles path not modelled: {value!r}")
    return value


def _profile(
    environ: Mapping[str, str], cwd: str, dotenv: dict[str, str], prefect_toml: dict[str, Any],
    tool_prefect: dict[str, Any],
) -> dict[str, Any]:
    """The active profile's settings, as ProfileSettingsTomlLoader picks them."""
    path = _profiles_path(environ, cwd, dotenv, prefect_toml, tool_prefect)
    if path is None:  # Prefect reads its built-in file as it would a user's: PREFECT_PROFILE=local counts
        data: dict[str, Any] = {"active": BUILTIN_ACTIVE, "profiles": BUILTIN_PROFILES}
    elif not os.path.exists(path):
        return BUILTIN_PROFILES[BUILTIN_ACTIVE]
    else:
        # an invalid file: Prefect warns here and fails in load_profiles (which reads it in the locale's
        # encoding, hence ASCII only)
        data = _read_toml(path, ascii_only=True)
    active = environ.get("PREFECT_PROFILE") or data.get("active")
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict) or not (active is None or isinstance(active, str)):
        raise Unsettled("profiles file of an unexpected shape")
    if not all(isinstance(settings, dict) for settings in profiles.values()):
        raise Unsettled("a profile that is not a table")  # load_profiles fails on it
    if not active or active not in profiles:
        return BUILTIN_PROFILES[BUILTIN_ACTIVE]  # Prefect's built-in default profile
    return profiles[active]


# ---- values -------------------------------------------------------------------------------------------------


def _from_text(field: _Field, value: str | None) -> Any:
    """A value from the environment or .env (a string; JSON for the headers)."""
    if value is None:
        return None
    if field.kind == "headers":
        return _headers(_json(value))
    return _scalar(field, value)


def _from_toml(field: _Field, value: Any) -> Any:
    """A value from prefect.toml or pyproject: TOML's own types, a table for the headers or a JSON string."""
    if value is None:
        return None
    if field.kind == "headers":
        return _headers(value if isinstance(value, dict) else _json(value))
    if isinstance(value, dict):  # Prefect would skip it (taken for a nested table): not modelled
        raise Unsettled(f"{field.name}: a table")
    return _scalar(field, value)


def _from_profile(field: _Field, value: Any) -> Any:
    """A value from the profile: as TOML, but the headers must be JSON text (a table would be JSON-decoded)."""
    if value is None:
        return None
    if field.kind == "headers":
        return _headers(_json(value))
    return _scalar(field, value)


def _json(value: object) -> Any:
    if not isinstance(value, str):
        raise Unsettled("custom headers: not a string")
    try:
        return json.loads(value)
    except ValueError as exc:
        raise Unsettled(f"custom headers: not JSON ({exc})") from exc


def _headers(value: Any) -> dict[str, str]:
    """Dict[str, str]; pydantic would refuse anything else (or decode a JSON string twice): Unsettled."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise Unsettled("custom headers: not an object of strings")
    return dict(value)


def _scalar(field: _Field, value: Any) -> Any:
    if field.kind == "str":
        if not isinstance(value, str):  # pydantic does not turn numbers into str
            raise Unsettled(f"{field.name}: not a string")
        return value
    if field.kind == "bool":
        return _bool(field, value)
    return _float(field, value)


def _bool(field: _Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
        return value.lower() in TRUE_WORDS
    raise Unsettled(f"{field.name}: {value!r} is not a bool pydantic takes")


def _float(field: _Field, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and FLOAT_RE.fullmatch(value):
        number = float(value)
    else:
        raise Unsettled(f"{field.name}: {value!r} is not a number in a form modelled")
    if not math.isfinite(number):
        raise Unsettled(f"{field.name}: not finite")
    return number
