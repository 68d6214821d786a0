"""Report counters, exactly once, and the reports that read them.

Counters are added from the tables' streams: the ledger's (member entries and anonymous sales),
the notifications table's (messages sent) and the gift-card table's (cards sold and spent). The
requests that cause them pay nothing, a stream batch writes one transaction per merchant (about
90 facts each), and every fact carries its own mark in that transaction: a batch delivered twice,
bisected or replayed in any order adds nothing the second time (``data.merchants.count_facts``).

A report reads the merchant item (its program, and its costs and point value by the month they
took effect) and one query of monthly counters: the same reads for ten members as for ten
million (``make bench``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from loyalty.api.reports import CohortKpis, GiftCardMonth, GiftCardReport, KpiQuery, KpiReport, MonthKpis
from loyalty.data import ledger, merchants, notifications
from loyalty.data.gift_cards import CardEntryAdded
from loyalty.data.merchants import CounterFact
from loyalty.domain import kpis
from loyalty.domain.kpis import Month, MonthCounters, Prices, Visit
from loyalty.domain.ledger import LedgerEntry
from loyalty.domain.program import Program
from loyalty.errors import InvalidRequest
from loyalty.services.merchants import programs


@dataclass(frozen=True)
class Counted:
    facts: int  # facts in the batch
    counted: int  # of them, counted now (the rest were counted before)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _zone(merchant_id: str) -> str:
    return programs.get(merchant_id).program.timezone


def _count(facts: Iterable[tuple[str, str, Callable[[str], MonthCounters]]], now: datetime) -> Counted:
    """Facts as (fact id, merchant, counters in the merchant's time zone)."""
    built = [
        CounterFact(fact_id, merchant_id, counters(_zone(merchant_id))) for fact_id, merchant_id, counters in facts
    ]
    return Counted(len(built), merchants.count_facts(built, now))


def count_stream(stream_event: Mapping[str, Any], now: datetime) -> Counted:
    """Count a batch of the ledger's or the notifications table's stream."""
    entries = ledger.entries_from_stream(stream_event)
    sales = ledger.sales_from_stream(stream_event)
    sent = notifications.sent_from_stream(stream_event)
    return _count(
        [
            *[(entry.entry_id, entry.merchant_id, _entry_counters(entry)) for entry in entries],
            *[(sale.fact_id, sale.merchant_id, _visit_counters(sale.visit)) for sale in sales],
            *[(message.delivery, message.merchant_id, _message_counters(message)) for message in sent],
        ],
        now,
    )


def _entry_counters(entry: LedgerEntry) -> Callable[[str], MonthCounters]:
    return lambda zone: kpis.entry_counters(entry, zone)


def _visit_counters(visit: Visit) -> Callable[[str], MonthCounters]:
    return lambda _zone: kpis.visit_counters(visit)  # the visit's month was decided with the sale


def _message_counters(message: notifications.SentMessage) -> Callable[[str], MonthCounters]:
    return lambda zone: kpis.message_counters(message.channel, message.sent_at, zone)


def count_gift_card_lines(lines: Iterable[CardEntryAdded], now: datetime) -> Counted:
    """Gift cards sold and spent, from the gift-card table's stream."""

    def counters(line: CardEntryAdded) -> Callable[[str], MonthCounters]:
        return lambda zone: kpis.gift_card_counters(line.kind, line.amount_kopecks, line.created_at, zone)

    return _count([(f"gift-card:{line.line}", line.merchant_id, counters(line)) for line in lines], now)


# ---- reports ---------------------------------------------------------------------------------------
def _prices(program: Program) -> Prices:
    costs = program.costs
    return Prices(
        unit_value_kopecks=program.unit_value_kopecks,
        monthly_fee_kopecks=costs.monthly_fee_kopecks,
        sms_kopecks=costs.sms_kopecks,
        push_kopecks=costs.push_kopecks,
        email_kopecks=costs.email_kopecks,
    )


def report_range(query: KpiQuery, program: Program, now: datetime) -> tuple[Month, Month]:
    current = kpis.month_of(now, program.timezone)
    first, last = kpis.default_range(current, query.start, query.end)
    problem = kpis.range_problem(current, first, last)
    if problem:
        raise InvalidRequest(problem, code="invalid_range", details={"from": first, "to": last})
    return first, last


def kpi_report(merchant_id: str, query: KpiQuery, now: datetime) -> KpiReport:
    """One GetItem (the merchant: program and prices history) and one Query (monthly counters)."""
    merchant = merchants.get(merchant_id)
    program = Program.model_validate(merchant.program, strict=False)
    first, last = report_range(query, program, now)
    prices = kpis.prices_in_force(merchant.prices, _prices(program))
    months, cohorts = kpis.report(merchants.read_months(merchant_id, last), first, last, prices)
    return KpiReport.model_validate(
        {
            "from": first,
            "to": last,
            "timezone": program.timezone,
            "months": [MonthKpis.model_validate(asdict(month)) for month in months],
            "cohorts": [CohortKpis.model_validate(asdict(cohort)) for cohort in cohorts],
        }
    )


def gift_card_report(merchant_id: str, query: KpiQuery, now: datetime) -> GiftCardReport:
    program = programs.get(merchant_id).program
    first, last = report_range(query, program, now)
    counters = merchants.read_months(merchant_id, last)
    outstanding = 0
    rows = []
    for month in kpis.months_from(min(*counters, first) if counters else first, last):
        here = counters.get(month, {})
        outstanding += here.get("gift_card_nominal_kopecks", 0) - here.get("gift_card_redeemed_kopecks", 0)
        if month >= first:
            rows.append(
                GiftCardMonth(
                    month=month,
                    cards_sold=here.get("gift_cards_sold", 0),
                    nominal_sold_kopecks=here.get("gift_card_nominal_kopecks", 0),
                    redeemed_kopecks=here.get("gift_card_redeemed_kopecks", 0),
                    outstanding_kopecks=outstanding,
                )
            )
    return GiftCardReport.model_validate({"from": first, "to": last, "timezone": program.timezone, "months": rows})
