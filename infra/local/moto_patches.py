"""Making moto's DynamoDB behave like DynamoDB under concurrent requests.

moto 5.2's TransactWriteItems checks and applies items one by one, and backs up by deep-copying
every table it touches, then restores those copies on failure. With requests in parallel (tills at
once, queue pollers, the API) that is wrong in two ways: another request can see half a
transaction, and a rollback can put back a table copy that erases another request's committed
write (we saw "dictionary changed size during iteration" from the deep copy). It is also slow:
each transaction copies whole tables.

DynamoDB's own semantics are simpler: a transaction's conditions are checked against the state
before it, and either all its writes happen or none does. So here every DynamoDB (and DynamoDB
Streams) request of the embedded moto runs under one lock, and TransactWriteItems checks every
condition first and only then writes. Only the local stack, the tests and the bench use this.

A Query reads the items of its partition only, of the table or of an index (moto sorted the
whole table for every Query, so that every member read slowed down with each member imported).

DynamoDB also refuses a key over its size limits (2048 bytes hash, 1024 range) when it is read or
deleted, not only when it is written as moto checks: an over-long id in a URL would be a 404 here
and a 500 in AWS, so reads and deletes check it too.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any

_LOCK = threading.RLock()
_applied = False


def apply() -> None:
    global _applied  # noqa: PLW0603 - patch once per process
    if _applied:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        handler.call_action = _serialised(handler.call_action)  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    _size_items_once()
    _parse_conditions_once()
    _dispatch_by_host_once()
    _query_one_partition()
    for method in ("get_item", "delete_item", "query"):
        setattr(Table, method, _key_size_checked(getattr(Table, method)))
    from infra.local import cognito_mail

    cognito_mail.install()  # and Cognito's e-mails, for the dev inbox (see that module)
    _applied = True


def _size_items_once() -> None:
    """moto checks DynamoDB's 400 KB item limit by adding up the whole item again at every
    attribute set: quadratic in the attributes, and most of the time of writing a member (45
    attributes). Keep a running total instead; the same limit, the same error."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    LimitedSizeDict.__setitem__ = _set_item  # type: ignore[method-assign]
    for name in ("__delitem__", "pop", "popitem", "clear", "update", "setdefault"):
        setattr(LimitedSizeDict, name, _forgetting_size(getattr(dict, name)))


def _size_of(key: str, value: Any) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    return int(bytesize(key) + (value.size() if type(value) is DynamoType else bytesize(str(value))))


def _set_item(self: Any, key: str, value: Any) -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    current = self.__dict__.get("_size")
    if current is None:
        current = sum(_size_of(k, v) for k, v in self.items())
    if key in self:
        current -= _size_of(key, self[key])
    after = current + _size_of(key, value)
    if after > 405000:  # moto's own figure for DynamoDB's 400 KB
        raise ItemSizeTooLarge
    self.__dict__["_size"] = after
    dict.__setitem__(self, key, value)


