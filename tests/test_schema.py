"""The parameter schema is Prefect's own, built without importing the flow's file."""
import json
import sys
import textwrap
from pathlib import Path

import pytest

from prefect_push.read.flows import read_flows
from prefect_push.read.schema import parameter_schema

SOURCE = textwrap.dedent('''
    from datetime import date
    from typing import Literal, Optional
    from prefect import flow

    @flow
    def etl(day: date, mode: Literal["full", "delta"] = "delta", limit: Optional[int] = None,
            tags: list[str] = ["a"], *, dry: bool = False):
        """Loads a day.

        Args:
            day: which day to load
            limit: at most this many rows
        """
''')


def test_schema_matches_prefects_own_reader(tmp_path: Path):
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    path = tmp_path / "etl.py"
    path.write_text(SOURCE)
    (spec,) = read_flows("etl.py", SOURCE.encode())
    # as `prefect deploy` sends it: exclude_unset, so no empty "definitions"
    theirs = parameter_schema_from_entrypoint(f"{path}:etl").model_dump(mode="json", exclude_unset=True)
    assert parameter_schema(spec) == theirs and "definitions" not in theirs
    assert parameter_schema(spec)["properties"]["day"]["description"] == "which day to load"


def test_schema_never_imports_the_files_imports(tmp_path: Path):
    # Prefect's reader would import `boom` (a sibling module) and run it; ours must not.
    (tmp_path / "boom.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('imported')\n")
    source = "import boom\nfrom boom import Thing\nfrom prefect import flow\n\n@flow\ndef f(x: Thing, n: int = 2): ...\n"
    (spec,) = read_flows("f.py", source.encode())
    schema = parameter_schema(spec)
    assert not (tmp_path / "ran").exists()
    assert schema["properties"]["n"] == {"default": 2, "position": 1, "title": "n", "type": "integer"}
    assert schema["properties"]["x"]["position"] == 0  # unresolvable annotation: untyped, as Prefect does


def schema_of(source: str, modules: dict[str, str] | None = None, path: str = "flows/f.py") -> dict:
    read = (lambda paths: {p: modules[p].encode() for p in paths if p in modules}) if modules is not None else None
    (spec,) = read_flows(path, textwrap.dedent(source).encode(), read)
    return parameter_schema(spec)


def test_stdlib_constructors_and_constants_are_read_as_defaults():
    props = schema_of('''
        import datetime
        from datetime import timedelta, timezone
        from decimal import Decimal
        from pathlib import Path
        from prefect import flow

        MINUTES = 5
        BASE = "data"

        @flow
        def f(t: timedelta = timedelta(minutes=MINUTES), d: datetime.date = datetime.date(2024, 1, 2),
              at: datetime.datetime = datetime.datetime(2024, 1, 2, 3, tzinfo=timezone.utc),
              out: Path = Path(BASE) / "raw", cost: Decimal = Decimal("1.50"), rate: float = 50 * 1e-6,
              cols: tuple = (BASE, MINUTES)): ...
    ''')["properties"]
    assert [props[k]["default"] for k in ("t", "d", "at", "out", "cost", "cols")] == [
        "PT5M", "2024-01-02", "2024-01-02T03:00:00Z", "data/raw", "1.50", ["data", 5]]
    assert props["rate"]["default"] == 50 * 1e-6


def test_models_enums_and_aliases_declared_beside_the_flow_are_typed():
    schema = schema_of('''
        from enum import Enum
        from typing import Literal, Optional
        from pydantic import BaseModel, Field
        from prefect import flow

        Mode = Literal["full", "delta"]

        class Color(str, Enum):
            RED = "red"
            BLUE = "blue"

        class Job(BaseModel):
            """One job."""
            name: str = Field(max_length=10, description="what to call it")
            color: Color = Color.BLUE

        @flow
        def f(job: Job, mode: Mode = "delta", color: Optional[Color] = Color.RED): ...
    ''')
    props, defs = schema["properties"], schema["definitions"]
    assert props["mode"]["enum"] == ["full", "delta"] and props["color"]["default"] == "red"
    assert defs["Job"]["description"] == "One job."
    assert defs["Job"]["properties"]["name"] == {"description": "what to call it", "maxLength": 10, "title": "Name",
                                                 "type": "string"}
    assert defs["Color"]["enum"] == ["red", "blue"]


