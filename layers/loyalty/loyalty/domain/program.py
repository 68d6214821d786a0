"""A merchant's loyalty program: how purchases earn, how points are spent, when they expire.

The program is validated on save and versioned: each save is a new version, and a purchase is
priced by the version current when it is accrued.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Moscow)") from exc
    return name


TimeZoneName = Annotated[str, Field(max_length=64, examples=["Europe/Moscow"]), AfterValidator(_known_zone)]
Category = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
# Decimals are exact in the domain and plain JSON numbers on the wire (a string is not a number).
AsNumber = PlainSerializer(float, return_type=float, when_used="json")


def _a_number(value: object) -> object:
    if isinstance(value, str | bool):
        raise ValueError("must be a number, not a string or a boolean")
    return value


def _a_decimal(value: object) -> object:
    number = _a_number(value)
    return Decimal(str(number)) if isinstance(number, int | float) else number


JsonNumber = BeforeValidator(_a_number)
Multiplier = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3), BeforeValidator(_a_decimal), AsNumber
]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2), BeforeValidator(_a_decimal), AsNumber]


class Mode(StrEnum):
    POINTS = "points"  # purchases earn points; points pay part of a check or buy rewards
    CASHBACK = "cashback"  # purchases earn roubles (the balance is in kopecks)
    DISCOUNT = "discount"  # no balance: a fixed discount returned with every quote


class Rounding(StrEnum):
    FLOOR = "floor"
    HALF_UP = "half_up"
    CEIL = "ceil"


class _Strict(BaseModel):
    """Settings refuse unknown fields and take JSON types as they are (``false`` is not 0). What
    was stored is read back with ``strict=False`` (its dates are strings there)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class EarnRate(_Strict):
    """``points`` for every ``per_roubles`` paid, e.g. 1 point per 100 roubles."""

    points: int = Field(default=1, ge=0, le=10_000)
    per_roubles: int = Field(default=100, ge=1, le=1_000_000)


class PromotionKind(StrEnum):
    MULTIPLIER = "multiplier"
    FIXED_BONUS = "fixed_bonus"


class Promotion(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    name: str = Field(min_length=1, max_length=120)
    kind: PromotionKind
    starts_at: datetime
    ends_at: datetime
    multiplier: Multiplier | None = None
    bonus_points: int | None = Field(default=None, ge=1, le=1_000_000)
    categories: list[Category] | None = None
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = Field(
        default=None, description="ISO weekdays (1 = Monday) in the merchant's time zone"
    )
    min_check_kopecks: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.kind is PromotionKind.MULTIPLIER and self.multiplier is None:
            raise ValueError("a multiplier promotion needs 'multiplier'")
        if self.kind is PromotionKind.FIXED_BONUS and self.bonus_points is None:
            raise ValueError("a fixed_bonus promotion needs 'bonus_points'")
        return self


TierName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


class TierMeasure(StrEnum):
    SPEND = "spend"  # kopecks paid in the window
    POINTS = "points"  # points earned in the window (never the spendable balance)


class TierLevel(_Strict):
    name: TierName
    title: str | None = Field(default=None, max_length=64, description="shown to members, e.g. «Золото»")
    threshold: int = Field(ge=0, description="kopecks of spend or points earned in the window to reach it")
    earn_multiplier: Multiplier = Decimal(1)
    discount_percent: int = Field(default=0, ge=0, le=100, description="permanent discount returned by quotes")
    perks: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=20)


class Tiers(_Strict):
    """Bronze / Silver / Gold. Upgrades happen at the purchase that qualifies; a member keeps a
    tier until its review (``review_months`` after reaching or confirming it) and, if they fall
    short then, for ``grace_days`` more."""

    measure: TierMeasure = TierMeasure.SPEND
    window_months: int = Field(default=12, ge=1, le=36)
    review_months: int = Field(default=12, ge=1, le=36)
    grace_days: int = Field(default=0, ge=0, le=365)
    levels: list[TierLevel] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        thresholds = [level.threshold for level in self.levels]
        if thresholds[0] != 0:
            raise ValueError("the first tier is where everyone starts: its threshold must be 0")
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must increase strictly")
        names = [level.name for level in self.levels]
        if len(names) != len(set(names)):
            raise ValueError("tier names must be unique")
        return self

    def level(self, name: str | None) -> TierLevel | None:
        return next((level for level in self.levels if level.name == name), None)

    def rank(self, name: str | None) -> int:
        return next((index for index, level in enumerate(self.levels) if level.name == name), -1)


