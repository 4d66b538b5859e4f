"""The path a push takes: ref updates -> targets -> changed flows -> plan -> (server) -> outcome.

Everything here is plain Python and git; registrar.run (the only path into prefect) is called only when a
ref has work for the server.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from . import git, state
from .base import Facts, PushedRelease, Row, apply_order, decide, newest_release
from .read.config import Config, ConfigError, load
from .facts import Blocked, Prepared, gather, in_history
from .plan import FileChange, RefPlan, Target, Wanted, deployment_name, wanted_changes
from .push import Kind, RefUpdate


@dataclass
class Outcome:
    plans: list[RefPlan] = field(default_factory=list)
    # plan index -> ((flow, deployment), error): every flow's deployment of a ref has the same name
    errors: dict[int, list[tuple[tuple[str, str], str]]] = field(default_factory=dict)
    api_url: str | None = None
    warnings: list[str] = field(default_factory=list)  # said after the table: nothing failed, but look


def ref_from_env(remote: str, cwd: str | None = None) -> str | None:
    """The ref CI names in its environment, for `register`/`plan` without --ref (as the original Git-storage
    workflow read it): BUILD_TAG when it names a tag of this clone (Jenkins sets BUILD_TAG=jenkins-<job>-<n> on
    every build, which is no tag), else GIT_BRANCH (`origin/main`, `refs/heads/main` or `main`)."""
    tag = os.environ.get("BUILD_TAG", "").strip()
    if tag and git.ok("show-ref", "--verify", "--quiet", f"refs/tags/{tag}", cwd=cwd):
        return f"refs/tags/{tag}"
    branch = os.environ.get("GIT_BRANCH", "").strip()
    if not branch:
        return None
    if branch.startswith("refs/"):
        return branch
    head, _, rest = branch.partition("/")
    if rest and (head == remote or git.is_remote_name(head, cwd)):
        branch = rest
    return f"refs/heads/{branch}"


def config_at(commit: str | None, cwd: str) -> tuple[Config, str]:
    rev = commit or "HEAD"
    where = f"pyproject.toml at {rev[:12]}"
    raw = git.show(rev, "pyproject.toml", cwd)  # None: no such file (or no commit yet)
    return load(raw, where), where


def prepare(update: RefUpdate, remote: str, url: str, cwd: str) -> Prepared:
    """Resolve one ref update: its commit, base and config; what its changed files want."""
    repository = git.repo_key(url, cwd)
    reads_files = update.kind is not Kind.OTHER and not update.is_delete
    commit = git.commit_of(update.local_sha, cwd) if reads_files else None
    # the pushed commit's settings; nothing is read from a deletion or another ref: the current commit's then
    config, where = config_at(commit, cwd)

    def nothing(why: str | None = None, wanted: Wanted | None = Wanted((), ())) -> Prepared:
        return Prepared(update, Target(repository, update.remote_ref, None), config, where, wanted=wanted,
                        refused=why)

    if not git.is_utf8(update.remote_ref):
        return nothing(f"{git.shown(update.remote_ref)}: the ref name is not valid UTF-8, and Prefect's deployment "
                       "names and tags are text: registers nothing for it")
    if not config.allows(repository):
        return nothing(f"{git.strip_credentials(remote)} ({repository}) is not in remotes of [tool.prefect-push] "
                       f"({', '.join(config.remotes)}): {update.remote_ref} registers nothing there")
    if not reads_files:
        # refs/for/main (Gerrit), refs/notes/*, ...: no branch or tag a worker could clone, so nothing wanted;
        # a deletion wants nothing from files either (wanted None): the server says what the ref had
        return nothing(wanted=Wanted((), ()) if update.kind is Kind.OTHER else None)
    if commit is None:
        kind = git.git("cat-file", "-t", f"{update.local_sha}^{{}}", cwd=cwd, check=False).strip()
        if kind:  # a tag of a blob or tree (git.git's junio-gpg-pub): nothing a worker could clone
            return nothing(f"{update.remote_ref} points at a {kind}, not a commit: registers nothing for it")
        raise Blocked(f"{update.remote_ref}: pushed object {update.local_sha[:12]} is not a commit in this clone")
    # home: repository-url is what workers clone for the team's repository; a fork's pushes clone the fork
    home = config.is_home(repository) and config.repository_url
    clone_url = home or git.strip_credentials(url)
    prepared = Prepared(update, Target(repository, update.remote_ref, commit, clone_url=clone_url), config, where,
                        remote=remote)
    return prepared


def for_tags(p: Prepared, *, release: bool = False) -> list[Prepared]:
    """What a ref update registers as: a branch (or a deletion) as itself; a pushed tag moves the release
    deployments when it is a release tag of the team's repository, and has its own deployments only with
    tag-deployments (docs/releases.md). release: `prefect-push release <tag>`, the release only."""
    t = p.target
    if not t.is_tag or t.commit is None or p.refused:
        return [p]
    out = []
    if (release or p.config.is_release(t.ref)) and p.config.is_home(t.repository):
        out.append(replace(p, target=replace(t, release=p.config.release_name), forced=release))
    if p.config.tag_deployments and not release:
        out.append(p)
    return out


def one_release_each(prepared: list[Prepared], cwd: str) -> tuple[list[Prepared], list[str]]:
    """One push's targets in the order they are applied (base.apply_order), with several release tags of one
    repository collapsed to the one that moves the release (base.newest_release), and a line for each other."""
    groups: dict[tuple[str, str], list[Prepared]] = {}
    for p in prepared:
        if p.target.release and p.target.commit is not None:
            groups.setdefault((p.target.repository, p.target.owner), []).append(p)
    lines: list[str] = []
    dropped: set[int] = set()
    for group in groups.values():
        if len(group) < 2:
            continue
        pushed = [PushedRelease(p.target.short, p.target.commit) for p in group]
        heads = git.independent(sorted({r.commit for r in pushed}), cwd)
        newest, said = newest_release(pushed, heads, group[0].target.release,
                                      lambda old, new: in_history(old, [new], group[0].remote, cwd))
        lines += said
        dropped |= {id(p) for p, r in zip(group, pushed) if r is not newest}
    kept = [p for p in prepared if id(p) not in dropped]
    return sorted(kept, key=lambda p: apply_order(p.target.is_tag, bool(p.target.release), p.target.short)), lines


def decide_base(p: Prepared, cwd: str, *, marker: str | None = None, read: bool = True,
                fetch: bool = True) -> Prepared:
    """p with its base decided (base.decide over the facts gathered here) and its changed flows read from
    that base. Before the server is asked (marker None) this is the push's own diff: what decides whether the
    server is needed at all, and what blocks a broken flow file before any write."""
    facts = gather(p, cwd, marker=marker, read=read, fetch=fetch)
    decided = decide(facts)
    target = replace(p.target, base=decided.commit)
    why = "" if decided.row is Row.ALL else decided.why
    if decided.row is Row.RELEASE_BEHIND:
        return replace(p, target=target, base=decided, wanted=Wanted((), ()))
    if p.base is not None and p.wanted is not None and p.base.commit == decided.commit and not (
            target.release and decided.commit is None):
        # the same diff: read once, its reasons now naming the row that decided
        def said(reason: str) -> str:
            reason = reason.removesuffix(f", {p.base.why}") if p.base else reason
            return _with_why(reason, why, p.since) if decided.commit is not None else reason

        wanted = replace(p.wanted, upserts=tuple((spec, said(r)) for spec, r in p.wanted.upserts))
        return replace(p, target=target, base=decided, wanted=wanted)
    since = facts.previous_tag if decided.commit is not None else None
    if decided.row in (Row.RELEASE, Row.RELEASE_MOVE):
        since = (facts.release_at or decided.commit[:12]) if decided.commit is not None else None
    wanted = changed_flows(target, p.config, cwd, since=since, why=why, held=_held(p, decided, cwd))
    if decided.commit is None and target.release:
        wanted = replace(wanted, upserts=tuple((spec, decided.why) for spec, _ in wanted.upserts))
    elif decided.row is Row.ALL:  # not a first push: a ref registered before says update, why --all
        wanted = replace(wanted, upserts=tuple((spec, decided.why if r == "first push of this ref" else r)
                                               for spec, r in wanted.upserts))
    return replace(p, target=target, base=decided, since=since, wanted=wanted)


def _held(p: Prepared, decided, cwd: str) -> bool:
    """With no base, whether the remote already holds the commit's prefect.yaml entries (so an entry Prefect
    refuses is skipped, not blocking): register --all adopting a repository, or a tag (the first release, a
    rollback) on a commit the remote's default branch has. A first push of a new repository holds nothing."""
    if decided.row is Row.ALL:
        return True
    if decided.commit is not None or not p.target.is_tag or p.target.commit is None:
        return False
    tip = f"refs/remotes/{p.remote}/{p.config.default_branch}"
    return git.ok("merge-base", "--is-ancestor", p.target.commit, tip, cwd=cwd)


