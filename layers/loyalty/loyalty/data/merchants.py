"""The merchants table: merchants with their current program, program history, the rewards
catalog, notification templates, and the report counters (API keys live in the credentials table).

Keys:
- merchant          pk ``<merchant>``              sk ``PROFILE`` (the program inline: one read per purchase)
- program version   pk ``<merchant>``              sk ``PROGRAM#<version:06d>``
- reward            pk ``<merchant>``              sk ``REWARD#<reward id>``
- template          pk ``<merchant>``              sk ``TEMPLATE#<kind>#<channel>#<language>``
- counters          pk ``<merchant>``              sk ``STATS#TOTAL`` | ``STATS#<YYYY-MM-DD>`` | ``STATS#<YYYY-MM>``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from loyalty.data.base import Item, table_base
from loyalty.data.transaction import Transaction
from loyalty.errors import NotFound
from loyalty.platform.aws import client

PROFILE = "PROFILE"
TOTAL = "STATS#TOTAL"


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
        ),
        name="merchant",
    )
    tx.put(_program_version(merchant.merchant_id, merchant.program_version, merchant.program, merchant.created_at))


def save_program(merchant_id: str, program: Mapping[str, Any], version: int, now: datetime) -> None:
    """Make ``program`` version ``version``, if the current one is still ``version - 1``
    (``Stale("program")`` otherwise)."""
    tx = Transaction()
    tx.update(
        MerchantItem(merchant_id, PROFILE),
        [MerchantItem.program.set(dict(program)), MerchantItem.program_version.set(version)],
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
def _day_sk(day: date) -> str:
    return f"STATS#{day.isoformat()}"


def _month_sk(day: date) -> str:
    return f"STATS#{day:%Y-%m}"


def add_counters(merchant_id: str, day: date, counters: Mapping[str, int]) -> None:
    """ADD the counters to the merchant's total, its day and its month."""
    if not counters:
        return
    names = {f"#c{i}": name for i, name in enumerate(counters)}
    values = {f":v{i}": {"N": str(value)} for i, value in enumerate(counters.values())}
    expression = "ADD " + ", ".join(f"#c{i} :v{i}" for i in range(len(counters)))
    dynamodb = client("dynamodb")
    for sk in (TOTAL, _day_sk(day), _month_sk(day)):
        dynamodb.update_item(
            TableName=MerchantItem.Meta.table_name,
            Key={"pk": {"S": merchant_id}, "sk": {"S": sk}},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _numbers(item: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(value["N"]) for name, value in item.items() if "N" in value}


def read_counters(merchant_id: str, start: date, end: date) -> tuple[dict[str, int], dict[date, dict[str, int]]]:
    """The merchant's totals, and the counters of each day from ``start`` to ``end`` (one GetItem
    and one Query, whatever the number of members or purchases)."""
    dynamodb = client("dynamodb")
    table = MerchantItem.Meta.table_name
    total = dynamodb.get_item(TableName=table, Key={"pk": {"S": merchant_id}, "sk": {"S": TOTAL}}).get("Item", {})
    days = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :start AND :end",
        ExpressionAttributeValues={
            ":pk": {"S": merchant_id},
            ":start": {"S": _day_sk(start)},
            ":end": {"S": _day_sk(end)},
        },
    ).get("Items", [])
    by_day = {item["sk"]["S"].removeprefix("STATS#"): _numbers(item) for item in days}
    return _numbers(total), {date.fromisoformat(day): counters for day, counters in by_day.items() if len(day) == 10}
