"""The bench's floor for goal 5 (``bench.fair_floor``) is the accrual's own requests: if the
accrual's requests change shape (another read, another kind of write) the floor must say so rather
than time something else."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import new_phone
from tests.support.api import GatewayClient


def test_the_floor_replays_exactly_what_an_accrual_sends(
    merchant: dict[str, Any], members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    from loyalty import runtime
    from loyalty.clock import utcnow
    from loyalty.services.merchants import programs

    from bench import fair_floor

    enrolled = members_api.post("/v1/members", body={"phone": new_phone()})
    assert enrolled.status == 201, enrolled.body
    member_id = enrolled.body["member_id"]
    bought = accrue_api.post(
        "/v1/purchases", body={"transaction_id": "first", "member_id": member_id, "amount_kopecks": 10_000}
    )
    assert bought.status == 201, bought.body
    programs.get(merchant["merchant_id"])  # a warm function has the program

    result = fair_floor.run(merchant["merchant_id"], member_id, utcnow(), runtime.current().cipher(), runs=3)

    # the floor checked one replay against the recording (same requests, tables, sizes) and the
    # three timed replays were accepted: none was refused as a stale member or a replayed id
    assert result["requests"] == ["Query", "TransactWriteItems"]
    assert result["use_case_cpu_s"] > 0 and result["floor_cpu_s"] > 0


def test_the_floor_refuses_a_recording_it_cannot_replay() -> None:
    from bench.fair_floor import Call, Floor

    scan = Call("Scan", {"TableName": "members"}, {"Items": []})
    write = Call("PutItem", {"TableName": "members", "Item": {}}, {})
    with pytest.raises(ValueError, match="extend _seed"):
        Floor([scan, write], "t-00000000", "mbr-00000000", copies=1)
    with pytest.raises(ValueError, match="wrote nothing"):
        Floor([scan], "t-00000000", "mbr-00000000", copies=1)
