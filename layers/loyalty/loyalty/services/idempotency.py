"""The one idempotency rule of every create: a client's id names its operation, and the record of
it (written in the same transaction as what it does) makes it happen once. The same id again gets
the first answer if the request is the same, and a 409 ``idempotency_conflict`` if it is not.
Records are permanent: no window after which a retry would apply twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from loyalty.data import operations
from loyalty.data.operations import OPEN, Operation, OperationKey
from loyalty.errors import Busy, Conflict

ResultT = TypeVar("ResultT", bound=BaseModel)


def request_hash(request: BaseModel) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ClientRequest:
    """A request that names its operation with the client's own id(s)."""

    key: OperationKey
    digest: str

    @classmethod
    def of(cls, request: BaseModel, merchant_id: str, kind: str, *ids: str) -> ClientRequest:
        return cls(OperationKey.of(merchant_id, kind, *ids), request_hash(request))

    def record(
        self,
        response: BaseModel,
        now: datetime,
        *,
        member_id: str | None = None,
        state: Mapping[str, Any] | None = None,
        open_until: datetime | None = None,
    ) -> Operation:
        """The operation's record; with ``open_until`` it stays open (``operations.close_open``)
        until then."""
        return Operation(
            key=self.key,
            request_hash=self.digest,
            created_at=now,
            response=response.model_dump(mode="json"),
            state=dict(state or {}),
            member_id=member_id,
            status=OPEN if open_until is not None else "done",
            open_until=open_until,
        )

    def previous(self) -> Operation | None:
        return operations.get(self.key)


def ensure_same_request(client: ClientRequest, stored_hash: str) -> None:
    """An id used again must come with the same request: ``idempotency_conflict`` otherwise."""
    if stored_hash != client.digest:
        raise Conflict("this id was already used with a different request", code="idempotency_conflict")


def replay(
    client: ClientRequest, result_type: type[ResultT], existing: Operation | None = None
) -> tuple[ResultT, bool]:
    """The first answer to this id, if this is the same request; else ``idempotency_conflict``."""
    existing = existing or client.previous()
    if existing is None:  # refused as a replay, yet no record: only a race with a failure explains it
        raise Busy("the request is being applied; retry")
    ensure_same_request(client, existing.request_hash)
    return result_type.model_validate(existing.response), True
