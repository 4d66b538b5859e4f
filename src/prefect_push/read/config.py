"""[tool.prefect-push] in the pushed commit's pyproject.toml. Pure: bytes in, Config or ConfigError out."""
from __future__ import annotations

import re
import string
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .suggest import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTION = "tool.prefect-push"
DEFAULT_FLOWS = ("**/*.py",)
DEFAULT_NAME = "{ref}"
NAME_FIELDS = {"ref", "flow", "file", "owner"}
# Prefect rejects these in flow and deployment names.
FORBIDDEN_NAME_CHARS = frozenset("/%&><")
_FORBIDDEN = re.compile("[" + re.escape("".join(sorted(FORBIDDEN_NAME_CHARS))) + "]")


class ConfigError(ValueError):
    pass


DEFAULT_RUNTIME = "default"
# schedules-on unset: one live schedule per flow (schedule_live in plan.py): on the release deployment once the
# flow has one, else on the default branch (default-branch); switched off everywhere else. A setting, not the
# clone's origin/HEAD: every clone and CI runner must agree on which deployment fires
DEFAULT_BRANCH = "main"
DEFAULT_RELEASE_TAGS = ("v*",)  # tag names (globs over the short name) that are releases
DEFAULT_RELEASE_NAME = "production"  # each flow's release deployment: "<flow>/production"
DEFAULT_KEEP_TAGS = 5
MODES = ("pre-push", "after-push")
DEFAULT_PREFECT_YAML = ("**/prefect.yaml",)  # the root prefect.yaml and every project folder's
UNLISTED = ("skip", "register")  # flows no prefect.yaml entry lists, where some prefect.yaml lists deployments


