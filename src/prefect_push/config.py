"""[tool.prefect-push] in the pushed commit's pyproject.toml. Pure: bytes in, Config or ConfigError out."""
from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTION = "tool.prefect-push"
DEFAULT_FLOWS = ("**/*.py",)
DEFAULT_NAME = "{ref}"
NAME_FIELDS = {"ref", "flow", "file"}
# Prefect rejects these in flow and deployment names.
FORBIDDEN_NAME_CHARS = frozenset("/%&><")
_FORBIDDEN = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_NAME_CHARS))) + "]")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    flows: tuple[str, ...] = DEFAULT_FLOWS
    work_pool: str | None = None
    work_queue: str | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    credentials: str | None = None
    deployment_name: str = DEFAULT_NAME
    on_error: str = "block"
    tags: tuple[str, ...] = ()
    repository_url: str | None = None  # what workers clone, when not the URL pushed to (ssh for devs, https for runs)
    timeout: float = 60.0  # seconds the whole server phase may take: a hung server must not hang `git push`

    def selects(self, path: str) -> bool:
        return path.endswith(".py") and any(glob_match(g, path) for g in self.flows)

    def deployment_name_for(self, ref_short: str, flow_name: str, path: str) -> str:
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        name = self.deployment_name.format(ref=ref_short, flow=flow_name, file=stem)
        return safe_name(name)


def safe_name(name: str) -> str:
    """Deployment names may not contain / % & > <: each becomes '-' (feature/x -> feature-x)."""
    return _FORBIDDEN.sub("-", name)


def load(pyproject: bytes | None, where: str = "pyproject.toml") -> Config:
    if pyproject is None:
        return Config()
    try:
        data = tomllib.loads(pyproject.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    tool = data.get("tool", {})
    section = tool.get("prefect-push", {}) if isinstance(tool, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [{SECTION}] must be a table")
    return parse(section, where)


def parse(section: dict[str, Any], where: str = "pyproject.toml") -> Config:
    known = {"flows", "work-pool", "work-queue", "job-variables", "credentials", "deployment-name", "on-error", "tags",
             "repository-url", "timeout"}
    for key in section:
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} in [{SECTION}] "
                              f"(known: {', '.join(sorted(known))})")

    def setting(key: str) -> str:
        return f"{where}: [{SECTION}] {key}"

    def str_list(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = section.get(key, list(default))
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{setting(key)} must be a list of strings")
        return tuple(value)

    def opt_str(key: str) -> str | None:
        value = section.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f"{setting(key)} must be a non-empty string")
        return value

    job_variables = section.get("job-variables", {})
    if not isinstance(job_variables, dict):
        raise ConfigError(f"{setting('job-variables')} must be a table")
    on_error = section.get("on-error", "block")
    if on_error not in ("block", "warn"):
        raise ConfigError(f"{setting('on-error')} must be \"block\" or \"warn\", not {on_error!r}")
    name = opt_str("deployment-name") or DEFAULT_NAME
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(name) if f is not None}
    except ValueError as exc:
        raise ConfigError(f"{setting('deployment-name')}: {exc}") from None
    if not fields <= NAME_FIELDS or "{}" in name:
        raise ConfigError(f"{setting('deployment-name')}: unknown field in {name!r} "
                          f"(use {{ref}}, {{flow}}, {{file}})")
    try:
        name.format(ref="r", flow="f", file="x")  # conversions and format specs ({ref!x}, {ref:d}) fail here
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ConfigError(f"{setting('deployment-name')}: {name!r} cannot be filled in ({exc})") from None
    if "ref" not in fields:
        raise ConfigError(f"{setting('deployment-name')} must contain {{ref}}, "
                          "or every branch would overwrite the same deployment")
    timeout = section.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise ConfigError(f"{setting('timeout')} must be a number of seconds between 0 and 3600")
    return Config(
        timeout=float(timeout),
        flows=str_list("flows", DEFAULT_FLOWS),
        work_pool=opt_str("work-pool"),
        work_queue=opt_str("work-queue"),
        job_variables=job_variables,
        credentials=opt_str("credentials"),
        deployment_name=name,
        on_error=on_error,
        tags=str_list("tags", ()),
        repository_url=_no_credentials(opt_str("repository-url"), setting("repository-url")),
    )


def _no_credentials(url: str | None, where: str) -> str | None:
    if url and "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        raise ConfigError(f"{where} must not contain user or password: name a Secret block in credentials instead")
    return url


def glob_match(pattern: str, path: str) -> bool:
    return _glob_regex(pattern).fullmatch(path) is not None


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Git-style globs: `*` and `?` stay inside one directory, `**/` spans any number of them."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
