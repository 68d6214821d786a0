"""Notifications: one SMS per event to consenting members, quiet hours, retries with reasons,
templates, opt-outs, push devices, the delivery log, the marketing cap and campaigns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from loyalty.events import DomainEvent

from infra.local.provision import REGION, Stack
from tests.integration.conftest import configure, new_phone
from tests.integration.test_purchases import purchase
from tests.support.api import GatewayClient
from tests.support.events import context, sqs_record
from tests.support.notifications import ledger_events, notify, sms_sent

LATE_EVENING = "Etc/GMT-3"  # UTC+3 without daylight saving: 20:30 UTC is 23:30 there


def enroll(members_api: GatewayClient, **extra: Any) -> dict[str, Any]:
    reply = members_api.post("/v1/members", body={"phone": new_phone(), "name": "Анна", **extra})
    assert reply.status == 201, reply.body
    return dict(reply.body)


def earned_event(accrue_api: GatewayClient, member: dict[str, Any], transaction_id: str) -> DomainEvent:
    purchase(accrue_api, member, transaction_id, 150_000)
    return next(
        e
        for e in ledger_events(member["member_id"])
        if e.type == "points_earned" and e.data.get("transaction_id") == transaction_id
    )


def phone_of(member: dict[str, Any]) -> str:
    from loyalty.data import members
    from loyalty.runtime import current

    found = members.get(item_merchant(member), member["member_id"])
    return current().cipher().decrypt(found.contact.phone_enc, context=found.ref)


def item_merchant(member: dict[str, Any]) -> str:
    table = boto3.resource("dynamodb", region_name=REGION).Table("members")
    return str(
        next(i for i in table.scan()["Items"] if i.get("member_id") == member["member_id"] and i["sk"] == "MEMBER")[
            "merchant_id"
        ]
    )


def daytime() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def _daytime_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quiet hours depend on the hour: pin "now" at noon in Moscow unless a test travels."""
    from functions.notify import app as notify_app

    noon_moscow = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(notify_app, "utcnow", lambda: noon_moscow)


def test_a_purchase_sends_one_sms_with_the_new_balance(
    members_api: GatewayClient, accrue_api: GatewayClient, notify_api: GatewayClient
) -> None:
    member = enroll(members_api)
    event = earned_event(accrue_api, member, "N-1")
    assert notify(event) == {"batchItemFailures": []}
    assert notify(event) == {"batchItemFailures": []}  # redelivered: nothing more
    assert sms_sent(phone_of(member)) == [(phone_of(member), "Coffee: +15 баллов. Баланс 15 баллов")]
    log = notify_api.get("/v1/members/{member_id}/notifications", path_params={"member_id": member["member_id"]})
    assert [(d["kind"], d["channel"], d["status"]) for d in log.body["deliveries"]] == [
        ("points_earned", "sms", "sent")
    ]


def test_no_sms_to_a_member_who_opted_out(
    members_api: GatewayClient, accrue_api: GatewayClient, notify_api: GatewayClient
) -> None:
    member = enroll(members_api)
    phone = phone_of(member)
    stop = notify_api.post("/v1/opt-outs", body={"phone": phone, "channel": "sms", "source": "sms_stop"})
    assert stop.status == 200, stop.body
    assert stop.body["sms"] is False
    notify(earned_event(accrue_api, member, "N-2"))
    assert sms_sent(phone) == []
    log = notify_api.get("/v1/members/{member_id}/notifications", path_params={"member_id": member["member_id"]})
    assert log.body["deliveries"][0]["status"] == "skipped"