class Bonuses(_Strict):
    """Points for occasions. Zero means the bonus is off."""

    welcome_points: int = Field(default=0, ge=0, le=1_000_000)
    birthday_points: int = Field(default=0, ge=0, le=1_000_000)
    review_points: int = Field(default=0, ge=0, le=1_000_000)
    survey_points: int = Field(default=0, ge=0, le=1_000_000)
    referrer_points: int = Field(default=0, ge=0, le=1_000_000, description="for the member who invited")
    referred_points: int = Field(default=0, ge=0, le=1_000_000, description="for the invited member")
    referral_min_purchase_kopecks: int = Field(default=0, ge=0, description="the first purchase that counts")


class StampCard(_Strict):
    """Buy ``stamps_required`` in a category, get a coupon for one free."""

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
    category: Category
    stamps_required: int = Field(ge=2, le=100)
    reward_name: str = Field(min_length=1, max_length=120)
    coupon_valid_days: int = Field(default=30, ge=1, le=3650)


class Costs(_Strict):
    """What the program costs the merchant each month, for the KPI report's ROI (kopecks; 0: not
    counted). Points redeemed are valued at ``point_value_kopecks`` (one kopeck in cashback)."""

    monthly_fee_kopecks: int = Field(default=0, ge=0, le=100_000_000_00, description="the platform's monthly fee")
    sms_kopecks: int = Field(default=0, ge=0, le=100_000, description="price of one SMS sent")
    push_kopecks: int = Field(default=0, ge=0, le=100_000, description="price of one push sent")
    email_kopecks: int = Field(default=0, ge=0, le=100_000, description="price of one email sent")


class Program(_Strict):
    """What a merchant configures. Money in kopecks; rates as documented per field."""

    mode: Mode = Mode.POINTS
    earn_rate: EarnRate = EarnRate()
    cashback_percent: Percent = Decimal(0)
    rounding: Rounding = Rounding.FLOOR
    min_check_kopecks: int = Field(default=0, ge=0)
    category_multipliers: dict[Category, Multiplier] = Field(default_factory=dict)
    excluded_categories: list[Category] = Field(default_factory=list)
    promotions: list[Promotion] = Field(default_factory=list, max_length=50)
    point_value_kopecks: int = Field(default=100, ge=1, le=100_000, description="what one point pays")
    redemption_cap_percent: int = Field(default=30, ge=0, le=100)
    min_redemption_points: int = Field(default=1, ge=1)
    discount_percent: int = Field(default=0, ge=0, le=100, description="discount-card mode only")
    expiry_months: int | None = Field(default=12, ge=1, le=120, description="null: never expire")
    pending_days: int = Field(default=0, ge=0, le=90, description="return window before points count")
    hold_minutes: int = Field(default=15, ge=1, le=24 * 60)
    backdate_days: int = Field(
        default=7,
        ge=0,
        le=60,
        description="how far back a purchase may be dated (a till that was offline syncs later); older ones "
        "are refused, as are purchases more than a day before the member joined",
    )
    timezone: TimeZoneName = "Europe/Moscow"
    tiers: Tiers | None = None
    bonuses: Bonuses = Bonuses()
    stamp_cards: list[StampCard] = Field(default_factory=list, max_length=20)
    expiry_warning_days: Annotated[Literal[0, 3, 7, 14, 30], JsonNumber] = Field(
        default=7, description="warn members this many days before points expire; 0: no warnings"
    )
    costs: Costs = Field(default_factory=Costs, description="what the program costs, for the KPI report")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        overlap = set(self.excluded_categories) & set(self.category_multipliers)
        if overlap:
            raise ValueError(f"categories both excluded and multiplied: {sorted(overlap)}")
        for what, ids in (
            ("promotion", [p.id for p in self.promotions]),
            ("stamp card", [c.id for c in self.stamp_cards]),
        ):
            if len(ids) != len(set(ids)):
                raise ValueError(f"{what} ids must be unique")
        return self

    @model_validator(mode="after")
    def _mode_has_its_rate(self) -> Self:
        if self.mode is Mode.CASHBACK and self.cashback_percent <= 0:
            raise ValueError("cashback mode needs cashback_percent > 0")
        if self.mode is Mode.DISCOUNT and self.discount_percent <= 0:
            raise ValueError("discount mode needs discount_percent > 0")
        return self

    @property
    def unit_value_kopecks(self) -> int:
        """In cashback mode the balance is kept in kopecks."""
        return 1 if self.mode is Mode.CASHBACK else self.point_value_kopecks


DEFAULT_PROGRAM = Program()