def remember_skipped(updates: list[RefUpdate], remote: str, url: str, cwd: str) -> None:
    """An opted-out push is recorded, so the next push of each ref registers what this one did not."""
    pending = read_pending(cwd)
    for update in updates:
        p = prepare(update, remote, url, cwd)
        if p.target.commit is not None and not p.refused:  # opting out must stay quick: no fetch
            missed(replace(p.target, base=decide(gather(p, cwd, read=False, fetch=False)).commit), pending)
    write_pending(cwd, pending)


def changed_flows(target: Target, config: Config, cwd: str, since: str | None = None, why: str = "",
                  extra: dict[str, str] | None = None, held: bool = False) -> Wanted:
    """What the files changed between target.base and target.commit ask for: flows to (re)register or drop.

    A flow file counts as changed when it changed, when a repository module it imports (transitively) or a
    declared data file changed (imports.affected), or when `extra` names it (path -> reason: a repair).
    why: which base row decided, added to every reason. held: with no base, the remote already holds the
    commit's prefect.yaml entries (register --all): an entry Prefect refuses is skipped, not blocking."""
    assert target.commit is not None
    changes = git.changed_paths(target.base, target.commit, cwd)
    reasons: dict[str, str] = {}  # flow files that count as changed though their own bytes did not change
    hints: list[str] = []
    config_changed = target.base is not None and _config_changed(changes, config, cwd)
    if config_changed:
        # the pool or job variables changed: every flow of the ref must carry the new settings
        reasons = {path: "[tool.prefect-push] changed" for path in git.tree(target.commit, cwd)}
    elif target.base is not None:
        from .read.imports import Unread, affected

        unread: list[Unread] = []
        reasons = affected(changes, target.commit, cwd, config.selects, config.data_dependencies, unread)
        if unread:
            from .errors import log_detail

            for u in unread:
                log = log_detail(cwd, f"{u.path}: its imports", u.detail)
                hints.append(f"{git.shown(u.path)}: its imports could not be read (an internal error): counted as "
                             f"importing what changed{f' (traceback in {log})' if log else ''}")
    reasons.update(extra or {})
    touched = {c.path for c in changes}
    yaml = _declared(target, config, changes, cwd, held=held)
    yaml_only: set[str] = set()  # flow files here only because their prefect.yaml entries changed
    adopting: set[str] = set()  # flow files here only for plain deployments the declaration no longer yields
    if yaml is not None and yaml.changes is not None:
        yaml_only = {p for p in yaml.changes.files() if p not in touched and p not in reasons}
        if yaml.new.governs and yaml.files_changed(touched, config):
            # a prefect.yaml changed while one governs: every flow's pre-prefect.yaml deployment is looked at
            adopting = {p for p in git.tree(target.commit, cwd) if config.selects(p)} - touched - set(reasons) - yaml_only
    adopted: dict[tuple[str, str], str] = {}  # (flow name, path) -> why its plain deployment goes
    todo = sorted(p for p in {*reasons, *yaml_only, *adopting} if p not in touched and config.selects(p))
    if todo:
        changes += [git.Change("M", path, None, blob, blob) for path, blob in git.blobs_at(target.commit, todo, cwd).items()]
    picked = [c for c in changes if config.selects(c.path) or (c.old_path and config.selects(c.old_path))]
    wanted_new = [c for c in picked if c.new_blob and config.selects(c.path)]
    blobs = {c.new_blob for c in wanted_new} | {c.old_blob for c in picked if c.old_blob}
    src = git.read_blobs(sorted(b for b in blobs if b), cwd)
    files, problems = [], []
    unlisted: list[str] = []  # flows this push changed that no prefect.yaml entry lists
    if picked:
        from .errors import log_detail
        from .read.flows import BadFlow, read_flows  # ast and friends: only when a candidate file changed

    def modules(paths: list[str]) -> dict[str, bytes]:
        # repository modules a flow's signature imports models from, at the pushed commit (flows.read_flows)
        got = git.read_blobs([f"{target.commit}:{p}" for p in paths if "\n" not in p], cwd)
        return {p: got[f"{target.commit}:{p}"] for p in paths if f"{target.commit}:{p}" in got}
    for c in picked:
        new: list | BadFlow = []
        if c in wanted_new:
            if c.new_blob not in src:
                problems.append(f"{c.path}: cannot be read from {target.short} at {target.commit[:12]}")
                continue
            new = read_flows(c.path, src[c.new_blob], modules)
            if new and not isinstance(new, BadFlow) and not git.is_utf8(c.path):
                new = BadFlow(git.shown(c.path), new[0].line, "the file name is not valid UTF-8, and Prefect stores "
                                                             "entrypoints as text: rename the file")
        old_path = c.old_path or c.path
        old = read_flows(old_path, src[c.old_blob]) if c.old_blob in src else []
        if isinstance(new, BadFlow):
            log = log_detail(cwd, str(new), new.detail) if new.detail else None
            line = f"{new} (in {target.short} at {target.commit[:12]})" + (f" (traceback in {log})" if log else "")
            named = {e.flow_path for f in yaml.new.files for e in f.entries} if yaml is not None else set()
            if yaml is not None and yaml.new.governs and not yaml.new.register_unlisted and c.path not in named \
                    and not any(b.flow_path == c.path for b in yaml.new.bad) and not named & set(reasons):
                # the prefect.yaml entries are the set and none names this file (nor does this push register a
                # flow through its imports, which may be this file): nothing of it is registered
                hints.append(f"{line}: no prefect.yaml entry names it, so it is not registered and does not stop "
                             "the push")
                continue
            problems.append(line)
            continue
        if isinstance(old, BadFlow):
            old = []  # what was there before can't be read: nothing to delete from it
        if yaml is not None:
            if c in wanted_new:
                blocking, said = yaml.unmatched(c.path, new, [s.function for s in old]
                                                if not isinstance(old, BadFlow) and old_path == c.path else ())
                problems += blocking
                hints += said
            flows_now = new
            new, old = yaml.new.expand(new), yaml.old.expand(old)
            if c.path in touched or c.path in reasons:
                unlisted += [s.flow_name for s in flows_now
                             if not any((y.path, y.function) == (s.path, s.function) for y in new)]
            gone = adopted_flows(yaml, flows_now, new, target, config)
            adopted.update({(spec.flow_name, spec.path): why for spec, why in gone})
            if c.path in adopting:
                new, old = [], []  # only its pre-prefect.yaml deployments are in question
            elif c.path in yaml_only:
                new, old = yaml.only_changed(new), yaml.only_changed(old)
            old = [*old, *(spec for spec, _ in gone)]  # as if still registered plain: the diff removes it
            problems += [line for spec in new for line in yaml.conflicts(spec)]
        if new or old:
            files.append(FileChange(c.status, c.path, c.old_path, old_flows=tuple(old), new_flows=tuple(new)))
    wanted = wanted_changes(files, first=target.base is None, since=since, tag=target.is_tag,
                            name_of=lambda flow, path: deployment_name(target, config, flow, path))
    if yaml is not None:
        blocking, said = yaml.refusals(touched | set(reasons) | yaml_only if target.base is not None else None)
        read = {e.file for f in files for spec in f.new_flows if (e := getattr(spec, "entry", None)) is not None}
        read |= set(_wanted_yaml(touched, config)) | {b.file for b in yaml.new.bad
                                                      if target.base is None or b.flow_path in touched}
        wanted, refused, skipped = yaml.checked(wanted)
        problems += blocking + refused
        hints += said + skipped
        wanted = yaml.said(wanted, yaml_only, adopted, read)
    if reasons or why:
        def reason(spec, default: str) -> str:
            said = reasons.get(spec.path, default)
            return _with_why(said, why, since) if target.base is not None else said

        wanted = replace(wanted, upserts=tuple((spec, reason(spec, r)) for spec, r in wanted.upserts))
    if problems:
        wanted = replace(wanted, problems=tuple(problems) + wanted.problems)
    if hints:
        wanted = replace(wanted, hints=wanted.hints + tuple(hints))
    if unlisted:
        wanted = replace(wanted, unlisted=tuple(sorted(set(unlisted))))
    return wanted


