"""The KPI report on the local stack, driven through HTTP on the local clock: the stack's own stream
pollers count, its clock moves every request (sign-in tokens included), and `make demo` replays a
coffee shop whose first report looks like a real one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.support.kpi_model import Buy, Enroll, Expected, ModelProgram, Refund, Shop
from tests.support.local_stack import ADMIN_TOKEN, DEMO_KEY, RunningStack, running_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-kpis")]


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def test_the_local_clock_moves_every_request_and_the_report_counts_through_the_stack(local: RunningStack) -> None:
    api = local.api

    def clock(body: Any = None, method: str = "PUT") -> requests.Response:
        return requests.request(method, f"{api}/_local/clock", json=body, timeout=10)

    assert clock(method="GET").json()["real_time"] is True
    assert clock({"now": "last tuesday"}).status_code == 400
    assert clock({}).status_code == 400
    merchant = requests.post(
        f"{api}/v1/admin/merchants",
        json={"name": "Пекарня"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    ).json()
    key = {"X-Api-Key": merchant["api_key"]}
    shop = Shop(ModelProgram())

    def at(moment: datetime) -> None:
        reply = clock({"now": moment.isoformat()})
        assert reply.status_code == 200, reply.text
        assert abs(datetime.fromisoformat(reply.json()["now"]) - moment) < timedelta(seconds=5)

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = requests.post(f"{api}{path}", json=body, headers=key, timeout=30)
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    march = datetime(2025, 3, 31, 20, 30, tzinfo=UTC)  # 23:30 in Moscow: still March there
    at(march)
    phone = "+79165550101"
    member = post("/v1/members", {"phone": phone})["member_id"]
    shop.happenings.append(Enroll(member, march))
    for n, (who, amount) in enumerate([(member, 120_000), (None, 80_000), (None, 40_000)]):
        reference = {"member_id": who} if who else {}
        post("/v1/purchases", {"transaction_id": f"m-{n}", "amount_kopecks": amount, **reference})
        shop.happenings.append(Buy(f"m-{n}", who, amount, march, march))
    april = march + timedelta(hours=1)  # 00:30 in Moscow: April, though still March in UTC
    at(april)
    post("/v1/purchases", {"transaction_id": "a-1", "member_id": member, "amount_kopecks": 60_000})
    shop.happenings.append(Buy("a-1", member, 60_000, april, april))
    post("/v1/purchases/m-1/refunds", {"refund_id": "r-1", "amount_kopecks": 80_000})  # March's, fully
    shop.happenings.append(Refund("m-1", "r-1", 80_000, april))

    # The member signs in to the app while the clock says April 2025: tokens live by the clock.
    sign_in = {"merchant_id": merchant["merchant_id"], "phone": phone}
    assert requests.post(f"{api}/v1/auth/code", json=sign_in, timeout=10).ok

    def code_from_inbox() -> re.Match[str] | None:
        inbox = requests.get(f"{api}/_local/inbox", params={"channel": "sms", "to": phone}, timeout=10).json()
        texts = [m["text"] for m in inbox["messages"] if m["kind"] == "sign_in_code"]
        return re.search(r"\b(\d{6})\b", texts[-1]) if texts else None

    code = wait_for(code_from_inbox)
    tokens = requests.post(
        f"{api}/v1/auth/token",
        json={"merchant_id": merchant["merchant_id"], "phone": phone, "code": code.group(1)},
        timeout=10,
    ).json()
    me = requests.get(f"{api}/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert me.status_code == 200 and me.json()["balance"] == 18, me.text
    at(april + timedelta(minutes=20))  # 20 minutes on, the 15-minute access token has expired by the clock
    expired = requests.get(f"{api}/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10)
    assert expired.status_code == 401

    at(datetime(2025, 5, 2, 9, 0, tzinfo=UTC))
    expected = Expected(shop).report("2025-03", "2025-04")

    def counted() -> dict[str, Any] | None:
        query = {"from": "2025-03", "to": "2025-04"}
        reply = requests.get(f"{api}/v1/reports/kpis", params=query, headers=key, timeout=10).json()
        return dict(reply) if reply == expected else None

    report = wait_for(counted, timeout=60)
    assert [m["purchases_anonymous"] for m in report["months"]] == [1, 0]
    assert [m["purchases_members"] for m in report["months"]] == [1, 1]
    assert clock(method="DELETE").json()["real_time"] is True


@pytest.mark.xdist_group("e2e-demo")
def test_make_demo_replays_a_coffee_shop_whose_report_looks_real() -> None:
    with running_stack({"LOYALTY_DEMO_SCALE": "0.25"}, timeout=900, arguments=["--demo"]) as demo:
        output = "".join(demo.output)
        assert "demo done in" in output and "X-Api-Key: " + DEMO_KEY in output
        months = requests.get(f"{demo.api}/v1/reports/kpis", headers={"X-Api-Key": DEMO_KEY}, timeout=30).json()
        assert len(months["months"]) == 6
        first = re.search(r"from=(\d{4}-\d{2})&to=(\d{4}-\d{2})", output)
        assert first is not None
        full = requests.get(
            f"{demo.api}/v1/reports/kpis",
            params={"from": first.group(1), "to": first.group(2)},
            headers={"X-Api-Key": DEMO_KEY},
            timeout=30,
        ).json()["months"]
        before, *program = full
        assert len(program) == 6
        assert before["members_total"] == 0 and before["purchases_anonymous"] > 0  # the baseline month
        assert all(m["members_new"] > 0 and m["purchases_members"] > 0 for m in program[:-1])
        assert program[-2]["engagement_rate"] > program[0]["engagement_rate"]
        assert sum(m["points_redeemed"] for m in program) > 0 and program[-1]["members_total"] > 0
        assert any(m["retention_rate"] is not None and m["retention_rate"] < 1 for m in program)  # some churn
        assert all(m["program_cost_kopecks"] >= 150_000 for m in program)  # the monthly fee at least