@dataclass(frozen=True)
class Runtime:
    """Where and how a flow runs: a work pool, its job variables (image, env, resources), tags, concurrency."""
    name: str
    work_pool: str | None
    work_queue: str | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    concurrency: int | None = None
    paths: tuple[str, ...] = ()  # flow files that run here (first runtime that matches wins)
    pull: tuple[dict[str, Any], ...] = ()  # pull steps run after prefect-push's git clone (pip_install_requirements)


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
    timeout: float = 60.0  # seconds without an answer from the server: a hung server must not hang `git push`
    runtimes: tuple[Runtime, ...] = ()  # [tool.prefect-push.runtimes.<name>], in file order
    default_runtime: str | None = None  # for files no runtime's paths match; None: the top-level settings
    schedules_on: tuple[str, ...] | None = None  # refs whose deployments get live schedules; None: the release rule
    default_branch: str = DEFAULT_BRANCH  # the branch whose schedules fire until a flow's first release
    release_tags: tuple[str, ...] = DEFAULT_RELEASE_TAGS  # () : no tag is a release
    release_name: str = DEFAULT_RELEASE_NAME
    tag_deployments: bool = False  # a deployment per flow per tag (named after the tag), beside the release
    # a `prefect deploy` deployment of a flow that fires beside prefect-push's: paused (False), or kept firing with
    # a warning on every push that writes the flow's live schedule (True)
    keep_schedules: bool = False
    keep_tags: int = DEFAULT_KEEP_TAGS  # with tag_deployments: prune keeps the newest N tags' deployments per flow
    remotes: tuple[str, ...] = ()  # allow-list of repositories (or remote names); empty: every remote
    mode: str = "pre-push"  # "after-push": register in the background once the remote has the commit
    after_push_wait: float = 120.0  # seconds the background registration waits for the remote to have it
    write_concurrency: int | None = None  # deployment writes in flight at once; None: "auto" (see registrar)
    # [tool.prefect-push.data-dependencies]: (glob of files flows read, globs of the flow files that read them)
    data_dependencies: tuple[tuple[str, tuple[str, ...]], ...] = ()
    prefect_yaml: tuple[str, ...] = DEFAULT_PREFECT_YAML  # globs of the prefect.yaml files read; () : none
    unlisted_flows: str = "skip"  # "register": flows no prefect.yaml entry lists are registered too
    pull: tuple[dict[str, Any], ...] = ()  # the default runtime's pull steps after the clone; runtimes inherit them

    def runtime_named(self, name: str) -> Runtime | None:
        if name == DEFAULT_RUNTIME and not any(r.name == name for r in self.runtimes):
            return Runtime(DEFAULT_RUNTIME, self.work_pool, self.work_queue, dict(self.job_variables), pull=self.pull)
        return next((r for r in self.runtimes if r.name == name), None)

    def runtime_for(self, path: str, override: str | None = None) -> Runtime | None:
        """The runtime a flow file runs on: the flow's own choice, else the first runtime whose paths match,
        else default-runtime, else the top-level settings. None: the flow named a runtime that does not exist."""
        if override is not None:
            return self.runtime_named(override)
        for r in self.runtimes:
            if any(glob_match(g, path) for g in r.paths):
                return r
        return self.runtime_named(self.default_runtime or DEFAULT_RUNTIME)

    def is_release(self, ref: str) -> bool:
        """A tag whose short name matches release-tags (v* by default: v1, v1.2.3)."""
        return ref.startswith("refs/tags/") and any(glob_match(g, ref[len("refs/tags/"):]) for g in self.release_tags)

    def schedules_live(self, ref: str) -> bool:
        """schedules-on, when set: patterns starting with refs/ match the full ref; others match branch names
        (main, release/*). Unset, only default-branch matches here (plan.schedule_live has the whole rule)."""
        for pattern in (self.default_branch,) if self.schedules_on is None else self.schedules_on:
            if pattern.startswith("refs/"):
                if glob_match(pattern, ref):
                    return True
            elif ref.startswith("refs/heads/") and glob_match(pattern, ref[len("refs/heads/"):]):
                return True
        return False

    def selects(self, path: str) -> bool:
        return path.endswith(".py") and any(glob_match(g, path) for g in self.flows)

    def deployment_name_for(self, ref_short: str, flow_name: str, path: str, repository: str = "") -> str:
        """The deployment's name: deployment-name filled in; a repository other than the home one (a fork) gets
        `@owner` appended, so the same branch pushed to origin and to a fork are two deployments."""
        stem = path.rsplit("/", 1)[-1].removesuffix(".py")
        owner = repo_owner(repository)
        name = self.deployment_name.format(ref=ref_short, flow=flow_name, file=stem, owner=owner)
        if repository and "{owner}" not in self.deployment_name and not self.is_home(repository):
            name += f"@{owner}"
        return safe_name(name)

    def allows(self, repository: str) -> bool:
        """remotes: which repositories register (globs over github.com/acme/flows-style names); all when unset."""
        return not self.remotes or any(glob_match(p, repository) for p in self.remotes)

    def is_home(self, repository: str) -> bool:
        """The team's own repository: the first entry of remotes (every repository when remotes is unset)."""
        return not self.remotes or glob_match(self.remotes[0], repository)