def _forgetting_size(method: Any) -> Any:
    def changed(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.__dict__.pop("_size", None)  # summed again at the next set
        return method(self, *args, **kwargs)

    return changed


def _parse_conditions_once() -> None:
    """moto parses a condition expression again for every item; a transaction of imported members
    carries a hundred copies of ``attribute_not_exists(#pk)``. Parsed trees only read the item
    they are evaluated against, so the same expression with the same names and values is parsed
    once."""
    import json
    from functools import lru_cache

    from moto.dynamodb import comparisons

    parse = comparisons.get_filter_expression

    @lru_cache(maxsize=4096)
    def parsed(expression: str, names: str, values: str) -> Any:
        return parse(expression, json.loads(names), json.loads(values))

    def get_filter_expression(expression: Any, names: Any = None, values: Any = None) -> Any:
        if not isinstance(expression, str):
            return parse(expression, names, values)
        return parsed(expression, json.dumps(names, sort_keys=True), json.dumps(values, sort_keys=True))

    from moto.dynamodb.models import table

    comparisons.get_filter_expression = get_filter_expression  # type: ignore[assignment]
    table.get_filter_expression = get_filter_expression  # type: ignore[attr-defined,assignment]


def _query_one_partition() -> None:
    """moto answers every Query by sorting the whole table (``Table.all_items``, comparing
    DynamoType objects), then keeping the items asked for: a purchase's member read took 7 ms
    beside one member and 190 ms once 2,000 more had been imported, and after a 100,000-row import
    the local stack left requests unanswered for 30 s. A table's Query reads one partition: it is
    handed that partition only. An index's Query is handed the items whose index key is the one
    asked for, picked by plain string comparison (moto keeps no index; it then sorts them by the
    index's keys and the table's, an order that does not depend on the order they came in)."""
    import functools

    from moto.dynamodb.models.table import Table

    query = Table.query
    index_name_position = 6  # after hash_key: range_comparison ... projection_expressions, index_name

    @functools.wraps(query)
    def from_candidates(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[index_name_position] if len(args) > index_name_position else kwargs.get("index_name")
        if index_name:
            candidates = _index_partition(table, kwargs.get("hash_key_conditions") or [])
        else:
            candidates = _table_partition(table, hash_key)
        if candidates is None:
            return query(table, hash_key, *args, **kwargs)
        table.all_items = lambda: candidates  # for this request only: every one holds _LOCK
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    Table.query = from_candidates  # type: ignore[method-assign,assignment]
    Table.all_items = _all_items_by_plain_keys  # type: ignore[method-assign,assignment]


def _table_partition(table: Any, hash_key: Any) -> list[Any] | None:
    if hash_key is None:
        return None
    found = table.items.get(hash_key)
    if found is None:
        return []
    return list(found.values()) if table.range_key_attr else [found]


def _index_partition(table: Any, conditions: list[tuple[str, Any]]) -> list[Any] | None:
    """The items whose index hash key attributes hold the strings asked for (None: not only strings)."""
    if not conditions or any(value.type != "S" for _name, value in conditions):
        return None
    wanted = [(name, value.value) for name, value in conditions]
    return [
        item
        for item in _stored_items(table)
        if all(_string_of(item.attrs.get(name)) == value for name, value in wanted)
    ]


def _string_of(value: Any) -> Any:
    return value.value if value is not None and value.type == "S" else None


def _stored_items(table: Any) -> Iterable[Any]:
    """Every item of a table: moto keeps them by hash key, then by range key if the table has one."""
    if table.range_key_attr:
        return (item for partition in table.items.values() for item in partition.values())
    return table.items.values()  # type: ignore[no-any-return]


def _all_items_by_plain_keys(table: Any) -> list[Any]:
    """moto's order (by hash key, then range key), sorting on each key's value computed once."""
    if table.range_key_attr:
        return sorted(_stored_items(table), key=lambda item: (item.hash_key.cast_value, item.range_key.cast_value))
    return sorted(_stored_items(table), key=lambda item: item.hash_key.cast_value)


def _dispatch_by_host_once() -> None:
    """moto's server finds the service of every request by listing its own package's folders
    (isdir per module) and matching URL patterns: a tenth of the local stack's CPU went there under
    load. The answer depends only on the host, so remember it."""
    import functools

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    find = DomainDispatcherApplication.get_backend_for_host

    @functools.lru_cache(maxsize=512)
    def by_host(dispatcher: Any, host: str | None) -> Any:
        return find(dispatcher, host)

    DomainDispatcherApplication.get_backend_for_host = by_host  # type: ignore[method-assign]


def _serialised(call_action: Any) -> Any:
    def locked(self: Any) -> Any:
        with _LOCK:
            return call_action(self)

    return locked


def _key_size_checked(method: Any) -> Any:
    from moto.dynamodb.exceptions import HashKeyTooLong, RangeKeyTooLong
    from moto.dynamodb.limits import HASH_KEY_MAX_LENGTH, RANGE_KEY_MAX_LENGTH

    def checked(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        range_key = args[0] if method.__name__ != "query" and args else kwargs.get("range_key")
        if hash_key is not None and hash_key.size() > HASH_KEY_MAX_LENGTH:
            raise HashKeyTooLong
        if range_key is not None and range_key.size() > RANGE_KEY_MAX_LENGTH:
            raise RangeKeyTooLong
        return method(table, hash_key, *args, **kwargs)

    return checked


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with _LOCK:
        planned = _plan(self, transact_items)
        reasons = [reason for _, _, _, reason in planned]
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        # Every condition held against the state before the transaction: now write it all.
        writes = [(op_type, op, key) for op_type, op, key, _ in planned]
        before = {
            (op["TableName"], str(key)): copy.deepcopy(self.get_item(op["TableName"], key)) for _, op, key in writes
        }
        try:
            for op_type, op, key in writes:
                _write(self, op_type, op, key)
        except Exception:
            for (table_name, _), (_, _op, key) in zip(before, writes, strict=True):
                _restore(self, table_name, key, before[(table_name, str(key))])
            raise


Reason = tuple[str | None, str | None, Any]


def _plan(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any], Reason]]:
    """Each write with its key and the reason it would fail (None, None, None when it would not),
    every condition checked against the state before the transaction."""
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactWriteSingleOpException

    planned = []
    seen: set[tuple[str, str]] = set()
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        key = _key_of(backend, op_type, op)
        identity = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        planned.append((op_type, op, key, _condition_failure(backend, op, key)))
    return planned


def _condition_failure(backend: Any, op: dict[str, Any], key: dict[str, Any]) -> Reason:
    from moto.dynamodb.comparisons import get_filter_expression

    condition = op.get("ConditionExpression")
    if condition is None:
        return (None, None, None)
    current = backend.get_item(op["TableName"], key)
    check = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
    if check.expr(current):
        return (None, None, None)
    wants_old = current and op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    return (
        "ConditionalCheckFailed",
        "The conditional request failed",
        current.to_json()["Attributes"] if wants_old else None,
    )


def _write(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"])
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key)
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def _restore(backend: Any, table_name: str, key: dict[str, Any], item: Any) -> None:
    if item is None:
        backend.delete_item(table_name, key)
    else:
        backend.put_item(table_name, item.to_json()["Attributes"])
