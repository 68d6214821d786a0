"""The merchants table: merchants with their current program, program history, the rewards
catalog, notification templates, and the report counters (API keys live in the credentials table).

Keys:
- merchant          pk ``<merchant>``              sk ``PROFILE`` (the program inline: one read per purchase)
- program version   pk ``<merchant>``              sk ``PROGRAM#<version:06d>``
- reward            pk ``<merchant>``              sk ``REWARD#<reward id>``
- template          pk ``<merchant>``              sk ``TEMPLATE#<kind>#<channel>#<language>``
- month counters    pk ``<merchant>``              sk ``KPI#<YYYY-MM>`` (months of the program's time zone)
- counted mark      pk ``COUNTED#<fact id>``       sk ``C`` (a stream fact was counted; expires by TTL)
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from loyalty.data.base import Item, table_base
from loyalty.data.transaction import MAX_ITEMS, AlreadyExists, Contended, Transaction
from loyalty.errors import NotFound
from loyalty.platform.aws import client

PROFILE = "PROFILE"


@table_base
class _MerchantsTable(Item):
    table_env = "merchants_table"

    class Meta:
        table_name = "unbound"


class MerchantItem(_MerchantsTable):
    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    created_at = UTCDateTimeAttribute()
    program = JSONAttribute()
    program_version = NumberAttribute(default=1)
    settings = JSONAttribute(default=dict)
    prices = JSONAttribute(default=dict)  # the KPI report's prices by the month they took effect


class ProgramVersionItem(_MerchantsTable):
    program = JSONAttribute()
    version = NumberAttribute()
    created_at = UTCDateTimeAttribute()


class RewardItem(_MerchantsTable):
    reward_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    cost_points = NumberAttribute()
    coupon_valid_days = NumberAttribute()
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()


class TemplateItem(_MerchantsTable):
    kind = UnicodeAttribute()
    channel = UnicodeAttribute()
    language = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    body = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


# ---- merchants and programs ------------------------------------------------------------------
@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    name: str
    created_at: datetime
    program: Mapping[str, Any]
    program_version: int
    settings: Mapping[str, Any] = field(default_factory=dict)
    status: str = "active"
    # What the program cost and what a point was worth, by the month ("YYYY-MM") they took effect.
    prices: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


def get(merchant_id: str) -> Merchant:
    try:
        item = MerchantItem.get(merchant_id, PROFILE)
    except DoesNotExist as exc:
        raise NotFound("merchant not found", code="merchant_not_found") from exc
    return Merchant(
        item.merchant_id,
        item.name,
        item.created_at,
        dict(item.program),
        int(item.program_version),
        dict(item.settings or {}),
        item.status,
        dict(item.prices or {}),
    )


def _program_version(merchant_id: str, version: int, program: Mapping[str, Any], now: datetime) -> ProgramVersionItem:
    return ProgramVersionItem(
        merchant_id, f"PROGRAM#{version:06d}", program=dict(program), version=version, created_at=now
    )


def stage_create(tx: Transaction, merchant: Merchant) -> None:
    """A new merchant and its first program version (``AlreadyExists("merchant")``)."""
    tx.create(
        MerchantItem(
            merchant.merchant_id,
            PROFILE,
            merchant_id=merchant.merchant_id,
            name=merchant.name,
            created_at=merchant.created_at,
            program=dict(merchant.program),
            program_version=merchant.program_version,
            settings=dict(merchant.settings),
            prices=dict(merchant.prices),
        ),
        name="merchant",
    )
    tx.put(_program_version(merchant.merchant_id, merchant.program_version, merchant.program, merchant.created_at))


def save_program(
    merchant_id: str,
    program: Mapping[str, Any],
    version: int,
    now: datetime,
    prices: Mapping[str, Mapping[str, int]] | None = None,
) -> None:
    """Make ``program`` version ``version``, if the current one is still ``version - 1``
    (``Stale("program")`` otherwise); with ``prices``, the prices history too."""
    tx = Transaction()
    actions = [MerchantItem.program.set(dict(program)), MerchantItem.program_version.set(version)]
    if prices is not None:
        actions.append(MerchantItem.prices.set(dict(prices)))
    tx.update(
        MerchantItem(merchant_id, PROFILE),
        actions,
        condition=MerchantItem.program_version == version - 1,
        name="program",
    )
    tx.put(_program_version(merchant_id, version, program, now))
    tx.commit()


def save_settings(merchant_id: str, settings: Mapping[str, Any]) -> None:
    tx = Transaction()
    tx.update(
        MerchantItem(merchant_id, PROFILE),
        [MerchantItem.settings.set(dict(settings))],
        condition=MerchantItem.pk.exists(),
        name="merchant",
    )
    tx.commit()


# ---- rewards -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reward:
    merchant_id: str
    reward_id: str
    name: str
    cost_points: int
    coupon_valid_days: int
    created_at: datetime
    description: str | None = None
    active: bool = True


def _reward(item: RewardItem) -> Reward:
    merchant_id = str(item.pk)
    return Reward(
        merchant_id,
        item.reward_id,
        item.name,
        int(item.cost_points),
        int(item.coupon_valid_days),
        item.created_at,
        item.description,
        bool(item.active),
    )


def stage_reward(tx: Transaction, reward: Reward) -> None:
    tx.create(
        RewardItem(
            reward.merchant_id,
            f"REWARD#{reward.reward_id}",
            reward_id=reward.reward_id,
            name=reward.name,
            description=reward.description,
            cost_points=reward.cost_points,
            coupon_valid_days=reward.coupon_valid_days,
            active=reward.active,
            created_at=reward.created_at,
        ),
        name="reward",
    )


def save_reward(reward: Reward) -> None:
    """An existing reward as edited (``Stale("reward")`` if there is no such reward)."""
    tx = Transaction()
    tx.update(
        RewardItem(reward.merchant_id, f"REWARD#{reward.reward_id}"),
        [
            RewardItem.name.set(reward.name),
            RewardItem.description.set(reward.description) if reward.description else RewardItem.description.remove(),
            RewardItem.cost_points.set(reward.cost_points),
            RewardItem.coupon_valid_days.set(reward.coupon_valid_days),
            RewardItem.active.set(reward.active),
        ],
        condition=RewardItem.pk.exists(),
        name="reward",
    )
    tx.commit()


def get_reward(merchant_id: str, reward_id: str) -> Reward | None:
    try:
        return _reward(RewardItem.get(merchant_id, f"REWARD#{reward_id}"))
    except DoesNotExist:
        return None


def rewards(merchant_id: str) -> list[Reward]:
    return [_reward(item) for item in RewardItem.query(merchant_id, RewardItem.sk.startswith("REWARD#"))]


# ---- notification templates ----------------------------------------------------------------
@dataclass(frozen=True)
class StoredTemplate:
    kind: str
    channel: str
    language: str
    subject: str | None
    body: str


def templates(merchant_id: str) -> list[StoredTemplate]:
    items = TemplateItem.query(merchant_id, TemplateItem.sk.startswith("TEMPLATE#"))
    return [StoredTemplate(item.kind, item.channel, item.language, item.subject, item.body) for item in items]


def save_templates(merchant_id: str, templates_to_save: list[StoredTemplate], now: datetime) -> None:
    """Save a set of templates together (a template given twice: the last one counts)."""
    by_key = {(t.kind, t.channel, t.language): t for t in templates_to_save}
    stored = list(by_key.values())
    for start in range(0, len(stored), 100):
        tx = Transaction()
        for template in stored[start : start + 100]:
            tx.put(
                TemplateItem(
                    merchant_id,
                    f"TEMPLATE#{template.kind}#{template.channel}#{template.language}",
                    kind=template.kind,
                    channel=template.channel,
                    language=template.language,
                    subject=template.subject,
                    body=template.body,
                    updated_at=now,
                )
            )
        tx.commit()


# ---- report counters ---------------------------------------------------------------------------
KPI_PREFIX = "KPI#"
COUNTED_PREFIX = "COUNTED#"
COUNTED_SK = "C"
# A stream redelivers a record only while the stream keeps it (24 hours): a counted mark outlives that.
COUNTED_KEEP = timedelta(days=7)
COUNTING_ATTEMPTS = 8


class MonthItem(_MerchantsTable):
    """A merchant's counters of one month: number attributes named by what they count
    (``domain.kpis``), added to with ADD."""


class CountedItem(_MerchantsTable):
    """A fact (a ledger entry, a sale, a sent message, a gift-card line) was added to its month's
    counters: written in the same transaction as the counters, so a fact counts once."""

    expires_at = NumberAttribute()  # TTL: cleanup only


@dataclass(frozen=True)
class CounterFact:
    """Something that happened, with what it adds to which months of its merchant's counters."""

    fact_id: str
    merchant_id: str
    months: Mapping[str, Mapping[str, int]]


