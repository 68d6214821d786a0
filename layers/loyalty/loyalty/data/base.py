"""What every table module shares: the item base class, one DynamoDB client for every model, and
binding table names from the function's configuration at cold start.

Each table module (``merchants``, ``members``, ``ledger``, ``operations``, ``notifications``,
``gift_cards``, ``credentials``, ``audit``) declares one base class with one ``Meta`` for its
table; its item classes inherit both, so binding the table name once binds them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, ClassVar

import botocore.session
from pynamodb.attributes import MapAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.connection.base import MetaTable
from pynamodb.connection.table import TableConnection
from pynamodb.models import Model

from loyalty.config import TableNames
from loyalty.platform import aws


class _SharedSessionConnection(Connection):
    """PynamoDB's connection on the container's one botocore session (``platform.aws``), not a
    session of its own, so that its client and every other client share botocore's loaded data."""

    @property
    def session(self) -> botocore.session.Session:
        return aws.session()


@cache
def connection() -> Connection:
    """One botocore DynamoDB client per container, shared by every model and every transaction:
    a client in a session of its own costs 50-100 ms of loading service data, so one per model
    class (PynamoDB's default) multiplies the first request's cost."""
    return _SharedSessionConnection()


class Item(Model):
    """An item of one of our tables: every table has a string ``pk`` and ``sk``."""

    table_env: ClassVar[str] = ""

    class Meta:
        table_name = "unbound"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table = super()._get_connection()
        shared = connection()
        if table.connection is not shared:
            _share_schema(shared, table.connection.get_meta_table(cls.Meta.table_name))
            table.connection = shared
        return table


def _share_schema(shared: Connection, meta: MetaTable) -> None:
    """Several item classes share a table, and only some declare its indexes: the shared
    connection keeps the union of what they declare, whichever class is used first."""
    known = shared._tables.get(meta.table_name)
    if known is None:
        shared.add_meta_table(meta)
        return
    indexes = {index["IndexName"]: index for index in known.data.get("GlobalSecondaryIndexes") or []}
    indexes.update({index["IndexName"]: index for index in meta.data.get("GlobalSecondaryIndexes") or []})
    # the indexes' key attributes too: a query names its index's hash key by its declared type
    attributes = {item["AttributeName"]: item for item in known.data.get("AttributeDefinitions") or []}
    attributes.update({item["AttributeName"]: item for item in meta.data.get("AttributeDefinitions") or []})
    shared._tables[meta.table_name] = MetaTable(
        {
            **known.data,
            "GlobalSecondaryIndexes": list(indexes.values()),
            "AttributeDefinitions": list(attributes.values()),
        }
    )


_TABLE_BASES: list[type[Item]] = []
_tables: TableNames | None = None


def table_base(cls: type[Item]) -> type[Item]:
    """Register a table module's base class, so that ``bind_tables`` names its table (at once if
    the names are known already: a function imports only the table modules it uses, some of them
    after its cold start's ``bind_tables``)."""
    _TABLE_BASES.append(cls)
    if _tables is not None:
        _bind(cls, _tables)
    return cls


def bind_tables(tables: TableNames) -> None:
    """Name every table from the configuration; called once at cold start."""
    global _tables  # noqa: PLW0603 - the container's one configuration
    _tables = tables
    for base in _TABLE_BASES:
        _bind(base, tables)


def connect() -> None:
    """Make the shared client now (in Lambda at cold start, with the handler's import, so that
    the first request, a customer waiting at a till, does not pay for it)."""
    connection().client  # noqa: B018 - the property creates it


def _bind(base: type[Item], tables: TableNames) -> None:
    base.Meta.table_name = getattr(tables, base.table_env)
    for model in _subclasses(base):
        model._connection = None  # PynamoDB caches the connection with the old name


def _subclasses(cls: type[Item]) -> Iterator[type[Item]]:
    yield cls
    for sub in cls.__subclasses__():
        yield from _subclasses(sub)


def plain_map(value: Any) -> dict[str, Any]:
    """A raw MapAttribute read back from DynamoDB as a plain dict of Python values."""
    if isinstance(value, MapAttribute):
        return dict(value.as_dict())  # type: ignore[no-untyped-call]
    return dict(value or {})


def plain_ints(value: Any) -> dict[str, int]:
    return {name: int(number) for name, number in plain_map(value).items()}


def stream_records(event: Mapping[str, Any], table: type[Item]) -> list[Mapping[str, Any]]:
    """The records of a stream batch that come from ``table``'s stream. A function may read more
    than one table's stream; a record without a source (as tests build them) is taken as this
    table's."""
    records: list[Mapping[str, Any]] = []
    for record in event.get("Records", []):
        source = str(record.get("eventSourceARN") or "")
        if not source or source.split("/")[1:2] == [table.Meta.table_name]:
            records.append(record)
    return records