def test_quiet_hours_defer_to_the_morning(
    members_api: GatewayClient, accrue_api: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.notify import app as notify_app

    member = enroll(members_api, timezone=LATE_EVENING)
    event = earned_event(accrue_api, member, "N-3")
    evening = datetime.now(UTC).replace(hour=20, minute=30, second=0, microsecond=0)  # 23:30 for the member
    monkeypatch.setattr(notify_app, "utcnow", lambda: evening)
    notify(event)
    assert sms_sent(phone_of(member)) == []
    job = context("notify-deferred", 300)
    assert notify_app.send_deferred({"time": (evening + timedelta(hours=5)).isoformat()}, job) == {"sent": 0}
    morning = evening + timedelta(hours=9, minutes=30)  # 09:00 for the member
    assert notify_app.send_deferred({"time": morning.isoformat()}, job) == {"sent": 1}
    assert len(sms_sent(phone_of(member))) == 1
    assert notify_app.send_deferred({"time": (morning + timedelta(minutes=5)).isoformat()}, job) == {"sent": 0}


def test_a_failing_provider_is_retried_then_dead_lettered_with_its_reason(
    stack: Stack, members_api: GatewayClient, accrue_api: GatewayClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyalty.notifications.kinds import Channel
    from loyalty.notifications.sending import Message, ProviderError

    from functions.notify import app as notify_app

    failing, fine = enroll(members_api), enroll(members_api)
    failing_phone = phone_of(failing)
    real = notify_app.PROVIDERS[Channel.SMS]

    class Flaky:
        def send(self, message: Message) -> str:
            if message.to == failing_phone:
                raise ProviderError("gateway timeout")
            return real.send(message)

    monkeypatch.setitem(notify_app.PROVIDERS, Channel.SMS, Flaky())
    bad, good = earned_event(accrue_api, failing, "N-4"), earned_event(accrue_api, fine, "N-5")
    assert notify(bad, good) == {"batchItemFailures": [{"itemIdentifier": bad.event_id}]}
    assert len(sms_sent(phone_of(fine))) == 1
    assert notify(bad, receive_count=5) == {"batchItemFailures": []}
    sqs = boto3.client("sqs", region_name=REGION)
    [dead] = sqs.receive_message(QueueUrl=stack.queue_url("NotifyDLQ"), MessageAttributeNames=["All"])["Messages"]
    assert dead["MessageAttributes"]["failure_reason"]["StringValue"] == "gateway timeout"
    assert json.loads(dead["Body"])["detail"]["event_id"] == bad.event_id


def test_templates_are_validated_previewed_and_used(
    members_api: GatewayClient, accrue_api: GatewayClient, notify_api: GatewayClient
) -> None:
    bad = notify_api.put(
        "/v1/notification-templates",
        body={"templates": [{"kind": "points_earned", "channel": "sms", "body": "Привет {name}! {unknown}"}]},
    )
    assert bad.status == 400
    assert bad.body["error"]["details"][0]["code"] == "unknown_placeholder"
    too_long = notify_api.put(
        "/v1/notification-templates",
        body={"templates": [{"kind": "points_earned", "channel": "sms", "body": "Ж" * 300}]},
    )
    assert too_long.body["error"]["details"][0]["code"] == "too_long"
    preview = notify_api.post(
        "/v1/notification-templates/preview",
        body={"kind": "points_earned", "channel": "sms", "body": "{merchant}: +{points} {points_word}"},
    )
    assert preview.status == 200 and preview.body["sms_segments"] == 1
    assert preview.body["body"].startswith("Кофейня")
    saved = notify_api.put(
        "/v1/notification-templates",
        body={
            "templates": [
                {"kind": "points_earned", "channel": "sms", "body": "Спасибо, {name}! +{points}, всего {balance}"}
            ]
        },
    )
    assert saved.status == 200
    assert any(t["custom"] for t in saved.body["templates"])
    member = enroll(members_api)
    notify(earned_event(accrue_api, member, "N-6"))
    assert sms_sent(phone_of(member)) == [(phone_of(member), "Спасибо, Анна! +15, всего 15")]


def test_english_speakers_get_english(members_api: GatewayClient, accrue_api: GatewayClient) -> None:
    member = enroll(members_api, language="en")
    notify(earned_event(accrue_api, member, "N-7"))
    [(_, text)] = sms_sent(phone_of(member))
    assert "points" in text


def test_push_first_when_the_member_has_the_app_and_dead_endpoints_are_disabled(
    program_api: GatewayClient, members_api: GatewayClient, notify_api: GatewayClient
) -> None:
    from moto.sns.models import sns_backends

    from infra.local.provision import ACCOUNT_ID

    member = enroll(members_api)
    device = notify_api.post(
        "/v1/members/{member_id}/push-tokens",
        path_params={"member_id": member["member_id"]},
        body={"token": "fcm-token-0123456789", "platform": "fcm"},
    )
    assert device.status == 201, device.body
    tier_event = DomainEvent(
        event_id="tier-1",
        type="tier_changed",
        merchant_id=item_merchant(member),
        member_id=member["member_id"],
        occurred_at=datetime.now(UTC),
        data={"old_tier": "bronze", "new_tier": "gold"},
    )
    notify(tier_event)
    endpoints = sns_backends[ACCOUNT_ID][REGION].platform_endpoints
    [endpoint] = endpoints.values()
    assert len(endpoint.messages) == 1
    assert sms_sent(phone_of(member)) == []  # one channel per event
    endpoint.attributes["Enabled"] = "false"  # the provider says the app was uninstalled
    notify(tier_event.model_copy(update={"event_id": "tier-2"}))
    assert len(sms_sent(phone_of(member))) == 1  # fell back to SMS
    notify(tier_event.model_copy(update={"event_id": "tier-3"}))
    assert len(endpoint.messages) == 1  # the disabled device is not tried again


def test_marketing_needs_consent_and_respects_the_daily_cap(
    members_api: GatewayClient, notify_api: GatewayClient
) -> None:
    member = enroll(members_api)
    merchant_id = item_merchant(member)

    def campaign_message(n: int) -> DomainEvent:
        return DomainEvent(
            event_id=f"camp-{n}",
            type="campaign",
            merchant_id=merchant_id,
            member_id=member["member_id"],
            occurred_at=datetime.now(UTC),
            data={"text": f"Акция номер {n}"},
        )

    notify(campaign_message(0))
    assert sms_sent(phone_of(member)) == []  # no marketing consent yet
    consent = notify_api.put(
        "/v1/members/{member_id}/consents", path_params={"member_id": member["member_id"]}, body={"marketing": True}
    )
    assert consent.body["marketing"] is True
    notify(*(campaign_message(n) for n in range(1, 5)))
    assert len(sms_sent(phone_of(member))) == 2  # the default cap is two a day


def test_campaign_fans_out_to_its_segment_with_counts(
    program_api: GatewayClient, members_api: GatewayClient, notify_api: GatewayClient, stack: Stack
) -> None:
    from functions.notify.app import handle_campaign_pages, handle_notifications

    configure(program_api, tiers={"levels": [{"name": "bronze", "threshold": 0}, {"name": "gold", "threshold": 1}]})
    members = [enroll(members_api) for _ in range(3)]
    for member in members:
        notify_api.put(
            "/v1/members/{member_id}/consents", path_params={"member_id": member["member_id"]}, body={"marketing": True}
        )
    started = notify_api.post(
        "/v1/campaigns",
        body={"campaign_id": "black-friday", "segment": {"tier": "bronze"}, "text": "Скидка 20% в пятницу"},
    )
    assert started.status == 202, started.body
    assert (
        notify_api.post(
            "/v1/campaigns",
            body={"campaign_id": "black-friday", "segment": {"tier": "bronze"}, "text": "Скидка 20% в пятницу"},
        ).body
        == started.body
    )
    sqs = boto3.client("sqs", region_name=REGION)
    pages = sqs.receive_message(QueueUrl=stack.queue_url("CampaignQueue"), MaxNumberOfMessages=10)["Messages"]
    records = [sqs_record(m["Body"], queue="campaign-pages") for m in pages]
    assert handle_campaign_pages({"Records": records}, context("campaign", 60)) == {"batchItemFailures": []}
    progress = notify_api.get("/v1/campaigns/{campaign_id}", path_params={"campaign_id": "black-friday"}).body
    assert (progress["status"], progress["targeted"], progress["queued"]) == ("done", 3, 3)
    queued = sqs.receive_message(QueueUrl=stack.queue_url("NotifyQueue"), MaxNumberOfMessages=10)["Messages"]
    handle_notifications({"Records": [sqs_record(m["Body"]) for m in queued]}, context("notify", 30))
    assert sum(len(sms_sent(phone_of(m))) for m in members) == 3


def test_email_goes_out_through_ses_from_the_verified_sender(
    members_api: GatewayClient, notify_api: GatewayClient
) -> None:
    from moto.sesv2.models import sesv2_backends

    from infra.local.provision import ACCOUNT_ID

    settings = notify_api.get("/v1/notification-settings").body["settings"]
    settings["channels"]["welcome"] = ["email"]
    assert notify_api.put("/v1/notification-settings", body={"settings": settings}).status == 200
    member = enroll(members_api, email="olga@example.ru", language="ru")
    [welcome] = [e for e in ledger_events(member["member_id"]) if e.type == "welcome"]
    notify(welcome)
    sent = sesv2_backends[ACCOUNT_ID][REGION].core_backend.sent_messages
    [message] = [m for m in sent if "olga@example.ru" in m.destinations.get("ToAddresses", [])]
    assert message.source == "noreply@loyalty.example"
    assert "Анна" in message.body and message.subject


def test_cashback_messages_speak_roubles_not_points(
    program_api: GatewayClient, members_api: GatewayClient, accrue_api: GatewayClient
) -> None:
    configure(program_api, mode="cashback", cashback_percent=5)
    member = enroll(members_api)
    purchase(accrue_api, member, "CB-1", 123_440)  # 5 % of 1 234,40 roubles = 61,72 roubles
    event = next(e for e in ledger_events(member["member_id"]) if e.type == "points_earned")
    notify(event)
    assert sms_sent(phone_of(member)) == [(phone_of(member), "Coffee: +61,72 ₽. Баланс 61,72 ₽")]


def test_a_gift_card_order_status_reads_in_russian(
    members_api: GatewayClient, merchant: dict[str, Any], notify_api: GatewayClient
) -> None:
    member = enroll(members_api)
    event = DomainEvent(
        event_id="gift-card:status-test",
        type="gift_card_status",
        merchant_id=merchant["merchant_id"],
        member_id=member["member_id"],
        occurred_at=daytime(),
        data={"status": "in_production", "order_id": "GC-7"},
    )
    notify(event)
    [(_, text)] = sms_sent(phone_of(member))
    assert text == "Coffee: заказ карты GC-7 — изготавливается"


def test_a_hold_says_reserved_and_a_cancelled_hold_says_the_points_came_back(
    members_api: GatewayClient, accrue_api: GatewayClient, redeem_api: GatewayClient
) -> None:
    member = enroll(members_api)
    purchase(accrue_api, member, "H-1", 500_000)  # 50 points
    hold = {"redemption_id": "H-r1", "member_id": member["member_id"], "points": 20, "amount_kopecks": 100_000}
    assert redeem_api.post("/v1/redemptions", body={**hold, "mode": "hold"}).status == 201
    assert (
        redeem_api.post("/v1/redemptions/{redemption_id}/cancel", path_params={"redemption_id": "H-r1"}).status == 200
    )
    kinds = ("points_held", "points_returned")
    notify(*[e for e in ledger_events(member["member_id"]) if e.type in kinds])
    texts = [text for _, text in sms_sent(phone_of(member))]
    assert texts == [
        "Coffee: 20 баллов в резерве для оплаты. Баланс 30 баллов",
        "Coffee: 20 баллов вернулись на карту. Баланс 50 баллов",
    ]


def test_bonuses_are_announced_and_a_birthday_bonus_needs_no_marketing_consent(
    program_api: GatewayClient, members_api: GatewayClient, bonuses_api: GatewayClient
) -> None:
    configure(program_api, bonuses={"review_points": 20, "birthday_points": 100})
    member = enroll(members_api)
    path = {"member_id": member["member_id"]}
    review = bonuses_api.post(
        "/v1/members/{member_id}/bonus-actions", path_params=path, body={"type": "review", "external_id": "rv-1"}
    )
    assert review.status == 201, review.body
    from loyalty.services import bonuses

    bonuses.grant(
        item_merchant(member), member["member_id"], bonus="birthday", external_id="b-2026", points=100, now=daytime()
    )
    notify(*[e for e in ledger_events(member["member_id"]) if e.type in ("bonus_received", "birthday")])
    texts = [text for _, text in sms_sent(phone_of(member))]
    assert texts[0] == "Coffee: +20 баллов за отзыв. Баланс 20 баллов"
    assert texts[1].endswith("дарит 100 баллов")  # no marketing consent given: it reports points credited
