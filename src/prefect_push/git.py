"""The git edge: every call to git lives here, subprocess-level like pre-commit's own git.py.

Plain `git`, and no GitPython dependency at all: a push that touches no flow must cost about one git call,
importing GitPython alone costs more than the few commands we run, and off the hot path its object model
would add a second way to read the same objects (and a second set of quoting rules) beside this one.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass


class GitError(RuntimeError):
    pass


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # inside a hook git exports GIT_DIR etc. relative to the repo; keep them, but never prompt
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def git(*args: str, cwd: str | None = None, check: bool = True) -> str:
    out = git_bytes(*args, cwd=cwd, check=check)
    return out.decode("utf-8", "surrogateescape")


def is_utf8(text: str) -> bool:
    """Whether a path or ref name read from git (decoded with surrogateescape) is valid UTF-8: git allows any
    bytes in both, Prefect's entrypoints, names and tags are text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """A path or ref name read from git, printable: bytes that are not UTF-8 as \\xNN."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def git_bytes(*args: str, cwd: str | None = None, check: bool = True) -> bytes:
    proc = subprocess.run(("git", *args), cwd=cwd, env=_env(), capture_output=True)
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {' '.join(args)}: {msg[-1] if msg else 'failed'}")
    return proc.stdout


def ok(*args: str, cwd: str | None = None) -> bool:
    return subprocess.run(("git", *args), cwd=cwd, env=_env(), capture_output=True).returncode == 0


_LOCATED: dict[str, tuple[str, str] | None] = {}


def locate(cwd: str | None = None) -> tuple[str, str] | None:
    """(work tree top, git directory) with one git call per process, or None outside a repository."""
    where = os.path.abspath(cwd or ".")
    if where not in _LOCATED:
        proc = subprocess.run(("git", "rev-parse", "--show-toplevel", "--git-common-dir"), cwd=where, env=_env(),
                              capture_output=True)
        lines = proc.stdout.decode("utf-8", "surrogateescape").splitlines()
        found = None
        if proc.returncode == 0 and len(lines) == 2:
            found = (lines[0], os.path.abspath(os.path.join(where, lines[1])))
            _LOCATED[found[0]] = found  # asked again from the top, as the engine does
        _LOCATED[where] = found
    return _LOCATED[where]


def toplevel(cwd: str | None = None) -> str:
    found = locate(cwd)
    if found is None:
        raise GitError(f"not inside a git work tree ({os.path.abspath(cwd or '.')})")
    return found[0]


def git_dir(cwd: str | None = None) -> str:
    found = locate(cwd)
    if found is None:
        raise GitError(f"not inside a git work tree ({os.path.abspath(cwd or '.')})")
    return found[1]


def commit_of(rev: str, cwd: str | None = None) -> str | None:
    """Full sha of the commit `rev` names (annotated tags peeled), or None when this clone lacks it."""
    proc = subprocess.run(
        ("git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"),
        cwd=cwd, env=_env(), capture_output=True,
    )
    return proc.stdout.decode().strip() if proc.returncode == 0 else None


def is_ancestor(old: str, new: str, cwd: str | None = None) -> bool:
    return ok("merge-base", "--is-ancestor", old, new, cwd=cwd)


def independent(commits: list[str], cwd: str | None = None) -> set[str]:
    """The commits none of the others descends from (one git call for any number of commits)."""
    return set(git("merge-base", "--independent", *commits, cwd=cwd).split())


# --- shallow clones (CI checkouts: actions/checkout fetch-depth 1, GitLab GIT_DEPTH 20..50) ---
# Called only once a commit is found missing (or a fork point / previous tag is about to be looked for), and
# they fetch only when the clone is shallow: a complete clone never touches the network here.

def is_shallow(cwd: str | None = None) -> bool:
    return git("rev-parse", "--is-shallow-repository", cwd=cwd, check=False).strip() == "true"


