"""Pure: which functions are flows, read with ast only."""
import textwrap

import pytest

from prefect_push.flows import BadFlow, read_flows


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


def test_non_literal_flow_name_is_rejected_with_line():
    bad = flows("""
        from prefect import flow
        NAME = "x"

        @flow(name=NAME)
        def a(): ...
    """)
    assert isinstance(bad, BadFlow) and bad.line == 5 and "string literal" in bad.message


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
