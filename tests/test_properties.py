"""Property-based: the push-line parser and the plan builder."""
import string

from hypothesis import given, strategies as st

from prefect_push.read.config import Config
from prefect_push.read.flows import FlowSpec
from prefect_push.plan import Existing, FileChange, Op, Target, build, wanted_changes
from prefect_push.push import PushLineError, parse_push_line

hexid = st.sampled_from([40, 64]).flatmap(lambda n: st.text("0123456789abcdef", min_size=n, max_size=n))
refname = st.text(string.ascii_letters + string.digits + "/-_.", min_size=1, max_size=30).map(
    lambda s: "refs/heads/" + s)


@given(local=st.text(string.printable.strip(), min_size=1, max_size=20), a=hexid, b=hexid, ref=refname)
def test_parser_round_trips_valid_lines(local, a, b, ref):
    b = b[: len(a)].ljust(len(a), "0")
    u = parse_push_line(f"{local} {a} {ref} {b}")
    assert (u.local_ref, u.local_sha, u.remote_ref, u.remote_sha) == (local, a, ref, b)


@given(st.text(max_size=200))
def test_parser_either_parses_or_says_why(line):
    try:
        u = parse_push_line(line)
    except PushLineError as exc:
        assert str(exc).startswith("pre-push input line")
    else:
        assert u.remote_ref.startswith("refs/")


names = st.sampled_from(["a", "b", "c", "d", "e"])


@st.composite
def file_changes(draw):
    out = []
    for i in range(draw(st.integers(0, 4))):
        path = f"flows/f{i}.py"
        old = tuple(FlowSpec(path, n, n, 1) for n in sorted(draw(st.sets(names, max_size=3))))
        new = tuple(FlowSpec(path, n, n, 1) for n in sorted(draw(st.sets(names, max_size=3))))
        status = "A" if not old else ("D" if not new else "M")
        out.append(FileChange(status, path, None, old, new))
    return out


@given(files=file_changes(), existing_names=st.sets(names))
def test_plan_registers_what_files_define_and_deletes_only_what_vanished(files, existing_names):
    target = Target("file:///r", "refs/heads/x", "c" * 40, "b" * 40)
    w = wanted_changes(files, first=False)
    existing = [Existing(n, n, "x", "b" * 40, ("git-ref:refs/heads/x", "git-repo:file:///r")) for n in existing_names]
    plan = build(target, w, Config(), existing)
    now = {s.flow_name for f in files for s in f.new_flows}
    before = {s.flow_name for f in files for s in f.old_flows}
    registered = {a.flow_name for a in plan.actions if a.op in (Op.REGISTER, Op.UPDATE)}
    deleted = {a.flow_name for a in plan.actions if a.op is Op.DELETE}
    dup = bool(w.problems)
    if not dup:
        assert registered == now
    assert deleted == (before - now) & existing_names
    assert not registered & deleted
    for a in plan.actions:
        if a.op is Op.REGISTER:
            assert a.flow_name not in existing_names
        if a.op is Op.UPDATE:
            assert a.flow_name in existing_names