def repo_owner(repository: str) -> str:
    """github.com/alice/flows -> alice: who a fork belongs to."""
    parts = repository.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-2] else (parts[-1] or "repo")


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
             "repository-url", "timeout", "runtimes", "default-runtime", "schedules-on", "remotes", "mode",
             "after-push-wait", "write-concurrency", "data-dependencies", "release-tags", "release-name",
             "tag-deployments", "keep-tags", "keep-schedules", "default-branch", "prefect-yaml", "unlisted-flows", "pull"}
    for key in section:
        if key not in known:
            # a typo names the setting it resembles; a key like none of them lists them all
            raise ConfigError(f"{where}: unknown setting {key!r} in [{SECTION}]"
                              + (did_you_mean(key, known) or f" (known: {', '.join(sorted(known))})"))

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
                          f"(use {{ref}}, {{flow}}, {{file}}, {{owner}})")
    try:
        name.format(ref="r", flow="f", file="x", owner="o")  # conversions and format specs ({ref!x}, {ref:d}) fail here
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise ConfigError(f"{setting('deployment-name')}: {name!r} cannot be filled in ({exc})") from None
    if "ref" not in fields:
        raise ConfigError(f"{setting('deployment-name')} must contain {{ref}}, "
                          "or every branch would overwrite the same deployment")
    timeout = section.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
        raise ConfigError(f"{setting('timeout')} must be a number of seconds between 0 and 3600")
    wait = section.get("after-push-wait", 120)
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 < wait <= 3600:
        raise ConfigError(f"{setting('after-push-wait')} must be a number of seconds between 0 and 3600")
    writers = section.get("write-concurrency", "auto")
    if writers != "auto" and (isinstance(writers, bool) or not isinstance(writers, int) or not 1 <= writers <= 16):
        raise ConfigError(f"{setting('write-concurrency')} must be \"auto\" or a whole number from 1 to 16, "
                          f"not {writers!r}")
    mode = section.get("mode", "pre-push")
    if mode not in MODES:
        raise ConfigError(f"{setting('mode')} must be \"pre-push\" or \"after-push\", not {mode!r}")
    top_tags = str_list("tags", ())
    data = section.get("data-dependencies", {})
    if not isinstance(data, dict) or not all(
            isinstance(v, list) and v and all(isinstance(g, str) and g for g in v) for v in data.values()):
        raise ConfigError(f"{setting('data-dependencies')} must be a table of \"glob\" = [\"flow file glob\", ...] "
                          "(e.g. \"sql/*.sql\" = [\"flows/etl.py\"])")
    top_pull = _pull(section.get("pull"), setting("pull")) or ()
    runtimes = _runtimes(section.get("runtimes", {}), where)
    default_runtime = opt_str("default-runtime")
    if default_runtime is not None and default_runtime not in {r.name for r in runtimes} | {DEFAULT_RUNTIME}:
        raise ConfigError(f"{setting('default-runtime')}: no runtime {default_runtime!r} "
                          f"(defined: {', '.join(r.name for r in runtimes) or 'none'})")
    release_name = opt_str("release-name") or DEFAULT_RELEASE_NAME
    if _FORBIDDEN.search(release_name):
        raise ConfigError(f"{setting('release-name')}: {release_name!r} may not contain / % & > < "
                          "(Prefect rejects them in deployment names)")
    tag_deployments = section.get("tag-deployments", False)
    if not isinstance(tag_deployments, bool):
        raise ConfigError(f"{setting('tag-deployments')} must be true or false, not {tag_deployments!r}")
    keep_schedules = section.get("keep-schedules", False)
    if not isinstance(keep_schedules, bool):
        raise ConfigError(f"{setting('keep-schedules')} must be true or false, not {keep_schedules!r}")
    keep = section.get("keep-tags", DEFAULT_KEEP_TAGS)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ConfigError(f"{setting('keep-tags')} must be a whole number of tags, 1 or more, not {keep!r}")
    release_tags = section.get("release-tags", list(DEFAULT_RELEASE_TAGS))
    release_tags = [release_tags] if isinstance(release_tags, str) else release_tags
    if not isinstance(release_tags, list) or not all(isinstance(v, str) and v for v in release_tags):
        raise ConfigError(f"{setting('release-tags')} must be a glob or a list of globs of tag names (\"v*\"), "
                          "[] for none")
    default_branch = (opt_str("default-branch") or DEFAULT_BRANCH).strip().removeprefix("refs/heads/")
    if default_branch.startswith("refs/") or any(c in default_branch for c in "*?[ "):
        raise ConfigError(f"{setting('default-branch')} must be a branch name (\"main\", \"master\"), "
                          f"not {default_branch!r}")
    unlisted = section.get("unlisted-flows", "skip")
    if unlisted not in UNLISTED:
        raise ConfigError(f"{setting('unlisted-flows')} must be \"skip\" or \"register\", not {unlisted!r}")
    return Config(
        prefect_yaml=str_list("prefect-yaml", DEFAULT_PREFECT_YAML) if section.get("prefect-yaml") != [] else (),
        unlisted_flows=unlisted,
        default_branch=default_branch,
        release_tags=tuple(release_tags),
        release_name=release_name,
        tag_deployments=tag_deployments,
        keep_schedules=keep_schedules,
        keep_tags=keep,
        runtimes=tuple(_inherit(r, opt_str("work-pool"), opt_str("work-queue"), job_variables, top_pull)
                       for r in runtimes),
        pull=top_pull,
        default_runtime=default_runtime,
        schedules_on=str_list("schedules-on", ()) if "schedules-on" in section else None,
        remotes=_repositories(str_list("remotes", ()), setting("remotes")),
        mode=mode,
        after_push_wait=float(wait),
        write_concurrency=None if writers == "auto" else writers,
        data_dependencies=tuple((glob, tuple(flows)) for glob, flows in data.items()),
        timeout=float(timeout),
        flows=str_list("flows", DEFAULT_FLOWS),
        work_pool=opt_str("work-pool"),
        work_queue=opt_str("work-queue"),
        job_variables=job_variables,
        credentials=opt_str("credentials"),
        deployment_name=name,
        on_error=on_error,
        tags=top_tags,
        repository_url=_no_credentials(opt_str("repository-url"), setting("repository-url")),
    )


