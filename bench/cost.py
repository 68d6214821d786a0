"""Goal 4: write units per accrual as a member ages, and the cost per million purchases.

``python -m bench.cost`` builds members with a year and two years of weekly purchases (the expiry
and tier-review jobs running at every month end, as in AWS) through the use cases on moto
in-process, meters one purchase of each (``bench.dynamo_meter``), and prices a million purchases
from those units and the request counts per purchase, with every price stated. ``make bench``
runs it in a process of its own (``print_report``).

What is measured: DynamoDB calls and units of the accrual, of the merchant authorizer's key
check, of the audit entry, of counting the purchase's ledger entry into the report counters (a
stream batch of one busy merchant, and a batch of many small shops), the index writes the
purchase causes (from the member item before and after it and the indexes in template.yaml), the
member item's size. What is stated: the prices, the request rates that define each scenario, the
Lambda durations, the stream and queue batch sizes. X-Ray follows template.yaml: a Lambda function
with active tracing samples what reaches it untraced at Lambda's fixed rate (the first request
each second, then 5 %); the API's sampling rule, if the template has one, decides for the API.

The same measured purchase is also priced under other designs (``DESIGNS``: an HTTP API, the
merchant authorizer's answers cached), each with what it gives up, for the product's decision.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import isolated
from bench.dynamo_meter import item_size, metering
from infra.template import load_template, resources_of_type

ISSUE_ESTIMATE = {"busy": 14.0, "spread": 31.0}  # dollars per million purchases, issue 15
PURCHASES_A_MONTH = 4  # a regular: one purchase a week

# eu-central-1 (Frankfurt), on demand, USD, list prices (aws.amazon.com/<service>/pricing, 2025):
PRICES: dict[str, tuple[float, str]] = {
    "dynamodb_write": (0.7625, "DynamoDB on-demand, per million write request units"),
    "dynamodb_read": (0.1525, "DynamoDB on-demand, per million read request units"),
    "api_gateway": (3.70, "API Gateway REST API, per million requests (first 333 million a month)"),
    "http_api": (1.20, "API Gateway HTTP API, per million requests (first 300 million a month)"),
    "lambda_request": (0.20, "Lambda, per million requests"),
    "lambda_gb_second_arm": (0.0000133334, "Lambda arm64, per GB-second (first 7.5 billion GB-s a month)"),
    "eventbridge_event": (1.00, "EventBridge, per million custom events published"),
    "sqs_request": (0.40, "SQS standard, per million requests"),
    "xray_trace": (5.00, "X-Ray, per million traces recorded"),
}

# Stated durations (billed ms, warm, arm64): a purchase is one read and one transaction on
# DynamoDB (a few ms each in the region) and ~20 ms of CPU (in-process, bench above); the
# authorizer one read; background functions handle a batch.
DURATION_MS = {"purchase": 60, "authorizer": 15, "stream batch": 100, "queue batch": 60}


@dataclass(frozen=True)
class Scenario:
    name: str
    definition: str
    purchases_per_second: float  # the whole platform
    key_use_interval_seconds: float  # between two purchases through one merchant key
    counter_batch: str  # which measured counting cost applies ("busy" or "spread")
    stream_batch: float  # ledger records per stream-function invocation
    queue_batch: float  # messages per queue-function invocation


SCENARIOS = (
    Scenario(
        "busy",
        "a few busy merchants: 50 purchases/s on the platform (~130 M a month), each till key used "
        "every few seconds, stream batches full (100 records of one merchant), queue batches of 10",
        purchases_per_second=50.0,
        key_use_interval_seconds=3.0,
        counter_batch="busy",
        stream_batch=100,
        queue_batch=10,
    ),
    Scenario(
        "spread",
        "10 000 small shops, 1 M purchases a month in all (0.4/s), ~3 a day each: every purchase is "
        "its key's first in a minute, alone in its stream batch and queue batch",
        purchases_per_second=1_000_000 / (30 * 86_400),
        key_use_interval_seconds=8 * 3600.0,
        counter_batch="spread",
        stream_batch=1,
        queue_batch=1,
    ),
)


@dataclass(frozen=True)
class Design:
    """A way to serve the same purchase, for the product's decision: what it would cost, what it
    gives up."""

    name: str
    gives_up: str
    api: str = "api_gateway"  # the PRICES line of the API's requests
    authorizer_cache_seconds: float = 0.0  # API Gateway keeps the authorizer's answer per credential
    purchases_traced: bool = True  # an HTTP API does not trace: only the functions' own sampling would


DESIGNS = (
    Design("as built: REST API, usage plan per key, authorizer on every request", "-"),
    Design(
        "the merchant authorizer's answers cached 5 minutes",
        "a revoked key, a changed role or a signed-out staff token keeps working up to 5 minutes; "
        "every merchant request must carry its credential in one fixed header (the cache's key)",
        authorizer_cache_seconds=300,
    ),
    Design(
        "HTTP API in place of the REST API, purchases traced by Lambda's own sampling",
        "the usage plan per key (each merchant's own throttle and daily quota); Lambda samples the "
        "first request each second and 5 % after, nearly every purchase at a small shop's volume",
        api="http_api",
    ),
    Design(
        "HTTP API, purchases not traced",
        "the usage plan per key, and X-Ray traces of purchases",
        api="http_api",
        purchases_traced=False,
    ),
    Design(
        "HTTP API, purchases not traced, authorizer cached 5 minutes",
        "all of the above",
        api="http_api",
        authorizer_cache_seconds=300,
        purchases_traced=False,
    ),
)


def _between_authorizer_calls(scenario: Scenario, design: Design) -> float:
    """Seconds between two invocations of the authorizer for one key: a cached answer serves the
    key's purchases until it lapses."""
    return max(scenario.key_use_interval_seconds, design.authorizer_cache_seconds)


