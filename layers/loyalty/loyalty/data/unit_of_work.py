"""One DynamoDB round-trip per change of a member's points.

A ``MemberWrite`` puts the member item back (conditioned on the version it was read at), the new
ledger entries, and the operation record that makes the change happen once, in a single
TransactWriteItems. Either all of it is written or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from loyalty.data.connection import connection
from loyalty.data.models import LedgerEntryItem, MemberItem, OperationItem


class StaleMember(Exception):
    """The member changed since it was read; read again and retry."""


class OperationExists(Exception):
    """The operation's id was used before: the caller replays or reports a conflict."""


@dataclass
class MemberWrite:
    member: MemberItem
    read_version: int
    entries: list[LedgerEntryItem] = field(default_factory=list)
    new_operation: OperationItem | None = None
    updated_operation: tuple[OperationItem, int] | None = None  # (item, version it was read at)
    creates: list[Model] = field(default_factory=list)  # must not exist yet (a collision retries)
    puts: list[Model] = field(default_factory=list)
    deletes: list[Model] = field(default_factory=list)


def commit(write: MemberWrite) -> None:
    write.member.version = write.read_version + 1
    try:
        with TransactWrite(connection=connection()) as tx:
            # Order matters: reasons come back in this order.
            if write.new_operation is not None:
                tx.save(write.new_operation, condition=OperationItem.pk.does_not_exist())
            if write.updated_operation is not None:
                operation, version = write.updated_operation
                operation.version = version + 1
                tx.save(operation, condition=OperationItem.version == version)
            tx.save(write.member, condition=MemberItem.version == write.read_version)
            for entry in write.entries:
                tx.save(entry, condition=LedgerEntryItem.pk.does_not_exist())
            for item in write.creates:
                tx.save(item, condition=type(item)._hash_key_attribute().does_not_exist())  # type: ignore[no-untyped-call]
            for item in write.puts:
                tx.save(item)
            for item in write.deletes:
                tx.delete(item)
    except TransactWriteError as exc:
        write.member.version = write.read_version
        reasons = [getattr(reason, "code", None) for reason in (exc.cancellation_reasons or [])]
        if write.new_operation is not None and reasons and reasons[0] == "ConditionalCheckFailed":
            raise OperationExists from exc
        if "ConditionalCheckFailed" in reasons or exc.cause_response_code in (
            "TransactionConflictException",
            "TransactionCanceledException",
        ):
            raise StaleMember from exc
        raise