RUNTIME_KEYS = {"work-pool", "work-queue", "job-variables", "tags", "concurrency", "paths", "pull"}


def _pull(steps: Any, where: str) -> tuple[dict[str, Any], ...] | None:
    """Pull steps run after prefect-push's clone, checked as a prefect.yaml's are (pullsteps.problem); None: not
    set. The clone's outputs are `{{ clone-step.directory }}`."""
    if steps is None:
        return None
    from .pullsteps import CLONE_ID, problem

    if isinstance(steps, dict):
        steps = [steps]
    found = problem(steps, frozenset({CLONE_ID}), clone_allowed=False)
    if found is not None:
        index, what = found
        raise ConfigError(f"{where}" + (f" step {index + 1}" if isinstance(steps, list) else "") + f": {what}")
    return tuple(steps)


def _runtimes(table: Any, where: str) -> list[Runtime]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [{SECTION}] runtimes must be a table of [{SECTION}.runtimes.<name>] tables")
    out = []
    for name, body in table.items():
        at = f"{where}: [{SECTION}.runtimes.{name}]"
        if not isinstance(body, dict):
            raise ConfigError(f"{at} must be a table")
        for key in body:
            if key not in RUNTIME_KEYS:
                raise ConfigError(f"{at}: unknown setting {key!r}"
                                  + (did_you_mean(key, RUNTIME_KEYS) or f" (known: {', '.join(sorted(RUNTIME_KEYS))})"))
        strs = {}
        for key in ("work-pool", "work-queue"):
            value = body.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{at} {key} must be a non-empty string")
            strs[key] = value
        lists = {}
        for key in ("tags", "paths"):
            value = body.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"{at} {key} must be a list of strings")
            lists[key] = tuple(value)
        job_variables = body.get("job-variables", {})
        if not isinstance(job_variables, dict):
            raise ConfigError(f"{at} job-variables must be a table")
        concurrency = body.get("concurrency")
        if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                                        or concurrency < 1):
            raise ConfigError(f"{at} concurrency must be a whole number of runs, 1 or more")
        out.append(Runtime(name, strs["work-pool"], strs["work-queue"], job_variables, lists["tags"], concurrency,
                           lists["paths"], _pull(body.get("pull"), f"{at} pull")))  # type: ignore[arg-type]
    return out


def _inherit(r: Runtime, work_pool: str | None, work_queue: str | None, job_variables: dict[str, Any],
             pull: tuple[dict[str, Any], ...] = ()) -> Runtime:
    """A runtime takes the top-level work-pool, work-queue and job-variables for whatever it does not set, and
    the top-level pull steps unless it lists its own (pull steps run on any pool: they are the code's needs)."""
    same_pool = r.work_pool is None or r.work_pool == work_pool
    return Runtime(r.name, r.work_pool or work_pool, r.work_queue or (work_queue if same_pool else None),
                   {**(job_variables if same_pool else {}), **r.job_variables}, r.tags, r.concurrency, r.paths,
                   pull if r.pull is None else r.pull)


def _repositories(patterns: tuple[str, ...], where: str) -> tuple[str, ...]:
    for p in patterns:
        if "/" not in p:
            # a remote's name means another repository in each clone (origin is a fork for some): refuse it
            raise ConfigError(f"{where}: {p!r} is not a repository; list repositories as host/owner/name "
                              "(github.com/acme/flows, github.com/*/flows), not remote names, which differ per clone")
    return patterns


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
