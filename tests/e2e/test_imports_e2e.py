"""A large member import through the local stack (5,000 rows, five chunks, in `make test`; set
LOYALTY_E2E_IMPORT_ROWS=100000 for the full-size run, about half an hour on a 2-core machine): the
file goes up by its presigned URL, the worker takes it chunk by chunk with progress reported, and a
resumed run (the job set back to an earlier chunk, as if the worker had died after applying rows it
never recorded, and its message delivered again) applies no row twice. Then the members are
exported and the file read back."""

from __future__ import annotations

import csv
import io
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.support.local_stack import RunningStack, Shop, running_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-imports")]
ROWS = int(os.environ.get("LOYALTY_E2E_IMPORT_ROWS", "5000"))
# Waits allow 10 rows a second, a busy shared machine's pace (a quiet one does 50-60).
SLOWEST_SECONDS = max(900, ROWS // 10)


@pytest.fixture(scope="module")
def local() -> Iterator[RunningStack]:
    with running_stack() as stack:
        yield stack


def members_file(rows: int) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";")
    writer.writerow(["Телефон", "Имя", "Email", "Баланс"])
    for n in range(rows):
        writer.writerow([f"+7925{n:07d}", f"Гость {n}", f"guest{n}@example.ru" if n % 10 == 0 else "", n % 7])
    return text.getvalue().encode("utf-8")


def job_item(local: RunningStack, shop: Shop, job_id: str) -> dict[str, Any]:
    key = {"pk": {"S": f"JOB#{shop.merchant_id}#{job_id}"}, "sk": {"S": "JOB"}}
    return dict(local.aws_client("dynamodb").get_item(TableName="jobs", Key=key, ConsistentRead=True)["Item"])


def set_back(local: RunningStack, shop: Shop, job_id: str, earlier: dict[str, Any]) -> int:
    """Put the job back where it was (as if the chunks since had never been recorded) and deliver
    the message of that chunk again; returns the chunk."""
    dynamodb = local.aws_client("dynamodb")
    while True:
        current = job_item(local, shop, job_id)["chunk"]["N"]
        try:
            dynamodb.put_item(
                TableName="jobs",
                Item=earlier,
                ConditionExpression="#c = :c",
                ExpressionAttributeNames={"#c": "chunk"},
                ExpressionAttributeValues={":c": {"N": current}},
            )
            break
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # a chunk was recorded meanwhile
    chunk = int(earlier["chunk"]["N"])
    group = f"{shop.merchant_id}#{job_id}"
    local.aws_client("sqs").send_message(
        QueueUrl=local.queue_url("jobs.fifo"),
        MessageBody=f'{{"merchant_id": "{shop.merchant_id}", "job_id": "{job_id}", "chunk": {chunk}}}',
        MessageGroupId=group,
        MessageDeduplicationId=f"{group}#{chunk}#redelivered",
    )
    return chunk


def members_count(local: RunningStack, merchant_id: str) -> int:
    dynamodb, count, start = local.aws_client("dynamodb"), 0, None
    while True:
        page = dynamodb.query(
            TableName="members",
            IndexName="by_merchant",
            KeyConditionExpression="gsi_merchant = :m",
            ExpressionAttributeValues={":m": {"S": merchant_id}},
            Select="COUNT",
            **({"ExclusiveStartKey": start} if start else {}),
        )
        count += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return count


