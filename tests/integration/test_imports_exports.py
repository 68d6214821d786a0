"""Imports and exports through the jobs function's handlers on moto: files through presigned S3
URLs, chunks through the FIFO jobs queue, a crash mid-chunk resumed without applying a row twice."""

from __future__ import annotations

import csv
import io
from typing import Any

import boto3
import pytest
import requests

from infra.local.invoke import FakeLambdaContext, sqs_event
from infra.local.provision import REGION, Stack
from tests.integration.conftest import GOLD_PROGRAM, configure, new_phone
from tests.support.api import GatewayClient


@pytest.fixture
def jobs_api(merchant: dict[str, Any]) -> GatewayClient:
    from functions.jobs.app import app

    return GatewayClient(app, {"X-Api-Key": merchant["api_key"]})


def drain(stack: Stack, *, most: int = 1000) -> list[str]:
    """Feed the jobs queue's messages to the worker until it is empty, as Lambda would; returns
    the message bodies handled."""
    from functions.jobs.app import handle_jobs

    sqs = boto3.client("sqs", region_name=REGION)
    url = stack.queue_url("JobsQueue")
    handled = []
    for _ in range(most):
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not received:
            return handled
        event = sqs_event(received, stack.attributes[("JobsQueue", "Arn")], REGION)
        reply = handle_jobs(event, FakeLambdaContext("jobs", 120, REGION))
        if not reply["batchItemFailures"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
        else:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"], VisibilityTimeout=0)
        handled.append(received[0]["Body"])
    raise AssertionError("the jobs queue did not empty")


def csv_text(rows: list[list[Any]], delimiter: str = ",") -> str:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows(rows)
    return text.getvalue()


def start_import(api: GatewayClient, job_id: str, body: bytes, kind: str = "members", **options: Any) -> dict[str, Any]:
    created = api.post("/v1/imports", body={"job_id": job_id, "kind": kind, **options})
    assert created.status == 201, created.body
    assert created.body["status"] == "awaiting_upload"
    upload = requests.put(created.body["upload_url"], data=body, headers={"Content-Type": "text/csv"}, timeout=10)
    assert upload.status_code == 200, upload.text
    started = api.post("/v1/imports/{job_id}/start", path_params={"job_id": job_id})
    assert started.status == 202, started.body
    return dict(started.body)


def job(api: GatewayClient, job_id: str, family: str = "imports") -> dict[str, Any]:
    reply = api.get(f"/v1/{family}/{{job_id}}", path_params={"job_id": job_id})
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_members_import_applies_good_rows_reports_bad_ones_and_sends_no_welcome(
    stack: Stack, jobs_api: GatewayClient, members_api: GatewayClient, program_api: GatewayClient
) -> None:
    configure(program_api, tiers=GOLD_PROGRAM["tiers"], bonuses=GOLD_PROGRAM["bonuses"])
    existing_phone = new_phone()
    assert members_api.post("/v1/members", body={"phone": existing_phone}).status == 201
    good_phone, other_phone = new_phone(), new_phone()
    rows = [
        ["Телефон", "Имя", "Дата рождения", "Email", "Номер карты", "Баланс", "Уровень"],
        [good_phone, "Анна", "17.05.1990", "anna@example.ru", "7700000000000016", "1 250", "gold"],
        ["not a phone", "Борис", "", "", "", "", ""],
        [existing_phone, "Вера", "", "", "", "", ""],
        [other_phone, "Глеб", "1990-13-01", "", "", "", ""],
        ["", "", "", "", "", "", ""],
        [new_phone(), "Дина", "", "", "", "10", "platinum"],
        [new_phone(), "Егор", "", "", "", "", ""],
    ]
    start_import(jobs_api, "imp-1", csv_text(rows, ";").encode("cp1251"))
    assert job(jobs_api, "imp-1")["status"] == "queued"
    drain(stack)
    result = job(jobs_api, "imp-1")
    assert (result["status"], result["total"], result["done"], result["failed"]) == ("done", 6, 2, 4)
    assert [(e["line"], e["reason"]) for e in result["errors"]] == [
        (3, result["errors"][0]["reason"]),
        (4, "a member with this phone is already enrolled"),
        (5, result["errors"][2]["reason"]),
        (7, "no tier 'platinum' in the program"),
    ]
    assert "phone" in result["errors"][0]["reason"] and "birthday" in result["errors"][2]["reason"]
    report = requests.get(result["error_report_url"], timeout=10)
    assert report.status_code == 200
    assert report.content.decode("utf-8-sig").splitlines()[0] == "line,reason"
    [anna] = members_api.get("/v1/members", query={"phone": good_phone}).body["members"]
    page = members_api.get("/v1/members/{member_id}", path_params={"member_id": anna["member_id"]}).body
    assert (page["name"], page["birthday"], page["balance"], page["tier"], page["card_number"]) == (
        "Анна",
        "1990-05-17",
        1250,
        "gold",
        "7700000000000016",
    )
    history = members_api.get("/v1/members/{member_id}/transactions", path_params={"member_id": anna["member_id"]})
    kinds = [(e["kind"], e["points"]) for e in history.body["entries"]]
    assert kinds == [("adjustment", 1250), ("enrolled", 0)]  # no welcome bonus
    from loyalty.data import ledger
    from loyalty.events import from_ledger_entry

    entries = ledger.all_entries(_merchant(jobs_api), anna["member_id"])
    assert [event for entry in entries for event in from_ledger_entry(entry)] == []  # no welcome message


def _merchant(api: GatewayClient) -> str:
    from loyalty.clock import utcnow
    from loyalty.services import keys

    return keys.authenticate(api.headers["X-Api-Key"], utcnow()).merchant_id


def test_an_import_asked_to_welcome_pays_the_bonus(
    stack: Stack, jobs_api: GatewayClient, members_api: GatewayClient, program_api: GatewayClient
) -> None:
    configure(program_api, bonuses=GOLD_PROGRAM["bonuses"])
    phone = new_phone()
    start_import(jobs_api, "imp-w", csv_text([["phone"], [phone]]).encode(), welcome=True)
    drain(stack)
    assert job(jobs_api, "imp-w")["done"] == 1
    [member] = members_api.get("/v1/members", query={"phone": phone}).body["members"]
    assert member["balance"] == 50


def test_a_chunk_that_crashes_half_way_is_run_again_and_applies_no_row_twice(
    stack: Stack, jobs_api: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.data import transaction
    from loyalty.services import member_import

    monkeypatch.setattr(member_import, "ROWS_PER_CHUNK", 40)
    rows = [["phone", "opening_balance"], *([new_phone(), "5"] for _ in range(100))]
    start_import(jobs_api, "imp-crash", csv_text(rows).encode())
    commits = {"n": 0}
    real_commit = transaction.Transaction.commit

    def crashing_commit(self: transaction.Transaction) -> None:
        commits["n"] += 1
        if commits["n"] == 5:  # a few batches of chunk 0 are written, then the worker dies
            raise RuntimeError("the worker was killed")
        real_commit(self)

    monkeypatch.setattr(transaction.Transaction, "commit", crashing_commit)
    handled = drain(stack)
    result = job(jobs_api, "imp-crash")
    assert (result["status"], result["done"], result["failed"], result["total"]) == ("done", 100, 0, 100)
    assert len(handled) == 4  # chunk 0 twice (the crash), then chunks 1 and 2
    merchant_id = _merchant(jobs_api)
    table = boto3.resource("dynamodb", region_name=REGION).Table("members")
    items = table.scan()["Items"]  # a test may scan; the product never does
    assert sum(1 for i in items if i["sk"] == "MEMBER" and i["pk"].startswith(merchant_id)) == 100
    assert sum(int(i["balance"]) for i in items if i["sk"] == "MEMBER") == 500


def test_redelivered_chunk_messages_are_dropped_and_count_nothing(stack: Stack, jobs_api: GatewayClient) -> None:
    from loyalty.services import jobs

    rows = [["phone"], *([new_phone()] for _ in range(5))]
    start_import(jobs_api, "imp-dup", csv_text(rows).encode())
    drain(stack)
    merchant_id = _merchant(jobs_api)
    done = jobs.get(merchant_id, "imp-dup", "import")
    for chunk in (0, 1, 0):
        assert jobs.run(merchant_id, "imp-dup", chunk, "b", "q", None, done.created_at) == "dropped"  # type: ignore[arg-type]
    start_again = jobs_api.post("/v1/imports/{job_id}/start", path_params={"job_id": "imp-dup"})
    assert start_again.status == 202
    drain(stack)
    assert job(jobs_api, "imp-dup")["done"] == 5


def test_an_import_without_its_file_or_with_a_bad_header_says_so(stack: Stack, jobs_api: GatewayClient) -> None:
    created = jobs_api.post("/v1/imports", body={"job_id": "imp-nofile", "kind": "members"})
    early = jobs_api.post("/v1/imports/{job_id}/start", path_params={"job_id": "imp-nofile"})
    assert (early.status, early.body["error"]["code"]) == (409, "file_missing")
    again = jobs_api.post("/v1/imports", body={"job_id": "imp-nofile", "kind": "members"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.body["job_id"] == created.body["job_id"]
    other = jobs_api.post("/v1/imports", body={"job_id": "imp-nofile", "kind": "purchases"})
    assert (other.status, other.body["error"]["code"]) == (409, "idempotency_conflict")
    start_import(jobs_api, "imp-header", "name,email\nАнна,a@example.ru\n".encode())
    drain(stack)
    failed = job(jobs_api, "imp-header")
    assert failed["status"] == "failed" and "phone" in failed["failure"]
    assert jobs_api.get("/v1/imports/{job_id}", path_params={"job_id": "nope"}).status == 404
    assert jobs_api.get("/v1/exports/{job_id}", path_params={"job_id": "imp-header"}).status == 404


def test_purchase_history_is_recorded_once_for_analytics_and_earns_nothing(
    stack: Stack, jobs_api: GatewayClient, members_api: GatewayClient
) -> None:
    from loyalty.data import merchants

    phone = new_phone()
    member = members_api.post("/v1/members", body={"phone": phone}).body
    rows = [
        ["transaction_id", "date", "amount", "phone", "card_number"],
        ["h-1", "2025-03-01", "1 200,50", phone, ""],
        ["h-2", "2025-03-01T10:00:00Z", "300", "", ""],
        ["h-3", "02.03.2025", "100", "", member["card_number"]],
        ["h-2", "2025-03-01T10:00:00Z", "300", "", ""],  # the same purchase twice: recorded once
        ["h-1", "2025-03-05", "999", "", ""],  # the same id, another purchase: refused
        ["h-4", "soon", "100", "", ""],
        ["h-5", "2025-03-02", "-5", "", ""],
    ]
    start_import(jobs_api, "hist-1", csv_text(rows).encode(), kind="purchases")
    drain(stack)
    result = job(jobs_api, "hist-1")
    assert (result["status"], result["done"], result["failed"]) == ("done", 4, 3)
    assert [e["line"] for e in result["errors"]] == [6, 7, 8]
    start_import(jobs_api, "hist-2", csv_text(rows[:4]).encode(), kind="purchases")  # imported again
    drain(stack)
    assert job(jobs_api, "hist-2")["done"] == 3
    march = merchants.read_months(_merchant(jobs_api), "2025-03")["2025-03"]  # Moscow's March
    assert (march["purchases_members"], march["purchases_anonymous"]) == (2, 1)
    assert (march["revenue_members_kopecks"], march["revenue_anonymous_kopecks"]) == (120_050 + 10_000, 30_000)
    from functions.reports.app import app as reports_app

    reports = GatewayClient(reports_app, jobs_api.headers)
    reply = reports.get("/v1/reports/kpis", query={"from": "2025-03", "to": "2025-03"})
    assert reply.status == 200, reply.body
    report = reply.body["months"][0]
    assert (report["aov_members_kopecks"], report["aov_anonymous_kopecks"]) == (65_025, 30_000)
    page = members_api.get("/v1/members/{member_id}", path_params={"member_id": member["member_id"]}).body
    assert page["balance"] == 0 and page["totals"]["purchases"] == 0


def test_exports_of_members_and_transactions_are_csv_files_behind_a_download_url(
    stack: Stack, jobs_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    from tests.integration.conftest import earn

    people = [members_api.post("/v1/members", body={"phone": new_phone(), "name": f"Гость {n}"}).body for n in range(3)]
    earn(accrue_api, people[0], 7)
    created = jobs_api.post("/v1/exports", body={"job_id": "exp-1", "kind": "members"})
    assert (created.status, created.body["status"]) == (202, "queued")
    assert jobs_api.post("/v1/exports", body={"job_id": "exp-2", "kind": "transactions"}).status == 202
    drain(stack)
    members_file = job(jobs_api, "exp-1", "exports")
    assert (members_file["status"], members_file["done"], members_file["total"]) == ("done", 3, 3)
    rows = list(
        csv.DictReader(io.StringIO(requests.get(members_file["download_url"], timeout=10).content.decode("utf-8-sig")))
    )
    assert {row["name"] for row in rows} == {"Гость 0", "Гость 1", "Гость 2"}
    assert all(row["phone"].startswith("+7916") and "*" not in row["phone"] for row in rows)  # in clear
    assert [row["balance"] for row in rows if row["member_id"] == people[0]["member_id"]] == ["7"]
    entries_file = job(jobs_api, "exp-2", "exports")
    entries = list(
        csv.DictReader(io.StringIO(requests.get(entries_file["download_url"], timeout=10).content.decode("utf-8-sig")))
    )
    assert sorted(row["kind"] for row in entries) == ["earn", "enrolled", "enrolled", "enrolled"]


def download(url: str) -> list[dict[str, str]]:
    reply = requests.get(url, timeout=10)
    assert reply.status_code == 200, reply.text
    return list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