def _month_sk(month: str) -> str:
    return f"{KPI_PREFIX}{month}"


def _stage_fact(tx: Transaction, fact: CounterFact, expires_at: int) -> None:
    tx.create(CountedItem(f"{COUNTED_PREFIX}{fact.fact_id}", COUNTED_SK, expires_at=expires_at), name="counted")


def _stage_months(tx: Transaction, merchant_id: str, months: Mapping[str, Mapping[str, int]]) -> None:
    for month, counters in sorted(months.items()):
        actions = [NumberAttribute(attr_name=name).add(value) for name, value in sorted(counters.items()) if value]
        if actions:
            tx.update(MonthItem(merchant_id, _month_sk(month)), actions)


def _added(facts: Sequence[CounterFact]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for fact in facts:
        for month, counters in fact.months.items():
            target = total.setdefault(month, {})
            for name, value in counters.items():
                target[name] = target.get(name, 0) + value
    return total


def _commit(merchant_id: str, facts: Sequence[CounterFact], expires_at: int) -> None:
    """Count ``facts`` in one transaction (``AlreadyExists("counted")`` if any was counted before);
    retried while another transaction holds the same counters."""
    for attempt in range(COUNTING_ATTEMPTS):
        tx = Transaction()
        for fact in facts:
            _stage_fact(tx, fact, expires_at)
        _stage_months(tx, merchant_id, _added(facts))
        try:
            tx.commit()
            return
        except Contended:
            if attempt == COUNTING_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311 - jitter, not crypto


def _chunks(facts: Sequence[CounterFact]) -> list[list[CounterFact]]:
    """Facts in groups whose marks and month items fit one transaction."""
    chunks: list[list[CounterFact]] = []
    current: list[CounterFact] = []
    months: set[str] = set()
    for fact in facts:
        wanted = months | set(fact.months)
        if current and len(current) + 1 + len(wanted) > MAX_ITEMS:
            chunks.append(current)
            current, wanted = [], set(fact.months)
        current.append(fact)
        months = wanted
    return [*chunks, current] if current else chunks


def count_facts(facts: Sequence[CounterFact], now: datetime) -> int:
    """Add each fact to its merchant's month counters exactly once, whatever is redelivered: the
    counters and a mark per fact are written in one transaction, and a fact already marked adds
    nothing. Facts are written together per merchant (one transaction per ~90 facts); when a batch
    holds facts counted before (a redelivered or bisected batch), each is tried alone. Returns
    how many facts were counted now."""
    expires_at = int((now + COUNTED_KEEP).timestamp())
    unique = list({fact.fact_id: fact for fact in facts}.values())
    by_merchant: dict[str, list[CounterFact]] = {}
    for fact in unique:
        by_merchant.setdefault(fact.merchant_id, []).append(fact)
    counted = 0
    for merchant_id, mine in sorted(by_merchant.items()):
        for chunk in _chunks(mine):
            counted += _count_chunk(merchant_id, chunk, expires_at)
    return counted


def _count_chunk(merchant_id: str, chunk: list[CounterFact], expires_at: int) -> int:
    try:
        _commit(merchant_id, chunk, expires_at)
    except AlreadyExists:
        return sum(_count_alone(merchant_id, fact, expires_at) for fact in chunk)
    return len(chunk)


def _count_alone(merchant_id: str, fact: CounterFact, expires_at: int) -> int:
    try:
        _commit(merchant_id, [fact], expires_at)
    except AlreadyExists:
        return 0  # counted before: the redelivery adds nothing
    return 1


def stage_month_counters(tx: Transaction, merchant_id: str, months: Mapping[str, Mapping[str, int]]) -> None:
    """ADD to the merchant's month counters in the transaction being built, so that they count
    exactly when its other writes happen (the purchase history's records)."""
    _stage_months(tx, merchant_id, months)


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def read_months(merchant_id: str, last: str) -> dict[str, dict[str, int]]:
    """The counters of every month of the merchant up to ``last`` ("YYYY-MM"): one query (a page
    holds decades of months), whatever the number of members or purchases."""
    dynamodb = client("dynamodb")
    months: dict[str, dict[str, int]] = {}
    start: dict[str, Any] | None = None
    while True:
        page = dynamodb.query(
            TableName=MerchantItem.Meta.table_name,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": merchant_id},
                ":first": {"S": KPI_PREFIX},
                ":last": {"S": _month_sk(last)},
            },
            **({"ExclusiveStartKey": start} if start else {}),
        )
        for item in page.get("Items", []):
            months[item["sk"]["S"].removeprefix(KPI_PREFIX)] = _numbers(item)
        start = page.get("LastEvaluatedKey")
        if not start:
            return months
