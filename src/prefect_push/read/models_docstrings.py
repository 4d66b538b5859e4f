"""use_attribute_docstrings: pydantic reads a field's docstring from the class's source file, which a class built
here has none of; its own reader's findings in the class statement as read are handed to it instead.

Apart because it is the one place the wing changes a library: pydantic's function that reads a class's source is
wrapped once (for the classes built here only; any other class is read as before), and use_attribute_docstrings
falls back when that function is not where it was (another pydantic).
"""
from __future__ import annotations

import ast
import weakref
from functools import lru_cache
from typing import Any


# use_attribute_docstrings: pydantic reads a field's docstring (a string right below it) from the class's source,
# which a class built here has none of. What its own reader (DocstringVisitor) finds in the class's source as
# read is handed to it instead, through its one function that reads the source (extract_docstrings_from_cls,
# wrapped once, as the two modules that call it see it): for the classes built here only, any other class is
# read as before. pydantic then applies them itself (a field's own description first).
_ATTRIBUTE_DOCS: weakref.WeakKeyDictionary[type, dict[str, str]] = weakref.WeakKeyDictionary()
_BUILDING: dict[str, dict[str, str]] = {}  # a class's name -> its docstrings, while it is made


def _attribute_docstrings(stmt: ast.ClassDef) -> dict[str, str]:
    try:
        from pydantic._internal._docs_extraction import DocstringVisitor
    except ImportError:
        return {}
    visitor = DocstringVisitor()
    visitor.generic_visit(stmt)  # as pydantic visits the class statement it parsed from the file
    return dict(visitor.attrs)


@lru_cache(maxsize=1)
def _reproduce_attribute_docstrings() -> bool:
    """Wrap pydantic's source reader once; False (use_attribute_docstrings then falls back) if it is not there."""
    try:
        from pydantic._internal import _docs_extraction, _fields, _generate_schema
    except ImportError:
        return False
    original = getattr(_docs_extraction, "extract_docstrings_from_cls", None)
    users = [m for m in (_fields, _generate_schema) if getattr(m, "extract_docstrings_from_cls", None) is original]
    if original is None or len(users) != 2:
        return False

    def extract_docstrings_from_cls(cls: type[Any], use_inspect: bool = False) -> dict[str, str]:
        try:
            docs = _ATTRIBUTE_DOCS.get(cls)
        except TypeError:
            docs = None
        if docs is None and getattr(cls, "__module__", None) == "__prefect_push__":
            docs = _BUILDING.get(getattr(cls, "__qualname__", ""), {})
        if docs is not None:
            return dict(docs)
        return original(cls, use_inspect=use_inspect)

    extract_docstrings_from_cls.__wrapped__ = original  # type: ignore[attr-defined]
    for module in users:
        module.extract_docstrings_from_cls = extract_docstrings_from_cls  # type: ignore[attr-defined]
    return True