def once_answered(ask: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``ask``'s answer, asked again while the stack leaves it unanswered for the client's 30 s: after
    a large import the local stack (one Python process for the API, the workers and moto) is still
    working through the enrolments' stream events for a while."""

    def answer() -> dict[str, Any] | None:
        try:
            return ask()
        except requests.Timeout:
            return None

    return dict(wait_for(answer, timeout=SLOWEST_SECONDS, interval=5))


def test_a_large_member_import_reports_progress_and_a_resumed_run_applies_no_row_twice(local: RunningStack) -> None:
    shop = Shop(local, "Сеть кофеен")
    created = shop.call("POST", "/v1/imports", {"job_id": "big", "kind": "members"})
    body = members_file(ROWS)
    assert requests.put(created["upload_url"], data=body, headers={"Content-Type": "text/csv"}, timeout=60).ok
    started = time.monotonic()
    shop.call("POST", "/v1/imports/big/start")
    seen: list[int] = []
    waits: list[float] = []  # seconds each progress poll took to answer
    last: dict[str, Any] = {"done": 0, "status": "queued"}

    def progress() -> dict[str, Any]:
        """The job as GET shows it. On a machine busy enough, the local stack (one Python process
        for the API, the worker and moto) can leave a poll unanswered for the client's 30 s: that
        poll saw nothing, and the wait goes on, as the back office's next poll would."""
        nonlocal last
        asked = time.monotonic()
        try:
            last = dict(shop.call("GET", "/v1/imports/big"))
        except requests.Timeout:
            waits.append(float("inf"))
            return last
        waits.append(time.monotonic() - asked)
        seen.append(int(last["done"]))
        return last

    wait_for(lambda: progress()["done"] >= ROWS // 3, timeout=SLOWEST_SECONDS, interval=0.5)
    earlier = job_item(local, shop, "big")
    wait_for(
        lambda: progress()["done"] >= int(earlier["done"]["N"]) + ROWS // 10, timeout=SLOWEST_SECONDS, interval=0.5
    )
    chunk = set_back(local, shop, "big", earlier)
    assert shop.call("GET", "/v1/imports/big")["done"] == int(earlier["done"]["N"])  # where the rerun starts
    done = wait_for(lambda: (view := progress())["status"] == "done" and view, timeout=2 * SLOWEST_SECONDS, interval=1)
    seconds = time.monotonic() - started
    assert (done["total"], done["done"], done["failed"], done["errors"]) == (ROWS, ROWS, 0, [])
    assert members_count(local, shop.merchant_id) == ROWS
    assert 0 < min(v for v in seen if v) < ROWS and len(set(seen)) > 5  # progress reported on the way
    assert chunk > 0
    answered = sorted(w for w in waits if w != float("inf"))
    print(
        f"\nimported {ROWS} rows in {seconds:.0f} s ({ROWS / seconds:.0f} rows/s), resumed from chunk {chunk}; "
        f"{len(waits)} progress polls answered in {answered[len(answered) // 2]:.2f} s (median), "
        f"{answered[-1]:.1f} s (slowest), {len(waits) - len(answered)} unanswered in 30 s"
    )

    [sample] = once_answered(lambda: shop.call("GET", "/v1/members", email="guest70@example.ru"))["members"]
    assert (sample["name"], sample["balance"]) == ("Гость 70", 0)
    [sixth] = once_answered(lambda: shop.call("GET", "/v1/members", phone="+79250000006"))["members"]
    assert sixth["balance"] == 6


def test_the_operator_cli_creates_a_merchant_imports_and_exports_with_progress(
    local: RunningStack, tmp_path: Any
) -> None:
    from loyalty_cli.main import app
    from typer.testing import CliRunner

    from tests.support.local_stack import ADMIN_TOKEN

    runner = CliRunner()
    created = runner.invoke(
        app, ["merchant", "create", "Салон «Лето»", "--api", local.api, "--admin-token", ADMIN_TOKEN]
    )
    assert created.exit_code == 0, created.output
    key = created.output.split("api_key")[1].split()[0]
    source = tmp_path / "members.csv"
    source.write_text("phone,name,opening_balance\n+79260000001,Анна,10\nnot-a-phone,Борис,0\n", encoding="utf-8")
    imported = runner.invoke(app, ["import", "members", str(source), "--api", local.api, "--key", key])
    assert imported.exit_code == 0, imported.output
    assert "1 done" in imported.output and "1 failed" in imported.output and "line" in imported.output
    out = tmp_path / "export.csv"
    exported = runner.invoke(app, ["export", "members", "--out", str(out), "--api", local.api, "--key", key])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(row["phone"], row["name"], row["balance"]) for row in rows] == [("+79260000001", "Анна", "10")]
    refused = runner.invoke(app, ["import", "members", str(source), "--api", local.api, "--key", "lk_wrong"])
    assert refused.exit_code == 1 and "401" in refused.output
    [only_key] = requests.get(f"{local.api}/v1/keys", headers={"X-Api-Key": key}, timeout=30).json()["keys"]
    listed = runner.invoke(app, ["keys", "list", "--api", local.api, "--key", key])
    assert listed.exit_code == 0 and only_key["hint"] in listed.output, listed.output
    merchant_id = created.output.split("merchant_id")[1].split()[0]
    owner = ["owner@leto.example", "--api", local.api, "--admin-token", ADMIN_TOKEN]
    invited = runner.invoke(app, ["merchant", "invite-owner", merchant_id, *owner])
    assert invited.exit_code == 0 and "owner invited" in invited.output, invited.output
    revoked = runner.invoke(app, ["keys", "revoke", only_key["key_id"], "--api", local.api, "--key", key])
    assert revoked.exit_code == 0 and "revoked" in revoked.output, revoked.output
    after = runner.invoke(app, ["keys", "list", "--api", local.api, "--key", key])
    assert after.exit_code == 1 and "401" in after.output  # the only key is gone: nothing answers to it