def _fetch(args: tuple[str, ...], cwd: str | None, timeout: float) -> bool:
    try:
        # a timeout because an ssh host that never answers must not hang a push or a CI job forever
        return subprocess.run(("git", "fetch", "--quiet", *args), cwd=cwd, env=_env(), capture_output=True,
                              timeout=timeout).returncode == 0
    except (subprocess.TimeoutExpired, OSError):
        return False


def fetch_commit(remote: str, sha: str, cwd: str | None = None, timeout: float = 300) -> bool:
    """Fetch one commit without its history: a tree diff against it needs nothing more.

    Servers speaking protocol v2 (GitHub, GitLab, file://, git >= 2.26 by default) hand out any commit they
    have by id; False when the remote has no such commit (a force push dropped it) or cannot be reached.
    """
    return _fetch(("--no-tags", "--depth=1", remote, sha), cwd, timeout)


def deepen(remote: str, shas: list[str], by: int, cwd: str | None = None, timeout: float = 900) -> bool:
    """Deepen a shallow clone's history of some commits by `by` commits past its boundary (not the whole
    history). Not `--shallow-since`: git 2.39 records a merge's parent older than the date as shallow without
    fetching it, and every later fetch of that clone then fails ("error in object: unshallow <sha>")."""
    return _fetch(("--no-tags", f"--deepen={by}", remote, *shas), cwd, timeout)


def unshallow(remote: str, cwd: str | None = None, *, tags: bool = False, timeout: float = 900) -> bool:
    """Fetch the whole history, with every branch of a named remote as a remote-tracking branch (a fork point is
    measured against them) and, with tags=True, every tag (a tag's base is the previous tag). True when the
    clone is complete afterwards: a local tag that differs from the remote's makes git fetch fail without
    leaving history behind, and must not fail what this is for."""
    args = ["--unshallow", "--tags" if tags else "--no-tags", remote]
    if is_remote_name(remote, cwd):
        args.append(f"+refs/heads/*:refs/remotes/{remote}/*")  # a URL has no remote-tracking namespace
    _fetch(tuple(args), cwd, timeout)
    return history_complete(cwd)


def history_complete(cwd: str | None = None, tips: list[str] | None = None) -> bool:
    """Whether the history of `tips` (default: HEAD and every ref) is whole: the clone is not shallow, or no
    commit it lists as shallow is reachable from them (one fetched by id that no ref reaches, a commit a force
    push dropped, stays listed: `--unshallow` cannot deepen it, and nothing here walks from it)."""
    if not is_shallow(cwd):
        return True
    path = git("rev-parse", "--git-path", "shallow", cwd=cwd).strip()
    try:
        with open(os.path.join(cwd or ".", path)) as f:
            cut = f.read().split()
    except OSError:
        return False
    if tips is not None:
        return not any(is_ancestor(c, t, cwd) for c in cut for t in tips)
    return not any(is_ancestor(c, "HEAD", cwd) or
                   git("for-each-ref", "--count=1", f"--contains={c}", cwd=cwd, check=False).strip() for c in cut)


def remote_url(remote: str, cwd: str | None = None) -> str:
    """URL of a configured remote; a URL passed instead of a name is returned as is."""
    proc = subprocess.run(("git", "remote", "get-url", remote), cwd=cwd, env=_env(), capture_output=True)
    if proc.returncode == 0:
        return proc.stdout.decode().strip()
    if "://" in remote or ":" in remote or os.path.isdir(remote):
        return remote
    raise GitError(f"remote {remote!r} is not configured in this repository (git remote -v lists them)")


def is_remote_name(remote: str, cwd: str | None = None) -> bool:
    return ok("config", "--get", f"remote.{remote}.url", cwd=cwd)