def _wanted_yaml(paths: set[str], config: Config) -> list[str]:
    from .prefectyaml_apply import wanted_paths

    return wanted_paths(paths, config)


def adopted_flows(yaml, flows: list, yielded: list, target: Target, config: Config) -> list:
    """prefectyaml_apply.adopted at this ref: names as this push gives them."""
    from .prefectyaml_apply import adopted

    return adopted(flows, yielded, yaml.new,
                   lambda spec, suffix: deployment_name(target, config, spec.flow_name, spec.path, suffix))


def _declared(target: Target, config: Config, changes: list[git.Change], cwd: str, held: bool = False):
    """The prefect.yaml files at the pushed commit and at the base (the same read when the push changed none),
    and the entries the push changed (prefectyaml_apply). None: no prefect.yaml is read (prefect-yaml = [])."""
    if not config.prefect_yaml:
        return None
    from .prefectyaml_apply import Applied, read, wanted_paths

    new = read(target.commit, config, cwd)
    if target.base is None:
        return Applied(new, new, None, held=held)
    changed = wanted_paths({p for c in changes for p in (c.path, c.old_path) if p}, config)
    # a file added, deleted or renamed changes what an unchanged prefect.yaml's entrypoints name: read both then
    moved = any(c.status in "ADR" for c in changes)
    # an entry's flow file changed: its flow name may have, which renames its entries' deployments (the flow
    # names group entries: prefectyaml_apply.Declared.siblings): the base's names are read too
    flows_changed = {c.path for c in changes} & {e.flow_path for f in new.files for e in f.entries}
    old = read(target.base, config, cwd) if changed or moved or new.broken or flows_changed else new
    return Applied.between(old, new)