def test_a_model_from_a_repository_module_is_read_at_the_same_commit():
    helper = "from pydantic import BaseModel\n\nclass Settings(BaseModel):\n    chunk: int = 10\n"
    source = '''
        from common.models import Settings as S
        from prefect import flow

        @flow
        def f(s: S): ...
    '''
    typed = schema_of(source, {"common/models.py": helper})
    assert typed["definitions"]["Settings"]["properties"]["chunk"]["default"] == 10
    assert "definitions" not in schema_of(source)  # nothing to read the module from: untyped, as Prefect's reader


@pytest.mark.parametrize("declaration", [
    "class Job(Base):\n    x: int = 1\n",  # a base class from an unknown place
    "@register\nclass Job(BaseModel):\n    x: int = 1\n",  # a decorator that may replace the class
    "class Job(BaseModel):\n    x: int = make()\n",  # a default computed by a call
    "class Job(BaseModel):\n    x: int = 1\n    @classmethod\n    def __get_pydantic_json_schema__(cls, s, h):\n"
    "        return make()\n",  # a hook that writes its own schema
    "class Job(BaseModel, metaclass=Meta):\n    x: int = 1\n",
])
def test_a_class_outside_the_subset_is_left_untyped_and_never_runs(tmp_path: Path, declaration: str):
    ran = tmp_path / "ran"
    source = (f"from pydantic import BaseModel, Field\nfrom prefect import flow\n"
              f"def make():\n    open({str(ran)!r}, 'w')\n    return 1\n"
              f"def register(c):\n    make()\n    return c\nclass Meta(type):\n    pass\nclass Base:\n    pass\n"
              f"{declaration}\n@flow\ndef f(job: Job, n: int = make()): ...\n")
    props = schema_of(source)["properties"]
    assert props["job"] == {"position": 0, "title": "job"} and props["n"]["default"] is None
    assert not ran.exists()


def test_names_bound_twice_are_not_guessed():
    props = schema_of('''
        from pydantic import BaseModel
        from prefect import flow

        class Job(BaseModel):
            x: int = 1

        if True:
            class Job(BaseModel):  # which one the file ends with is decided by running it
                y: str = "a"

        @flow
        def f(job: Job): ...
    ''')["properties"]
    assert props["job"] == {"position": 0, "title": "job"}


@pytest.mark.parametrize("annotation", [
    'list["__import__(\'pathlib\').Path(r\'MARK\').touch() or int"]',
    '"\'__import__(\\"pathlib\\").Path(r\\"MARK\\").touch() or int\'"',
])
def test_a_string_inside_an_annotation_is_never_evaluated(tmp_path, annotation):
    # pydantic evals a string it finds where a type goes, with full builtins: the pushed file's code would run
    mark = tmp_path / "ran"
    source = f"from prefect import flow\n@flow\ndef f(x: {annotation.replace('MARK', str(mark))} = 1):\n    pass\n"
    (spec,) = read_flows("flows/x.py", source.encode())
    assert parameter_schema(spec)["properties"]["x"].get("type") is None
    assert not mark.exists()


def test_a_constraint_helper_gets_literal_arguments_only(tmp_path):
    source = ("from typing import Annotated\nfrom prefect import flow\nfrom pydantic import Field\nLOW = 1\n"
              "@flow\ndef f(a: Annotated[int, Field(json_schema_extra=exit)] = 1, b: Annotated[int, Field(ge=LOW)] = 2):"
              "\n    pass\n")
    (spec,) = read_flows("flows/x.py", source.encode())
    props = parameter_schema(spec)["properties"]
    assert props["a"].get("type") is None and props["b"]["minimum"] == 1