def authorizer_share(scenario: Scenario, design: Design) -> float:
    """Authorizer invocations per purchase."""
    return scenario.key_use_interval_seconds / _between_authorizer_calls(scenario, design)


def last_use_writes(scenario: Scenario, design: Design) -> float:
    """The key's last use is recorded by the authorizer, at most once a minute (``keys.UseRecorder``)."""
    return authorizer_share(scenario, design) * min(1.0, _between_authorizer_calls(scenario, design) / 60)


@functools.cache
def _template() -> dict[str, Any]:
    """template.yaml, read once: the model only reads it."""
    return load_template()


# ---- measuring (in a process of its own, on moto in-process) -----------------------------------
def _raw_items(pk: str) -> dict[str, dict[str, Any]]:
    """The member's items as stored (member, and its history if it has one), by sort key."""
    import boto3

    found = boto3.client("dynamodb").query(
        TableName="members",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :member)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":member": {"S": "MEMBER"}},
        ConsistentRead=True,
    )
    return {item["sk"]["S"]: item for item in found["Items"]}


def index_writes(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Write units the members table's indexes (template.yaml) take for one change of an item,
    by DynamoDB's rules: a changed index key is a delete and a put, a changed projected attribute
    one write, an index entry of up to 1 KB one unit."""
    table = _template()["Resources"]["MembersTable"]["Properties"]
    units = 0
    for index in table.get("GlobalSecondaryIndexes", []):
        keys = [key["AttributeName"] for key in index["KeySchema"]]
        projected = [*keys, "pk", "sk", *index["Projection"].get("NonKeyAttributes", [])]
        entry_units = math.ceil((sum(item_size({k: after[k]}) for k in projected if k in after) + 100) / 1024)
        was_in, is_in = all(k in before for k in keys), all(k in after for k in keys)
        if not is_in and not was_in:
            continue
        if not (was_in and is_in) or any(before[k] != after[k] for k in keys):
            units += entry_units * (int(was_in) + int(is_in))
        elif any(before.get(name) != after.get(name) for name in projected):
            units += entry_units
    return units


def _build_member(merchant_id: str, phone: str, months: int, now: datetime, cipher: Any) -> tuple[str, int]:
    """A member who joined ``months`` ago and bought every week since, with the month-end jobs run."""
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.clock import add_months, end_of_month
    from loyalty.services import accrual, enrollment, expiry, tiers

    joined = now - timedelta(days=round(months * 30.44))
    member_id = enrollment.enroll(merchant_id, EnrollRequest(phone=phone), joined, cipher).member_id
    bought = 0
    for month in range(months + 1):
        first = add_months(joined.date(), month).replace(day=1)
        for week in range(PURCHASES_A_MONTH):
            at = datetime.combine(first + timedelta(days=2 + 7 * week), joined.timetz())
            if joined <= at < now - timedelta(days=1):
                request = PurchaseRequest(
                    transaction_id=f"{phone[1:]}-{bought}", member_id=member_id, amount_kopecks=87_500
                )
                accrual.accrue(merchant_id, request, at, cipher)
                bought += 1
        month_end = datetime.combine(end_of_month(first) + timedelta(days=1), joined.timetz())
        if month_end < now:
            expiry.run_expiry(month_end)
            tiers.run_tier_review(month_end)
    return member_id, bought


def _purchase_cost(merchant_id: str, member_id: str, at: datetime, cipher: Any, tag: str) -> dict[str, Any]:
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.data.members import member_key
    from loyalty.services import accrual

    pk = member_key(merchant_id, member_id)
    before = _raw_items(pk)
    with metering() as meter:
        request = PurchaseRequest(
            transaction_id=f"measured-{tag.replace(' ', '-').replace(',', '')}",
            member_id=member_id,
            amount_kopecks=87_500,
        )
        accrual.accrue(merchant_id, request, at, cipher)
    after = _raw_items(pk)
    return {
        **meter.snapshot(),
        "index_wcu": index_writes(before["MEMBER"], after["MEMBER"]),
        "member_item_bytes": item_size(after["MEMBER"]),
        "history_item_bytes": item_size(after["MEMBER#HISTORY"]) if "MEMBER#HISTORY" in after else 0,
    }


def _counting(records: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    from loyalty.services import stats

    with metering() as meter:
        counted = stats.count_stream({"Records": records}, now)
    return {"facts": counted.facts, **meter.snapshot()}


def run() -> dict[str, Any]:
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.clock import utcnow
    from loyalty.domain.access import Principal, Scope
    from loyalty.domain.program import Program, TierLevel, Tiers
    from loyalty.services import accrual, audit, enrollment, keys, merchants

    from bench.kpis import stream_records

    stack, cipher = isolated.provisioned()
    now = utcnow().replace(day=20, hour=12)
    program = Program(
        tiers=Tiers(
            levels=[
                TierLevel(name="bronze", threshold=0),
                TierLevel(name="silver", threshold=2_000_000, earn_multiplier=Decimal("1.5")),
                TierLevel(name="gold", threshold=10_000_000, earn_multiplier=Decimal(2)),
            ]
        )
    )
    merchant = merchants.create_merchant("Bench coffee", now - timedelta(days=800), program)
    merchant_id = merchant.merchant_id
    ages: dict[str, Any] = {}
    for label, months in (("new member", 0), ("one year", 12), ("two years", 24)):
        member_id, bought = _build_member(merchant_id, f"+7916{months:07d}", months, now, cipher)
        if months == 0:  # a new member's first purchase also queues its expiry: measure the next
            first = PurchaseRequest(transaction_id="new-0", member_id=member_id, amount_kopecks=87_500)
            accrual.accrue(merchant_id, first, now - timedelta(hours=1), cipher)
        ages[label] = {"purchases_before": bought, **_purchase_cost(merchant_id, member_id, now, cipher, label)}
        if months == 24:  # the month's first purchase moves last month to the member's history
            next_month = (now.replace(day=1) + timedelta(days=32)).replace(day=3)
            ages["two years, first purchase of a month"] = {
                "purchases_before": bought + 1,
                **_purchase_cost(merchant_id, member_id, next_month, cipher, "roll"),
            }
    # what every merchant request adds: the authorizer's key check and the audit entry
    per_request: dict[str, Any] = {}
    keys.authenticate(merchant.api_key, now)
    with metering() as meter:
        keys.authenticate(merchant.api_key, now)
    per_request["authorizer"] = meter.snapshot()
    keys.uses = keys.UseRecorder()
    with metering() as meter:
        keys.authenticate(merchant.api_key, now + timedelta(minutes=2))
    per_request["authorizer, the key's first use in a minute"] = meter.snapshot()
    till = Principal(merchant_id, "key", merchant.key_id, scope=Scope.FULL)
    with metering() as meter:
        audit.record(
            till,
            action="post_purchase",
            route="POST /v1/purchases",
            status=201,
            targets_touched={"transaction_id": "t-1", "member_id": "m"},
            ip="203.0.113.7",
            user_agent="pos-terminal/1.0",
            request_id="bench",
            now=now,
            cipher=cipher,
        )
    per_request["audit entry"] = meter.snapshot()
    # counting purchases into the report counters: 100 of one merchant, or 100 of 100 shops
    busy_member = enrollment.enroll(merchant_id, EnrollRequest(phone="+79170000001"), now, cipher).member_id
    for n in range(100):
        request = PurchaseRequest(transaction_id=f"busy-{n}", member_id=busy_member, amount_kopecks=50_000)
        accrual.accrue(merchant_id, request, now, cipher)
    for n in range(100):
        shop = merchants.create_merchant(f"Shop {n}", now, program).merchant_id
        member_id = enrollment.enroll(shop, EnrollRequest(phone=f"+7918{n:07d}"), now, cipher).member_id
        request = PurchaseRequest(transaction_id=f"spread-{n}", member_id=member_id, amount_kopecks=50_000)
        accrual.accrue(shop, request, now, cipher)
    records = stream_records(stack.attributes[("LedgerTable", "StreamArn")])

    def purchases(prefix: str) -> list[dict[str, Any]]:
        images = [(record, record["dynamodb"].get("NewImage", {})) for record in records]
        return [
            record
            for record, image in images
            if image.get("kind", {}).get("S") == "earn" and f'"{prefix}-' in image.get("details", {}).get("S", "")
        ]

    counting = {"busy": _counting(purchases("busy"), now), "spread": _counting(purchases("spread"), now)}
    return {"ages": ages, "per_request": per_request, "counting": counting}


def main() -> None:
    isolated.serve(run)


# ---- pricing ------------------------------------------------------------------------------------
def _template_tracing() -> dict[str, Any]:
    """What template.yaml says about X-Ray: the API's sampling rule (if any) and which functions
    trace actively (Lambda samples untraced events at its fixed rate; PassThrough follows the caller)."""
    template = _template()
    default = template.get("Globals", {}).get("Function", {}).get("Tracing", "PassThrough")
    functions = resources_of_type(template, "AWS::Serverless::Function")
    modes = {name: fn["Properties"].get("Tracing", default) for name, fn in functions.items()}
    rules = [
        rule["Properties"]["SamplingRule"] for rule in resources_of_type(template, "AWS::XRay::SamplingRule").values()
    ]
    api_rule = next((rule for rule in rules if rule.get("ServiceType") == "AWS::ApiGateway::Stage"), None)
    return {"modes": modes, "api_rule": api_rule}


def sampled_share(rate_per_second: float, reservoir: float, fixed_rate: float) -> float:
    """The share of requests X-Ray records: ``reservoir`` a second, then ``fixed_rate`` of the rest."""
    if rate_per_second <= 0:
        return 0.0
    first = min(rate_per_second, reservoir)
    return (first + fixed_rate * (rate_per_second - first)) / rate_per_second


BACKGROUND = {  # per purchase: the functions its ledger entry reaches, and how they are invoked
    "EventsFunction": "stream",
    "ReportsCounterFunction": "stream",
    "NotifyFunction": "queue",
    "WebhookFanOutFunction": "queue",
}


def _memory_gb(name: str) -> float:
    template = _template()
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    function = template["Resources"].get(name, {}).get("Properties", {})
    return float(function.get("MemorySize", default)) / 1024


def price(
    measured: dict[str, Any], scenario: Scenario, age: str = "two years", design: Design = DESIGNS[0]
) -> dict[str, float]:
    """Dollars per million purchases, by line."""
    p = {key: value for key, (value, _what) in PRICES.items()}
    accrual = measured["ages"][age]
    roll = measured["ages"]["two years, first purchase of a month"]
    per_request = measured["per_request"]
    counting = measured["counting"][scenario.counter_batch]
    # a regular's month: one purchase rolls the month (writes the history), the rest are steady
    accrual_wcu = ((PURCHASES_A_MONTH - 1) * accrual["wcu"] + roll["wcu"]) / PURCHASES_A_MONTH
    authorizer = authorizer_share(scenario, design)
    wcu = (
        accrual_wcu
        + accrual["index_wcu"]
        + per_request["audit entry"]["wcu"]
        + last_use_writes(scenario, design) * per_request["authorizer, the key's first use in a minute"]["wcu"]
        + counting["wcu"] / counting["facts"]
    )
    rcu = (
        accrual["rcu"] + authorizer * per_request["authorizer"]["rcu"] + counting["rcu"] / counting["facts"] + 0.5
    )  # the last 0.5: the webhook fan-out's read
    tracing = _template_tracing()
    lines = {
        "DynamoDB writes": wcu * p["dynamodb_write"],
        "DynamoDB reads": rcu * p["dynamodb_read"],
        "API Gateway": p[design.api],
    }
    lambda_requests = 1.0 + authorizer  # the purchase and the authorizer
    gb_seconds = (
        DURATION_MS["purchase"] * _memory_gb("AccrueApiFunction")
        + authorizer * DURATION_MS["authorizer"] * _memory_gb("MerchantKeyAuthorizerFunction")
    ) / 1000
    if not design.purchases_traced:
        traces = 0.0
    elif design.api == "api_gateway":
        traces = _api_traces(tracing, scenario)
    else:  # an HTTP API does not trace: the purchase function samples what reaches it untraced
        traces = sampled_share(scenario.purchases_per_second, 1, 0.05)
    for name, trigger in BACKGROUND.items():
        batch = scenario.stream_batch if trigger == "stream" else scenario.queue_batch
        invocations = 1.0 / batch
        lambda_requests += invocations
        gb_seconds += invocations * DURATION_MS[f"{trigger} batch"] * _memory_gb(name) / 1000
        if tracing["modes"].get(name) == "Active":  # Lambda's fixed rate: 1 a second, then 5 %
            traces += invocations * sampled_share(scenario.purchases_per_second * invocations, 1, 0.05)
    lines["Lambda requests"] = lambda_requests * p["lambda_request"]
    lines["Lambda duration"] = gb_seconds * p["lambda_gb_second_arm"] * 1_000_000
    lines["EventBridge"] = 1 * p["eventbridge_event"]  # the purchase's ledger entry, published once
    # each event lands in two queues (notify, webhooks): a send each, and a receive and a delete a batch
    lines["SQS"] = 2 * (1 + 2 / scenario.queue_batch) * p["sqs_request"]
    lines["X-Ray"] = traces * p["xray_trace"]
    return lines


def design_floor(measured: dict[str, Any]) -> float:
    """Dollars per million purchases that no saving elsewhere removes while a purchase is one
    transaction of its three items (operation record, member, ledger entry) behind API Gateway's
    REST API and a Lambda function with its authorizer: the transaction's units at a regular's
    mix, the API's requests, the two Lambda requests."""
    p = {key: value for key, (value, _what) in PRICES.items()}
    steady, roll = measured["ages"]["two years"]["wcu"], measured["ages"]["two years, first purchase of a month"]["wcu"]
    transaction_wcu = ((PURCHASES_A_MONTH - 1) * steady + roll) / PURCHASES_A_MONTH
    return float(transaction_wcu * p["dynamodb_write"] + p["api_gateway"] + 2 * p["lambda_request"])


def _api_traces(tracing: dict[str, Any], scenario: Scenario) -> float:
    rule = tracing["api_rule"]
    if rule is None:  # API Gateway's default rule: the first request each second, then 5 %
        return sampled_share(scenario.purchases_per_second, 1, 0.05)
    return sampled_share(scenario.purchases_per_second, float(rule["ReservoirSize"]), float(rule["FixedRate"]))


def measure() -> dict[str, Any]:
    return isolated.measured("bench.cost")


def report() -> dict[str, Any]:
    """Measure (in a process of its own) and print the tables; returns what was measured."""
    measured = measure()
    print_report(measured)
    return measured


def print_report(measured: dict[str, Any]) -> None:
    print()
    print(
        "| member's age | purchases before | DynamoDB calls | RCU | WCU (transaction) | index WCU | member item bytes |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for age, row in measured["ages"].items():
        calls = ", ".join(f"{count} {op}" for op, count in sorted(row["calls"].items()))
        print(
            f"| {age} | {row['purchases_before']} | {calls} | {row['rcu']:g} | {row['wcu']:g} | "
            f"{row['index_wcu']} | {row['member_item_bytes']} (history {row['history_item_bytes']}) |"
        )
    for name, row in measured["counting"].items():
        print(
            f"counting into report counters ({name}): {row['facts']} purchases, {row['wcu']:g} WCU, {row['rcu']:g} RCU"
        )
    print()
    print(
        "Prices (eu-central-1, on demand, USD): " + "; ".join(f"{what} ${value:g}" for value, what in PRICES.values())
    )
    print("Stated Lambda durations (ms): " + ", ".join(f"{name} {ms}" for name, ms in DURATION_MS.items()))
    totals = {}
    for scenario in SCENARIOS:
        lines = price(measured, scenario)
        totals[scenario.name] = sum(lines.values())
        print(f"\n{scenario.name}: {scenario.definition}")
        print("| line | $ per million purchases |")
        print("| --- | --- |")
        for name, dollars in lines.items():
            print(f"| {name} | {dollars:.2f} |")
        print(f"| total | {totals[scenario.name]:.2f} |")
    print()
    flat = measured["ages"]["two years"]["wcu"] == measured["ages"]["new member"]["wcu"]
    print("| goal | measured | goal | met? |")
    print("| --- | --- | --- | --- |")
    print(
        f"| goal 4: WCU per accrual, new member / two years | {measured['ages']['new member']['wcu']:g} / "
        f"{measured['ages']['two years']['wcu']:g} | equal | {'yes' if flat else 'no'} |"
    )
    for name, estimate in ISSUE_ESTIMATE.items():
        total = totals[name]
        met = "yes" if total <= estimate / 2 else "no"
        goal = f"<= {estimate / 2:.2f} (half of the issue's {estimate:g})"
        print(f"| goal 4: $ per million purchases, {name} | {total:.2f} | {goal} | {met} |")
    print()
    print("| design | busy, $ per million purchases | spread | what it gives up |")
    print("| --- | --- | --- | --- |")
    for design in DESIGNS:
        busy, spread = (sum(price(measured, scenario, design=design).values()) for scenario in SCENARIOS)
        print(f"| {design.name} | {busy:.2f} | {spread:.2f} | {design.gives_up} |")
    print(
        f"\nThe floor of this design, whatever else is saved: ${design_floor(measured):.2f} per million purchases "
        "(the purchase's transaction of three items, the REST API's request, the purchase's and the "
        "authorizer's Lambda requests)."
    )


if __name__ == "__main__":
    main()
