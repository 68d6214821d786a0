"""`make bench`, issue 15 goal 7: the expiry job's work per message is bounded by its batch, however
many members a shard holds.

A shard of 10 and a shard of 1,000 due members (copies of one member enrolled and buying through
the use cases a year and a month ago, each with its own key in the chosen shard and its place in
that shard's expiry queue) are expired the way the worker does it in Lambda: the schedule's message
for the shard, then every continuation the worker queues, through the FIFO expiry queue, each
message metered (DynamoDB calls and capacity units) and timed. moto in-process, in a process of its
own: ``python -m bench.expiry_runs`` prints one JSON line.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from bench import isolated
from bench.dynamo_meter import metering

SHARD_SIZES = (10, 1000)
MEMBERS_AT_SCALE = 10_000_000


def _clone_into_shard(merchant_id: str, template_id: str, day: str, shard: int, count: int) -> list[str]:
    """``count`` copies of the template member whose keys fall into ``shard``, each queued there."""
    import boto3
    from loyalty.data.members import MEMBER_SK, member_key, shard_of
    from loyalty.data.operations import EXPIRY_SHARDS

    dynamodb = boto3.client("dynamodb")
    template = dynamodb.get_item(
        TableName=os.environ["MEMBERS_TABLE"],
        Key={"pk": {"S": member_key(merchant_id, template_id)}, "sk": {"S": MEMBER_SK}},
    )["Item"]
    made: list[str] = []
    n = 0
    while len(made) < count:
        n += 1
        member_id = f"{template_id}x{shard:02d}{n:06d}"
        key = member_key(merchant_id, member_id)
        if shard_of(key, EXPIRY_SHARDS) != shard:
            continue
        item = {**template, "pk": {"S": key}, "member_id": {"S": member_id}}
        dynamodb.put_item(TableName=os.environ["MEMBERS_TABLE"], Item=item)
        dynamodb.put_item(
            TableName=os.environ["OPERATIONS_TABLE"], Item={"pk": {"S": f"EXPQ#{day}#{shard:02d}"}, "sk": {"S": key}}
        )
        made.append(member_id)
    return made


def _queued_day(merchant_id: str, member_id: str) -> tuple[str, int]:
    """The month end and shard the template member was queued under by its purchase."""
    import boto3

    items = boto3.client("dynamodb").scan(TableName=os.environ["OPERATIONS_TABLE"])["Items"]  # setup may scan
    [pk] = [i["pk"]["S"] for i in items if i["pk"]["S"].startswith("EXPQ#") and i["sk"]["S"].endswith(member_id)]
    _, day, shard = pk.split("#")
    return day, int(shard)


def _drain_shard(first: Any, queue_url: str) -> list[dict[str, Any]]:
    """The shard's messages one after another, as the worker gets them from the FIFO queue."""
    import boto3
    from loyalty.services.expiry import ShardRun
    from loyalty.services.expiry_runs import run_and_continue

    sqs = boto3.client("sqs")
    per_message: list[dict[str, Any]] = []
    run: ShardRun | None = first
    while run is not None:
        with metering() as meter:
            started = time.perf_counter()
            outcome = run_and_continue(run, queue_url, lambda _events: None)
            seconds = time.perf_counter() - started
        per_message.append(
            {"members": outcome.members, "points": outcome.points, "seconds": seconds, **meter.snapshot()}
        )
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1).get("Messages", [])
        run = ShardRun.model_validate_json(received[0]["Body"]) if received else None
        if received:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=received[0]["ReceiptHandle"])
    return per_message