def strip_credentials(url: str) -> str:
    """The URL without user:password@ — what may be stored in a deployment and printed."""
    if "://" not in url:
        return url  # scp-like ssh (git@host:org/repo) or a path: no password can be in it
    from urllib.parse import urlsplit, urlunsplit  # here, not at the top: the no-flow path rarely needs it

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def repo_key(url: str, cwd: str | None = None) -> str:
    """One name for one repository however it is spelled: ssh or https, with or without user, token, `.git`.

    git@github.com:acme/flows.git, ssh://git@github.com/acme/flows and https://bot:tok@github.com/acme/flows.git
    are all `github.com/acme/flows`; /srv/flows.git and file:///srv/flows.git are both `file:///srv/flows`.
    """
    def tidy(path: str) -> str:
        return path.strip("/").removesuffix(".git").rstrip("/")

    url = url.strip()
    if "://" not in url:
        scp = re.match(r"^(?:[^@/]+@)?([^:/]+):(.+)$", url)
        if scp and not os.path.exists(os.path.join(cwd or ".", url)):
            return f"{scp.group(1).lower()}/{tidy(scp.group(2))}"
        return "file:///" + tidy(os.path.normpath(os.path.abspath(os.path.join(cwd or ".", url))))
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "file":
        return "file:///" + tidy(os.path.normpath(parts.path))
    return f"{(parts.hostname or '').lower()}/{tidy(parts.path)}"


def first_unpushed_parent(sha: str, remote: str, ref: str, cwd: str | None = None) -> str | None:
    """Base for a new branch, from this clone's remote-tracking branches: parent of the oldest commit the
    remote's other refs do not have (facts.fork_point is the one answer; this is its walk in a clone that has
    every branch).

    The ref itself is left out: in CI the checkout already has it as a remote-tracking branch. None means the
    oldest such commit is a root: every file is new.
    """
    prefix = f"refs/remotes/{remote}/" if is_remote_name(remote, cwd) else "refs/remotes/"
    own = f"refs/remotes/{remote}/{ref.removeprefix('refs/heads/')}"
    others = [r for r in refs_under(prefix, cwd) if r != own and not r.endswith("/HEAD")]
    return fork_walk(sha, others, cwd).base


def refs_under(prefix: str, cwd: str | None = None) -> list[str]:
    return git("for-each-ref", "--format=%(refname)", prefix, cwd=cwd).split()


@dataclass(frozen=True)
class Fork:
    base: str | None  # parent of the oldest commit none of the others holds (sha: they hold it; None: a root)
    cut: list[str]  # commits of the branch's own part whose parents this shallow clone lacks: deepen there
    exact: bool  # the answer a complete clone gives, whatever the commits this one lacks


def _shallow_commits(cwd: str | None) -> set[str]:
    if not is_shallow(cwd):
        return set()
    path = git("rev-parse", "--git-path", "shallow", cwd=cwd).strip()
    try:
        with open(os.path.join(cwd or ".", path)) as f:
            return set(f.read().split())
    except OSError:
        return set()


