"""A flow's parameter schema from its signature, made with pydantic directly as Prefect makes it.

Prefect's `generate_parameter_schema` (prefect/utilities/callables) is a small function over pydantic, but
importing it imports all of prefect (~0.9 s, most of a one-flow push). This is the same procedure, written
here: each parameter becomes a pydantic field (title = its name, description from a `Field` default or the
docstring's Args section, `position` in json_schema_extra; `*args` a list, `**kwargs` a dict; a name pydantic's
BaseModel has gets a `__` suffix and an alias), a type pydantic cannot make a JSON schema of is taken as Any,
the model's schema is made with refs under `#/definitions/` and a user class's isinstance check as `{}`, and
the answer is what Prefect's `ParameterSchema(**schema).model_dump(mode="json", exclude_unset=True)` gives.

A signature with a pydantic.v1 type goes to Prefect's own function (its v1 path): rare, and it says nothing a
push could do faster. tests/test_paramschema.py holds the two equal over the real-code and real-class corpora.
"""
from __future__ import annotations

import inspect
import sys
import typing
from typing import Any

# ParameterSchema's fields: anything else pydantic puts in the schema ($defs) is dropped by that model
_KEPT = ("title", "type", "properties", "required", "definitions")


def docstrings(docstring: str | None) -> dict[str, str]:
    """The Args section of a Google-style docstring, name -> description, as Prefect reads it (griffe)."""
    if not docstring:
        return {}
    import logging

    from griffe import Docstring, DocstringSectionKind, Parser, parse

    logger = logging.getLogger("griffe")
    was = logger.disabled
    logger.disabled = True  # griffe warns about what it cannot parse; Prefect silences it the same way
    try:
        found: dict[str, str] = {}
        for section in parse(Docstring(docstring), Parser.google):
            if section.kind == DocstringSectionKind.parameters:
                found = {p.name: p.description for p in section.value}
        return found
    finally:
        logger.disabled = was


def generate(signature: inspect.Signature, docs: dict[str, str]) -> dict[str, Any]:
    """The parameter schema Prefect stores for this signature, as JSON data."""
    if _has_v1_type(signature):
        from prefect.utilities.callables import generate_parameter_schema

        return generate_parameter_schema(signature, docs).model_dump(mode="json", exclude_unset=True)
    from pydantic.errors import PydanticInvalidForJsonSchema

    fields: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    for position, param in enumerate(signature.parameters.values()):
        name, type_, field = _field(param, position, docs, aliases)
        if name in ("cls", "self"):
            continue  # passed implicitly, never a flow parameter
        try:
            _schema("CheckParameter", {name: (type_, field)})  # a type without a JSON schema is taken as Any
        except (ValueError, TypeError, PydanticInvalidForJsonSchema):
            type_ = Any
        fields[name] = (type_, field)
    return _dump(_schema("Parameters", fields))


def _field(param: inspect.Parameter, position: int, docs: dict[str, str], aliases: dict[str, str]
           ) -> tuple[str, Any, Any]:
    import pydantic
    from pydantic.fields import FieldInfo

    name = param.name
    if hasattr(pydantic.BaseModel, name):  # a field of that name would shadow the model's own attribute
        name += "__"
        aliases[name] = param.name
    type_ = Any if param.annotation is inspect.Parameter.empty else param.annotation
    given = param.default if isinstance(param.default, FieldInfo) else None
    default = given.default if given else param.default
    description = given.description if given and given.description else docs.get(param.name)
    extra: dict[str, Any] = dict(given.json_schema_extra) if given and isinstance(given.json_schema_extra,
                                                                                    dict) else {}
    extra.setdefault("position", position)
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        type_, default = list[type_], []
    elif param.kind is inspect.Parameter.VAR_KEYWORD:
        type_, default = dict[str, type_], {}
    field = pydantic.Field(default=... if default is param.empty else default, title=param.name,
                           description=description, alias=aliases.get(name), json_schema_extra=extra)
    return name, type_, field


def _schema(model_name: str, fields: dict[str, Any]) -> dict[str, Any]:
    from pydantic import ConfigDict, PydanticUndefinedAnnotation, create_model
    from pydantic.errors import PydanticUserError
    from pydantic.type_adapter import TypeAdapter

    model = create_model(model_name, __config__=ConfigDict(arbitrary_types_allowed=True), **fields)
    try:
        adapter = TypeAdapter(model)
    except PydanticUndefinedAnnotation as exc:
        raise TypeError(exc.message) from None
    try:
        schema = adapter.json_schema(by_alias=True, ref_template="#/definitions/{model}",
                                     schema_generator=_generator())
    except PydanticUserError as exc:
        if exc.code == "class-not-fully-defined":  # pydantic >= 2.13 defers an unresolved forward reference
            raise TypeError(str(exc)) from None
        raise
    if "$defs" in schema:
        schema["definitions"] = schema["$defs"]
    return schema


_GENERATOR: Any = None


def _generator() -> Any:
    """pydantic's JSON-schema generator, with an isinstance check (a user class) as the empty schema."""
    global _GENERATOR
    if _GENERATOR is None:
        from pydantic.json_schema import GenerateJsonSchema

        class EmptyForUserClasses(GenerateJsonSchema):
            def is_instance_schema(self, schema: Any) -> Any:
                return {}

        _GENERATOR = EmptyForUserClasses
    return _GENERATOR


def _dump(schema: dict[str, Any]) -> dict[str, Any]:
    """ParameterSchema(**schema).model_dump(mode="json", exclude_unset=True): its five fields, JSON data."""
    from pydantic_core import to_jsonable_python

    # pydantic's json mode writes an inf or nan default as null (ser_json_inf_nan), as Prefect stores it
    return {key: to_jsonable_python(schema[key], inf_nan_mode="null") for key in _KEPT if key in schema}


def _has_v1_type(signature: inspect.Signature) -> bool:
    """A pydantic.v1 model or type among the annotations (or their arguments); none can exist unless
    pydantic.v1 was imported."""
    if "pydantic.v1" not in sys.modules or sys.version_info >= (3, 14):
        return False
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic.v1 import BaseModel as V1BaseModel

    def v1(v: Any) -> bool:
        if isinstance(v, V1BaseModel):
            return True
        try:
            if inspect.isclass(v) and issubclass(v, V1BaseModel):
                return True
        except TypeError:
            pass
        return str(getattr(v, "__module__", "") or "").startswith("pydantic.v1.types")

    return any(v1(p.annotation) or any(v1(a) for a in typing.get_args(p.annotation))
               for p in signature.parameters.values())
