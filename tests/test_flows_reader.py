"""Pure: which functions are flows, read with ast only."""
import textwrap

import pytest

from prefect_push.read.flows import BadFlow, read_flows


def flows(src: str, path: str = "f.py"):
    return read_flows(path, textwrap.dedent(src).encode())


def test_every_spelling_prefect_accepts():
    got = flows("""
        import prefect
        import prefect as pf
        from prefect import flow
        from prefect import flow as prefect_flow

        @flow
        def a(): ...

        @flow()
        def b(): ...

        @prefect.flow(name="custom-c")
        def c(): ...

        @pf.flow
        async def d(): ...

        @prefect_flow(log_prints=True)
        def e_f(): ...
    """)
    assert [(f.function, f.flow_name) for f in got] == [
        ("a", "a"), ("b", "b"), ("c", "custom-c"), ("d", "d"), ("e_f", "e-f")]


def test_look_alikes_are_not_flows():
    got = flows("""
        from prefect import task
        from mylib import flow as other  # not prefect's
        import prefect

        @task
        def t(): ...

        @other
        def o(): ...

        def plain(): ...

        class K:
            @prefect.flow
            def method(self): ...  # not module level: no entrypoint can name it
    """)
    assert got == []


def test_file_without_prefect_is_ignored_even_if_broken():
    assert read_flows("data.py", b"this is not python (") == []
    assert read_flows("bin.py", b"\xff\xfe flow \x00") == []


def test_syntax_error_in_a_flow_file_names_file_and_line():
    bad = flows("""
        from prefect import flow

        @flow
        def a(:
            pass
    """, "flows/a.py")
    assert isinstance(bad, BadFlow)
    assert bad.path == "flows/a.py" and bad.line == 5
    assert str(bad).startswith("flows/a.py:5: syntax error")


def test_flow_name_from_module_level_constants_is_read():
    got = flows("""
        from prefect import flow
        NAME = "x"
        ENV = "prod"

        @flow(name=NAME)
        def a(): ...

        @flow(name=f"etl-{ENV}")
        def b(): ...

        @flow(name="load-" + ENV)
        def c(): ...
    """)
    assert [f.flow_name for f in got] == ["x", "etl-prod", "load-prod"]


def test_flow_name_that_cannot_be_read_is_rejected_with_line():
    bad = flows("""
        from prefect import flow
        NAME = "x"
        NAME = NAME.upper()  # bound twice: what it holds depends on running the file

        @flow(name=NAME)
        def a(): ...
    """)
    assert isinstance(bad, BadFlow) and bad.line == 6 and "string literal" in bad.message


def test_forbidden_characters_in_flow_name():
    bad = flows("""
        from prefect import flow

        @flow(name="a/b")
        def a(): ...
    """)
    assert isinstance(bad, BadFlow) and "'/'" in bad.message


def test_parameters_and_docstring_are_read():
    (f,) = flows('''
        from prefect import flow

        @flow
        def etl(day: "date", limit: int = 10, *args, flag: bool = False, **kw):
            """Does things.

            Args:
                limit: how many
            """
    ''')
    assert [(p.name, p.kind, p.annotation, p.default) for p in f.params] == [
        ("day", "POSITIONAL_OR_KEYWORD", "'date'", None),
        ("limit", "POSITIONAL_OR_KEYWORD", "int", "10"),
        ("args", "VAR_POSITIONAL", None, None),
        ("flag", "KEYWORD_ONLY", "bool", "False"),
        ("kw", "VAR_KEYWORD", None, None),
    ]
    assert "how many" in f.docstring
    assert f.entrypoint == "f.py:etl"


SETTINGS_SRC = b'''from prefect import flow

@flow
def a(day: str = "today"): ...

@flow(name="bee")
def b(**kw): ...

PREFECT_PUSH = {"cron": "0 6 * * *", "tags": ["finance"], "a": {"parameters": {"day": "x"}, "runtime": "k8s"},
                "b": {"interval": 60}}
'''


def test_prefect_push_settings_are_read_per_file_and_per_flow_without_importing():
    a, b = read_flows("f.py", SETTINGS_SRC)
    assert (a.settings.cron, a.settings.parameters, a.settings.runtime, a.settings.tags) == (
        "0 6 * * *", {"day": "x"}, "k8s", ("finance",))
    assert (b.settings.cron, b.settings.interval, b.settings.schedule) == (None, 60.0, "every 60s")


