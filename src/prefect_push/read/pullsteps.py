"""Pull steps, checked before anything is registered: those of a prefect.yaml entry and those a runtime of
`[tool.prefect-push]` adds after prefect-push's clone. Pure (no prefect import): a step is judged by its shape,
as Prefect's run_steps will read it on the worker, so a mistake stops the push instead of every run.
"""
from __future__ import annotations

import difflib
import re
from typing import Any, Iterator

STEPS_MODULE = "prefect.deployments.steps"
# Prefect 3.9.1's step functions (prefect/deployments/steps/{pull,utility}.py), by every path that imports them
_FUNCTIONS = {"pull": ("git_clone", "set_working_directory", "pull_from_remote_storage", "pull_with_block"),
              "utility": ("run_shell_script", "pip_install_requirements")}
KNOWN_STEPS = frozenset({f"{STEPS_MODULE}.{f}" for fs in _FUNCTIONS.values() for f in fs}
                        | {f"{STEPS_MODULE}.{m}.{f}" for m, fs in _FUNCTIONS.items() for f in fs})
GIT_CLONE = frozenset({f"{STEPS_MODULE}.git_clone", f"{STEPS_MODULE}.pull.git_clone"})
# a git_clone's secrets: kept on prefect-push's clone, only as references to blocks the worker resolves
CLONE_SECRETS = ("access_token", "credentials")
BLOCK_REFERENCE = re.compile(r"\{\{\s*prefect\.blocks\.[\w\-.]+\s*\}\}")
CLONE_ID = "clone-step"  # the id prefect-push's clone gets when a runtime's step refers to it
DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
# {{ name }} as Prefect's templating finds it; names starting with these are not step outputs
TEMPLATE = re.compile(r"\{\{\s*([\w\-.$]+)\s*\}\}")
NOT_STEP_OUTPUTS = ("$", "prefect.", "ctx.")


def step_name(step: Any) -> str | None:
    """The step function's dotted name of a one-key mapping; None for anything else."""
    return next(iter(step)) if isinstance(step, dict) and len(step) == 1 else None


def _templates(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from TEMPLATE.findall(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _templates(v)
    elif isinstance(value, list):
        for v in value:
            yield from _templates(v)


def _suggest(name: str) -> str:
    short = name.rsplit(".", 1)[-1]
    near = difflib.get_close_matches(f"{STEPS_MODULE}.{short}", sorted(KNOWN_STEPS), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def problem(steps: Any, ids: frozenset[str] = frozenset(), *, clone_allowed: bool = True
            ) -> tuple[int, str] | None:
    """The first thing wrong with a list of pull steps, as (index of the step, what); None: they can run.

    A step is a one-key mapping `{dotted.path.to.function: {arguments} }`: a function of Prefect's own steps
    module must exist there; any other dotted path (a collection's step) is taken as written. A template naming a
    step's output, `{{ <id>.<key> }}`, must name an earlier step's `id` or one of ids (what runs before these
    steps). clone_allowed=False: a git_clone is refused (prefect-push clones the pushed ref itself)."""
    if not isinstance(steps, list):
        return 0, "not a list of steps"
    known = set(ids)
    for i, step in enumerate(steps):
        name = step_name(step)
        if name is None:
            return i, ("not a step: a step is a mapping of one function path to its arguments, e.g. "
                       f"{{\"{STEPS_MODULE}.pip_install_requirements\" = {{ requirements_file = \"requirements.txt\" }}}}")
        args = step[name]
        if not DOTTED.match(str(name)):
            return i, f"{name!r} is not a dotted path to a step function{_suggest(str(name))}"
        if name.startswith(STEPS_MODULE + ".") and name not in KNOWN_STEPS:
            return i, f"{name!r}: Prefect has no such step{_suggest(name)}"
        if name in GIT_CLONE and not clone_allowed:
            return i, f"{name!r}: prefect-push clones the pushed branch or tag itself; list only the steps after it"
        if args is not None and not isinstance(args, dict):
            return i, f"{name!r}: its arguments are not a mapping"
        if name in GIT_CLONE:
            for key in CLONE_SECRETS:
                value = (args or {}).get(key)
                if value is not None and not (isinstance(value, str) and BLOCK_REFERENCE.fullmatch(value)):
                    return i, (f"{name!r}: {key} must name a block (\"{{{{ prefect.blocks.secret.<name> }}}}\"): a "
                               "token written here would be stored in every deployment")
        for t in _templates(args or {}):
            if t.startswith(NOT_STEP_OUTPUTS) or "." not in t:
                continue  # env, blocks, variables, run context; a bare {{ key }} is an earlier step's output key
            ref = t.split(".", 1)[0]
            if ref not in known:
                return i, (f"{name!r}: {{{{ {t} }}}} names no earlier step (step ids here: "
                           f"{', '.join(sorted(known)) or 'none'})")
        step_id = (args or {}).get("id")
        if isinstance(step_id, str):
            if step_id in ids:
                return i, f"{name!r}: id {step_id!r} is taken by prefect-push's clone"
            known.add(step_id)
    return None


def refers_to(steps: list[Any], step_id: str) -> bool:
    """Whether any step's arguments use an output of the step with this id."""
    return any(t.split(".", 1)[0] == step_id for s in steps if (n := step_name(s)) for t in _templates(s[n] or {}))
