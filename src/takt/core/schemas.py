"""Base of every request body (unknown fields and NUL characters refused), and field markers."""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


def _has_nul(value: Any) -> bool:
    """Whether any text in `value` (a request body's JSON) holds a NUL character. Walked
    without recursion: a body nested a few hundred levels deep (well under the size limit) ran
    a recursive walk out of stack, a 500 on every route."""
    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return True
        elif isinstance(current, dict):
            pending.extend(current.keys())
            pending.extend(current.values())
        elif isinstance(current, list | tuple):
            pending.extend(current)
    return False


_TEMPORAL = {"date", "datetime", "time"}


def _text_only(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("must be an ISO 8601 string, not a number")
    return value


def _number_only(value: Any) -> Any:
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


def _before(validate: Any, node: dict[str, Any]) -> None:
    inner = dict(node)
    node.clear()
    node.update(core_schema.no_info_before_validator_function(validate, inner))


def _as_schema_says(node: Any) -> None:
    """Make pydantic's lax coercions of a request body as strict as its JSON schema: a boolean
    is `true` or `false` (not 0, 1 or "yes"), a number is a number (not `false` or "5"), a date
    or time is a string (not a number of seconds since 1970)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "metadata":
                _as_schema_says(value)
        kind = node.get("type")
        if kind == "bool":
            node["strict"] = True
        elif kind in ("int", "float"):
            _before(_number_only, node)
        elif isinstance(kind, str) and kind in _TEMPORAL:
            _before(_text_only, node)
    elif isinstance(node, list):
        for value in node:
            _as_schema_says(value)


class Input(BaseModel):
    """Base for request bodies: unknown (and so privileged) fields are rejected with 422, and so
    is text with NUL characters, which no database column can store. Booleans and dates take
    only what the schema says (see `_as_schema_says`)."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        schema = handler(source)
        _as_schema_says(schema)  # the whole body: nested models and lists included
        return schema

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class _NotNull:
    """`Annotated[X | None, NOT_NULL] = None`: the field may be left out (and so stays None), but
    an explicit null is refused with 422, and the JSON schema doesn't offer null. For PATCH
    fields that can change but not be cleared, and response fields that are left out rather
    than sent as null."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_refuse_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return without_null(handler(schema))


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null; leave the field out instead")
    return value


def without_null(schema: JsonSchemaValue) -> JsonSchemaValue:
    """`schema` with null no longer among the values it allows."""
    options = schema.get("anyOf")
    if not isinstance(options, list):
        return schema
    kept = [o for o in options if o != {"type": "null"}]
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}


NOT_NULL = _NotNull()

# For stripped text that must not end up empty: some character that is not white space, and no
# NUL (refused in every request body). Every pattern that refuses white space with `\s` also
# names U+0085 and U+FEFF: the schema's readers (JSON Schema: ECMAScript's `\s`, which has U+FEFF
# and not U+0085) and the validator (Rust's `\s`, Unicode's White_Space: U+0085 and not U+FEFF)
# then agree on every character, as the contract test's generated strings showed they didn't.
NOT_BLANK = r"^[^\x00]*[^\s\x85\ufeff\x00][^\x00]*$"