def run() -> dict[str, Any]:
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.clock import add_months, utcnow
    from loyalty.data import members
    from loyalty.services import accrual, enrollment, expiry, merchants

    stack, cipher = isolated.provisioned()
    now = utcnow()
    bought = datetime.combine(add_months(now.date(), -13), now.timetz())  # expired at the last month end
    merchant_id = merchants.create_merchant("Bench expiry", bought).merchant_id
    template = enrollment.enroll(merchant_id, EnrollRequest(phone="+79160000001"), bought, cipher)
    accrual.accrue(
        merchant_id,
        PurchaseRequest(transaction_id="t-1", member_id=template.member_id, amount_kopecks=150_000),
        bought + timedelta(minutes=5),
        cipher,
    )
    day, template_shard = _queued_day(merchant_id, template.member_id)
    queue_url = stack.queue_url("ExpiryQueue")
    shards = []
    for shard, size in zip((s for s in range(16) if s != template_shard), SHARD_SIZES, strict=False):
        cloned = _clone_into_shard(merchant_id, template.member_id, day, shard, size)
        first = expiry.ShardRun.model_validate({"day": day, "shard": shard, "as_of": now.isoformat()}, strict=False)
        per_message = _drain_shard(first, queue_url)
        left = sum(members.get(merchant_id, member_id).wallet.balance for member_id in cloned)
        calls: Counter[str] = Counter()
        for message in per_message:
            calls |= Counter(message["calls"])  # the most of each call in one message
        shards.append(
            {
                "due": size,
                "messages": len(per_message),
                "members_per_message_max": max(m["members"] for m in per_message),
                "points": sum(m["points"] for m in per_message),
                "points_left": left,
                "calls_per_message_max": dict(calls),
                "rcu_per_message_max": max(m["rcu"] for m in per_message),
                "wcu_per_message_max": max(m["wcu"] for m in per_message),
                "seconds_per_message_median": statistics.median(m["seconds"] for m in per_message),
                "seconds_per_message_max": max(m["seconds"] for m in per_message),
                "seconds_per_member": sum(m["seconds"] for m in per_message) / size,
            }
        )
    return {"batch": expiry.BATCH_MEMBERS, "shards": shards}


def measure() -> dict[str, Any]:
    """Run in a process of its own (moto in-process; its own connections)."""
    return isolated.measured("bench.expiry_runs")


def print_table(result: dict[str, Any]) -> None:
    from loyalty.data.operations import EXPIRY_SHARDS
    from loyalty.services.expiry_runs import RUN_SECONDS

    batch = result["batch"]
    print()
    print(
        "| expiry, one shard | due members | messages | members a message, most "
        "| DynamoDB calls a message, most | RCU | WCU | s a message, median / most |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in result["shards"]:
        calls = ", ".join(f"{count} {op}" for op, count in sorted(row["calls_per_message_max"].items()))
        print(
            f"| {row['points']} points expired, {row['points_left']} left | {row['due']} | {row['messages']} "
            f"| {row['members_per_message_max']} | {calls} | {row['rcu_per_message_max']:g} "
            f"| {row['wcu_per_message_max']:g} "
            f"| {row['seconds_per_message_median']:.2f} / {row['seconds_per_message_max']:.2f} |"
        )
    biggest = result["shards"][-1]
    per_shard = MEMBERS_AT_SCALE // EXPIRY_SHARDS
    messages = -(-per_shard // batch)
    worst = biggest["seconds_per_message_max"]
    bounded = all(row["members_per_message_max"] <= batch for row in result["shards"])
    print(
        f"at scale: {MEMBERS_AT_SCALE:,} members due at one month end / {EXPIRY_SHARDS} shards = {per_shard:,} a shard "
        f"/ {batch} a message = {messages:,} messages a shard ({messages * EXPIRY_SHARDS:,} in all, {EXPIRY_SHARDS} "
        f"shards in parallel), each at most {batch} members: measured here at most {worst:.2f} s a message "
        f"(moto in-process), a run stops taking members after {RUN_SECONDS:g} s, the worker's timeout is 60 s; "
        f"a shard's messages run one after another: {messages:,} x {biggest['seconds_per_message_median']:.1f} s "
        f"= {messages * biggest['seconds_per_message_median'] / 3600:.1f} h at this pace for the month end"
    )
    print(
        f"| goal 7: expiry work a message, shard of {result['shards'][0]['due']} vs {biggest['due']} | "
        f"{result['shards'][0]['members_per_message_max']} vs {biggest['members_per_message_max']} members, "
        f"at most {worst:.2f} s | <= {batch} members, < 60 s | {'yes' if bounded and worst < 60 else '**no**'} |"
    )


def main() -> None:
    isolated.serve(run)


if __name__ == "__main__":
    main()