def _with_why(reason: str, why: str, since: str | None) -> str:
    """A flow's reason and the row's why, said once: "changed since release v1 (3f2a…)", not "changed since v1,
    since release v1 (3f2a…)"; and a rollback's "differs from release v3 (…)" alone, not "changed since v3,
    differs from release v3 (…)"."""
    if not why or why in reason:
        return reason
    if since and reason.endswith(f" since {since}"):
        head = reason.removesuffix(f" since {since}")
        if why.startswith("since "):
            return f"{head} {why}"
        if head == "changed":
            return why  # the why names the same comparison, and says it better
    return f"{reason}, {why}"


def _config_changed(changes: list[git.Change], config: Config, cwd: str) -> bool:
    change = next((c for c in changes if c.path == "pyproject.toml"), None)
    if change is None:
        return False
    try:
        old = load(git.read_blobs([change.old_blob], cwd).get(change.old_blob)) if change.old_blob else Config()
    except ConfigError:
        return True  # the old config was broken: the new one must apply everywhere
    return old != config


# --- a small local record of refs whose registration was missed, so a later push catches them up ---

PENDING = "pending.json"


def read_pending(cwd: str) -> dict[str, str]:
    pending = state.read(cwd, PENDING)
    return pending if isinstance(pending, dict) else {}