@pytest.mark.parametrize("change, says", [
    ((b'"day": "x"', b'"hour": 1'), "parameter 'hour' is not a parameter of a() (it takes: day)"),
    ((b"0 6 * * *", b"0 6 * *"), 'Invalid cron string: "0 6 * *"'),
    ((b'"b": {"interval": 60}', b'"c": 1'), "unknown key 'c'"),
    ((b'"tags": ["finance"]', b'"tags": [open("x")]'), "must be a literal dict"),
    ((b'"b": {"interval": 60}', b'"b": {"interval": 60, "rrule": "FREQ=DAILY"}'), "give one of cron, interval"),
    ((b'"tags": ["finance"]', b'"timezone": "Mars/Base"'), "Invalid timezone"),
])
def test_bad_settings_name_the_file_line_and_flow(change, says):
    bad = read_flows("f.py", SETTINGS_SRC.replace(*change))
    assert isinstance(bad, BadFlow) and bad.line == 9 and says in str(bad), bad


def test_a_flow_name_f_string_that_would_build_a_huge_string_is_rejected():
    bad = flows("""
        from prefect import flow
        X = "a"

        @flow(name=f"{X:>999999999}")
        def a(): ...
    """)
    assert isinstance(bad, BadFlow) and "string literal" in bad.message


def test_the_definitions_a_signature_names_travel_with_the_flow():
    a, b = flows("""
        from pydantic import BaseModel
        from prefect import flow

        LIMIT = 3
        UNUSED = 1

        class Inner(BaseModel):
            n: int = LIMIT

        class Outer(BaseModel):
            inner: Inner

        class Other(BaseModel):
            x: int

        @flow
        def a(o: Outer): ...

        @flow
        def b(n: int = 1): ...
    """)
    assert [d.source.splitlines()[0] for d in a.context] == ["LIMIT = 3", "class Inner(BaseModel):",
                                                             "class Outer(BaseModel):"]
    assert b.context == ()


def test_models_imported_from_a_repository_module_are_followed_where_prefect_would_import_them():
    sources = {"flows/models.py": b"from pydantic import BaseModel\nclass Job(BaseModel):\n    x: int = 1\n",
               "models.py": b"from pydantic import BaseModel\nclass Job(BaseModel):\n    y: int = 2\n"}
    asked: list[str] = []

    def modules(paths):
        asked.extend(paths)
        return {p: sources[p] for p in paths if p in sources}

    src = b"from models import Job\nfrom typing import Optional\nfrom prefect import flow\n\n@flow\ndef f(j: Optional[Job]): ...\n"
    (spec,) = read_flows("flows/f.py", src, modules)
    # the flow's own directory comes first on sys.path, as when Prefect loads the entrypoint
    assert [(d.scope, d.source.splitlines()[-1].strip()) for d in spec.context][-1] == ("", "from models import Job as Job")
    assert any(d.scope == "flows/models.py" and "x: int = 1" in d.source for d in spec.context)
    assert asked == ["flows/models.py"]  # typing and prefect are never looked for in the repository


def test_flows_made_by_calling_flow_on_a_module_level_function():
    got = flows("""
        from prefect import flow

        def _refresh(table: str): ...
        def cleanup_impl(days: int = 30): ...
        def other(): ...

        refresh = flow(name="refresh-table")(_refresh)
        cleanup = flow(cleanup_impl, log_prints=True)
        not_a_flow = print(other)
        later = flow(undefined_here)
    """)
    assert [(f.entrypoint, f.flow_name, [p.name for p in f.params]) for f in got] == [
        ("f.py:refresh", "refresh-table", ["table"]), ("f.py:cleanup", "cleanup-impl", ["days"])]


def test_a_flow_name_from_a_constant_of_a_repository_module():
    settings = {"common/names.py": b'TEAM = "loading"\n'}
    src = b'from common.names import TEAM\nfrom prefect import flow\n\n@flow(name=TEAM + "-daily")\ndef f(): ...\n'
    (spec,) = read_flows("flows/f.py", src, lambda paths: {p: settings[p] for p in paths if p in settings})
    assert spec.flow_name == "loading-daily"
    bad = read_flows("flows/f.py", src)  # the module can't be read: the name can't be known
    assert isinstance(bad, BadFlow) and bad.line == 4 and "repository module" in bad.message
