"""The parameter schema is Prefect's own, built without importing the flow's file."""
import textwrap
from pathlib import Path

from prefect_push.flows import read_flows
from prefect_push.schema import parameter_schema

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
    theirs = parameter_schema_from_entrypoint(f"{path}:etl").model_dump_for_openapi()
    assert parameter_schema(spec) == theirs
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