def write_pending(cwd: str, pending: dict[str, str]) -> None:
    try:
        if pending:
            state.write(cwd, PENDING, pending)
        else:
            state.remove(cwd, PENDING)
    except OSError:
        pass  # a cache: losing it only means the next flow-changing push does the catch-up


def pending_key(target: Target) -> str:
    return f"{target.repository} {target.owner}"


DELETED = "-"  # pending value prefix: the ref was deleted at the commit that follows, its deployments remain


def missed(target: Target, pending: dict[str, str], deleted_at: str | None = None) -> None:
    """Remember a push the server did not take: where an unregistered push began (the earliest such base wins;
    "" means every file), or, for a deletion, the commit the deleted ref had."""
    key = pending_key(target)
    if target.commit is not None:
        if pending.get(key, "").startswith(DELETED):
            pending.pop(key)  # pushed again after the deletion: the push decides now
        pending.setdefault(key, target.base or "")
    elif deleted_at:
        pending[key] = DELETED + deleted_at


def pending_deletions(pending: dict[str, str], pushed: set[str]) -> list[tuple[Target, str]]:
    """Deletions the server missed, for refs this push does not touch: (target, commit the ref had)."""
    out = []
    for key, value in pending.items():
        if value.startswith(DELETED) and key not in pushed:
            repository, ref = key.rsplit(" ", 1)
            out.append((Target(repository, ref, None), value[len(DELETED):]))
    return out
