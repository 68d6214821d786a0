"""Pre-aggregated counters for reports: a report reads a few counter items, never the ledger.

Counters are added from the tables' streams (in batches, aggregated per merchant and day), so the
requests that cause them pay nothing and a hot merchant's counter is written once per batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from loyalty.api.reports import DayFigures, GiftCardSummary, PointsSummary, ReportSummary
from loyalty.data import ledger, merchants
from loyalty.domain.ledger import EntryKind, LedgerEntry
from loyalty.errors import InvalidRequest
from loyalty.services.merchants import programs

Counters = dict[str, int]
MAX_DAYS = 366
REDEEMED = (EntryKind.REDEEM, EntryKind.REWARD, EntryKind.GIFT_CARD)
GIVEN_BACK = (EntryKind.REDEEM_REVERSAL, EntryKind.GIFT_CARD_REFUND)


def ledger_counters(entry: LedgerEntry) -> Counters:
    details, points, kind = entry.details, entry.points, entry.kind
    if kind is EntryKind.ENROLLED:
        return {"members_new": 1, "points_issued": points}
    if kind is EntryKind.EARN:
        counters = {"purchases": 1, "purchase_kopecks": int(details.get("amount_kopecks", 0)), "points_issued": points}
        if details.get("first_in_month"):
            counters["members_active"] = 1
        return counters
    if kind in (EntryKind.BONUS, EntryKind.ADJUSTMENT) and points > 0:
        return {"points_issued": points, f"bonus_{details.get('bonus', 'adjustment')}": points}
    return _taken_counters(kind, -points, int(details.get("amount_kopecks", 0)))


def _taken_counters(kind: EntryKind, taken: int, amount_kopecks: int) -> Counters:
    """Points that left (or came back to) members: redeemed, expired, clawed back."""
    if kind in REDEEMED:
        return {"points_redeemed": taken, "redemptions": 1}
    if kind in GIVEN_BACK:
        return {"points_redeemed": taken}
    if kind in (EntryKind.REFUND, EntryKind.BONUS_REVERSAL, EntryKind.ADJUSTMENT):
        return {"points_clawed_back": taken, "refund_kopecks": amount_kopecks}
    if kind is EntryKind.EXPIRE:
        return {"points_expired": taken}
    return {}


def gift_card_counters(kind: str, amount_kopecks: int) -> Counters:
    if kind == "issued":
        return {"gift_cards_sold": 1, "gift_card_nominal_kopecks": amount_kopecks}
    if kind == "redeemed":
        return {"gift_card_redeemed_kopecks": -amount_kopecks}
    return {}


def aggregate(rows: Iterable[tuple[str, date, Counters]]) -> dict[tuple[str, date], Counters]:
    totals: dict[tuple[str, date], Counters] = defaultdict(lambda: defaultdict(int))
    for merchant_id, day, counters in rows:
        for name, value in counters.items():
            if value:
                totals[(merchant_id, day)][name] += value
    return {key: dict(value) for key, value in totals.items() if value}


def count_ledger(stream_event: Mapping[str, Any]) -> tuple[int, int]:
    """Count a batch of the ledger's stream; returns (entries, counter writes)."""
    entries = ledger.entries_from_stream(stream_event)
    return len(entries), count(
        (entry.merchant_id, entry.created_at.date(), ledger_counters(entry)) for entry in entries
    )


def count(rows: Iterable[tuple[str, date, Counters]]) -> int:
    """Add a stream batch's counters, one write per merchant and day; returns the writes."""
    aggregated = aggregate(rows)
    for (merchant_id, day), counters in aggregated.items():
        merchants.add_counters(merchant_id, day, counters)
    return len(aggregated)


def summary(merchant_id: str, start: date | None, end: date | None, today: date) -> ReportSummary:
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end or (end - start).days >= MAX_DAYS:
        raise InvalidRequest(f"from must not be after to, and the range at most {MAX_DAYS} days")
    total, days = merchants.read_counters(merchant_id, start, end)
    value = programs.get(merchant_id).program.unit_value_kopecks
    issued, redeemed = total.get("points_issued", 0), total.get("points_redeemed", 0)
    expired, clawed = total.get("points_expired", 0), total.get("points_clawed_back", 0)
    outstanding = issued - redeemed - expired - clawed
    members_total, purchases = total.get("members_new", 0), total.get("purchases", 0)
    sold, redeemed_value = total.get("gift_card_nominal_kopecks", 0), total.get("gift_card_redeemed_kopecks", 0)
    return ReportSummary(
        members_total=members_total,
        purchases=purchases,
        purchase_kopecks=total.get("purchase_kopecks", 0),
        average_check_kopecks=total.get("purchase_kopecks", 0) // purchases if purchases else 0,
        purchases_per_member=round(purchases / members_total, 2) if members_total else 0.0,
        points=PointsSummary(
            issued=issued,
            redeemed=redeemed,
            expired=expired,
            clawed_back=clawed,
            outstanding=outstanding,
            liability_kopecks=outstanding * value,
        ),
        gift_cards=GiftCardSummary(
            cards_sold=total.get("gift_cards_sold", 0),
            nominal_sold_kopecks=sold,
            redeemed_kopecks=redeemed_value,
            outstanding_kopecks=sold - redeemed_value,
        ),
        days=[
            DayFigures(day=day, **{k: v for k, v in figures.items() if k in DayFigures.model_fields})
            for day, figures in sorted(days.items())
        ],
    )
