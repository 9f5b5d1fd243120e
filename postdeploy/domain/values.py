"""Values every inbound payload shares: text the store can keep, and times in UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema


def _no_nul(value: str) -> str:
    # PostgreSQL cannot keep a NUL in text: refuse it, naming the field, rather than fail later
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def to_utc(value: datetime) -> datetime:
    """Aware and in UTC (naive means UTC); a ValueError when UTC has no such time."""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is in the year 10000
        raise ValueError("out of range in UTC") from None


def _rfc3339(value: object) -> object:
    # pydantic would also take a number as a Unix time; the schema promises a date-time string
    if not isinstance(value, str | datetime):
        raise ValueError("expected an RFC 3339 date-time string")
    return value


NO_NUL = "^[^\\u0000]*$"  # the same rule, stated in the JSON schema
Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": NO_NUL})]
# string to string, e.g. Alertmanager's labels; the schema says so of the keys too
Labels = Annotated[
    dict[Text, Text],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": {"pattern": NO_NUL},
            "additionalProperties": {"type": "string", "pattern": NO_NUL},
        }
    ),
]
UtcDatetime = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(to_utc)]
