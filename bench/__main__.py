"""`make bench`: DynamoDB calls and capacity units per operation (machine-independent counts), and
the cost of the accrual use case against bare TransactWriteItems calls, as a ratio in one run."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import boto3
import requests
from moto.server import ThreadedMotoServer

from bench import cost, expiry_runs, fair_floor, http_latency, isolated, webhooks
from bench.dynamo_meter import Meter, metering
from infra.local import moto_patches
from infra.local.provision import REGION, provision, push_platform_parameters
from infra.local.stack import aws_environment

RUNS = int(os.environ.get("BENCH_RUNS", "200"))


def start_aws() -> ThreadedMotoServer:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.apply()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update(aws_environment(f"http://{host}:{port}", "ERROR"))
    os.environ.update({"POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_METRICS_NAMESPACE": "Bench"})
    session = boto3.session.Session(region_name=REGION)
    stack = provision(session, parameters={"NamePrefix": "", **push_platform_parameters(session)})
    os.environ.update(stack.environment())
    return server


def fresh_stack() -> None:
    from loyalty.services.member_lookup import lookups
    from loyalty.services.merchants import programs

    requests.post(f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/reset", timeout=10)
    session = boto3.session.Session(region_name=REGION)
    provision(session, parameters={"NamePrefix": "", **push_platform_parameters(session)})
    programs.invalidate_all()
    lookups.clear()


def measure(meter: Meter, action: Callable[[], Any]) -> dict[str, Any]:
    meter.reset()
    action()
    return meter.snapshot()


def main() -> None:  # noqa: PLR0915 - one linear script of scenarios reads best
    server = start_aws()
    from loyalty import runtime
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.api.redemptions import QuoteRequest, RedemptionRequest
    from loyalty.clock import utcnow
    from loyalty.config import CoreConfig
    from loyalty.domain.access import Principal, Scope
    from loyalty.services import accrual, audit, enrollment, expiry, keys, merchants, redemption

    runtime.bootstrap(CoreConfig.from_env())
    cipher = runtime.current().cipher()
    now = utcnow()
    merchant = merchants.create_merchant("Bench", now)
    phone = "+79160000001"
    member = enrollment.enroll(merchant.merchant_id, EnrollRequest(phone=phone), now, cipher)
    merchants.programs.get(merchant.merchant_id)  # warm the program cache, as a warm Lambda has it
    results: dict[str, Any] = {}
    counter = iter(range(10**9))

    named_by: dict[str, dict[str, Any]] = {
        "member id": {"member_id": member.member_id},
        "card number": {"card_number": member.card_number},
        "phone": {"phone": phone},
    }

    def purchase(by: str = "member id", at: Any = now) -> None:
        request = PurchaseRequest(transaction_id=f"t-{next(counter)}", amount_kopecks=100_000, **named_by[by])
        accrual.accrue(merchant.merchant_id, request, at, cipher)

    def redeem(by: str) -> None:
        request = RedemptionRequest(redemption_id=f"r-{next(counter)}", points=1, amount_kopecks=10_000, **named_by[by])
        redemption.redeem(merchant.merchant_id, request, now, cipher)

    with metering() as meter:
        purchase()  # first accrual also queues the member for expiry; measure a steady one
        results["accrual (member id)"] = measure(meter, purchase)
        results.update(
            by_card_and_phone(
                meter,
                purchase,
                lambda by: redemption.quote(
                    merchant.merchant_id, QuoteRequest(amount_kopecks=10_000, **named_by[by]), now, cipher
                ),
                redeem,
            )
        )
        results["accrual replayed (same transaction id)"] = measure(
            meter,
            lambda: accrual.accrue(
                merchant.merchant_id,
                PurchaseRequest(transaction_id="t-0", member_id=member.member_id, amount_kopecks=100_000),
                now,
                cipher,
            ),
        )
        results["redemption (immediate)"] = measure(
            meter,
            lambda: redemption.redeem(
                merchant.merchant_id,
                RedemptionRequest(redemption_id="r-1", member_id=member.member_id, points=1, amount_kopecks=10_000),
                now,
                cipher,
            ),
        )
        results["redemption (hold)"] = measure(
            meter,
            lambda: redemption.redeem(
                merchant.merchant_id,
                RedemptionRequest(
                    redemption_id="r-2", member_id=member.member_id, points=1, amount_kopecks=10_000, mode="hold"
                ),
                now,
                cipher,
            ),
        )
        results["hold confirm"] = measure(meter, lambda: redemption.confirm(merchant.merchant_id, "r-2", now))
        # What every merchant request adds: the authorizer's check, and an audit entry per change.
        keys.authenticate(merchant.api_key, now)  # the key's first use this minute is recorded
        results["authorizer, API key"] = measure(meter, lambda: keys.authenticate(merchant.api_key, now))
        keys.uses = keys.UseRecorder()  # a new container, a minute later: it records the use once
        results["authorizer, API key, once a minute (last use)"] = measure(
            meter, lambda: keys.authenticate(merchant.api_key, now + timedelta(minutes=2))
        )
        till = Principal(merchant.merchant_id, "key", merchant.key_id, scope=Scope.FULL)
        results["audit entry of a change"] = measure(
            meter,
            lambda: audit.record(
                till,
                action="post_purchase",
                route="POST /v1/purchases",
                status=201,
                targets_touched={"transaction_id": "t-1", "member_id": member.member_id},
                ip="203.0.113.7",
                user_agent="pos-terminal/1.0",
                request_id="bench",
                now=now,
                cipher=cipher,
            ),
        )
        later = now + timedelta(days=31 * 14)
        results["expiry job, one member with one expired lot"] = measure(meter, lambda: expiry.run_expiry(later))
        results["expiry job, nothing due"] = measure(meter, lambda: expiry.run_expiry(later))
        results.update(webhooks.costs(meter, measure))

    goal5 = fair_floor.run(merchant.merchant_id, member.member_id, now, cipher, RUNS)
    # Same number of accruals and bare transactions, interleaved in one run, as a ratio.
    client = boto3.client("dynamodb", region_name=REGION)
    bare_numbers = iter(range(10**9))

    def bare_transaction() -> None:
        n = next(bare_numbers)
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "operations", "Item": {"pk": {"S": f"bare#{n}"}, "sk": {"S": "OP"}}}},
                {"Put": {"TableName": "ledger", "Item": {"pk": {"S": "bare"}, "sk": {"S": f"{n:09d}"}}}},
                {"Put": {"TableName": "members", "Item": {"pk": {"S": "bare"}, "sk": {"S": "MEMBER"}}}},
            ]
        )

    use_case = bare = 0.0
    for _ in range(RUNS // 20):
        started = time.perf_counter()
        for _ in range(20):
            purchase()
        use_case += time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(20):
            bare_transaction()
        bare += time.perf_counter() - started
    jobs = job_scaling(now)
    server.stop()

    print_operations(results)
    print()
    print(
        f"{RUNS} accruals through the use case vs {RUNS} bare 3-item TransactWriteItems on the same moto: "
        f"ratio {use_case / bare:.2f} (use case {use_case:.2f}s, bare {bare:.2f}s; ratios only, this machine is noisy)"
    )
    fair_floor.print_row(goal5)
    print()
    print("| scheduled job | members due | other members | result | DynamoDB calls | RCU |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in jobs:
        calls = ", ".join(f"{count} {op}" for op, count in sorted(row["calls"].items()))
        outcome = ", ".join(f"{k} {v}" for k, v in row["outcome"].items() if k != "complete")
        print(f"| {row['job']} | {row['due']} | {row['others']} | {outcome} | {calls} | {row['rcu']:g} |")
    reports = kpi_report_scaling()
    print_kpi_reports(reports)
    expiry_runs.print_table(expiry_runs.measure())
    # The whole local stack in a process of its own (its own moto, its own connections).
    delivery = webhooks.run_in_subprocess()
    print()
    print(
        f"webhooks through the local stack: purchase answered -> delivery at the stack's receiver, "
        f"{delivery['purchases']} purchases: median {delivery['latency_median_s']:.2f}s, "
        f"p90 {delivery['latency_p90_s']:.2f}s, max {delivery['latency_max_s']:.2f}s; gaps between attempts "
        f"with a 1 s retry base: {', '.join(f'{gap:.2f}s' for gap in delivery['retry_gaps_s_with_base_1s'])}"
    )
    over_http = http_latency.measure()
    http_latency.print_table(over_http)
    cost.report()
    with open(os.path.join(os.path.dirname(__file__), "last-run.json"), "w", encoding="utf-8") as handle:
        json.dump(
            {
                "per_operation": results,
                "ratio_accrual_vs_bare_transaction": use_case / bare,
                "goal5_accrual_vs_fair_floor": goal5,
                "jobs": jobs,
                "webhook_delivery": delivery,
                "kpi_report": reports,
                "over_http": over_http,
            },
            handle,
            indent=2,
        )


def print_operations(results: dict[str, Any]) -> None:
    print("| operation | DynamoDB calls | RCU | WCU |")
    print("| --- | --- | --- | --- |")
    for name, snapshot in results.items():
        calls = ", ".join(f"{count} {op}" for op, count in sorted(snapshot["calls"].items()))
        print(f"| {name} | {calls} | {snapshot['rcu']:g} | {snapshot['wcu']:g} |")


def by_card_and_phone(
    meter: Meter, purchase: Callable[[str], Any], quote: Callable[[str], Any], redeem: Callable[[str], Any]
) -> dict[str, Any]:
    """The till's usual case. A container's first sight of a card or phone reads its look-up item;
    later ones do not (``services.member_lookup``)."""
    results = {
        "accrual (card number, first in this container)": measure(meter, lambda: purchase("card number")),
        "accrual (phone, first in this container)": measure(meter, lambda: purchase("phone")),
    }
    for by in ("card number", "phone"):
        for name, action in (("accrual", purchase), ("quote", quote), ("redemption, immediate", redeem)):
            results[f"{name} ({by}, warm)"] = measure(meter, functools.partial(action, by))
    return results


def print_kpi_reports(reports: list[dict[str, Any]]) -> None:
    print()
    print("| KPI report, 12 months | members | ledger stream records | DynamoDB calls | RCU |")
    print("| --- | --- | --- | --- | --- |")
    for row in reports:
        calls = ", ".join(f"{count} {op}" for op, count in sorted(row["report"]["calls"].items()))
        print(f"| read | {row['members']} | {row['stream_records']} | {calls} | {row['report']['rcu']:g} |")
    for row in reports[:1]:
        batch = row["count_batch"]
        calls = ", ".join(f"{count} {op}" for op, count in sorted(batch["calls"].items()))
        print(f"| counting one stream batch of {batch['facts']} facts | - | - | {calls} | WCU {batch['wcu']:g} |")


def kpi_report_scaling() -> list[dict[str, Any]]:
    """The KPI report for 100 and 10,000 members (``bench.kpis``, one process each)."""
    sizes = [int(size) for size in os.environ.get("BENCH_KPI_MEMBERS", "100,10000").split(",")]
    rows = []
    for members in sizes:
        print(f"building a year of a shop with {members} members for the KPI report ...", file=sys.stderr, flush=True)
        rows.append(isolated.measured("bench.kpis", str(members)))
    return rows


def job_scaling(now: datetime) -> list[dict[str, Any]]:
    """The same ten members due, among ten times more members: a job's reads must not change
    (no scans; each job reads only the index partitions of its day). Each scale runs on a fresh
    stack so that the measured run is the first for its members."""
    from loyalty.api.members import EnrollRequest
    from loyalty.api.purchases import PurchaseRequest
    from loyalty.clock import add_months, end_of_month
    from loyalty.domain.program import Program, TierLevel, Tiers
    from loyalty.runtime import current
    from loyalty.services import accrual, bonuses, enrollment, expiry, merchants, tiers

    program = Program(
        tiers=Tiers(levels=[TierLevel(name="bronze", threshold=0), TierLevel(name="gold", threshold=100_000)])
    )
    today, later = now.date(), now + timedelta(days=45)
    review_at = datetime.combine(add_months(today, 12), now.timetz())
    warn_at = datetime.combine(end_of_month(add_months(today, 12)) - timedelta(days=7), now.timetz())
    rows = []
    for others in (100, 1000):
        fresh_stack()
        cipher = current().cipher()
        merchant_id = merchants.create_merchant("Jobs", now, program).merchant_id
        for n in range(10 + others):
            due = n < 10
            birthday = (today if due else today + timedelta(days=100)).replace(year=1990)
            member = enrollment.enroll(
                merchant_id, EnrollRequest(phone=f"+7917{n:07d}", birthday=birthday), now, cipher
            )
            accrual.accrue(
                merchant_id,
                PurchaseRequest(transaction_id=f"job-{n}", member_id=member.member_id, amount_kopecks=100_000),
                now if due else later,
                cipher,
            )
        jobs: list[tuple[str, Callable[[], object]]] = [
            ("birthdays", lambda: bonuses.run_birthdays(now)),
            ("tier review (a year later)", lambda: tiers.run_tier_review(review_at)),
            ("expiry warnings (7 days ahead)", lambda: expiry.run_warnings(warn_at, lambda _events: None)),
        ]
        for name, run in jobs:
            with metering() as meter:
                outcome = run()
            rows.append({"job": name, "due": 10, "others": others, "outcome": outcome, **meter.snapshot()})
    return rows


if __name__ == "__main__":
    main()
