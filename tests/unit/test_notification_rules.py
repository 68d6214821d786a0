"""The send/defer/skip decision: address, consents, marketing consent, the daily cap, quiet hours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time

import pytest
from loyalty.notifications.kinds import Channel, NotificationKind, is_marketing
from loyalty.notifications.quiet_hours import QuietHours
from loyalty.notifications.rules import Action, Decision, SkipReason, decide

MOSCOW = "Europe/Moscow"
NIGHT = QuietHours()  # 22:00-09:00
NOON = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
THREE_AM = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)  # 03:00 in Moscow
MORNING = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # 09:00 in Moscow, when quiet hours end
ALL_CONSENTS = {Channel.SMS: True, Channel.PUSH: True, Channel.EMAIL: True}
TRANSACTIONAL: list[NotificationKind] = [
    kind for kind in NotificationKind if not is_marketing(kind) and kind is not NotificationKind.SIGN_IN_CODE
]
MARKETING: list[NotificationKind] = [NotificationKind.BIRTHDAY_GREETING, NotificationKind.CAMPAIGN]


def decision(
    kind: NotificationKind,
    channel: Channel = Channel.SMS,
    *,
    consents: Mapping[Channel, bool] = ALL_CONSENTS,
    marketing_consent: bool = True,
    has_address: bool = True,
    sent_marketing_today: int = 0,
    daily_marketing_cap: int = 1,
    now_utc: datetime = NOON,
    timezone: str = MOSCOW,
    quiet_hours: QuietHours = NIGHT,
) -> Decision:
    return decide(
        kind,
        channel,
        consents=consents,
        marketing_consent=marketing_consent,
        has_address=has_address,
        sent_marketing_today=sent_marketing_today,
        daily_marketing_cap=daily_marketing_cap,
        now_utc=now_utc,
        timezone=timezone,
        quiet_hours=quiet_hours,
    )


def test_marketing_kinds() -> None:
    assert [kind for kind in NotificationKind if is_marketing(kind)] == MARKETING


@pytest.mark.parametrize("kind", list(NotificationKind))
@pytest.mark.parametrize("channel", list(Channel))
def test_everything_goes_now_in_the_day_with_every_consent(kind: NotificationKind, channel: Channel) -> None:
    assert decision(kind, channel) == Decision.send_now()


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_nothing_goes_without_an_address(kind: NotificationKind) -> None:
    assert decision(kind, has_address=False) == Decision.skip(SkipReason.NO_ADDRESS)


@pytest.mark.parametrize("kind", TRANSACTIONAL + MARKETING)
def test_channel_consent_is_needed(kind: NotificationKind) -> None:
    consents = {Channel.SMS: False, Channel.PUSH: True, Channel.EMAIL: True}
    assert decision(kind, Channel.SMS, consents=consents) == Decision.skip(SkipReason.NO_CONSENT)
    assert decision(kind, Channel.PUSH, consents=consents) == Decision.send_now()


def test_a_channel_without_a_recorded_consent_has_none() -> None:
    only_push = {Channel.PUSH: True}
    assert decision(NotificationKind.POINTS_EARNED, Channel.EMAIL, consents=only_push).reason is SkipReason.NO_CONSENT


@pytest.mark.parametrize("kind", TRANSACTIONAL)
def test_transactional_ignores_marketing_consent_and_the_cap(kind: NotificationKind) -> None:
    result = decision(kind, marketing_consent=False, sent_marketing_today=5, daily_marketing_cap=0)
    assert result == Decision.send_now()


@pytest.mark.parametrize("kind", MARKETING)
def test_marketing_needs_marketing_consent(kind: NotificationKind) -> None:
    assert decision(kind, marketing_consent=False) == Decision.skip(SkipReason.NO_MARKETING_CONSENT)


@pytest.mark.parametrize("kind", MARKETING)
def test_channel_consent_is_checked_before_marketing_consent(kind: NotificationKind) -> None:
    result = decision(kind, consents={Channel.SMS: False}, marketing_consent=False)
    assert result == Decision.skip(SkipReason.NO_CONSENT)


@pytest.mark.parametrize("kind", MARKETING)
def test_marketing_respects_the_daily_cap(kind: NotificationKind) -> None:
    assert decision(kind, sent_marketing_today=1, daily_marketing_cap=2) == Decision.send_now()
    assert decision(kind, sent_marketing_today=2, daily_marketing_cap=2) == Decision.skip(SkipReason.DAILY_CAP)
    assert decision(kind, sent_marketing_today=0, daily_marketing_cap=0) == Decision.skip(SkipReason.DAILY_CAP)


@pytest.mark.parametrize("kind", TRANSACTIONAL + MARKETING)
def test_quiet_hours_defer_transactional_and_marketing_alike(kind: NotificationKind) -> None:
    # A 3 a.m. "points earned" is as unwelcome as a 3 a.m. promotion: both wait for the morning.
    assert decision(kind, now_utc=THREE_AM) == Decision.defer_until(MORNING)


def test_a_refusal_wins_over_quiet_hours() -> None:
    result = decision(NotificationKind.CAMPAIGN, now_utc=THREE_AM, marketing_consent=False)
    assert result == Decision.skip(SkipReason.NO_MARKETING_CONSENT)


def test_quiet_hours_are_the_merchants() -> None:
    late_evening = datetime(2026, 6, 1, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    early_hours = QuietHours(time(0, 0), time(7, 0))
    assert decision(NotificationKind.POINTS_EARNED, now_utc=late_evening, quiet_hours=early_hours).action is (
        Action.SEND_NOW
    )
    vladivostok = decision(NotificationKind.POINTS_EARNED, now_utc=late_evening, timezone="Asia/Vladivostok")
    assert vladivostok == Decision.defer_until(datetime(2026, 6, 1, 23, 0, tzinfo=UTC))  # 06:00 -> 09:00 there


@pytest.mark.parametrize("channel", list(Channel))
def test_a_sign_in_code_goes_at_once_whatever_the_consents_caps_and_hour(channel: Channel) -> None:
    result = decision(
        NotificationKind.SIGN_IN_CODE,
        channel,
        consents={},
        marketing_consent=False,
        sent_marketing_today=10,
        daily_marketing_cap=0,
        now_utc=THREE_AM,
    )
    assert result == Decision.send_now()


def test_a_sign_in_code_still_needs_an_address() -> None:
    assert decision(NotificationKind.SIGN_IN_CODE, has_address=False) == Decision.skip(SkipReason.NO_ADDRESS)


def test_decisions_carry_only_what_belongs_to_them() -> None:
    deferred = Decision.defer_until(MORNING)
    assert (deferred.action, deferred.until, deferred.reason) == (Action.DEFER, MORNING, None)
    skipped = Decision.skip(SkipReason.DAILY_CAP)
    assert (skipped.action, skipped.until, skipped.reason) == (Action.SKIP, None, "daily_cap")
    with pytest.raises(ValueError, match="until"):
        Decision(Action.DEFER)
    with pytest.raises(ValueError, match="until"):
        Decision(Action.SEND_NOW, until=MORNING)
    with pytest.raises(ValueError, match="reason"):
        Decision(Action.SKIP)