def _rev_list(args: tuple[str, ...], stdin: list[str], cwd: str | None) -> list[str]:
    proc = subprocess.run(("git", "rev-list", *args, "--stdin"), input="".join(f"{r}\n" for r in stdin).encode(),
                          cwd=cwd, env=_env(), capture_output=True)
    if proc.returncode != 0:
        raise GitError(f"git rev-list {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode().splitlines()


def fork_walk(sha: str, others: list[str], cwd: str | None = None) -> Fork:
    """Where `sha`'s history left the history of `others` (refs or commits): the parent of the oldest commit
    (--topo-order) that none of them holds, and whether a shallow clone's answer is the complete one.

    A complete clone's walk is exact. In a shallow one, U (the commits sha has and the others lack, as far as
    this clone knows) is exactly the complete U when
      (a) no commit of U is a shallow one: the walk from sha was not stopped by the depth before it met the
          others (else `cut` names where to deepen), and
      (b) when the others' history is itself cut somewhere: U holds no root, and every such cut is an ancestor of
          each commit the walk stopped at (its boundary). A commit of U the others hold beyond their cut would
          then lie both above a boundary commit and below a cut below it: impossible. Without (b) a merged topic
          based on an old commit of main could count main's older commits as the branch's own.
    """
    rows = [line.split() for line in _rev_list(("--topo-order", "--reverse", "--parents", sha),
                                              [f"^{r}" for r in others], cwd)]
    if not rows:
        return Fork(sha, [], True)  # every commit is on the remote already: nothing new on this branch
    own = {row[0] for row in rows}
    first = rows[0]
    base = first[1] if len(first) > 1 else None
    shallow = _shallow_commits(cwd)
    if not shallow:
        return Fork(base, [], True)
    cut = [row[0] for row in rows if row[0] in shallow]
    if cut:
        return Fork(base, cut, False)
    theirs_cut = shallow.intersection(_rev_list((), others, cwd)) if others else set()
    if not theirs_cut:
        return Fork(base, [], True)  # the others' history is whole: what they hold, this clone knows
    if any(len(row) == 1 for row in rows):
        return Fork(base, [], False)  # a root of the branch's own, or one of the others' beyond their cut?
    boundary = {p for row in rows for p in row[1:] if p not in own}
    exact = all(not _rev_list((), [*theirs_cut, f"^{b}"], cwd) for b in boundary)
    return Fork(base, [], exact)


# --- the remote's other branches where a clone has only its own: `git clone --single-branch`, `--depth` (which
# implies it), actions/checkout (one ref, depth 1), GitLab's fetch of the pipeline's ref ---

REMOTE_BRANCHES = "refs/prefect-push/remote/"  # fetched under <pid>/ for one question, deleted after it


def tracks_every_branch(remote: str, cwd: str | None = None) -> bool:
    """Whether a named remote's fetch refspecs bring all its branches (not a --single-branch clone's one)."""
    specs = git("config", "--get-all", f"remote.{remote}.fetch", cwd=cwd, check=False).split()
    return any(s.lstrip("+").split(":")[0] == "refs/heads/*" for s in specs)


def fetch_branches(remote: str, into: str, cwd: str | None = None, *, depth: int | None, timeout: float = 900
                   ) -> bool:
    """Every branch of `remote` as a ref under `into` (refs/prefect-push/remote/<pid>/: two runs in one clone, a
    hook and an after-push process, never read each other's): the last `depth` commits of each into a shallow
    clone, all its history when depth is None (--unshallow: the clone's own history too); a complete clone
    fetches only the commits it lacks, never with a depth (that would cut the history it has)."""
    args = ["--no-tags"]
    if is_shallow(cwd):
        args.append(f"--depth={depth}" if depth else "--unshallow")
    return _fetch((*args, remote, f"+refs/heads/*:{into}*"), cwd, timeout)


def drop_refs(prefix: str, cwd: str | None = None) -> None:
    refs = refs_under(prefix, cwd)
    if refs:
        subprocess.run(("git", "update-ref", "--stdin"), input="".join(f"delete {r}\n" for r in refs).encode(),
                       cwd=cwd, env=_env(), capture_output=True)


def previous_tag(sha: str, cwd: str | None = None) -> str | None:
    """The nearest tag reachable from the commit before `sha` (what "changed since the previous tag" means)."""
    if commit_of(f"{sha}^", cwd) is None:
        return None
    proc = subprocess.run(
        ("git", "describe", "--tags", "--abbrev=0", f"{sha}^"), cwd=cwd, env=_env(), capture_output=True
    )
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


GITLINK = "160000"


@dataclass(frozen=True)
class Change:
    status: str  # A, M, D, R (renamed: old_path -> path), T
    path: str
    old_path: str | None = None
    old_blob: str | None = None  # object ids: contents are read by id, never by a path that could hold "\n"
    new_blob: str | None = None


def changed_paths(base: str | None, sha: str, cwd: str | None = None) -> list[Change]:
    """Paths changed between two commits, from git's object database (never the working tree)."""
    if base is None:
        return [Change("A", path, new_blob=blob) for path, blob in tree(sha, cwd).items()]
    raw = git_bytes("diff", "-z", "-M", "--raw", "--no-abbrev", "--no-ext-diff", base, sha, "--", cwd=cwd)
    fields = [f.decode("utf-8", "surrogateescape") for f in raw.split(b"\0")]
    changes: list[Change] = []
    i = 0
    while i < len(fields) and fields[i].startswith(":"):
        old_mode, new_mode, old_blob, new_blob, status = fields[i][1:].split(" ")
        if GITLINK in (old_mode, new_mode):  # a submodule's commit, not a file of ours
            i += 3 if status[0] in "RC" else 2
            continue
        old_blob = None if set(old_blob) == {"0"} else old_blob
        new_blob = None if set(new_blob) == {"0"} else new_blob
        kind = status[0]
        if kind in "RC":
            # a copy leaves its source in place: for us it is a new file
            changes.append(Change("R" if kind == "R" else "A", fields[i + 2], fields[i + 1] if kind == "R" else None,
                                  old_blob if kind == "R" else None, new_blob))
            i += 3
        else:
            changes.append(Change(kind, fields[i + 1], None, old_blob, new_blob))
            i += 2
    return changes


_TREES: dict[tuple[str, str], dict[str, str]] = {}
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def tree(sha: str, cwd: str | None = None) -> dict[str, str]:
    """Every file of a commit: path -> blob id. A commit named by its id never changes: listed once a process
    (a push that reads the import closure, prefect.yaml and the adoption rows asks for one tree three times)."""
    key = (os.path.abspath(cwd or "."), sha)
    if key in _TREES:
        return dict(_TREES[key])
    raw = git_bytes("ls-tree", "-r", "-z", "--full-tree", sha, cwd=cwd)
    out = {}
    for entry in raw.split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            mode, kind, blob = meta.split()
            if kind == b"blob":
                out[path.decode("utf-8", "surrogateescape")] = blob.decode()
    if _OBJECT_ID.fullmatch(sha):  # a ref name (HEAD, a branch) may move: not kept
        _TREES[key] = out
    return dict(out)


def read_blobs(blobs: list[str], cwd: str | None = None) -> dict[str, bytes]:
    """Contents of many blobs with a single git process (cat-file --batch); a missing one is left out."""
    if not blobs:
        return {}
    request = "".join(f"{b}\n" for b in blobs).encode()
    proc = subprocess.run(("git", "cat-file", "--batch"), input=request, cwd=cwd, env=_env(), capture_output=True)
    if proc.returncode != 0:
        raise GitError("git cat-file --batch failed")
    out, pos, result = proc.stdout, 0, {}
    for blob in blobs:
        nl = out.index(b"\n", pos)
        header = out[pos:nl].split()
        pos = nl + 1
        if len(header) < 3 or header[1] != b"blob":
            continue  # "<id> missing"
        size = int(header[2])
        result[blob] = out[pos:pos + size]
        pos += size + 1
    return result


def show(sha: str, path: str, cwd: str | None = None) -> bytes | None:
    proc = subprocess.run(("git", "cat-file", "blob", f"{sha}:{path}"), cwd=cwd, env=_env(), capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def commit_subject(sha: str, cwd: str | None = None) -> str:
    return git("log", "-1", "--format=%s", sha, cwd=cwd).strip()


def ls_remote(remote: str, cwd: str | None = None, timeout: float = 60) -> dict[str, str] | None:
    """Every ref the remote has (ref -> sha), from one `git ls-remote`; None when it cannot be reached.

    A timeout because a remote that hangs (an ssh host that never answers) must not hang status or prune.
    """
    try:
        proc = subprocess.run(("git", "ls-remote", "--end-of-options", remote), cwd=cwd, env=_env(),
                              capture_output=True, timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return None
    if proc.returncode != 0:
        return None
    return parse_ls_remote(proc.stdout.decode("utf-8", "surrogateescape"))


def ls_remote_ref(remote: str, ref: str, cwd: str | None = None, timeout: float = 60) -> str | None:
    """The commit the remote's `ref` is at now (one `git ls-remote`); None when it has none or cannot be reached."""
    try:
        proc = subprocess.run(("git", "ls-remote", "--end-of-options", remote, ref), cwd=cwd, env=_env(),
                              capture_output=True, timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return None
    return parse_ls_remote(proc.stdout.decode("utf-8", "surrogateescape")).get(ref) if proc.returncode == 0 else None


def parse_ls_remote(text: str) -> dict[str, str]:
    """`<sha>\\t<ref>` lines -> {ref: sha}; the peeled `<tag>^{}` lines name the tag's commit, not another ref."""
    out = {}
    for line in text.splitlines():
        sha, sep, ref = line.partition("\t")
        if sep and not ref.endswith("^{}"):
            out[ref] = sha
    return out


def subjects(shas: list[str], cwd: str | None = None) -> dict[str, str]:
    """Subjects of the commits this clone has, in one git call; a sha it lacks is left out."""
    wanted = sorted({s for s in shas if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", s)})
    if not wanted:
        return {}  # nothing on stdin: git log would show HEAD
    proc = subprocess.run(("git", "log", "--no-walk=unsorted", "--ignore-missing", "--stdin", "--format=%H%x00%s"),
                          input="".join(f"{s}\n" for s in wanted).encode(), cwd=cwd, env=_env(), capture_output=True)
    if proc.returncode != 0:
        return {}  # e.g. a sha naming a tree: subjects only decorate the status table
    out = {}
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        sha, _, subject = line.partition("\0")
        out[sha] = subject
    return out


def grep_paths(commit: str, args: list[str], pathspecs: list[str], cwd: str | None = None) -> list[str]:
    """Files of a commit whose text matches: `git grep -l` with `args` as its matching options (e.g. -w -F -e x).

    Paths are from the top of the repository whatever cwd is; [] when nothing matches (git grep's exit code 1).
    """
    proc = subprocess.run(("git", "grep", "-l", "-z", "--full-name", "--no-color", *args, commit, "--", *pathspecs),
                          cwd=cwd, env=_env(), capture_output=True)
    if proc.returncode == 1:
        return []
    if proc.returncode != 0:
        raise GitError(f"git grep in {commit}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    prefix = len(commit) + 1  # each entry is "<commit>:<path>"
    return [entry[prefix:].decode("utf-8", "surrogateescape") for entry in proc.stdout.split(b"\0") if entry]


def blobs_at(commit: str, paths: list[str], cwd: str | None = None) -> dict[str, str]:
    """Blob ids of some files of a commit (path -> blob), with one `git ls-tree` per 1,000 paths; a path that is no
    file there is left out. Paths are taken literally (GIT_LITERAL_PATHSPECS): `*` or `:(` in a name is just text."""
    env, out, wanted = {**_env(), "GIT_LITERAL_PATHSPECS": "1"}, {}, set(paths)
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 1000):
        proc = subprocess.run(("git", "ls-tree", "-r", "-z", "--full-tree", commit, "--", *ordered[start:start + 1000]),
                              cwd=cwd, env=env, capture_output=True)
        if proc.returncode != 0:
            raise GitError(f"git ls-tree {commit}: {proc.stderr.decode('utf-8', 'replace').strip()}")
        for entry in proc.stdout.split(b"\0"):
            if entry:
                meta, raw = entry.split(b"\t", 1)
                path, (_, kind, blob) = raw.decode("utf-8", "surrogateescape"), meta.split()
                if kind == b"blob" and path in wanted:
                    out[path] = blob.decode()
    return out
