"""Shared pieces of the contract."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Self, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

ClientId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
Kopecks = Annotated[int, Field(ge=0, le=100_000_000_00, description="money in kopecks")]
Points = Annotated[int, Field(ge=0, le=1_000_000_000)]
Phone = Annotated[
    str,
    Field(
        min_length=5,
        max_length=32,
        pattern=r"^\+?[0-9][0-9()\- ]{3,30}[0-9]$",
        examples=["+79161234567"],
        description="a phone number in any usual form: +7 916 123-45-67, 8 (916) 123-45-67, 89161234567",
    ),
]


# The contract's models build their validators on first use (``defer_build``), not when their
# module is imported: a function imports the models of all its routes, and a request uses a few.
# The till's routes build theirs at cold start (``build_now``, from ApiBlueprint.route).


def build_now(*models: type[BaseModel] | None) -> None:
    """Build these models' validators and serializers now, and first those of the models their
    fields hold (which the outer ones then reuse)."""
    seen: set[type[BaseModel]] = set()
    for model in models:
        for nested in _models_within(model, seen):
            nested.model_rebuild()  # nothing to do for one built already


def _models_within(annotation: Any, seen: set[type[BaseModel]]) -> list[type[BaseModel]]:
    """The models an annotation names, innermost first, each once."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return []
        seen.add(annotation)
        inner = [m for field in annotation.model_fields.values() for m in _models_within(field.annotation, seen)]
        return [*inner, annotation]
    return [model for argument in get_args(annotation) for model in _models_within(argument, seen)]


class Request(BaseModel):
    """Request bodies reject unknown fields (a typo is an error, not a silent default) and take
    JSON types as they are: ``true`` is not 1, ``"0"`` is not a number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, defer_build=True)


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


# A day in a query string: only YYYY-MM-DD (a bare number is not a date).
QueryDate = Annotated[date, BeforeValidator(_iso_day), Field(examples=["2026-11-30"])]


def _iso_instant(value: object) -> object:
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?", value):
        raise ValueError("must be a time as ISO-8601, e.g. 2026-11-30T12:00:00Z")
    return value


# A time in a query string: ISO-8601 only (a bare number is not a time).
QueryInstant = Annotated[datetime, BeforeValidator(_iso_instant), Field(examples=["2026-11-30T12:00:00Z"])]


class Query(BaseModel):
    """Query parameters arrive as strings: they are converted (``?limit=5``), but unknown ones are
    still refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorBody(Reply):
    code: str = Field(examples=["validation_error"])
    message: str
    details: Any | None = None


class ErrorResponse(Reply):
    error: ErrorBody


MEMBER_REFERENCES = ("member_id", "card_number", "phone")


def given_schema(*path: str, kind: str = "string") -> dict[str, Any]:
    """The JSON schema of "the value at ``path`` is given" (present, not null, not empty), for the
    cross-field rules the validators enforce and the API document states."""
    leaf: dict[str, Any] = {"type": kind, **({"minLength": 1} if kind == "string" else {"minimum": 1})}
    for name in reversed(path):
        leaf = {"required": [name], "properties": {name: leaf}}
    return leaf


def exactly_one_member_reference() -> dict[str, Any]:
    return {"oneOf": [given_schema(field) for field in MEMBER_REFERENCES]}


def at_most_one_member_reference() -> dict[str, Any]:
    pairs = [(a, b) for i, a in enumerate(MEMBER_REFERENCES) for b in MEMBER_REFERENCES[i + 1 :]]
    return {"not": {"anyOf": [{"allOf": [given_schema(a), given_schema(b)]} for a, b in pairs]}}


class MemberRefFields(Request):
    """Exactly one of these names the member: the app's id, a scanned card, or a phone typed at the till."""

    # the rule below, in the API document too (a client's validator then knows it)
    model_config = ConfigDict(json_schema_extra=exactly_one_member_reference())

    member_id: str | None = Field(default=None, max_length=40)
    card_number: str | None = Field(default=None, pattern=r"^[0-9]{8,19}$")
    phone: Phone | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [value for value in (self.member_id, self.card_number, self.phone) if value]
        if len(given) != 1:
            raise ValueError("identify the member by exactly one of member_id, card_number, phone")
        return self


class Page(Reply):
    next_cursor: str | None = Field(default=None, description="pass as ?cursor= for the next page")