BOMB = '''\
from prefect import flow

A = [0] * 1000
B = [A] * 1000
C = [B] * 100


@flow
def bomb(x: list = (C, C, C), y: int = 1):
    return y
'''


def test_constants_that_share_values_cannot_build_a_huge_default():
    """A few lines whose names share one list would be 3 * 10**8 items once written out: the default is
    refused (as any unreadable default), the rest of the schema is read, in a second and a bounded memory."""
    import subprocess
    import sys

    code = ("import json, resource, sys\n"
            "resource.setrlimit(resource.RLIMIT_AS, (2 * 1024 ** 3, 2 * 1024 ** 3))\n"
            "from prefect_push.read.flows import read_flows\nfrom prefect_push.read.schema import parameter_schema\n"
            "(spec,) = read_flows('flows/bomb.py', sys.stdin.buffer.read())\n"
            "print(json.dumps(parameter_schema(spec)['properties']))\n")
    # the second: a constant just under the bound, named 500 times (each name a copy: 5 * 10**8 items)
    copies = BOMB.replace("C = [B] * 100", "B = [A] * 999\nC = [" + ", ".join(["B"] * 500) + "]").replace(
        "B = [A] * 1000\n", "")
    for source in (BOMB, copies):
        proc = subprocess.run([sys.executable, "-c", code], input=source.encode(), capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        props = json.loads(proc.stdout)
        assert props["y"]["default"] == 1 and props["x"]["type"] == "array" and props["x"].get("default") is None


def test_a_type_prefect_cannot_make_a_schema_of_is_left_untyped_not_raised():
    # found on real code (uvicorn, typer, hypothesis): Prefect's @flow raises on these (pydantic refuses them);
    # prefect-push leaves that one parameter untyped, as for an annotation it cannot read, and the others typed
    props = schema_of('''
        from collections import defaultdict
        from typing import TypedDict
        from pydantic import ValidationInfo
        from prefect import flow

        class Scope(TypedDict):  # typing's, not typing_extensions': refused before Python 3.12
            path: str

        @flow
        def f(scope: Scope, info: ValidationInfo, counts: defaultdict[object, object] = None, n: int = 1): ...
    ''')["properties"]
    if sys.version_info < (3, 12):
        assert props["scope"] == {"position": 0, "title": "scope"}
    assert props["info"] == {"position": 1, "title": "info"}
    assert props["counts"] == {"default": None, "position": 2, "title": "counts"}
    assert props["n"] == {"default": 1, "position": 3, "title": "n", "type": "integer"}


def test_a_parameter_named_with_a_leading_underscore_is_one_line_not_a_crash():
    from prefect_push.read.flows import BadFlow

    bad = read_flows("flows/f.py", b"from prefect import flow\n\n@flow\ndef f(x: int, _cache: dict = None): ...\n")
    assert isinstance(bad, BadFlow) and bad.line == 4 and "'_cache'" in bad.message, bad


# Prefect's side: the flow imported as `prefect deploy` imports it, and its parameter schema as deploy sends it
PREFECT_SIDE = r"""
import json, sys
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema

flow = load_flow_from_entrypoint(sys.argv[1], use_placeholder_flow=False)
print(json.dumps(parameter_schema(flow).model_dump(mode="json", exclude_unset=True)))
"""


def against_prefect(tmp_path: Path, files: dict[str, str], flow: str = "flows/f.py") -> tuple[dict, dict, tuple]:
    """(prefect-push's schema, Prefect's own importing the files, prefect-push's fallback notes)."""
    import subprocess

    from prefect_push.read.schema import checked

    files = {p: textwrap.dedent(s) for p, s in files.items()}
    for p, s in files.items():
        (tmp_path / p).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / p).write_text(s)
    proc = subprocess.run([sys.executable, "-c", PREFECT_SIDE, f"{flow}:f"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    read = lambda paths: {p: files[p].encode() for p in paths if p in files}  # noqa: E731
    (spec,) = read_flows(flow, files[flow].encode(), read)
    got = checked(spec)
    return got.schema, json.loads(proc.stdout.splitlines()[-1]), got.notes


def test_an_abc_base_and_a_descriptor_base_in_ignored_types_are_prefects_schema(tmp_path):
    # prefect's own server models: PrefectBaseModel's config ignores a descriptor base (an ABC), and many models
    # derive from (PrefectBaseModel, abc.ABC)
    ours, theirs, notes = against_prefect(tmp_path, {"lib/bases.py": '''
        import abc
        from abc import ABC, abstractmethod
        from pydantic import BaseModel, ConfigDict, Field

        class DescriptorBase(ABC):
            @abstractmethod
            def __get__(self, instance, owner=None): ...

        class Base(BaseModel):
            model_config = ConfigDict(extra="forbid", ignored_types=(DescriptorBase,))

        class Action(Base, abc.ABC):
            """Something to do."""
            name: str = Field("x", max_length=5)
    ''', "flows/f.py": '''
        from prefect import flow
        from lib.bases import Action

        @flow
        def f(a: Action): ...
    '''})
    assert notes == () and ours == theirs
    assert theirs["definitions"]["Action"]["additionalProperties"] is False


def test_an_enum_whose_auto_values_are_the_names_is_prefects_schema(tmp_path):
    # prefect's AutoEnum: `_generate_next_value_` returns the name and `auto()` is enum.auto(); a StateType-like
    # subclass declares its members with AutoEnum.auto()
    files = {"lib/enums.py": '''
        from enum import Enum, auto

        class AutoEnum(str, Enum):
            @staticmethod
            def _generate_next_value_(name: str, *_: object, **__: object) -> str:
                return name

            @staticmethod
            def auto() -> str:
                """enum.auto() without a second import"""
                return auto()

            def __repr__(self) -> str:
                return f"{type(self).__name__}.{self.value}"

        class StateType(AutoEnum):
            """Enumeration of state types."""
            SCHEDULED = AutoEnum.auto()
            RUNNING = auto()
            LATE = "late"

        class Lower(str, Enum):
            def _generate_next_value_(name, start, count, last_values):
                return name.lower()
            A = auto()
    ''', "flows/f.py": '''
        from prefect import flow
        from lib.enums import StateType

        @flow
        def f(state: StateType = StateType.RUNNING): ...
    '''}
    ours, theirs, notes = against_prefect(tmp_path, files)
    assert notes == () and ours == theirs
    assert theirs["definitions"]["StateType"]["enum"] == ["SCHEDULED", "RUNNING", "late"]
    # any other _generate_next_value_ is not guessed: untyped, said
    files["flows/f.py"] = files["flows/f.py"].replace("StateType", "Lower").replace("Lower.RUNNING", "None")
    ours, theirs, notes = against_prefect(tmp_path, files)
    assert notes and ours["properties"]["state"] == {"default": None, "position": 0, "title": "state"}


def test_a_default_factory_of_the_files_own_is_never_run_and_the_model_is_prefects_schema(tmp_path):
    # pydantic writes no default for a default_factory: the model's schema does not depend on it, so it is typed;
    # an instance of it as a parameter's default would run the factory: that default is refused, and said
    ran = tmp_path / "ran"
    files = {"flows/f.py": f'''
        from uuid import uuid4, UUID
        from dataclasses import dataclass, field
        from pydantic import BaseModel, Field
        from prefect import flow

        def make():
            open({str(ran)!r}, "w")
            return []

        class Job(BaseModel):
            id: UUID = Field(default_factory=uuid4)
            x: list = Field(default_factory=make)
            y: list = Field(default_factory=lambda: make())

        @dataclass
        class Window:
            z: list = field(default_factory=make)

        @flow
        def f(job: Job, window: Window): ...
    '''}
    ours, theirs, notes = against_prefect(tmp_path, files)
    assert notes == () and ours == theirs and "Job" in theirs["definitions"]
    ran.unlink(missing_ok=True)  # Prefect's side ran nothing either, but be sure ours is checked alone
    (spec,) = read_flows("flows/f.py", textwrap.dedent(files["flows/f.py"]).replace(
        "window: Window", "window: Window = Window(), job2: Job = Job()").encode())
    from prefect_push.read.schema import checked

    got = checked(spec)
    assert not ran.exists()
    assert [n.split("=")[0] for n in got.notes] == ["window", "job2"]
    assert got.schema["definitions"]["Job"] == theirs["definitions"]["Job"]


def test_private_attributes_class_vars_and_type_checking_blocks_are_prefects_schema(tmp_path):
    # prefect's ContextModel, PrefectBaseModel and server Action: none of these is a field, whatever it holds
    ours, theirs, notes = against_prefect(tmp_path, {"lib/ctx.py": '''
        from contextvars import ContextVar
        from typing import TYPE_CHECKING, Any, ClassVar, Optional
        from pydantic import BaseModel, ConfigDict, PrivateAttr
        from dataclasses import dataclass

        class Context(BaseModel):
            if TYPE_CHECKING:
                def __init__(self, **kwargs: Any) -> None: ...

            __var__: ClassVar[ContextVar[Any]]
            _token: Optional[ContextVar] = PrivateAttr(None)
            _details: dict = PrivateAttr(default_factory=dict)
            _cache = {}
            _reset_fields: ClassVar[set[str]] = set()
            model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")
            name: str = "x"
            level: int = 1

        class Narrow(Context):
            level: ClassVar[int] = int("3")  # no longer a field

        @dataclass
        class Window:
            registry: ClassVar[dict] = dict(a=1)
            days: int = 1
    ''', "flows/f.py": '''
        from prefect import flow
        from lib.ctx import Context, Narrow, Window

        @flow
        def f(c: Context, n: Narrow, w: Window): ...
    '''})
    assert notes == () and ours == theirs
    assert set(theirs["definitions"]["Narrow"]["properties"]) == {"name"}


def test_a_plain_mixin_of_fields_under_a_model_is_prefects_schema(tmp_path):
    # prefect's filters: `class FlowFilter(PrefectBaseModel, OperatorMixin)`, the mixin a plain class of fields
    files = {"lib/filters.py": '''
        from enum import Enum
        from pydantic import BaseModel, Field

        class Operator(str, Enum):
            and_ = "and_"
            or_ = "or_"

        class OperatorMixin:
            """Combines criteria with an operator"""
            operator: Operator = Field(default=Operator.and_, description="how to combine")

            def describe(self) -> str:
                return self.operator.value

        class FlowFilter(BaseModel, OperatorMixin):
            name: str = "x"

        class Shadowed(BaseModel, OperatorMixin):
            describe: str
    ''', "flows/f.py": '''
        from prefect import flow
        from lib.filters import FlowFilter

        @flow
        def f(flt: FlowFilter): ...
    '''}
    ours, theirs, notes = against_prefect(tmp_path, files)
    assert notes == () and ours == theirs
    assert theirs["definitions"]["FlowFilter"]["properties"]["operator"]["description"] == "how to combine"
    # a field named as one of the mixin's methods (left out here): not guessed
    files["flows/f.py"] = files["flows/f.py"].replace("FlowFilter", "Shadowed")
    (spec,) = read_flows("flows/f.py", textwrap.dedent(files["flows/f.py"]).encode(),
                         lambda paths: {p: textwrap.dedent(files[p]).encode() for p in paths if p in files})
    assert parameter_schema(spec)["properties"]["flt"] == {"position": 0, "title": "flt"}


WRAPPED = '''
    import functools
    from prefect import flow

    def notify(fn):
        """Says when it is done."""
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            print("start")
            return fn(*args, **kwargs)
        return inner

    @flow
    @notify
    def f(day: str, limit: int = 10, dry_run: bool = False):
        """Loads a day.

        Args:
            day: which day
        """
'''


def test_a_functools_wraps_decorator_below_flow_keeps_the_def_signature_as_prefect_sees_it(tmp_path):
    # inspect.signature follows __wrapped__: Prefect's flow has the def's own parameters and docstring
    ours, theirs, notes = against_prefect(tmp_path, {"flows/f.py": WRAPPED})
    assert notes == () and ours == theirs
    assert theirs["properties"]["limit"]["default"] == 10 and theirs["properties"]["day"]["description"] == "which day"


@pytest.mark.parametrize("change", [
    ("@functools.wraps(fn)\n        ", ""),  # no wraps: Prefect sees *args, **kwargs
    ("        return inner", "        inner.__signature__ = None\n        return inner"),  # more than the shape
    ("return fn(*args, **kwargs)\n        return inner", "return fn(*args, **kwargs)\n        return print"),
])
def test_any_other_decorator_below_flow_still_falls_back(tmp_path, change):
    source = WRAPPED.replace(*change)
    assert source != WRAPPED
    (spec,) = read_flows("flows/f.py", textwrap.dedent(source).encode())
    from prefect_push.read.schema import checked

    assert any("below @flow" in n for n in checked(spec).notes)


def test_a_leading_underscore_parameter_under_a_decorator_below_flow_falls_back_without_a_crash():
    # found by tests/test_real_code.py on pydantic/dataclasses.py: `@dataclass_transform` over `def dataclass(_cls=None)`
    from prefect_push.read.schema import checked

    (spec,) = read_flows("flows/f.py", b"from prefect import flow\nfrom x import deco\n\n@flow\n@deco\n"
                                       b"def f(_cls=None, *, n: int = 1): ...\n")
    got = checked(spec)
    assert any("below @flow" in n for n in got.notes)
    assert got.schema["properties"]["n"]["default"] == 1 and "_cls" not in got.schema["properties"]


def test_a_class_of_the_repository_not_built_is_named_with_its_member_and_the_construct_in_the_line():
    # not "x: Model is not known without importing": the class is the repository's, so the line says which of its
    # members was not followed, and what (issue L, part 4)
    from prefect_push.read.schema import checked

    files = {"common/models.py": textwrap.dedent('''
        from typing import Annotated
        from pydantic import BaseModel, field_validator
        from somewhere import Marker, Raw

        class Inner(BaseModel):
            c: int = 1

            @field_validator("c", mode="plain", json_schema_input_type=Raw)
            @classmethod
            def parse(cls, v): return v

        class Outer(BaseModel):
            inner: Inner
    ''').encode()}
    source = textwrap.dedent('''
        from typing import Annotated
        from pydantic import BaseModel
        from prefect import flow
        from somewhere import Marker
        from common.models import Outer

        class Model(BaseModel):
            a: Annotated[int, Marker(1)] = 1

        @flow
        def f(x: Model, y: Outer, z: Marker): ...
    ''').encode()
    (spec,) = read_flows("flows/f.py", source, lambda paths: {p: files[p] for p in paths if p in files})
    notes = checked(spec).notes
    assert notes == (
        "x: Model is not built (untyped): Model.a: Marker(...) is not followed",
        "y: Outer is not built (untyped): Outer.inner: Inner.parse: @field_validator('c', mode='plain', "
        "json_schema_...: json_schema_input_type=Raw is not known without importing",
        "z: Marker is not known without importing (untyped)"), notes


def test_two_classes_of_one_name_fall_back_and_say_so(tmp_path):
    # pydantic names their definitions by module (lib__a__Item, and the flow file's by the name Prefect's loader
    # gives it): not reproduced, so those parameters are untyped, said, and the others stay Prefect's
    ours, theirs, notes = against_prefect(tmp_path, {
        "lib/a.py": "from pydantic import BaseModel\n\n\nclass Item(BaseModel):\n    x: int = 1\n",
        "lib/b.py": "from pydantic import BaseModel\n\n\nclass Item(BaseModel):\n    y: str = 'a'\n",
        "flows/f.py": '''
            from prefect import flow
            from pydantic import BaseModel
            from lib.a import Item as A
            from lib.b import Item as B

            class Other(BaseModel):
                z: float = 1.0

            @flow
            def f(a: A, b: B, o: Other, n: int = 1): ...
        '''})
    assert "lib__a__Item" in theirs["definitions"]
    assert [n.split(":")[0] for n in notes] == ["a", "b"] and "two classes of one name (Item)" in notes[0]
    assert ours["properties"]["a"] == {"position": 0, "title": "a"}
    assert ours["properties"]["o"] == theirs["properties"]["o"] and ours["properties"]["n"] == theirs["properties"]["n"]
    assert ours["definitions"] == {"Other": theirs["definitions"]["Other"]}


def test_an_import_string_field_is_never_validated_so_nothing_it_names_is_imported(tmp_path):
    # pydantic's ImportString imports the module a value names when an instance is validated: an instance of such
    # a model as a default would import (run) the pushed repository's code; the type is not followed at all
    mark = tmp_path / "ran"
    (tmp_path / "payload_mod.py").write_text(f"open({str(mark)!r}, 'w')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        props = schema_of('''
            from pydantic import BaseModel, ImportString
            from prefect import flow

            class Job(BaseModel):
                target: ImportString = "math.pi"

            @flow
            def f(job: Job = Job(target="payload_mod"), t: ImportString = "payload_mod"): ...
        ''')["properties"]
    finally:
        sys.path.remove(str(tmp_path))
    assert not mark.exists() and "payload_mod" not in sys.modules
    assert props["job"] == {"default": None, "position": 0, "title": "job"}
    assert props["t"] == {"default": "payload_mod", "position": 1, "title": "t"}


def test_a_models_forward_references_and_create_model_from_a_repository_module_are_prefects_schema(tmp_path):
    shapes = '''
        from typing import Optional
        from pydantic import BaseModel, ConfigDict, Field, create_model

        class Tree(BaseModel):
            """A tree of itself."""
            model_config = ConfigDict(use_attribute_docstrings=True)
            label: str = "root"
            """what the node says"""
            kids: list["Tree"] = []
            up: "Optional[Tree]" = Field(None, description="its parent")
            """not this: Field says it"""

        class Forest(BaseModel):
            biggest: Optional["Tree"] = None
            rangers: list["Ranger"] = []

        class Ranger(BaseModel):
            name: str = "r"

        def make_basket():
            return create_model("Basket", trees=(list[Tree], []), size=(int, Field(3, ge=1)))

        Basket = make_basket()
    '''
    flow = '''
        from prefect import flow
        from shapes import Basket, Forest, Tree

        @flow
        def f(tree: Tree, basket: Basket, forest: Forest, spare: "Tree" = None): ...
    '''
    ours, theirs, notes = against_prefect(tmp_path, {"flows/f.py": flow, "flows/shapes.py": shapes})
    assert ours == theirs and not notes, notes
    tree = theirs["definitions"]["Tree"]["properties"]
    assert tree["kids"]["items"] == {"$ref": "#/definitions/Tree"}
    assert (tree["label"]["description"], tree["up"]["description"]) == ("what the node says", "its parent")
    assert theirs["definitions"]["Basket"]["properties"]["size"]["minimum"] == 1
    assert theirs["definitions"]["Forest"]["properties"]["rangers"]["items"] == {"$ref": "#/definitions/Ranger"}


@pytest.mark.parametrize("annotation", [
    'list["__import__(\'pathlib\').Path(r\'MARK\').touch() or Model"]',
    '"Model | __import__(\'pathlib\').Path(r\'MARK\').touch()"',
    'dict[str, "Model"] = {"x": __import__("pathlib").Path(r"MARK").touch()}',
])
def test_a_string_inside_a_models_own_field_is_read_as_a_name_never_evaluated(tmp_path, annotation):
    mark = tmp_path / "ran"
    source = ("from pydantic import BaseModel\nfrom prefect import flow\n"
              f"class Model(BaseModel):\n    c: {annotation.replace('MARK', str(mark))}\n"
              "@flow\ndef f(x: Model, y: int = 1):\n    pass\n")
    (spec,) = read_flows("flows/x.py", source.encode())
    schema = parameter_schema(spec)
    assert schema["properties"]["x"].get("$ref") is None and schema["properties"]["y"]["type"] == "integer"
    assert not mark.exists()


def test_pydantic_reads_attribute_docstrings_of_its_other_classes_as_before():
    # prefect-push hands pydantic the docstrings of the classes it builds through pydantic's own reader of the
    # source, wrapped once: every other class is read from its source, as without prefect-push
    from pydantic import BaseModel, ConfigDict
    from typing_extensions import TypedDict

    schema_of('''
        from pydantic import BaseModel, ConfigDict
        from prefect import flow
        class Built(BaseModel):
            model_config = ConfigDict(use_attribute_docstrings=True)
            a: int = 1
            """built here"""
        @flow
        def f(x: Built): ...
    ''')

    class Real(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=True)
        b: int = 2
        """read from this file"""

    class RealDict(TypedDict):
        __pydantic_config__ = ConfigDict(use_attribute_docstrings=True)  # type: ignore[misc]
        c: int
        """and this one"""

    from pydantic import TypeAdapter

    assert Real.model_fields["b"].description == "read from this file"
    assert TypeAdapter(RealDict).json_schema()["properties"]["c"]["description"] == "and this one"


TEXT_ANNOTATIONS = {
    # `from __future__ import annotations` and a name bound only for type checkers: Prefect's
    # inspect.signature(eval_str=True) raises, so every annotation stays text, resolved where its schema
    # builder lives: builtins resolve (n, z), Any and Decimal do not (x, y, args untyped)
    "future, TYPE_CHECKING": """\
        from __future__ import annotations
        from typing import TYPE_CHECKING, Any
        from prefect import flow
        if TYPE_CHECKING:
            from decimal import Decimal

        @flow
        def f(x: dict[str, Any], n: int = 1, y: Decimal = None, *args: Any, z: list[int] | None = None,
              **kw: Any) -> None:
            pass
        """,
    # the same names all bound when the module runs: eval_str succeeds, every annotation typed as usual
    "future, all bound": """\
        from __future__ import annotations
        from typing import Any, Optional
        from prefect import flow

        @flow
        def f(x: dict[str, Any], n: int = 1, o: Optional[str] = None, *args: Any):
            pass
        """,
    # only the return annotation names what is not bound: eval_str raises all the same
    "future, the return annotation": """\
        from __future__ import annotations
        from typing import TYPE_CHECKING, Optional
        from prefect import flow
        if TYPE_CHECKING:
            from pathlib import Path

        @flow
        def f(o: Optional[str] = None, m: typing.Mapping[str, int] = None, t: "list[int]" = None) -> Path:
            pass
        """,
    # no __future__: only what is written quoted is text, and a quoted name nothing binds makes eval_str raise
    "quoted, unbound": """\
        from typing import Any
        from prefect import flow

        @flow
        def f(a: "Later", b: dict[str, Any] = None, c: "int" = 1, d: "list[str]" = None):
            pass
        """,
}


@pytest.mark.parametrize("case", sorted(TEXT_ANNOTATIONS))
def test_annotations_prefect_reads_as_text_are_prefects_schema(tmp_path, case):
    """Where Prefect cannot evaluate a flow's annotations (a name only type checkers see), it resolves their text
    in its own schema builder's namespace: the schema is that, exactly, and nothing is said (it is exact)."""
    mine, theirs, notes = against_prefect(tmp_path, {"flows/f.py": TEXT_ANNOTATIONS[case]})
    assert mine == theirs, (mine, theirs)
    assert notes == ()
